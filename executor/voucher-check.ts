import { randomUUID } from "node:crypto";
import type { VerifyResponse } from "@x402/core/types";
import { BATCH_SETTLEMENT_ADDRESS, BATCH_SETTLEMENT_DOMAIN, isBatchSettlementVoucherPayload, voucherTypes, type BatchSettlementVoucherPayload, type ChannelConfig } from "@x402/evm";
import type { BatchSettlementEvmScheme, Channel, ChannelStorage } from "@x402/evm/batch-settlement/server";
import { domainSeparator, getAddress, keccak256, stringToHex, type Hex } from "viem";
import { AbiWords, bytes32Of, keccakBytes, typedDataDigest } from "../sdk/abi-words.ts";
import { publicKeyAddress, recoverSigner } from "./secp256k1.ts";

type BeforeVerifyHook = NonNullable<BatchSettlementEvmScheme["schemeHooks"]["onBeforeVerify"]>;
type VerifyContext = Parameters<BeforeVerifyHook>[0];

/** The stock scheme's reason for a voucher whose signature does not verify (x402 batch-settlement errors). */
export const INVALID_VOUCHER_SIGNATURE = "invalid_batch_settlement_evm_voucher_signature";
const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
const MAX_CACHED_SIGNERS = 100_000;
const VOUCHER_TYPEHASH = bytes32Of(keccak256(stringToHex(`Voucher(${voucherTypes.Voucher.map((f) => `${f.type} ${f.name}`).join(",")})`)));

/**
 * Voucher signatures checked against a cached public key: the signer's key is recovered and matched to
 * the channel's payerAuthorizer once per (channel, authorizer); every later voucher is recovered
 * natively and compared byte for byte with that key. Non-canonical signatures (v not 27/28, high s)
 * are refused: the channel contract's ecrecover would refuse them at claim time.
 */
export class VoucherSignatures {
  private readonly keys = new Map<string, Uint8Array>();
  private readonly domainSeparator: Uint8Array;

  constructor(chainId: number) {
    this.domainSeparator = bytes32Of(domainSeparator({ domain: { ...BATCH_SETTLEMENT_DOMAIN, chainId, verifyingContract: getAddress(BATCH_SETTLEMENT_ADDRESS) } }));
  }

  /**
   * The EIP-712 digest of a voucher (what the stock client signs and the contract recovers from), with
   * the domain separator computed once: viem's hashTypedData re-derives it for every voucher.
   */
  digest(channelId: Hex, maxClaimableAmount: bigint): Hex {
    const struct = new AbiWords(3).raw(0, VOUCHER_TYPEHASH).bytes32(1, channelId).uint(2, maxClaimableAmount, 128);
    return typedDataDigest(this.domainSeparator, keccakBytes(struct));
  }

  /** Did `authorizer` sign this voucher? */
  async verify(voucher: { channelId: Hex; maxClaimableAmount: string; signature: Hex }, authorizer: Hex): Promise<boolean> {
    let amount: bigint;
    try {
      amount = BigInt(voucher.maxClaimableAmount);
    } catch {
      return false;
    }
    const recovered = await recoverSigner(this.digest(voucher.channelId, amount), voucher.signature);
    if (!recovered) return false;
    const key = `${voucher.channelId.toLowerCase()}:${authorizer.toLowerCase()}`;
    const known = this.keys.get(key);
    if (known) return equalBytes(known, recovered);
    if (publicKeyAddress(recovered) !== authorizer.toLowerCase()) return false;
    if (this.keys.size >= MAX_CACHED_SIGNERS) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(key, recovered);
    return true;
  }
}

/**
 * Replaces the stock batch-settlement server's local voucher check (a pure-JS key recovery per call) for
 * the common case: a voucher on a known channel whose on-chain state is fresh, that continues the
 * channel's cumulative amount and repeats its stored configuration. For exactly that case the hook does
 * what the stock one does (reserve a request context, verify, answer with the cached channel state),
 * with the signature checked by `VoucherSignatures`. Everything else (deposits, refunds, first or stale
 * vouchers, state to re-read from the chain, ERC-1271 payers, any mismatch) goes to the stock hook,
 * which then also reports the stock reason. A bad signature is refused here with the stock reason.
 */
export function installVoucherFastPath(scheme: BatchSettlementEvmScheme, signatures: VoucherSignatures): void {
  const stock = scheme.schemeHooks.onBeforeVerify;
  if (!stock) throw new Error("the batch-settlement server scheme has no beforeVerify hook to take over");
  const storage: ChannelStorage = scheme.getStorage();
  scheme.schemeHooks.onBeforeVerify = async (ctx: VerifyContext) => {
    const raw = ctx.paymentPayload.payload;
    if (!isBatchSettlementVoucherPayload(raw)) return stock(ctx);
    const channel = await storage.get(raw.voucher.channelId);
    if (!channel || !continuesChannel(raw, channel, BigInt(ctx.requirements.amount), scheme.getOnchainStateTtlMs())) return stock(ctx);
    if (!matchesRequirements(raw.channelConfig, ctx.requirements)) return stock(ctx);
    const payer = raw.channelConfig.payer;
    scheme.mergeRequestContext(ctx.paymentPayload, { channelId: raw.voucher.channelId, pendingId: randomUUID(), channelSnapshot: channel });
    if (!(await signatures.verify(raw.voucher, raw.channelConfig.payerAuthorizer))) {
      const result: VerifyResponse = { isValid: false, invalidReason: INVALID_VOUCHER_SIGNATURE, payer };
      return { skip: true, result };
    }
    scheme.mergeRequestContext(ctx.paymentPayload, { localVerify: true });
    const result: VerifyResponse = {
      isValid: true,
      payer,
      extra: {
        channelId: raw.voucher.channelId,
        balance: channel.balance,
        totalClaimed: channel.totalClaimed,
        withdrawRequestedAt: channel.withdrawRequestedAt,
        refundNonce: String(channel.refundNonce),
      },
    };
    return { skip: true, result };
  };
}

/**
 * A voucher the fast path may take: same channel configuration as stored (so the channel id binding
 * and the configuration checks the stock scheme made when it stored the channel still hold), an
 * EOA authorizer, on-chain state fresh, exactly one price above the charged amount, within the
 * balance and above what was claimed.
 */
function continuesChannel(raw: BatchSettlementVoucherPayload, channel: Channel, price: bigint, ttlMs: number): boolean {
  if (channel.channelId.toLowerCase() !== raw.voucher.channelId.toLowerCase()) return false;
  if (!sameConfig(raw.channelConfig, channel.channelConfig)) return false;
  if (raw.channelConfig.payerAuthorizer.toLowerCase() === ZERO_ADDRESS) return false;
  if (channel.onchainSyncedAt === undefined || Date.now() - channel.onchainSyncedAt > ttlMs) return false;
  let amount: bigint;
  try {
    amount = BigInt(raw.voucher.maxClaimableAmount);
  } catch {
    return false;
  }
  return amount === BigInt(channel.chargedCumulativeAmount) + price && amount <= BigInt(channel.balance) && amount > BigInt(channel.totalClaimed);
}

function sameConfig(a: ChannelConfig, b: ChannelConfig): boolean {
  return (
    a.payer.toLowerCase() === b.payer.toLowerCase() &&
    a.payerAuthorizer.toLowerCase() === b.payerAuthorizer.toLowerCase() &&
    a.receiver.toLowerCase() === b.receiver.toLowerCase() &&
    a.receiverAuthorizer.toLowerCase() === b.receiverAuthorizer.toLowerCase() &&
    a.token.toLowerCase() === b.token.toLowerCase() &&
    a.withdrawDelay === b.withdrawDelay &&
    a.salt.toLowerCase() === b.salt.toLowerCase()
  );
}

/** The requirement-side checks of the stock validateChannelConfig (receiver, authorizer, token, delay). */
function matchesRequirements(config: ChannelConfig, requirements: VerifyContext["requirements"]): boolean {
  const extra = requirements.extra as { receiverAuthorizer?: unknown; withdrawDelay?: unknown } | undefined;
  const authorizer = typeof extra?.receiverAuthorizer === "string" ? extra.receiverAuthorizer.toLowerCase() : undefined;
  if (!authorizer || authorizer === ZERO_ADDRESS || authorizer !== config.receiverAuthorizer.toLowerCase()) return false;
  if (config.receiver.toLowerCase() !== requirements.payTo.toLowerCase()) return false;
  if (config.token.toLowerCase() !== requirements.asset.toLowerCase()) return false;
  return extra?.withdrawDelay === undefined || Number(extra.withdrawDelay) === config.withdrawDelay;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
