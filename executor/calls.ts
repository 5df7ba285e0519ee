import { encodePaymentResponseHeader } from "@x402/core/http";
import type { PaymentRequirements, SettleResponse } from "@x402/core/types";
import type { Logger } from "pino";
import type { Account, Address, Hex } from "viem";
import { canonicalJson } from "../sdk/canonical-json.ts";
import { PACKAGE_NAME_PATTERN } from "../sdk/ids.ts";
import { isSemver } from "../sdk/manifest.ts";
import { inputHashOf, outputHashOf, receiptId, receiptToJson, type Receipt, type ReceiptJson } from "../sdk/receipt.ts";
import type { FunctionSignature } from "../sdk/wit.ts";
import type { RegistryView, VersionRecord } from "./chain.ts";
import { ApiError, type ErrorCode } from "./errors.ts";
import type { ComponentHost, ComponentRef } from "./host.ts";
import type { Journal, JournaledReceipt } from "./journal.ts";
import { paymentError, type Payments, type VerifiedPayment } from "./payments.ts";
import { runtimeToApiError } from "./runtime-errors.ts";
import type { SettlementMode, Settler } from "./settlement.ts";

export interface CallDeps {
  registry: RegistryView;
  host: ComponentHost;
  payments: Payments;
  journal: Journal;
  settler: Settler;
  mode: SettlementMode;
  operator: Account;
  chainId: number;
  settlement: Address;
  log: Logger;
}

export interface CallRequest {
  scope: string;
  nameAndVersion: string;
  functionName: string;
  args: unknown;
  paymentHeader: string | undefined;
  /** Origin of the request (scheme://host:port), for the x402 resource URL. */
  origin: string;
}

export interface CallResponse {
  status: 200 | 402;
  body: unknown;
  headers: Record<string, string>;
}

/** A per-fuel quote from a free dry run; fuel is deterministic, so the paid run uses the same amount. */
interface Quote {
  royalty: bigint;
  fee: bigint;
  fuelUsed: bigint;
}

const QUOTE_CACHE_SIZE = 2_000;

/**
 * POST /v1/call: resolve the version from the chain, check the function and arguments (before any
 * payment is asked for), quote, verify the x402 payment, run, sign and journal the receipt, settle.
 * A failed run is never charged: the payment is only claimed (never collected) until the run succeeded.
 */
export class CallService {
  private readonly quotes = new Map<string, Quote>();

  constructor(private readonly d: CallDeps) {}

  async call(req: CallRequest): Promise<CallResponse> {
    const version = await this.resolve(req.scope, req.nameAndVersion);
    const ref = version.hashes;
    const componentHash = ref.componentHash;
    if (!this.d.host.isReady(ref)) {
      throw new ApiError(
        404,
        "COMPONENT_NOT_AVAILABLE",
        `${version.name}@${version.version} is registered but its component is not available on this executor.`,
        `The maintainer uploads it with PUT /v1/blobs/${componentHash} (signed by the package owner), or call another executor.`,
      );
    }
    const signature = this.checkCall(ref, req.functionName, req.args);
    const positional = toPositional(signature, req.args);
    const inputHash = inputHashOf(positional);

    if (version.accessMode === "free") {
      const run = await this.run(ref, req.functionName, req.args);
      return { status: 200, headers: {}, body: { result: run.result, fuelUsed: run.fuelUsed.toString() } };
    }

    const executor = this.d.registry.executor;
    if (!executor.active) {
      throw new ApiError(
        503,
        "EXECUTOR_NOT_REGISTERED",
        "This executor is not registered on-chain, so it cannot settle paid calls; nothing was charged.",
        "The operator starts it with --register (or calls registerExecutor) first.",
      );
    }
    const quote = await this.quote(version, req.functionName, req.args, inputHash, executor.feePerCall);
    const amount = quote.royalty + quote.fee;
    const requirement = await this.d.payments.requirements(amount, version.versionId);
    const resource = {
      url: `${req.origin}/v1/call/${version.name}@${version.version}/${req.functionName}`,
      description: `${version.name}@${version.version} ${req.functionName}: ${quote.royalty} royalty + ${quote.fee} executor fee (USDC base units)`,
    };

    if (!req.paymentHeader) {
      const challenge = await this.d.payments.challenge(requirement, resource, "PAYMENT-SIGNATURE header is required");
      return {
        status: 402,
        headers: { "PAYMENT-REQUIRED": challenge.header },
        // Our error body plus the x402 fields (the header is authoritative; `error` stays ours).
        body: {
          x402Version: challenge.body.x402Version,
          resource: challenge.body.resource,
          accepts: challenge.body.accepts,
          ...new ApiError(402, "PAYMENT_REQUIRED", `This call costs ${amount} USDC base units (${quote.royalty} royalty + ${quote.fee} executor fee).`, "Pay with any x402 v2 client (exact scheme, USDC) and retry with PAYMENT-SIGNATURE.").toBody(),
        },
      };
    }

    try {
      return await this.paidCall(version, req, requirement, quote, inputHash);
    } catch (error) {
      if (error instanceof ApiError && error.status === 402) {
        const challenge = await this.d.payments.challenge(requirement, resource, `${error.code}: ${error.message}`);
        throw new ApiError(402, error.code, error.message, error.hint, { ...error.details, paymentRequired: challenge.header });
      }
      throw error;
    }
  }

  private async paidCall(
    version: VersionRecord,
    req: CallRequest,
    requirement: PaymentRequirements,
    quote: Quote,
    inputHash: Hex,
  ): Promise<CallResponse> {
    const payload = this.d.payments.decode(req.paymentHeader!);
    const payment = await this.d.payments.verifyAndClaim(payload, requirement);

    let journaled = false;
    try {
      return await this.runAndJournal(version, req, payment, quote, inputHash, () => (journaled = true));
    } finally {
      this.d.payments.release(payment.payer, payment.authorization.nonce, journaled);
    }
  }

  private async runAndJournal(
    version: VersionRecord,
    req: CallRequest,
    payment: VerifiedPayment,
    quote: Quote,
    inputHash: Hex,
    onJournaled: () => void,
  ): Promise<CallResponse> {
    // A failed run throws here: nothing is journaled, nothing is charged.
    const run = await this.run(version.hashes, req.functionName, req.args);

    const receipt: Receipt = {
      versionId: version.versionId,
      functionName: req.functionName,
      payer: payment.payer,
      executor: this.d.operator.address,
      royalty: payment.amount - quote.fee,
      executorFee: quote.fee,
      inputHash,
      outputHash: outputHashOf(run.result),
      fuelUsed: run.fuelUsed,
      paymentNonce: payment.authorization.nonce,
      timestamp: BigInt(Math.floor(Date.now() / 1000)),
    };
    const entry = await this.journalReceipt(receipt, payment, run.result);
    onJournaled();

    let settlement: { status: string; transaction?: Hex; reason?: string };
    if (this.d.mode === "immediate") {
      const outcome = await this.d.settler.settleNow(entry);
      if (outcome.status === "failed") {
        throw paymentError(
          "SETTLEMENT_FAILED",
          `The payment could not be settled (${outcome.reason}); it was not charged and the result is withheld.`,
          "Check the payer's USDC balance and authorization, then pay again.",
        );
      }
      settlement = outcome.status === "settled" ? { status: "settled", transaction: outcome.txHash } : { status: "pending", reason: outcome.reason };
    } else {
      this.d.settler.enqueue(entry);
      settlement = { status: "queued" };
    }

    this.d.log.debug({ receiptId: entry.receiptId, version: `${version.name}@${version.version}`, fn: req.functionName, settlement: settlement.status }, "paid call");
    const paymentResponse: SettleResponse = {
      success: true,
      transaction: settlement.transaction ?? "",
      network: this.d.payments.network,
      payer: payment.payer,
      amount: payment.amount.toString(),
      extra: { receiptId: entry.receiptId, settlement: settlement.status },
    };
    return {
      status: 200,
      headers: { "PAYMENT-RESPONSE": encodePaymentResponseHeader(paymentResponse) },
      body: {
        result: run.result,
        fuelUsed: run.fuelUsed.toString(),
        receipt: entry.receipt,
        signature: entry.receiptSignature,
        receiptId: entry.receiptId,
        settlement: { mode: this.d.mode, ...settlement },
      },
    };
  }

  /** Signs the receipt with the operator key and journals it (durably) before anything is returned. */
  private async journalReceipt(receipt: Receipt, payment: VerifiedPayment, result: unknown): Promise<JournaledReceipt> {
    // The receipt id is its EIP-712 digest: signing the digest is signing the typed data.
    const id = receiptId(receipt, this.d.chainId, this.d.settlement);
    const signature = await this.d.operator.sign!({ hash: id });
    const json: ReceiptJson = receiptToJson(receipt);
    const inserted = await this.d.journal.recordReceipt({
      payer: payment.payer,
      nonce: payment.authorization.nonce,
      versionId: receipt.versionId,
      amount: payment.amount,
      receiptId: id,
      receipt: json,
      receiptSignature: signature,
      authorization: payment.authorization,
      paymentSignature: payment.signature,
      result: canonicalJson(result ?? null),
    });
    if (!inserted) {
      // Journaled before (a replay that raced past the in-memory check, or across a restart): withhold the result.
      throw paymentError("PAYMENT_REPLAYED", `The payment nonce ${payment.authorization.nonce} from ${payment.payer} was already used.`);
    }
    return {
      payer: payment.payer,
      nonce: payment.authorization.nonce,
      receiptId: id,
      receipt: json,
      receiptSignature: signature,
      authorization: payment.authorization,
      paymentSignature: payment.signature,
      status: "pending",
      txHash: null,
      reason: null,
      createdAt: Date.now(),
      result: canonicalJson(result ?? null),
    };
  }

  /** Resolves `scope` + `name@version` against the chain; 400 for malformed references, 404/410 otherwise. */
  async resolve(scope: string, nameAndVersion: string): Promise<VersionRecord> {
    const at = nameAndVersion.lastIndexOf("@");
    const shortName = at > 0 ? nameAndVersion.slice(0, at) : nameAndVersion;
    const version = at > 0 ? nameAndVersion.slice(at + 1) : "latest";
    const name = `${scope}/${shortName}`;
    if (!PACKAGE_NAME_PATTERN.test(name)) {
      throw new ApiError(400, "INVALID_REFERENCE", `"${name}" is not a package name.`, 'Use /v1/call/<scope>/<name>@<version>/<function>, e.g. /v1/call/acme/markdown@1.0.0/to-html.');
    }
    if (version !== "latest" && !isSemver(version)) {
      throw new ApiError(400, "INVALID_REFERENCE", `"${version}" is not a semver version.`, 'Use an exact version like "1.2.0" or "latest".');
    }
    const { record, packageKnown } = await this.d.registry.resolve(name, version);
    if (!packageKnown) throw new ApiError(404, "UNKNOWN_PACKAGE", `No package "${name}" is registered on chain ${this.d.chainId}.`, "Search the catalog for the exact name.");
    if (!record) {
      if (version === "latest") throw new ApiError(404, "UNKNOWN_VERSION", `"${name}" has no published, non-yanked version.`);
      throw new ApiError(404, "UNKNOWN_VERSION", `"${name}" has no version ${version}.`, `Call ${name}@latest or a published version.`);
    }
    if (record.yanked) {
      throw new ApiError(410, "VERSION_YANKED", `${name}@${version} was yanked by its maintainer.`, `Call ${name}@latest instead.`);
    }
    return record;
  }

  /** Function and argument checks against the WIT signature: nothing runs, nothing is charged. */
  private checkCall(ref: ComponentRef, functionName: string, args: unknown): FunctionSignature {
    const functions = this.d.host.functions(ref) ?? [];
    const signature = functions.find((f) => f.name === functionName);
    if (!signature) {
      throw new ApiError(404, "UNKNOWN_FUNCTION", `The component has no function "${functionName}".`, `Functions: ${functions.map((f) => f.name).join(", ") || "none"}.`);
    }
    const problem = this.d.host.checkArguments(ref, functionName, args);
    if (problem) {
      const code: ErrorCode = problem.kind === "unknown_function" ? "UNKNOWN_FUNCTION" : "INVALID_ARGUMENTS";
      throw new ApiError(code === "UNKNOWN_FUNCTION" ? 404 : 400, code, problem.message, describeSignature(signature), problem.parameter ? { parameter: problem.parameter } : undefined);
    }
    return signature;
  }

  private async quote(version: VersionRecord, fn: string, args: unknown, inputHash: Hex, fee: bigint): Promise<Quote> {
    if (version.accessMode === "per-call") return { royalty: version.price, fee, fuelUsed: 0n };
    // per-fuel: fuel is deterministic, so a free dry run quotes the exact amount (its result is not returned).
    const key = `${version.versionId}:${fn}:${inputHash}`;
    const cached = this.quotes.get(key);
    if (cached) return { ...cached, fee };
    const run = await this.run(version.hashes, fn, args);
    const fuelCost = (run.fuelUsed * version.fuelPricePerMillion + 999_999n) / 1_000_000n;
    const quote = { royalty: version.price + fuelCost, fee, fuelUsed: run.fuelUsed };
    if (this.quotes.size >= QUOTE_CACHE_SIZE) this.quotes.delete(this.quotes.keys().next().value!);
    this.quotes.set(key, quote);
    return quote;
  }

  private async run(ref: ComponentRef, fn: string, args: unknown): Promise<{ result: unknown; fuelUsed: bigint }> {
    try {
      return await this.d.host.call(ref, fn, args);
    } catch (error) {
      throw runtimeToApiError(error);
    }
  }
}

/** Arguments in positional order (object form mapped by parameter name) for the input hash. */
function toPositional(signature: FunctionSignature, args: unknown): unknown[] {
  if (Array.isArray(args)) return args;
  const record = args as Record<string, unknown>;
  return signature.params.map((p) => record[p.name]);
}

function describeSignature(fn: FunctionSignature): string {
  return `Signature: ${fn.name}(${fn.params.map((p) => `${p.name}: ${typeName(p.type)}`).join(", ")}). Send a JSON array of arguments or an object keyed by parameter name.`;
}

function typeName(type: unknown): string {
  const t = type as { kind: string; name?: string; element?: unknown; some?: unknown };
  if (t.name) return t.name;
  if (t.kind === "list") return `list<${typeName(t.element)}>`;
  if (t.kind === "option") return `option<${typeName(t.some)}>`;
  return t.kind;
}
