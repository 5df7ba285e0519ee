import { x402Facilitator } from "@x402/core/facilitator";
import { encodePaymentRequiredHeader } from "@x402/core/http";
import { x402ResourceServer, type FacilitatorClient } from "@x402/core/server";
import type { Network, PaymentPayload, PaymentRequired, PaymentRequirements, SettleResponse, SupportedResponse, VerifyResponse } from "@x402/core/types";
import { BatchSettlementEvmScheme as BatchSettlementFacilitatorScheme } from "@x402/evm/batch-settlement/facilitator";
import { BatchSettlementEvmScheme as BatchSettlementServerScheme } from "@x402/evm/batch-settlement/server";
import { registerExactEvmScheme } from "@x402/evm/exact/facilitator";
import { ExactEvmScheme as ExactServerScheme } from "@x402/evm/exact/server";
import { erc20Abi, getAddress, isHex, type Address, type Hex, type LocalAccount, type PublicClient } from "viem";
import { channelPaymentRef } from "../sdk/receipt.ts";
import { PAYMENT_SCHEMES, type CallPayment, type ErrorCode, type PaymentScheme } from "../sdk/protocol.ts";
import type { JournaledChannelStorage } from "./channel-storage.ts";
import { ApiError, ChainUnavailableError, shortMessage } from "./errors.ts";
import type { OperatorSender } from "./operator.ts";
import { installVoucherFastPath, VoucherSignatures } from "./voucher-check.ts";
import { decodePaymentSignature, encodePaymentResponse } from "./x402-headers.ts";
import { operatorFacilitatorSigner } from "./x402-signer.ts";

/** EIP-712 domain of the USDC token (ERC-3009 authorizations for exact payments and channel deposits). */
export const USDC_DOMAIN = { name: "USD Coin", version: "2" } as const;
/** How long a client has between the 402 and the paid retry. */
const MAX_TIMEOUT_SECONDS = 300;
/** The payer's withdraw delay the executor asks for (x402's minimum is 900 s): the time it has to claim. */
export const DEFAULT_WITHDRAW_DELAY_SECONDS = 900;

export interface PaymentGateOptions {
  chainId: number;
  usdc: Address;
  /** The operator key: the payee (payTo / receiver) and the channels' receiverAuthorizer. */
  operator: LocalAccount;
  sender: OperatorSender;
  client: PublicClient;
  channels: JournaledChannelStorage;
  withdrawDelaySeconds?: number;
  /** Channels refused for payments (their claims failed on their own: see ChannelClaimer). */
  isBlockedChannel?: (channelId: string) => boolean;
}

/** A payment that passed verification: for a channel, the voucher is reserved until finalize or cancel. */
export interface VerifiedPayment {
  scheme: PaymentScheme;
  payload: PaymentPayload;
  requirement: PaymentRequirements;
  payer: Address;
  amount: bigint;
  /** batch-settlement only. */
  channelId?: Hex;
}

/** A payment that is final (exact settled on-chain, or the voucher charged against a funded channel). */
export interface FinalizedPayment {
  verified: VerifiedPayment;
  settle: SettleResponse;
  /** What the receipt names as the payment (sdk/receipt.ts paymentRef). */
  paymentRef: Hex;
  payment: CallPayment;
  /** The channel as it was before the charge (to undo it if the receipt cannot be journaled). */
  before?: { chargedCumulativeAmount: string; signedMaxClaimable: string; signature: string };
}

/**
 * The x402 edge: one x402ResourceServer with the stock `batch-settlement` and `exact` server schemes of
 * @x402/evm, and in-process stock facilitators signing with the operator key. The executor is the payee
 * of every payment (payTo = channel receiver = operator), so no stranger can redirect one.
 *
 * The order is the standard x402 one, around the run: verify (a channel's voucher is reserved), run,
 * then finalize: a voucher is charged (exactly the quote) or the exact authorization is settled on-chain.
 * A failed run cancels (the voucher is released, the authorization never submitted), so it is never charged.
 */
export class PaymentGate {
  readonly network: Network;
  readonly withdrawDelaySeconds: number;
  readonly server: x402ResourceServer;
  readonly facilitator: x402Facilitator;
  readonly channelServer: BatchSettlementServerScheme;
  private readonly requirementCache = new Map<string, readonly PaymentRequirements[]>();

  constructor(private readonly o: PaymentGateOptions) {
    this.network = `eip155:${o.chainId}`;
    this.withdrawDelaySeconds = o.withdrawDelaySeconds ?? DEFAULT_WITHDRAW_DELAY_SECONDS;
    const signer = operatorFacilitatorSigner(o.client, o.sender);
    this.facilitator = new x402Facilitator();
    this.facilitator.register(this.network, new BatchSettlementFacilitatorScheme(signer, o.operator));
    registerExactEvmScheme(this.facilitator, { signer, networks: this.network });
    const facilitator = this.facilitator;
    const facilitatorClient: FacilitatorClient = {
      verify: (payload, requirements) => facilitator.verify(payload, requirements),
      settle: (payload, requirements) => facilitator.settle(payload, requirements),
      getSupported: async (): Promise<SupportedResponse> => {
        const supported = facilitator.getSupported();
        // Only this chain's v2 kinds (the exact facilitator also lists v1 network names).
        const kinds = supported.kinds.flatMap((k) => (isNetwork(k.network) && k.network === this.network ? [{ ...k, network: k.network }] : []));
        return { ...supported, kinds };
      },
    };
    this.channelServer = new BatchSettlementServerScheme(o.operator.address, {
      storage: o.channels,
      receiverAuthorizerSigner: o.operator,
      withdrawDelay: this.withdrawDelaySeconds,
    });
    // Before register(): the resource server copies the scheme's hooks when it registers the scheme.
    installVoucherFastPath(this.channelServer, new VoucherSignatures(o.chainId));
    this.server = new x402ResourceServer(facilitatorClient);
    this.server.register(this.network, this.channelServer);
    this.server.register(this.network, new ExactServerScheme());
  }

  async init(): Promise<void> {
    await this.server.initialize();
  }

  get payee(): Address {
    return this.o.operator.address;
  }

  /**
   * The two `accepts` entries for `amount` USDC base units: batch-settlement first, exact second.
   * Shared between calls and deeply frozen (every paid call reads them; none may change them).
   */
  async requirements(amount: bigint): Promise<readonly PaymentRequirements[]> {
    const key = amount.toString();
    const cached = this.requirementCache.get(key);
    if (cached) return cached;
    const price = { amount: key, asset: this.o.usdc, extra: { ...USDC_DOMAIN } };
    const accepts: PaymentRequirements[] = [];
    for (const scheme of PAYMENT_SCHEMES) {
      accepts.push(
        ...(await this.server.buildPaymentRequirements({
          scheme,
          network: this.network,
          payTo: this.payee,
          price,
          maxTimeoutSeconds: MAX_TIMEOUT_SECONDS,
        })),
      );
    }
    if (this.requirementCache.size > 10_000) this.requirementCache.clear();
    deepFreeze(accepts);
    this.requirementCache.set(key, accepts);
    return accepts;
  }

  /**
   * A standard PAYMENT-REQUIRED header (base64 JSON) and its decoded form. `error` is the stock reason
   * when there is one, so stock clients recover by themselves (e.g. a channel whose cumulative amount
   * the client lost: the 402 then carries the server's channel state).
   */
  async challenge(
    accepts: readonly PaymentRequirements[],
    resource: { url: string; description: string },
    error?: string,
    payload?: PaymentPayload,
    extensions?: Record<string, unknown>,
  ): Promise<{ header: string; body: PaymentRequired }> {
    const body = await this.server.createPaymentRequiredResponse(
      // Copies: the 402 body is the caller's to change, the shared requirements are not.
      accepts.map((a) => structuredClone(a)),
      { url: resource.url, description: resource.description, mimeType: "application/json" },
      error,
      extensions,
      undefined,
      payload,
    );
    return { header: encodePaymentRequiredHeader(body), body };
  }

  decode(header: string): PaymentPayload {
    try {
      return decodePaymentSignature(header);
    } catch (error) {
      throw paymentError("PAYMENT_INVALID", `The PAYMENT-SIGNATURE header is not a valid x402 payment payload: ${(error as Error).message}`);
    }
  }

  /** Verifies `payload` against one of `accepts`; throws a 402 ApiError naming the problem, or 503 when the chain is down. */
  async verify(payload: PaymentPayload, accepts: readonly PaymentRequirements[]): Promise<VerifiedPayment> {
    if (payload.x402Version !== 2) throw paymentError("PAYMENT_INVALID", `Only x402 version 2 is accepted, got ${String(payload.x402Version)}.`);
    const scheme = payload.accepted?.scheme;
    if (!isScheme(scheme)) {
      throw paymentError("PAYMENT_SCHEME_UNSUPPORTED", `The payment uses scheme "${String(scheme)}"; this executor accepts ${PAYMENT_SCHEMES.join(" and ")} on ${this.network}.`);
    }
    if (scheme === "batch-settlement" && (payload.payload as { type?: unknown }).type === "refund") {
      throw paymentError(
        "PAYMENT_SCHEME_UNSUPPORTED",
        "This executor does not take cooperative refund requests: withdraw through the channel contract (initiateWithdraw, then finalizeWithdraw after the delay); it claims what it is owed first.",
      );
    }
    const payloadChannel = scheme === "batch-settlement" ? channelIdOf(payload) : undefined;
    if (payloadChannel && this.o.isBlockedChannel?.(payloadChannel)) {
      throw paymentError("PAYMENT_INVALID", `Channel ${payloadChannel} is refused: a claim of its vouchers failed on-chain.`, "Pay from another channel (a new salt) or with the exact scheme.");
    }
    const requirement = this.server.findMatchingRequirements([...accepts], payload);
    if (!requirement) throw this.mismatch(payload, accepts);
    let result: VerifyResponse;
    try {
      result = await this.server.verifyPayment(payload, requirement);
    } catch (error) {
      throw await this.chainOr(error, paymentError("PAYMENT_INVALID", `Payment verification failed: ${shortMessage(error)}`));
    }
    if (!result.isValid || !result.payer) throw await this.refused(payload, result);
    const channelId = payloadChannel;
    return { scheme, payload, requirement, payer: getAddress(result.payer), amount: BigInt(requirement.amount), ...(channelId ? { channelId } : {}) };
  }

  /** The run failed: release the channel reservation (nothing charged); an exact authorization is simply never submitted. */
  async cancel(verified: VerifiedPayment, error: unknown): Promise<void> {
    await this.server.createPaymentCancellationDispatcher(verified.payload, verified.requirement).cancel({ reason: "handler_threw", error }).catch(() => {});
  }

  /**
   * Makes the payment final: a voucher is charged exactly the quote against the channel (a deposit is
   * sent on-chain first), an exact authorization is settled on-chain. Throws 402 SETTLEMENT_FAILED (the
   * result must then be withheld) or 503 when the chain is down.
   */
  async finalize(verified: VerifiedPayment): Promise<FinalizedPayment> {
    const channelId = verified.channelId;
    const snapshot = channelId ? this.o.channels.peek(channelId) : undefined;
    const before = snapshot
      ? { chargedCumulativeAmount: snapshot.chargedCumulativeAmount, signedMaxClaimable: snapshot.signedMaxClaimable, signature: snapshot.signature }
      : undefined;
    if (channelId) this.o.channels.hold(channelId);
    let settle: SettleResponse;
    try {
      settle = await this.server.settlePayment(verified.payload, verified.requirement);
    } catch (error) {
      if (channelId) this.o.channels.release(channelId);
      const reason = (error as { errorReason?: string }).errorReason;
      if (reason) throw settlementFailed(reason, (error as { errorMessage?: string }).errorMessage);
      throw await this.chainOr(error, settlementFailed("settle_error", shortMessage(error)));
    }
    if (!settle.success) {
      if (channelId) this.o.channels.release(channelId);
      throw settlementFailed(settle.errorReason ?? "settlement_failed", settle.errorMessage);
    }
    if (verified.scheme === "exact") {
      if (!isHex(settle.transaction) || settle.transaction.length !== 66) throw settlementFailed("no_transaction", "the facilitator reported success without a transaction hash");
      const transaction = settle.transaction;
      return { verified, settle, paymentRef: transaction, payment: { scheme: "exact", amount: verified.amount.toString(), transaction } };
    }
    const state = (settle.extra?.channelState ?? {}) as { chargedCumulativeAmount?: string };
    const charged = state.chargedCumulativeAmount ?? this.o.channels.peek(channelId!)?.chargedCumulativeAmount;
    if (charged === undefined) throw settlementFailed("missing_channel_state", "the channel state after the charge is unknown");
    const deposit = isHex(settle.transaction) && settle.transaction.length === 66 ? settle.transaction : undefined;
    return {
      verified,
      settle,
      before,
      paymentRef: channelPaymentRef(channelId!, BigInt(charged)),
      payment: { scheme: "batch-settlement", amount: verified.amount.toString(), channelId: channelId!, chargedCumulativeAmount: charged, ...(deposit ? { transaction: deposit } : {}) },
    };
  }

  /** The receipt is journaled (with the channel record): the charge may now be written on its own too. */
  released(finalized: FinalizedPayment): void {
    if (finalized.verified.channelId) this.o.channels.release(finalized.verified.channelId);
  }

  /**
   * The receipt could not be journaled: undo a voucher charge (the payer gets no result, so it pays
   * nothing). An exact settlement cannot be undone; the caller logs it loudly.
   */
  rollback(finalized: FinalizedPayment): void {
    const channelId = finalized.verified.channelId;
    if (!channelId || !finalized.before) {
      if (channelId) this.o.channels.release(channelId);
      return;
    }
    const before = finalized.before;
    const charged = finalized.payment.chargedCumulativeAmount;
    this.o.channels.updateNow(channelId, (current) =>
      current && current.chargedCumulativeAmount === charged ? { ...current, ...before, pendingRequest: undefined } : current,
    );
    this.o.channels.release(channelId);
  }

  /** PAYMENT-RESPONSE: the stock settle response (exact: the transaction; channel: its state) plus the receipt id. */
  responseHeader(finalized: FinalizedPayment, receiptId: Hex): string {
    return encodePaymentResponse({ ...finalized.settle, extra: { ...finalized.settle.extra, receiptId } });
  }

  /** Is the chain reachable right now? (tells a refused payment from an RPC outage) */
  async chainReachable(): Promise<boolean> {
    try {
      await this.o.client.getBlockNumber({ cacheTime: 0 });
      return true;
    } catch {
      return false;
    }
  }

  private mismatch(payload: PaymentPayload, accepts: readonly PaymentRequirements[]): ApiError {
    const accepted = payload.accepted;
    const offer = accepts.find((a) => a.scheme === accepted.scheme);
    if (!offer) return paymentError("PAYMENT_SCHEME_UNSUPPORTED", `This call does not accept ${accepted.scheme} on ${accepted.network}.`);
    if (accepted.network !== offer.network) return paymentError("PAYMENT_INVALID", `The payment is for network ${accepted.network}; this executor is on ${offer.network}.`);
    if (getAddress(accepted.payTo) !== getAddress(offer.payTo)) {
      return paymentError("PAYMENT_WRONG_PAYEE", `The payment pays ${accepted.payTo}; this executor is paid at ${offer.payTo}.`);
    }
    if (accepted.amount !== offer.amount) {
      return paymentError("PAYMENT_WRONG_AMOUNT", `The payment is for ${accepted.amount} USDC base units; this call costs exactly ${offer.amount}.`);
    }
    if (accepted.asset.toLowerCase() !== offer.asset.toLowerCase()) return paymentError("PAYMENT_INVALID", `The payment asset ${accepted.asset} is not this chain's USDC ${offer.asset}.`);
    return paymentError("PAYMENT_INVALID", "The payment's accepted requirements do not match this call's (request a fresh 402 and pay that).");
  }

  /** Maps a stock invalidReason to a stable code (the stock reason stays in details.reason and in the 402's error). */
  private async refused(payload: PaymentPayload, result: VerifyResponse): Promise<ApiError> {
    const reason = result.invalidReason ?? "invalid";
    const detail = result.invalidMessage ? `: ${result.invalidMessage.split("\n")[0]}` : "";
    const withReason = (code: ErrorCode, message: string, hint?: string) => {
      const error = paymentError(code, message, hint);
      return new ApiError(error.status, error.code, error.message, error.hint, { reason });
    };
    if (reason.includes("verification_state_unavailable") || reason.includes("rpc_read_failed")) {
      if (!(await this.chainReachable())) return new ChainUnavailableError(new Error(`payment verification could not read the chain (${reason})`));
    }
    if (reason.includes("cumulative_amount_mismatch") || reason.includes("cumulative_below_claimed")) {
      return withReason("PAYMENT_CHANNEL_STALE", `The voucher's cumulative amount does not follow this channel's state (${reason}).`, "The 402 carries the channel state: a stock client resyncs and pays again.");
    }
    if (reason.includes("channel_busy")) return withReason("PAYMENT_CHANNEL_BUSY", "Another call on this channel is being paid right now; channel calls are one at a time.", "Retry when the other call has answered.");
    const channel = payload.accepted.scheme === "batch-settlement";
    if (channel && (reason.includes("exceeds_balance") || reason.includes("channel_not_found") || reason.includes("insufficient_balance") || reason.includes("deposit_below_min"))) {
      return withReason("PAYMENT_CHANNEL_UNDERFUNDED", `The channel does not hold enough for this call (${reason}).`, "Top up the channel (deposit) and pay again.");
    }
    if (reason.includes("receiver") || reason.includes("recipient_mismatch")) return withReason("PAYMENT_WRONG_PAYEE", `The payment must pay this executor ${this.payee} (${reason}).`);
    if (reason.includes("valid_before") || reason.includes("expired")) return withReason("PAYMENT_EXPIRED", `The payment authorization expired (${reason}).`);
    if (reason.includes("value_mismatch") || reason.includes("amount")) return withReason("PAYMENT_WRONG_AMOUNT", `Wrong payment amount (${reason})${detail}.`);
    if (reason.includes("nonce_already_used")) return withReason("PAYMENT_REPLAYED", `The authorization was already used on the token (${reason}).`);
    if (reason.includes("insufficient_funds") || reason.includes("insufficient_balance")) return this.underfunded(payload, reason);
    if (reason.includes("simulation_failed") || reason.includes("transaction_failed")) return this.diagnoseExact(payload, reason, detail);
    if (reason.includes("signature")) return withReason("PAYMENT_INVALID", `The payment signature does not verify (${reason}).`);
    return withReason("PAYMENT_INVALID", `The payment was refused (${reason})${detail}.`);
  }

  /** x402's exact diagnosis needs Multicall3; diagnose directly (used nonce, balance). */
  private async diagnoseExact(payload: PaymentPayload, reason: string, detail: string): Promise<ApiError> {
    const auth = (payload.payload as { authorization?: { from?: string; nonce?: string; value?: string } }).authorization;
    if (!auth?.from || !auth.nonce || !isHex(auth.nonce) || !isHex(auth.from)) return paymentError("PAYMENT_INVALID", `The payment was refused (${reason})${detail}.`);
    try {
      const [balance, used] = await Promise.all([
        this.o.client.readContract({ address: this.o.usdc, abi: erc20Abi, functionName: "balanceOf", args: [getAddress(auth.from)] }),
        this.o.client.readContract({ address: this.o.usdc, abi: AUTHORIZATION_STATE_ABI, functionName: "authorizationState", args: [getAddress(auth.from), auth.nonce] }),
      ]);
      if (used) return paymentError("PAYMENT_REPLAYED", `The authorization nonce ${auth.nonce} was already used on the token.`);
      if (balance < BigInt(auth.value ?? "0")) return this.underfunded(payload, reason, balance);
    } catch (error) {
      return new ChainUnavailableError(error);
    }
    return paymentError("PAYMENT_INVALID", `The payment was refused (${reason})${detail}.`);
  }

  private underfunded(payload: PaymentPayload, reason: string, balance?: bigint): ApiError {
    const has = balance === undefined ? "" : ` (balance ${balance})`;
    return new ApiError(402, "PAYMENT_UNDERFUNDED", `The payer holds less USDC than this call costs${has} (${reason}).`, "Fund the wallet with USDC and pay again.", { reason, scheme: payload.accepted.scheme });
  }

  private async chainOr(error: unknown, fallback: ApiError): Promise<ApiError> {
    return (await this.chainReachable()) ? fallback : new ChainUnavailableError(error);
  }
}

const AUTHORIZATION_STATE_ABI = [
  {
    type: "function",
    name: "authorizationState",
    stateMutability: "view",
    inputs: [
      { name: "authorizer", type: "address" },
      { name: "nonce", type: "bytes32" },
    ],
    outputs: [{ type: "bool" }],
  },
] as const;

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return;
  for (const child of Object.values(value)) deepFreeze(child);
  Object.freeze(value);
}

function channelIdOf(payload: PaymentPayload): Hex | undefined {
  const voucher = (payload.payload as { voucher?: { channelId?: unknown } }).voucher;
  const id = voucher?.channelId;
  return typeof id === "string" && isHex(id) && id.length === 66 ? id : undefined;
}

function isNetwork(value: string): value is Network {
  return /^[a-z0-9-]+:[A-Za-z0-9-]+$/.test(value);
}

function isScheme(value: unknown): value is PaymentScheme {
  return typeof value === "string" && (PAYMENT_SCHEMES as readonly string[]).includes(value);
}

export function paymentError(code: ErrorCode, message: string, hint?: string): ApiError {
  return new ApiError(402, code, message, hint ?? "Request the call again without PAYMENT-SIGNATURE to get a fresh PAYMENT-REQUIRED challenge.");
}

function settlementFailed(reason: string, message?: string): ApiError {
  return new ApiError(
    402,
    "SETTLEMENT_FAILED",
    `The payment could not be made final (${reason}${message ? `: ${message.split("\n")[0]}` : ""}); the result is withheld and nothing was charged.`,
    "Check the payer's USDC balance, authorization or channel, then pay again.",
    { reason },
  );
}
