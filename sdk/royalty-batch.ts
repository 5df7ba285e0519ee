import { encodeAbiParameters, keccak256, type Hex } from "viem";
import { receiptRoyaltyLines, type Receipt } from "./receipt.ts";

/**
 * The wire form of `Settlement.settleRoyalties(bytes32[] versions, uint256[] lines)`.
 *
 * An executor settles its royalty lines in sequence order, a contiguous run from `Settlement.nextSeq(executor)`.
 * Each line is one uint256, so a batch costs one calldata word per paid call:
 *
 *   bits 255..112  the high 144 bits of the receipt id (binds the line to the receipt the payer holds)
 *   bits 111..96   index into `versions` (the version the royalty is owed to)
 *   bits  95..0    the royalty, in USDC base units
 *
 * Settlement sums the lines per version, checks each against the version's registered minimum, pulls the
 * total from the executor once and credits each version's splits once. It stores only a hash of the batch;
 * a payer whose receipt was settled differently proves it with the batch (public calldata) and the receipt.
 */

export const ROYALTY_BITS = 96n;
export const VERSION_INDEX_BITS = 16n;
export const RECEIPT_ID_SHIFT = ROYALTY_BITS + VERSION_INDEX_BITS; // 112
export const MAX_LINE_ROYALTY = (1n << ROYALTY_BITS) - 1n;
export const MAX_BATCH_VERSIONS = 1 << Number(VERSION_INDEX_BITS);

const ID_MASK = ((1n << 256n) - 1n) ^ ((1n << RECEIPT_ID_SHIFT) - 1n);

export interface RoyaltyLine {
  /** The receipt id prefix (high 144 bits, rest zero). */
  receiptIdPrefix: bigint;
  versionIndex: number;
  royalty: bigint;
}

export function encodeRoyaltyLine(receiptId: Hex, versionIndex: number, royalty: bigint): bigint {
  if (versionIndex < 0 || versionIndex >= MAX_BATCH_VERSIONS) throw new RangeError(`version index ${versionIndex} out of range`);
  if (royalty < 0n || royalty > MAX_LINE_ROYALTY) throw new RangeError(`royalty ${royalty} does not fit in 96 bits`);
  return (BigInt(receiptId) & ID_MASK) | (BigInt(versionIndex) << ROYALTY_BITS) | royalty;
}

export function decodeRoyaltyLine(line: bigint): RoyaltyLine {
  return {
    receiptIdPrefix: line & ID_MASK,
    versionIndex: Number((line >> ROYALTY_BITS) & ((1n << VERSION_INDEX_BITS) - 1n)),
    royalty: line & MAX_LINE_ROYALTY,
  };
}

/** Does `line` carry this receipt id (its high 144 bits)? */
export function lineMatchesReceipt(line: bigint, receiptId: Hex): boolean {
  return (line & ID_MASK) === (BigInt(receiptId) & ID_MASK);
}

export interface RoyaltyBatch {
  /** The first sequence number the batch settles (must equal Settlement.nextSeq(executor)). */
  firstSeq: bigint;
  versions: Hex[];
  lines: bigint[];
}

/**
 * Builds a batch from receipts (with their ids), which must cover a contiguous run of sequence numbers
 * starting at `firstSeq` once each receipt's dependency lines are counted.
 */
export function buildRoyaltyBatch(firstSeq: bigint, receipts: readonly { id: Hex; receipt: Receipt }[]): RoyaltyBatch {
  const versions: Hex[] = [];
  const index = new Map<string, number>();
  const bySeq = new Map<bigint, bigint>();
  for (const { id, receipt } of receipts) {
    for (const line of receiptRoyaltyLines(receipt)) {
      const key = line.versionId.toLowerCase();
      let i = index.get(key);
      if (i === undefined) {
        i = versions.length;
        versions.push(line.versionId);
        index.set(key, i);
      }
      if (bySeq.has(line.seq)) throw new Error(`royalty line ${line.seq} appears twice`);
      bySeq.set(line.seq, encodeRoyaltyLine(id, i, line.royalty));
    }
  }
  const lines: bigint[] = [];
  for (let seq = firstSeq; seq < firstSeq + BigInt(bySeq.size); seq++) {
    const line = bySeq.get(seq);
    if (line === undefined) throw new Error(`royalty line ${seq} is missing: a batch must be contiguous from ${firstSeq}`);
    lines.push(line);
  }
  return { firstSeq, versions, lines };
}

/**
 * What Settlement stores for a settled batch (`batchHash(executor, firstSeq)`) and what a mismatch proof must
 * reproduce: keccak256(abi.encode(versions, lines)).
 */
export function royaltyBatchHash(versions: readonly Hex[], lines: readonly bigint[]): Hex {
  return keccak256(encodeAbiParameters([{ type: "bytes32[]" }, { type: "uint256[]" }], [versions, lines]));
}
