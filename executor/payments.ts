import { x402Facilitator } from "@x402/core/facilitator";
import { encodePaymentRequiredHeader, decodePaymentSignatureHeader } from "@x402/core/http";
import { x402ResourceServer, type FacilitatorClient } from "@x402/core/server";
import type { PaymentPayload, PaymentRequired, PaymentRequirements, SettleResponse, SupportedResponse, VerifyResponse } from "@x402/core/types";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { registerExactEvmScheme as registerFacilitatorScheme } from "@x402/evm/exact/facilitator";
import { ExactEvmScheme as ExactEvmServerScheme } from "@x402/evm/exact/server";
import { erc20Abi, getAddress, isAddress, isHex, type Address, type Hex, type PublicClient } from "viem";
import { ApiError, ChainUnavailableError, type ErrorCode } from "./errors.ts";
import type { AuthorizationJson, Journal } from "./journal.ts";

/** EIP-712 domain of the USDC token: x402's `exact` scheme signs TransferWithAuthorization under it. */
export const USDC_DOMAIN = { name: "USD Coin", version: "2" } as const;
/** How long a client has between the 402 and the paid retry. */
const MAX_TIMEOUT_SECONDS = 300;
const CODE_CACHE_MS = 2_000;
const RECENT_PAYMENTS = 200_000;

function paymentKey(payer: Address, nonce: Hex): string {
  return `${payer.toLowerCase()}:${nonce.toLowerCase()}`;
}

export interface VerifiedPayment {
  payer: Address;
  authorization: AuthorizationJson;
  signature: Hex;
  amount: bigint;
}

const authorizationStateAbi = [
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

/**
 * x402 v2 with an in-process facilitator. Verification is the standard `exact` EVM facilitator's
 * (signature, amount, payTo, validity window, balance by simulation) plus ours: payTo is the
 * Settlement contract, the amount is our quote, the quote's version is the called version, and the
 * payer + nonce was never seen in the journal. Settlement never goes through the token directly:
 * it goes through Settlement with a signed receipt (see settlement.ts), so the facilitator signer
 * has no write capability.
 */
export class Payments {
  readonly network: `eip155:${number}`;
  private readonly server: x402ResourceServer;
  private readonly facilitator: x402Facilitator;

  constructor(
    private readonly o: {
      chainId: number;
      usdc: Address;
      settlement: Address;
      operator: Address;
      client: PublicClient;
      journal: Journal;
    },
  ) {
    this.network = `eip155:${o.chainId}`;
    const client = o.client;
    const readOnly = () => {
      throw new Error("the executor's facilitator never sends transactions: settlement goes through Settlement");
    };
    // The exact facilitator asks for the payer's code twice per verification (ERC-6492 / ERC-1271
    // classification): memoize it briefly so one verification costs one getCode.
    const codeCache = new Map<string, { at: number; code: Promise<Hex | undefined> }>();
    const getCode = (args: { address: Address }): Promise<Hex | undefined> => {
      const key = args.address.toLowerCase();
      const now = Date.now();
      const hit = codeCache.get(key);
      if (hit && now - hit.at < CODE_CACHE_MS) return hit.code;
      if (codeCache.size > 10_000) codeCache.clear();
      const code = client.getCode(args);
      codeCache.set(key, { at: now, code });
      code.catch(() => codeCache.delete(key));
      return code;
    };
    const signer = toFacilitatorEvmSigner({
      address: o.operator,
      readContract: (args) => client.readContract(args as never),
      verifyTypedData: (args) => client.verifyTypedData(args as never),
      writeContract: readOnly,
      sendTransaction: readOnly,
      waitForTransactionReceipt: (args) => client.waitForTransactionReceipt(args),
      getCode,
    });
    this.facilitator = new x402Facilitator();
    registerFacilitatorScheme(this.facilitator, { signer, networks: this.network });
    const facilitatorClient: FacilitatorClient = {
      verify: (payload, requirements) => this.facilitator.verify(payload, requirements),
      settle: async (): Promise<SettleResponse> => {
        throw new Error("settle goes through the Settlement contract with a signed receipt");
      },
      getSupported: async () => this.facilitator.getSupported() as SupportedResponse,
    };
    this.server = new x402ResourceServer(facilitatorClient);
    this.server.register(this.network, new ExactEvmServerScheme());
  }

  async init(): Promise<void> {
    await this.server.initialize();
  }

  /** The single `exact` USDC requirement for `amount`, payTo = Settlement, bound to one version. */
  async requirements(amount: bigint, versionId: Hex): Promise<PaymentRequirements> {
    const key = `${amount}:${versionId}`;
    const cached = this.requirementCache.get(key);
    if (cached) return structuredClone(cached);
    const [requirement] = await this.server.buildPaymentRequirements({
      scheme: "exact",
      network: this.network,
      payTo: this.o.settlement,
      price: { amount: amount.toString(), asset: this.o.usdc, extra: { ...USDC_DOMAIN } },
      maxTimeoutSeconds: MAX_TIMEOUT_SECONDS,
      extra: { ...USDC_DOMAIN, versionId },
    });
    if (!requirement) throw new Error(`x402: no payment requirement built for ${this.network}`);
    if (this.requirementCache.size > 10_000) this.requirementCache.clear();
    this.requirementCache.set(key, structuredClone(requirement));
    return requirement;
  }

  /** A standard PAYMENT-REQUIRED header value (base64 JSON) and its decoded form. */
  async challenge(
    requirement: PaymentRequirements,
    resource: { url: string; description: string },
    error?: string,
  ): Promise<{ header: string; body: PaymentRequired }> {
    const body = await this.server.createPaymentRequiredResponse(
      [requirement],
      { url: resource.url, description: resource.description, mimeType: "application/json" },
      error,
    );
    return { header: encodePaymentRequiredHeader(body), body };
  }

  decode(header: string): PaymentPayload {
    try {
      return decodePaymentSignatureHeader(header);
    } catch (error) {
      throw paymentError("PAYMENT_INVALID", `The PAYMENT-SIGNATURE header is not a valid x402 payment payload: ${(error as Error).message}`);
    }
  }

  /**
   * Verifies a payment against our requirement and claims it for this run (the caller journals it with
   * the receipt, unique on payer + nonce, or releases it). Throws ApiError 402 with a specific code,
   * or 503 when the chain is unreachable.
   */
  async verifyAndClaim(payload: PaymentPayload, requirement: PaymentRequirements): Promise<VerifiedPayment> {
    if (payload.x402Version !== 2) throw paymentError("PAYMENT_INVALID", `Only x402 version 2 is accepted, got ${payload.x402Version}.`);
    const accepted = payload.accepted;
    if (!accepted || accepted.scheme !== "exact" || accepted.network !== this.network) {
      throw paymentError("PAYMENT_INVALID", `The payment must use the "exact" scheme on ${this.network}.`);
    }
    if (String(accepted.extra?.versionId ?? "").toLowerCase() !== String(requirement.extra.versionId).toLowerCase()) {
      throw paymentError(
        "PAYMENT_WRONG_VERSION",
        `The payment was made for version ${String(accepted.extra?.versionId ?? "(none)")}, not the called version ${String(requirement.extra.versionId)}.`,
      );
    }
    const { authorization, signature } = parseExactPayload(payload.payload);
    if (getAddress(authorization.to) !== getAddress(this.o.settlement)) {
      throw paymentError("PAYMENT_WRONG_PAYEE", `The authorization pays ${authorization.to}; it must pay the Settlement contract ${this.o.settlement}.`);
    }
    if (accepted.asset.toLowerCase() !== this.o.usdc.toLowerCase()) {
      throw paymentError("PAYMENT_INVALID", `The payment asset ${accepted.asset} is not this chain's USDC ${this.o.usdc}.`);
    }
    if (BigInt(authorization.value) !== BigInt(requirement.amount)) {
      throw paymentError(
        "PAYMENT_WRONG_AMOUNT",
        `The authorization is for ${authorization.value} USDC base units; this call costs exactly ${requirement.amount}.`,
      );
    }

    let result: VerifyResponse;
    try {
      result = await this.server.verifyPayment(payload, requirement);
    } catch (error) {
      throw await this.chainOr(error, paymentError("PAYMENT_INVALID", `Payment verification failed: ${(error as Error).message}`));
    }
    if (!result.isValid) throw await this.explain(result, authorization);

    // Claimed in memory for the run; journaled (unique on payer + nonce) with the receipt after it.
    if (!this.claim(authorization.from, authorization.nonce)) {
      throw paymentError("PAYMENT_REPLAYED", `The payment nonce ${authorization.nonce} from ${authorization.from} was already used.`);
    }
    return { payer: getAddress(authorization.from), authorization, signature, amount: BigInt(authorization.value) };
  }

  private readonly requirementCache = new Map<string, PaymentRequirements>();
  private readonly inFlight = new Set<string>();
  /** Recently journaled payments not yet settled on-chain (settled ones fail verification: nonce used). */
  private readonly recent = new Map<string, true>();

  private claim(payer: Address, nonce: Hex): boolean {
    const key = paymentKey(payer, nonce);
    if (this.inFlight.has(key) || this.recent.has(key)) return false;
    this.inFlight.add(key);
    return true;
  }

  /** The run is over: journaled (remember it) or failed (the payment was not charged). */
  release(payer: Address, nonce: Hex, journaled: boolean): void {
    const key = paymentKey(payer, nonce);
    this.inFlight.delete(key);
    if (!journaled) return;
    this.recent.set(key, true);
    if (this.recent.size > RECENT_PAYMENTS) this.recent.delete(this.recent.keys().next().value!);
  }

  /** Maps the facilitator's invalidReason to our stable codes (diagnosing failed simulations ourselves). */
  private async explain(result: VerifyResponse, auth: AuthorizationJson): Promise<ApiError> {
    const reason = result.invalidReason ?? "invalid";
    // Signature checks and simulations read the chain: an outage must not look like a bad payment.
    if (!(await this.chainReachable())) return new ChainUnavailableError(new Error(`payment verification could not read the chain (${reason})`));
    const detail = result.invalidMessage ? `: ${result.invalidMessage.split("\n")[0]}` : "";
    if (reason.includes("valid_before")) return paymentError("PAYMENT_EXPIRED", `The payment authorization expired (validBefore ${auth.validBefore}).`);
    if (reason.includes("valid_after")) return paymentError("PAYMENT_INVALID", `The payment authorization is not valid yet (validAfter ${auth.validAfter}).`);
    if (reason.includes("recipient_mismatch")) return paymentError("PAYMENT_WRONG_PAYEE", `The authorization must pay the Settlement contract ${this.o.settlement}.`);
    if (reason.includes("value_mismatch") || reason.includes("authorization_value")) return paymentError("PAYMENT_WRONG_AMOUNT", `Wrong authorization amount${detail}.`);
    if (reason.includes("signature")) return paymentError("PAYMENT_INVALID", `The payment signature does not match the authorization (${reason}).`);
    if (reason.includes("insufficient_balance")) return this.underfunded(auth);
    if (reason.includes("nonce_already_used")) return paymentError("PAYMENT_REPLAYED", `The authorization nonce ${auth.nonce} was already used on the token.`);
    if (reason.includes("simulation_failed") || reason.includes("transaction_failed")) {
      // x402's own diagnosis needs Multicall3, which local chains lack: diagnose directly.
      try {
        const [balance, used] = await Promise.all([
          this.o.client.readContract({ address: this.o.usdc, abi: erc20Abi, functionName: "balanceOf", args: [auth.from] }),
          this.o.client.readContract({ address: this.o.usdc, abi: authorizationStateAbi, functionName: "authorizationState", args: [auth.from, auth.nonce] }),
        ]);
        if (used) return paymentError("PAYMENT_REPLAYED", `The authorization nonce ${auth.nonce} was already used on the token.`);
        if (balance < BigInt(auth.value)) return this.underfunded(auth, balance);
      } catch (error) {
        return new ChainUnavailableError(error);
      }
    }
    return paymentError("PAYMENT_INVALID", `The payment was refused (${reason})${detail}.`);
  }

  private underfunded(auth: AuthorizationJson, balance?: bigint): ApiError {
    const has = balance === undefined ? "" : ` (balance ${balance})`;
    return paymentError("PAYMENT_UNDERFUNDED", `The payer ${auth.from} holds less than ${auth.value} USDC base units${has}.`, "Fund the wallet with USDC and pay again.");
  }

  /** A thrown verification error is 503 when the chain does not answer, else `fallback`. */
  private async chainOr(error: unknown, fallback: ApiError): Promise<ApiError> {
    try {
      await this.o.client.getBlockNumber({ cacheTime: 0 });
      return fallback;
    } catch {
      return new ChainUnavailableError(error);
    }
  }

  /** Is the chain reachable right now? (used to tell a refused payment from an RPC outage) */
  async chainReachable(): Promise<boolean> {
    try {
      await this.o.client.getBlockNumber({ cacheTime: 0 });
      return true;
    } catch {
      return false;
    }
  }
}

export function paymentError(code: ErrorCode, message: string, hint?: string): ApiError {
  return new ApiError(402, code, message, hint ?? "Request the call again without PAYMENT-SIGNATURE to get a fresh PAYMENT-REQUIRED challenge.");
}

function parseExactPayload(raw: Record<string, unknown>): { authorization: AuthorizationJson; signature: Hex } {
  const a = raw.authorization as Record<string, unknown> | undefined;
  const signature = raw.signature;
  const fields = ["from", "to", "value", "validAfter", "validBefore", "nonce"] as const;
  if (!a || typeof a !== "object" || fields.some((f) => typeof a[f] !== "string") || typeof signature !== "string" || !isHex(signature)) {
    throw paymentError("PAYMENT_INVALID", "The payment payload must carry an EIP-3009 authorization {from,to,value,validAfter,validBefore,nonce} and a signature.");
  }
  const auth = a as Record<(typeof fields)[number], string>;
  if (!isAddress(auth.from) || !isAddress(auth.to) || !isHex(auth.nonce) || auth.nonce.length !== 66) {
    throw paymentError("PAYMENT_INVALID", "The payment authorization has a malformed address or nonce.");
  }
  for (const f of ["value", "validAfter", "validBefore"] as const) {
    if (!/^\d{1,78}$/.test(auth[f])) throw paymentError("PAYMENT_INVALID", `The payment authorization field ${f} must be a decimal integer.`);
  }
  return {
    authorization: {
      from: getAddress(auth.from),
      to: getAddress(auth.to),
      value: auth.value,
      validAfter: auth.validAfter,
      validBefore: auth.validBefore,
      nonce: auth.nonce.toLowerCase() as Hex,
    },
    signature: signature as Hex,
  };
}
