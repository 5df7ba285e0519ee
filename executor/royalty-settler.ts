import type { Logger } from "pino";
import { erc20Abi, maxUint256, type Address, type Hex, type PublicClient } from "viem";
import { settlementAbi } from "../sdk/abi.ts";
import { receiptFromJson } from "../sdk/receipt.ts";
import { buildRoyaltyBatch, decodeRoyaltyLine, type RoyaltyBatch } from "../sdk/royalty-batch.ts";
import { shortMessage } from "./errors.ts";
import type { Journal, JournaledReceipt } from "./journal.ts";
import type { OperatorSender } from "./operator.ts";
import type { RoyaltyBook } from "./royalty-book.ts";
import { revertReason } from "./reverts.ts";

export interface RoyaltySettlerOptions {
  journal: Journal;
  book: RoyaltyBook;
  sender: OperatorSender;
  client: PublicClient;
  settlement: Address;
  usdc: Address;
  log: Logger;
  /** Most royalty lines per settleRoyalties transaction. */
  batchSize: number;
  /** How often unsettled receipts are looked at. */
  intervalMs: number;
  /**
   * Called when the operator's USDC does not cover a batch: the channel claimer claims and sweeps what
   * the channels owe the executor (its income) so the royalties can be paid.
   */
  replenish?: () => Promise<void>;
}

/**
 * Pays the royalties of journaled receipts into Settlement with `settleRoyalties`, in aggregated batches
 * that cover a contiguous run of royalty-line seqs starting at Settlement.nextSeq(executor).
 *
 * Never double-settles: the next batch is always built from nextSeq read on-chain, one batch is in flight
 * at a time, and a batch whose outcome is unknown (crash, RPC down) is resolved from the chain before
 * another is built (Settlement assigns a batch the seqs at nextSeq when it lands, so sending a batch twice
 * would bind its lines to the wrong seqs). Approves Settlement once. Refreshes the bond for the RoyaltyBook.
 */
export class RoyaltySettler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private chainNextSeq = 1n;
  private bondTarget = 0n;
  /** Since start, for /v1/health and benchmarks: batches sent, lines settled, batches refused or reverted, runs deferred (chain down). */
  readonly stats = { batches: 0, lines: 0, reverted: 0, deferred: 0 };

  constructor(private readonly o: RoyaltySettlerOptions) {}

  get nextSeq(): bigint {
    return this.chainNextSeq;
  }

  /** Reads nextSeq and the bond, resolves batches left unknown by a crash, then settles on a timer. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.settleNow().catch(() => {}), this.o.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => {});
  }

  /** nextSeq and bond from the chain (the book forgets what is settled). */
  async refresh(): Promise<void> {
    const me = this.o.sender.address;
    const [nextSeq, bond] = await Promise.all([
      this.o.client.readContract({ address: this.o.settlement, abi: settlementAbi, functionName: "nextSeq", args: [me] }),
      this.o.client.readContract({ address: this.o.settlement, abi: settlementAbi, functionName: "bondOf", args: [me] }),
    ]);
    this.chainNextSeq = BigInt(nextSeq);
    this.o.book.setBond(bond);
    this.o.book.settledBelow(this.chainNextSeq);
  }

  /** Approves Settlement to pull the operator's USDC (royalties and bond) once, for good. */
  async ensureApproval(): Promise<void> {
    const allowance = await this.o.client.readContract({ address: this.o.usdc, abi: erc20Abi, functionName: "allowance", args: [this.o.sender.address, this.o.settlement] });
    if (allowance >= maxUint256 / 2n) return;
    const hash = await this.o.sender.write({ address: this.o.usdc, abi: erc20Abi, functionName: "approve", args: [this.o.settlement, maxUint256] });
    await this.confirm(hash, "approve");
  }

  /** Tops the bond up to `target` USDC base units (postBond adds the difference). */
  async ensureBond(target: bigint): Promise<void> {
    const bond = await this.o.client.readContract({ address: this.o.settlement, abi: settlementAbi, functionName: "bondOf", args: [this.o.sender.address] });
    if (bond < target) {
      await this.ensureApproval();
      const hash = await this.o.sender.write({ address: this.o.settlement, abi: settlementAbi, functionName: "postBond", args: [target - bond] });
      await this.confirm(hash, "postBond");
      this.o.log.info({ bond: target.toString() }, "bond posted");
    }
    await this.refresh();
  }

  /** The bond to hold (`--bond`): topped up at start and, until it is posted (e.g. the operator is funded later), on every run. */
  setBondTarget(target: bigint): void {
    this.bondTarget = target;
  }

  /** Posts the missing bond, if any; a failure is logged and retried on the next run. */
  async topUpBond(): Promise<void> {
    if (this.o.book.bond >= this.bondTarget) return;
    try {
      await this.ensureBond(this.bondTarget);
    } catch (error) {
      this.o.log.warn({ err: shortMessage(error), bond: this.bondTarget.toString() }, "bond not posted yet (is the operator funded?); will retry");
    }
  }

  /** Settles everything unsettled now (one run at a time; callers share a running one). */
  settleNow(): Promise<void> {
    this.running ??= this.runOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Settles until nothing journaled is left unsettled (or nothing more can be settled now). */
  async drain(): Promise<void> {
    for (let i = 0; i < 1_000 && !this.stopped; i++) {
      await this.settleNow();
      if (this.o.book.count === 0) return;
      const before = this.chainNextSeq;
      await this.settleNow();
      if (this.chainNextSeq === before) return;
    }
  }

  private async runOnce(): Promise<void> {
    try {
      await this.topUpBond();
      if (!(await this.resolveUnknown())) return;
      await this.refresh();
      while (!this.stopped) {
        const receipts = await this.o.journal.receiptsFromSeq(this.chainNextSeq, this.o.batchSize);
        const fitting = takeLines(receipts, this.chainNextSeq, this.o.batchSize);
        if (fitting.length === 0) {
          if (receipts.length > 0) this.o.log.error({ nextSeq: this.chainNextSeq.toString(), first: receipts[0]!.seq.toString() }, "journaled receipts do not start at Settlement.nextSeq: royalties cannot be settled");
          return;
        }
        const settled = await this.settleBatch(fitting);
        if (!settled) return;
        // A batch with room left took every receipt there was: the ones issued meanwhile wait for the
        // next run. Settling them at once would send a batch per block under load, each costing a
        // transaction and two journal commits for a few dozen lines.
        if (fitting.reduce((n, r) => n + r.lineCount, 0) < this.o.batchSize) return;
      }
    } catch (error) {
      this.stats.deferred++;
      this.o.log.warn({ err: shortMessage(error) }, "royalty settlement deferred");
    }
  }

  /** Returns false when a batch's outcome is still unknown (nothing new may be sent). */
  private async resolveUnknown(): Promise<boolean> {
    for (const batch of await this.o.journal.submittedBatches()) {
      const receipt = await this.o.client.getTransactionReceipt({ hash: batch.txHash }).catch(() => undefined);
      if (receipt) {
        await this.o.journal.markBatch(batch.txHash, receipt.status === "success" ? "settled" : "reverted", receipt.status === "success" ? null : "reverted on-chain");
        continue;
      }
      const pending = await this.o.client.getTransaction({ hash: batch.txHash }).catch(() => undefined);
      if (pending) return false; // still in the mempool: wait for it
      await this.o.journal.markBatch(batch.txHash, "reverted", "dropped: the chain does not know the transaction");
    }
    return true;
  }

  private async settleBatch(receipts: JournaledReceipt[]): Promise<boolean> {
    let batch = buildRoyaltyBatch(
      this.chainNextSeq,
      receipts.map((r) => ({ id: r.receiptId, receipt: receiptFromJson(r.receipt) })),
    );
    // Income arrives as channel claims: make sure the operator holds what the batch pays.
    let total = batchTotal(batch);
    let balance = await this.balance();
    if (balance < total && this.o.replenish) {
      await this.o.replenish().catch((error) => this.o.log.warn({ err: shortMessage(error) }, "claiming channel income failed"));
      balance = await this.balance();
    }
    if (balance < total) {
      const affordable = affordablePrefix(receipts, balance);
      if (affordable.length === 0) {
        this.o.log.warn({ needed: total.toString(), balance: balance.toString() }, "not enough USDC to settle royalties yet");
        return false;
      }
      batch = buildRoyaltyBatch(this.chainNextSeq, affordable.map((r) => ({ id: r.receiptId, receipt: receiptFromJson(r.receipt) })));
      total = batchTotal(batch);
    }
    let hash: Hex;
    try {
      hash = await this.o.sender.write({ address: this.o.settlement, abi: settlementAbi, functionName: "settleRoyalties", args: [batch.versions, batch.lines] });
    } catch (error) {
      const reason = revertReason(error);
      if (reason) {
        // Simulation reverted: nothing was sent. Journal why; the receipts stay unsettled (and are slashable).
        this.stats.reverted++;
        await this.o.journal.recordEvent("royalty-batch-refused", batch.firstSeq.toString(), `${batch.lines.length} lines: ${reason}`);
        this.o.log.error({ firstSeq: batch.firstSeq.toString(), lines: batch.lines.length, reason }, "settleRoyalties refused");
      } else {
        this.o.log.warn({ err: shortMessage(error) }, "settleRoyalties not sent; will retry");
      }
      return false;
    }
    await this.o.journal.recordBatch({ firstSeq: batch.firstSeq, lineCount: batch.lines.length, total, txHash: hash });
    const receipt = await this.o.client.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") {
      this.stats.reverted++;
      await this.o.journal.markBatch(hash, "reverted", "reverted on-chain");
      this.o.log.error({ hash, firstSeq: batch.firstSeq.toString() }, "settleRoyalties reverted");
      return false;
    }
    await this.o.journal.markBatch(hash, "settled", null);
    this.stats.batches++;
    this.stats.lines += batch.lines.length;
    this.chainNextSeq = batch.firstSeq + BigInt(batch.lines.length);
    this.o.book.settledBelow(this.chainNextSeq);
    this.o.log.info({ hash, firstSeq: batch.firstSeq.toString(), lines: batch.lines.length, total: total.toString() }, "royalties settled");
    return true;
  }

  private balance(): Promise<bigint> {
    return this.o.client.readContract({ address: this.o.usdc, abi: erc20Abi, functionName: "balanceOf", args: [this.o.sender.address] });
  }

  private async confirm(hash: Hex, what: string): Promise<void> {
    const receipt = await this.o.client.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${what} transaction ${hash} reverted`);
  }
}

/** The receipts of a batch: whole receipts from `nextSeq` on, at most `maxLines` lines. */
function takeLines(receipts: JournaledReceipt[], nextSeq: bigint, maxLines: number): JournaledReceipt[] {
  const taken: JournaledReceipt[] = [];
  let seq = nextSeq;
  let lines = 0;
  for (const r of receipts) {
    if (r.seq !== seq) break;
    if (lines + r.lineCount > maxLines && taken.length > 0) break;
    taken.push(r);
    seq += BigInt(r.lineCount);
    lines += r.lineCount;
  }
  return taken;
}

function affordablePrefix(receipts: JournaledReceipt[], balance: bigint): JournaledReceipt[] {
  const out: JournaledReceipt[] = [];
  let sum = 0n;
  for (const r of receipts) {
    if (sum + r.royalty > balance) break;
    sum += r.royalty;
    out.push(r);
  }
  return out;
}

function batchTotal(batch: RoyaltyBatch): bigint {
  return batch.lines.reduce((sum, line) => sum + decodeRoyaltyLine(line).royalty, 0n);
}
