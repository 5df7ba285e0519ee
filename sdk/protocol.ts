import type { Hex } from "viem";
import type { ReceiptJson } from "./receipt.ts";

/**
 * The executor's HTTP wire protocol, in one place: routes, headers, the error body and its stable codes,
 * and the shapes of the answers. The executor, the SDK, the CLI and the tests all import it.
 */

export const ROUTES = {
  health: "/v1/health",
  info: "/v1/info",
  call: (name: string, version: string, fn: string) => `/v1/call/${name}@${version}/${fn}`,
  receipt: (id: Hex) => `/v1/receipts/${id}`,
  /** The id of the receipt a payment backs (answer: ReceiptByPaymentBody), to recover a call whose answer was lost. */
  receiptByPayment: (paymentRef: Hex) => `/v1/receipts/by-payment/${paymentRef}`,
  blob: (hash: Hex) => `/v1/blobs/${hash}`,
  /** A version's component bytes, for a licence holder only (signed: LICENCE_SIGNATURE_HEADER, sdk/licence.ts). */
  licensedComponent: (versionId: Hex) => `/v1/licensed/${versionId}/component`,
} as const;

/** The files of a version (the source tarball only when its manifest publishes one), as blobs keyed by their sha256 on the executor (PUT|GET /v1/blobs/<hash>). */
export type BlobKind = "component" | "wit" | "tests" | "manifest" | "source";

/** x402 v2 headers (the executor also accepts the v1 X-PAYMENT spelling of the payment header). */
export const PAYMENT_REQUIRED_HEADER = "PAYMENT-REQUIRED";
export const PAYMENT_SIGNATURE_HEADER = "PAYMENT-SIGNATURE";
export const PAYMENT_RESPONSE_HEADER = "PAYMENT-RESPONSE";
/** A package owner's EIP-191 signature of sdk/upload.ts uploadMessage, on PUT /v1/blobs/<hash>. */
export const UPLOAD_SIGNATURE_HEADER = "X-Glassbox-Signature";
/** The holder's EIP-191 signature of sdk/licence.ts licenceDownloadMessage, on GET /v1/licensed/<versionId>/component. */
export const LICENCE_SIGNATURE_HEADER = "X-Glassbox-Licence-Signature";
/** When that signature stops being accepted (unix seconds); the executor takes at most LICENCE_REQUEST_MAX_SECONDS ahead. */
export const LICENCE_EXPIRES_HEADER = "X-Glassbox-Licence-Expires";
/** GET /v1/receipts/by-payment/<paymentRef>. */
export interface ReceiptByPaymentBody {
  receiptId: Hex;
}

/** The payer's EIP-191 signature of receiptResultMessage, on GET /v1/receipts/<id>, to read the result back. */
export const PAYER_SIGNATURE_HEADER = "X-Glassbox-Payer-Signature";

/**
 * What a payer signs (EIP-191) to read back from the executor the result of a call it paid for,
 * e.g. after its connection dropped before the response. Results are the payer's alone.
 */
export function receiptResultMessage(id: Hex): string {
  return `glassbox-receipt-result:${id.toLowerCase()}`;
}

/**
 * Stable error codes of the executor API. Bodies are always `{ "error": { "code", "message", "hint"?, "details"? } }`;
 * clients switch on `code`, humans read `message`.
 */
export type ErrorCode =
  | "MALFORMED_JSON"
  | "BODY_TOO_LARGE"
  | "INVALID_REFERENCE"
  | "UNKNOWN_PACKAGE"
  | "UNKNOWN_VERSION"
  | "VERSION_YANKED"
  | "UNKNOWN_FUNCTION"
  | "INVALID_ARGUMENTS"
  | "COMPONENT_NOT_AVAILABLE"
  | "PAYMENT_REQUIRED"
  | "PAYMENT_INVALID"
  | "PAYMENT_REPLAYED"
  | "PAYMENT_EXPIRED"
  | "PAYMENT_UNDERFUNDED"
  | "PAYMENT_WRONG_AMOUNT"
  | "PAYMENT_WRONG_PAYEE"
  | "PAYMENT_WRONG_VERSION"
  | "PAYMENT_SCHEME_UNSUPPORTED"
  | "PAYMENT_CHANNEL_STALE"
  | "PAYMENT_CHANNEL_BUSY"
  | "PAYMENT_CHANNEL_UNDERFUNDED"
  | "SETTLEMENT_FAILED"
  | "BOND_EXHAUSTED"
  | "EXECUTION_FAILED"
  | "OUT_OF_FUEL"
  | "TIMEOUT"
  | "OUT_OF_MEMORY"
  | "COMPONENT_TRAP"
  | "STACK_OVERFLOW"
  | "OUTPUT_TOO_LARGE"
  | "INVALID_RESULT"
  | "CAPABILITY_DENIED"
  | "EXECUTOR_BUSY"
  | "WORKER_CRASHED"
  | "SHUTTING_DOWN"
  | "INVALID_BLOB"
  | "BLOB_HASH_MISMATCH"
  | "BLOB_NOT_REGISTERED"
  | "UPLOAD_UNAUTHORIZED"
  | "BLOB_NOT_FOUND"
  | "BLOB_NOT_PUBLIC"
  | "COMPONENT_REJECTED"
  | "DEPENDENCY_UNKNOWN"
  | "DEPENDENCY_UNRESOLVED"
  | "DEPENDENCY_YANKED"
  | "DEPENDENCY_MISSING"
  | "DEPENDENCY_TOO_EXPENSIVE"
  | "DEPENDENCY_CYCLE"
  | "LICENCE_REQUIRED"
  | "LICENCE_SIGNATURE_INVALID"
  | "LICENCE_REQUEST_EXPIRED"
  | "RECEIPT_NOT_FOUND"
  | "NOT_THE_PAYER"
  | "NOT_FOUND"
  | "CHAIN_UNAVAILABLE"
  | "EXECUTOR_NOT_REGISTERED"
  | "INTERNAL";

export interface ErrorBody {
  error: { code: ErrorCode; message: string; hint?: string; details?: Record<string, unknown> };
}

/** The x402 schemes an executor accepts, in the order its 402 lists them (channels first). */
export const PAYMENT_SCHEMES = ["batch-settlement", "exact"] as const;
export type PaymentScheme = (typeof PAYMENT_SCHEMES)[number];

/** How a paid call was paid, in the 200 answer (the PAYMENT-RESPONSE header carries the same facts). */
export interface CallPayment {
  scheme: PaymentScheme;
  /** USDC base units charged: exactly the quote. */
  amount: string;
  /** exact: the transferWithAuthorization transaction. batch-settlement: the deposit transaction, if this call opened or topped up the channel. */
  transaction?: Hex;
  /** batch-settlement: the channel and the cumulative amount charged in it after this call. */
  channelId?: Hex;
  chargedCumulativeAmount?: string;
}

/** POST /v1/call answer (200). `receipt`, `signature`, `receiptId` and `payment` are present for paid calls. */
export interface CallResponseBody {
  result: unknown;
  fuelUsed: string;
  receipt?: ReceiptJson;
  signature?: Hex;
  receiptId?: Hex;
  payment?: CallPayment;
}

/**
 * Where a receipt's royalties stand: `unsettled` until the executor's settleRoyalties batch covers its
 * sequence number (then `settled`); `no-royalty` when it owes none (seq 0).
 */
export type ReceiptStatus = "unsettled" | "settled" | "no-royalty";

/** GET /v1/receipts/<id> answer; `result` only for a request signed by the payer. */
export interface ReceiptResponseBody {
  receiptId: Hex;
  receipt: ReceiptJson;
  signature: Hex;
  status: ReceiptStatus;
  /** The settleRoyalties transaction that settled it, once known to this executor. */
  txHash: Hex | null;
  resultAvailable: boolean;
  result?: unknown;
}

/** Royalties this executor owes and has not settled yet, per version. */
export interface UnsettledRoyalty {
  versionId: Hex;
  name: string;
  version: string;
  receipts: number;
  amount: string;
}

/** GET /v1/info answer (the payment-relevant part; `packages` lists what it serves). */
export interface InfoBody {
  operator: Hex;
  address: Hex;
  chainId: number;
  network: string;
  contracts: Record<string, Hex>;
  registered: boolean;
  /** Executor fee per call in USDC base units (immutable per registration). */
  fee: string;
  endpoint: string;
  /** USDC the executor holds as bond in Settlement. */
  bond: string;
  /** In accepts order: batch-settlement (channels) first, then exact. */
  schemes: PaymentScheme[];
  /** The channel contract (receiver = this executor) and its withdraw delay, for batch-settlement. */
  channels: { contract: Hex; withdrawDelaySeconds: number };
  /** Seconds between a receipt's issuedAt and its deadline. */
  settleWindowSeconds: number;
  unsettledRoyalties: { total: string; receipts: number; versions: UnsettledRoyalty[] };
  nextSeq: string;
  packages: unknown[];
}
