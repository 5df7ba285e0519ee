import type { x402Facilitator } from "@x402/core/facilitator";
import type { Network, PaymentPayload, PaymentRequirements } from "@x402/core/types";
import type { Channel } from "@x402/evm/batch-settlement/server";
import type { Logger } from "pino";
import type { Address, Hex, PublicClient } from "viem";
import { batchSettlementAbi } from "../sdk/abi.ts";
import type { JournaledChannelStorage } from "./channel-storage.ts";
import { shortMessage } from "./errors.ts";
import type { Journal } from "./journal.ts";

export interface ChannelClaimerOptions {
  facilitator: x402Facilitator;
  channels: JournaledChannelStorage;
  journal: Journal;
  network: Network;
  /** The executor: channel receiver and the address swept to. */
  receiver: Address;
  usdc: Address;
  log: Logger;
  /** Vouchers per claimWithSignature transaction. */
  maxClaimsPerBatch: number;
  /** Claim and sweep at least this often (ms); withdrawals in progress are claimed at the next check. */
  claimIntervalMs: number;
  /** How often channels are checked for a payer's withdrawal (ms). */
  watchIntervalMs: number;
  /** Reads which of these channels have a withdrawal in progress (on-chain). */
  withdrawalsPending: (channelIds: Hex[]) => Promise<Set<string>>;
  /** Is the chain reachable (a failed claim while it is not says nothing about the channel)? */
  chainReachable: () => Promise<boolean>;
}

export interface ClaimOutcome {
  claimed: number;
  transactions: Hex[];
  dropped: string[];
  swept?: Hex;
}

/**
 * Turns the vouchers the executor holds into USDC: claims them in batches (claimWithSignature through the
 * stock batch-settlement facilitator, the operator as receiverAuthorizer), then sweeps the channel
 * contract's balance for the executor to it (settle).
 *
 * One hostile channel (e.g. a smart-wallet payer whose signature check burns all gas) never blocks the
 * others: a failed batch is split in halves until the failing voucher is alone; that channel is dropped,
 * journaled with the reason, and refused for further payments. A payer starting a withdrawal gets its
 * channel claimed at once (before the withdraw delay ends).
 */
export class ChannelClaimer {
  private readonly blocked = new Set<string>();
  private running: Promise<ClaimOutcome> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private lastClaim = Date.now();
  readonly stats = { claims: 0, vouchers: 0, sweeps: 0, dropped: 0 };

  constructor(private readonly o: ChannelClaimerOptions) {}

  /** Channels refused for payments (a claim of theirs failed on its own). */
  isBlocked(channelId: string): boolean {
    return this.blocked.has(channelId.toLowerCase());
  }

  async start(): Promise<void> {
    for (const event of await this.o.journal.events("channel-dropped")) this.blocked.add(event.subject);
    this.timers.push(setInterval(() => void this.tick().catch(() => {}), this.o.watchIntervalMs));
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.running?.catch(() => {});
  }

  /** Withdrawals first (at once), then the periodic claim. */
  private async tick(): Promise<void> {
    const unclaimed = this.unclaimed();
    if (unclaimed.length === 0) return;
    const withdrawing = await this.o.withdrawalsPending(unclaimed.map((c) => c.channelId as Hex)).catch(() => new Set<string>());
    if (withdrawing.size > 0) {
      this.o.log.info({ channels: withdrawing.size }, "payer withdrawal in progress: claiming now");
      await this.claimAndSweep((c) => withdrawing.has(c.channelId.toLowerCase()));
      return;
    }
    if (Date.now() - this.lastClaim >= this.o.claimIntervalMs) await this.claimAndSweep();
  }

  /** Claims every unclaimed voucher (or those `select` picks) and sweeps; one run at a time. */
  claimAndSweep(select?: (c: Channel) => boolean): Promise<ClaimOutcome> {
    this.running ??= this.run(select).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private unclaimed(): Channel[] {
    return this.o.channels.all().filter((c) => BigInt(c.chargedCumulativeAmount) > BigInt(c.totalClaimed) && !this.isBlocked(c.channelId));
  }

  private async run(select?: (c: Channel) => boolean): Promise<ClaimOutcome> {
    this.lastClaim = Date.now();
    const targets = this.unclaimed().filter((c) => !select || select(c));
    const outcome: ClaimOutcome = { claimed: 0, transactions: [], dropped: [] };
    for (let i = 0; i < targets.length; i += this.o.maxClaimsPerBatch) {
      const ok = await this.claim(targets.slice(i, i + this.o.maxClaimsPerBatch), outcome);
      if (!ok) break; // the chain is down: try again later, drop nothing
    }
    await this.o.channels.flush();
    if (outcome.claimed > 0) outcome.swept = await this.sweep();
    return outcome;
  }

  /** Claims `group`; on failure bisects to the hostile voucher. False when the chain is unreachable. */
  private async claim(group: Channel[], outcome: ClaimOutcome): Promise<boolean> {
    const result = await this.o.facilitator.settle(this.payload({ type: "claim", claims: group.map(claimOf) }), this.requirements()).catch((error: unknown) => ({
      success: false,
      errorReason: "claim_error",
      errorMessage: shortMessage(error),
      transaction: "",
    }));
    if (result.success) {
      for (const c of group) {
        this.o.channels.updateNow(c.channelId, (current) =>
          current && BigInt(c.chargedCumulativeAmount) > BigInt(current.totalClaimed) ? { ...current, totalClaimed: c.chargedCumulativeAmount } : current,
        );
      }
      this.stats.claims++;
      this.stats.vouchers += group.length;
      outcome.claimed += group.length;
      outcome.transactions.push(result.transaction as Hex);
      return true;
    }
    if (!(await this.o.chainReachable())) return false;
    const reason = `${result.errorReason ?? "claim failed"}${result.errorMessage ? `: ${result.errorMessage.split("\n")[0]}` : ""}`;
    if (group.length === 1) {
      await this.drop(group[0]!, reason);
      outcome.dropped.push(group[0]!.channelId);
      return true;
    }
    const half = Math.ceil(group.length / 2);
    return (await this.claim(group.slice(0, half), outcome)) && (await this.claim(group.slice(half), outcome));
  }

  private async drop(channel: Channel, reason: string): Promise<void> {
    const id = channel.channelId.toLowerCase();
    this.blocked.add(id);
    this.stats.dropped++;
    await this.o.journal.recordEvent(
      "channel-dropped",
      id,
      JSON.stringify({ payer: channel.channelConfig.payer, charged: channel.chargedCumulativeAmount, totalClaimed: channel.totalClaimed, reason }),
    );
    this.o.log.warn({ channel: id, payer: channel.channelConfig.payer, reason }, "channel dropped: its claim fails on its own");
  }

  private async sweep(): Promise<Hex | undefined> {
    const result = await this.o.facilitator
      .settle(this.payload({ type: "settle", receiver: this.o.receiver, token: this.o.usdc }), this.requirements())
      .catch((error: unknown) => ({ success: false, errorReason: shortMessage(error), transaction: "" }));
    if (!result.success) {
      this.o.log.warn({ reason: result.errorReason }, "channel sweep failed; will retry");
      return undefined;
    }
    this.stats.sweeps++;
    return result.transaction as Hex;
  }

  private requirements(): PaymentRequirements {
    return { scheme: "batch-settlement", network: this.o.network, asset: this.o.usdc, amount: "0", payTo: this.o.receiver, maxTimeoutSeconds: 0, extra: {} };
  }

  private payload(payload: Record<string, unknown>): PaymentPayload {
    return { x402Version: 2, accepted: this.requirements(), payload };
  }
}

function claimOf(c: Channel) {
  return {
    voucher: { channel: c.channelConfig, maxClaimableAmount: c.signedMaxClaimable },
    signature: c.signature,
    totalClaimed: c.chargedCumulativeAmount,
  };
}

/** Which of these channels have a payer withdrawal in progress, read from the channel contract. */
export async function withdrawalsPending(client: PublicClient, channelContract: Address, channelIds: Hex[]): Promise<Set<string>> {
  const out = new Set<string>();
  const states = await Promise.all(
    channelIds.map((channelId) => client.readContract({ address: channelContract, abi: batchSettlementAbi, functionName: "pendingWithdrawals", args: [channelId] })),
  );
  states.forEach(([, initiatedAt], i) => {
    if (initiatedAt > 0) out.add(channelIds[i]!.toLowerCase());
  });
  return out;
}
