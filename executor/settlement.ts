import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  parseEventLogs,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import type { Logger } from "pino";
import { localUsdcAbi, settlementAbi } from "../sdk/abi.ts";
import { receiptFromJson } from "../sdk/receipt.ts";
import { shortMessage } from "./errors.ts";
import type { Journal, JournaledReceipt } from "./journal.ts";
import type { OperatorSender } from "./operator.ts";

export type SettlementMode = "immediate" | "batched";

export type SettleOutcome =
  | { status: "settled"; txHash: Hex }
  | { status: "failed"; txHash: Hex | null; reason: string }
  | { status: "pending"; reason: string };

export interface SettlerOptions {
  mode: SettlementMode;
  journal: Journal;
  sender: OperatorSender;
  client: PublicClient;
  settlement: Address;
  log: Logger;
  /** Batched mode: flush when this many receipts wait, or every intervalMs. */
  batchSize: number;
  batchIntervalMs: number;
}

/**
 * Settles journaled receipts on-chain, exactly once each:
 * - the journal is the queue (a receipt is journaled before the response, so nothing is lost);
 * - before (re)submitting after a restart or an unknown outcome, isSettled(payer, nonce) is read on-chain;
 * - Settlement itself refuses a second settlement of the same payer + nonce (AlreadySettled);
 * - a SettlementSkipped item is terminal ('failed' with the decoded reason) unless the chain says it settled.
 * Immediate mode settles inside the request through settle(); batched mode and every retry go through settleBatch.
 */
export class Settler {
  private readonly queue: JournaledReceipt[] = [];
  private readonly queued = new Set<string>();
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Settled/failed counts since start, for /v1/info and benchmarks. */
  readonly stats = { settled: 0, failed: 0, batches: 0, deferred: 0 };

  constructor(private readonly o: SettlerOptions) {}

  /** Resumes after a crash: reconciles every unsettled journaled receipt with the chain, then starts the timer. */
  async start(): Promise<void> {
    await this.recover().catch((error) => this.o.log.warn({ err: shortMessage(error) }, "recovery deferred: chain unavailable"));
    this.timer = setInterval(() => {
      void this.tick();
    }, this.o.batchIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and settles whatever is queued (best effort). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.flush().catch(() => {});
  }

  /** Loads unsettled receipts from the journal, marks those already settled on-chain, queues the rest. */
  async recover(): Promise<void> {
    const unsettled = await this.o.journal.unsettledReceipts();
    const settledIds: Hex[] = [];
    for (const entry of unsettled) {
      if (this.queued.has(entry.receiptId)) continue;
      if (await this.isSettledOnChain(entry)) settledIds.push(entry.receiptId);
      else this.push(entry);
    }
    if (settledIds.length > 0) {
      await this.o.journal.markSettled(settledIds, null);
      this.stats.settled += settledIds.length;
      this.o.log.info({ count: settledIds.length }, "recovered receipts already settled on-chain");
    }
    if (this.queue.length > 0) this.o.log.info({ count: this.queue.length }, "queued unsettled receipts for settlement");
  }

  /** Batched mode: queue a freshly journaled receipt; a full batch flushes at once. */
  enqueue(entry: JournaledReceipt): void {
    this.push(entry);
    if (this.queue.length >= this.o.batchSize) void this.flush();
  }

  private push(entry: JournaledReceipt): void {
    if (this.queued.has(entry.receiptId)) return;
    this.queued.add(entry.receiptId);
    this.queue.push(entry);
  }

  private async tick(): Promise<void> {
    if (this.queue.length > 0) await this.flush();
  }

  /** Settles queued receipts in batches until the queue is empty (one batch in flight at a time). */
  flush(): Promise<void> {
    this.flushing ??= (async () => {
      try {
        while (this.queue.length > 0) {
          const batch = this.queue.slice(0, this.o.batchSize);
          const done = await this.settleBatch(batch);
          if (!done) {
            this.stats.deferred++;
            break;
          } // chain unavailable: keep them queued, retry on the next tick
          this.queue.splice(0, batch.length);
          for (const entry of batch) this.queued.delete(entry.receiptId);
        }
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  /** Waits until every queued receipt was submitted and its outcome journaled. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing) await (this.flushing ?? this.flush());
  }

  get queueLength(): number {
    return this.queue.length;
  }

  /** Immediate mode: settles one receipt through Settlement.settle inside the request. */
  async settleNow(entry: JournaledReceipt): Promise<SettleOutcome> {
    let txHash: Hex;
    try {
      txHash = await this.o.sender.write({
        address: this.o.settlement,
        abi: settlementAbi as Abi,
        functionName: "settle",
        args: settleArgs(entry),
      });
    } catch (error) {
      const revert = revertReason(error);
      if (revert) {
        // A revert in simulation is terminal unless the chain already counts it as settled.
        if (await this.isSettledOnChain(entry).catch(() => false)) {
          await this.o.journal.markSettled([entry.receiptId], null);
          return { status: "settled", txHash: "0x" };
        }
        await this.o.journal.markFailed([entry.receiptId], null, revert);
        this.stats.failed++;
        return { status: "failed", txHash: null, reason: revert };
      }
      // Unknown outcome (RPC down): stays pending in the journal; the retry loop settles it later.
      this.push(entry);
      return { status: "pending", reason: shortMessage(error) };
    }
    await this.o.journal.markSubmitted([entry.receiptId], txHash);
    try {
      const receipt = await this.o.client.waitForTransactionReceipt({ hash: txHash });
      if (receipt.status === "success") {
        await this.o.journal.markSettled([entry.receiptId], txHash);
        this.stats.settled++;
        return { status: "settled", txHash };
      }
      await this.o.journal.markFailed([entry.receiptId], txHash, "settle transaction reverted");
      this.stats.failed++;
      return { status: "failed", txHash, reason: "settle transaction reverted" };
    } catch (error) {
      this.push(entry);
      return { status: "pending", reason: shortMessage(error) };
    }
  }

  /** Returns false when the chain could not be reached (the batch stays queued). */
  private async settleBatch(batch: JournaledReceipt[]): Promise<boolean> {
    // Items whose outcome was unknown (submitted before a crash or an RPC failure) are checked first.
    const toSend: JournaledReceipt[] = [];
    try {
      for (const entry of batch) {
        if (entry.status === "submitted" || entry.txHash !== null) {
          if (await this.isSettledOnChain(entry)) {
            await this.o.journal.markSettled([entry.receiptId], entry.txHash);
            this.stats.settled++;
            continue;
          }
        }
        toSend.push(entry);
      }
    } catch (error) {
      this.o.log.warn({ err: shortMessage(error) }, "settlement deferred: chain unavailable");
      return false;
    }
    if (toSend.length === 0) return true;

    let txHash: Hex;
    try {
      txHash = await this.o.sender.write({
        address: this.o.settlement,
        abi: settlementAbi as Abi,
        functionName: "settleBatch",
        args: [toSend.map((entry) => settlementItem(entry))],
      });
    } catch (error) {
      this.o.log.warn({ err: shortMessage(error), items: toSend.length }, "settleBatch not submitted; will retry");
      return false;
    }
    const ids = toSend.map((e) => e.receiptId);
    await this.o.journal.markSubmitted(ids, txHash);
    for (const entry of toSend) {
      entry.status = "submitted";
      entry.txHash = txHash;
    }
    let receipt;
    try {
      receipt = await this.o.client.waitForTransactionReceipt({ hash: txHash });
    } catch (error) {
      this.o.log.warn({ err: shortMessage(error), txHash }, "settleBatch outcome unknown; will reconcile");
      return false;
    }
    this.stats.batches++;
    if (receipt.status !== "success") {
      // The whole batch reverted (e.g. out of gas): nothing settled; they stay queued for a retry.
      this.o.log.error({ txHash, items: toSend.length }, "settleBatch reverted; retrying");
      return false;
    }
    const events = parseEventLogs({ abi: settlementAbi as Abi, logs: receipt.logs }) as unknown as {
      eventName: string;
      args: { receiptId: Hex; reason?: Hex };
    }[];
    const settled = new Set<string>();
    const skipped = new Map<string, string>();
    for (const event of events) {
      if (event.eventName === "Settled") settled.add(event.args.receiptId.toLowerCase());
      if (event.eventName === "SettlementSkipped") skipped.set(event.args.receiptId.toLowerCase(), decodeReason(event.args.reason ?? "0x"));
    }
    const settledIds = ids.filter((id) => settled.has(id.toLowerCase()));
    await this.o.journal.markSettled(settledIds, txHash);
    this.stats.settled += settledIds.length;
    this.o.log.info({ txHash, items: toSend.length, settled: settledIds.length, skipped: skipped.size }, "settleBatch mined");
    for (const entry of toSend) {
      const reason = skipped.get(entry.receiptId.toLowerCase());
      if (reason === undefined) continue;
      if (await this.isSettledOnChain(entry).catch(() => false)) {
        await this.o.journal.markSettled([entry.receiptId], null); // settled earlier (e.g. before a crash)
        this.stats.settled++;
      } else {
        await this.o.journal.markFailed([entry.receiptId], txHash, reason);
        this.stats.failed++;
        this.o.log.warn({ receiptId: entry.receiptId, reason }, "receipt skipped by Settlement (payer not charged)");
      }
    }
    return true;
  }

  private async isSettledOnChain(entry: JournaledReceipt): Promise<boolean> {
    return (await this.o.client.readContract({
      address: this.o.settlement,
      abi: settlementAbi as Abi,
      functionName: "isSettled",
      args: [entry.receipt.payer, entry.receipt.paymentNonce],
    })) as boolean;
  }
}

function authorizationArgs(entry: JournaledReceipt) {
  const a = entry.authorization;
  return {
    from: a.from,
    to: a.to,
    value: BigInt(a.value),
    validAfter: BigInt(a.validAfter),
    validBefore: BigInt(a.validBefore),
    nonce: a.nonce,
  };
}

function settleArgs(entry: JournaledReceipt): readonly unknown[] {
  return [receiptFromJson(entry.receipt), entry.receiptSignature, authorizationArgs(entry), entry.paymentSignature];
}

function settlementItem(entry: JournaledReceipt) {
  return {
    receipt: receiptFromJson(entry.receipt),
    receiptSignature: entry.receiptSignature,
    authorization: authorizationArgs(entry),
    paymentSignature: entry.paymentSignature,
  };
}

/** The custom error name (and args) of a contract revert, or undefined when it was not a revert. */
export function revertReason(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(revert instanceof ContractFunctionRevertedError)) return undefined;
  if (revert.data?.errorName) {
    const args = (revert.data.args ?? []).map((a) => String(a)).join(", ");
    return `${revert.data.errorName}(${args})`;
  }
  return revert.reason ?? revert.shortMessage;
}

/** Settlement's own errors, and the token's (a skipped item often carries the token's revert data). */
const REVERT_ABI = [...settlementAbi, ...localUsdcAbi.filter((item) => item.type === "error")] as Abi;

function decodeReason(data: Hex): string {
  try {
    const decoded = decodeErrorResult({ abi: REVERT_ABI, data });
    return `${decoded.errorName}(${(decoded.args ?? []).map((a) => String(a)).join(", ")})`;
  } catch {
    return data === "0x" ? "reverted without reason" : `revert data ${data}`;
  }
}
