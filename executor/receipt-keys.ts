/**
 * The receipts' unique keys, checked in memory for the PGlite journal's logged writes
 * (executor/journal.ts). A PGlite query costs 0.5–3 ms, more than the rest of a commit, so a write is
 * checked against:
 * - payment_ref: Bloom filters of every journaled reference (those not applied yet included). A
 *   reference they may hold, about 1 in 100 new ones, is looked up in PGlite, or among the references
 *   not applied yet. When the last filter is full a filter twice its size is added for the references
 *   that follow (a scalable Bloom filter), so none is ever reloaded from PGlite.
 * - seq: the highest seq journaled. The issuer assigns seqs in increasing order, so anything not
 *   above it is refused (the unique index would refuse only an equal one: this is stricter).
 * - receipt_id needs no check of its own: it is the EIP-712 digest of a receipt that names its
 *   payment_ref, so two receipts with different references have different ids.
 */

/** The keys of the receipts one logged write inserts: lower-case references, seqs (> 0) in decimal. */
export interface ReceiptKeysOf {
  paymentRefs: string[];
  seqs: string[];
}

/** What the journal's database holds (the references of receipts logged but not loaded yet are not there). */
export interface JournaledKeys {
  /** How many receipts, and their highest seq. */
  summary(): Promise<{ count: number; maxSeq: bigint }>;
  /** Up to `limit` references after `after`, in order. */
  refsAfter(after: string, limit: number): Promise<string[]>;
  has(ref: string): Promise<boolean>;
}

/** A key already journaled, as Postgres' unique_violation names it. */
export interface KeyConflict {
  constraint: string;
  column: string;
  value: string;
}

const BITS_PER_KEY = 10;
const HASHES = 7;
const MIN_CAPACITY = 1 << 16;
const LOAD_PAGE = 20_000;

/**
 * A Bloom filter over 32-byte hex hashes (payment references are keccak256 outputs, or transaction
 * hashes): its bit positions are read straight from the hash's own digits.
 */
class HashBloom {
  readonly capacity: number;
  private readonly bits: Uint32Array;
  private readonly size: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.size = capacity * BITS_PER_KEY;
    this.bits = new Uint32Array(Math.ceil(this.size / 32));
  }

  add(hash: string): void {
    for (let i = 0; i < HASHES; i++) {
      const bit = this.position(hash, i);
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  mayHold(hash: string): boolean {
    for (let i = 0; i < HASHES; i++) {
      const bit = this.position(hash, i);
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  /** Hash `i`: 8 hex digits at offset 2 + 8i (seven disjoint windows of the 64 digits). */
  private position(hash: string, i: number): number {
    const window = Number.parseInt(hash.slice(2 + 8 * i, 10 + 8 * i), 16);
    return (Number.isNaN(window) ? hash.length * (i + 1) : window) % this.size;
  }
}

export class ReceiptKeys {
  /** The last one takes new references; each holds up to its capacity. */
  private readonly filters: HashBloom[];
  /** References in the last filter. */
  private inLast: number;
  /** The highest seq journaled or logged. */
  maxSeq: bigint;
  /** References logged and not applied yet (PGlite cannot find them). */
  private readonly unapplied = new Set<string>();
  private readonly db: JournaledKeys;

  private constructor(db: JournaledKeys, filter: HashBloom, count: number, maxSeq: bigint) {
    this.db = db;
    this.filters = [filter];
    this.inLast = count;
    this.maxSeq = maxSeq;
  }

  /** Reads every journaled reference and the highest seq (once, at start-up). */
  static async load(db: JournaledKeys): Promise<ReceiptKeys> {
    const { count, maxSeq } = await db.summary();
    return new ReceiptKeys(db, await loadBloom(db, capacityFor(count)), count, maxSeq);
  }

  /** The first key of `keys` that is journaled or logged already, or repeated within `keys`. */
  async conflict(keys: ReceiptKeysOf): Promise<KeyConflict | undefined> {
    const seen = new Set<string>();
    for (const ref of keys.paymentRefs) {
      if (seen.size === seen.add(ref).size || this.unapplied.has(ref) || (this.filters.some((f) => f.mayHold(ref)) && (await this.db.has(ref)))) {
        return { constraint: "receipts_payment_ref_key", column: "payment_ref", value: ref };
      }
    }
    let last = this.maxSeq;
    for (const seq of keys.seqs) {
      const value = BigInt(seq);
      if (value <= last) return { constraint: "receipts_seq", column: "seq", value: seq };
      last = value;
    }
    return undefined;
  }

  /** `keys` were logged: they count as taken from now on. */
  reserve(keys: ReceiptKeysOf): void {
    for (const ref of keys.paymentRefs) {
      this.unapplied.add(ref);
      let last = this.filters[this.filters.length - 1]!;
      // Past its capacity a filter's false positives climb: the next references go to one twice as large.
      if (this.inLast >= last.capacity) {
        last = new HashBloom(last.capacity * 2);
        this.filters.push(last);
        this.inLast = 0;
      }
      last.add(ref);
      this.inLast++;
    }
    for (const seq of keys.seqs) if (BigInt(seq) > this.maxSeq) this.maxSeq = BigInt(seq);
  }

  /** How many filters hold the references (one per doubling past the first's capacity). */
  get filterCount(): number {
    return this.filters.length;
  }

  /** `keys` are in PGlite now, or were never written (then seqs go back to `maxSeq`). */
  applied(keys: ReceiptKeysOf, maxSeq = this.maxSeq): void {
    for (const ref of keys.paymentRefs) this.unapplied.delete(ref);
    this.maxSeq = maxSeq;
  }
}

function capacityFor(count: number): number {
  let capacity = MIN_CAPACITY;
  while (capacity < count * 2) capacity *= 2;
  return capacity;
}

/** A filter holding every journaled reference (read page by page along their index). */
async function loadBloom(db: JournaledKeys, capacity: number): Promise<HashBloom> {
  const bloom = new HashBloom(capacity);
  let after = "";
  for (;;) {
    const refs = await db.refsAfter(after, LOAD_PAGE);
    for (const ref of refs) bloom.add(ref);
    if (refs.length < LOAD_PAGE) break;
    after = refs[refs.length - 1]!;
  }
  return bloom;
}
