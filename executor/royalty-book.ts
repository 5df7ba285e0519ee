import type { Hex } from "viem";
import { receiptRoyaltyLines, receiptFromJson } from "../sdk/receipt.ts";
import { ApiError } from "./errors.ts";
import type { Journal, NewReceipt } from "./journal.ts";

interface Owed {
  seqEnd: bigint;
  /** One per royalty line: the receipt's own version, then each dependency version (a composed call). */
  lines: { versionId: Hex; royalty: bigint }[];
  /** The receipt's total (own + dependencies). */
  royalty: bigint;
  deadline: bigint;
}

/**
 * What the executor owes in royalties and has not settled yet, against its bond in Settlement. Every
 * unsettled receipt is a claim on the bond (a receipt not settled by its deadline is paid out of it), so
 * a paid call whose royalty would take the unsettled total (plus the calls being paid right now) above
 * the bond is refused before anything is charged.
 */
export class RoyaltyBook {
  private owed: Owed[] = [];
  private head = 0;
  private unsettled = 0n;
  private inFlight = 0n;
  private bondAmount = 0n;

  /** Loads every journaled receipt at or after `nextSeq` (the chain's next unsettled seq). */
  async load(journal: Journal, nextSeq: bigint): Promise<void> {
    this.owed = [];
    this.head = 0;
    this.unsettled = 0n;
    for (let from = nextSeq; ; ) {
      const page = await journal.receiptsFromSeq(from, 5_000);
      for (const r of page) this.add(r);
      const last = page.at(-1);
      if (!last || page.length < 5_000) break;
      from = last.seq + BigInt(last.lineCount);
    }
  }

  get bond(): bigint {
    return this.bondAmount;
  }

  setBond(amount: bigint): void {
    this.bondAmount = amount;
  }

  get total(): bigint {
    return this.unsettled;
  }

  get count(): number {
    return this.owed.length - this.head;
  }

  /** The earliest deadline among unsettled receipts (they are issued in seq order, so the first one's). */
  get oldestDeadline(): bigint | undefined {
    return this.owed[this.head]?.deadline;
  }

  /** Throws 503 BOND_EXHAUSTED when `royalty` more would exceed the bond. */
  check(royalty: bigint): void {
    if (royalty === 0n) return;
    const after = this.unsettled + this.inFlight + royalty;
    if (after > this.bondAmount) {
      throw new ApiError(
        503,
        "BOND_EXHAUSTED",
        `This executor's unsettled royalties would reach ${after} USDC base units, above its bond of ${this.bondAmount}; nothing was charged.`,
        this.bondAmount === 0n
          ? "The operator posts a bond (--bond) before taking paid calls; call another executor meanwhile."
          : "Retry in a moment (the executor settles royalties continuously) or call another executor.",
        { bond: this.bondAmount.toString(), unsettled: this.unsettled.toString() },
      );
    }
  }

  /** Holds `royalty` of the bond for a call being paid; the returned function lets it go (issued or failed). */
  reserve(royalty: bigint): () => void {
    this.check(royalty);
    this.inFlight += royalty;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= royalty;
    };
  }

  /** A receipt was journaled. */
  issued(row: NewReceipt): void {
    if (row.lineCount === 0) return;
    this.add(row);
  }

  /** Settlement's nextSeq moved: every receipt wholly below it is settled. */
  settledBelow(nextSeq: bigint): void {
    while (this.head < this.owed.length && this.owed[this.head]!.seqEnd <= nextSeq) {
      this.unsettled -= this.owed[this.head]!.royalty;
      this.head++;
    }
    if (this.head > 10_000 && this.head * 2 > this.owed.length) {
      this.owed = this.owed.slice(this.head);
      this.head = 0;
    }
  }

  /** Unsettled totals per version: a composed receipt counts for its own version and for each dependency line. */
  byVersion(): { versionId: Hex; receipts: number; amount: bigint }[] {
    const map = new Map<string, { versionId: Hex; receipts: number; amount: bigint }>();
    for (let i = this.head; i < this.owed.length; i++) {
      for (const line of this.owed[i]!.lines) {
        const key = line.versionId.toLowerCase();
        const entry = map.get(key) ?? { versionId: line.versionId, receipts: 0, amount: 0n };
        entry.receipts++;
        entry.amount += line.royalty;
        map.set(key, entry);
      }
    }
    return [...map.values()];
  }

  private add(row: NewReceipt): void {
    const lines = receiptRoyaltyLines(receiptFromJson(row.receipt)).map(({ versionId, royalty }) => ({ versionId, royalty }));
    this.owed.push({ seqEnd: row.seq + BigInt(row.lineCount), lines, royalty: row.royalty, deadline: row.deadline });
    this.unsettled += row.royalty;
  }
}
