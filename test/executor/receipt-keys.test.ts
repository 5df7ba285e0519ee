import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiptKeys, type JournaledKeys } from "../../executor/receipt-keys.ts";

/**
 * The PGlite journal's in-memory unique checks (executor/receipt-keys.ts) against a real PGlite
 * holding 70,000 journaled references: every journaled one is refused, whichever way it is found
 * (the Bloom filter, then PGlite), also once the filter was rebuilt larger.
 */
let db: PGlite;
const ref = (i: number) => `0x${i.toString(16).padStart(8, "0")}${"ab".repeat(28)}`;
const journaledRef = async (i: number) => (await db.query<{ r: string }>(`SELECT '0x' || md5($1::text) || md5($1::text || 'x') AS r`, [i])).rows[0]!.r;

beforeAll(async () => {
  db = new PGlite();
  await db.exec(`CREATE TABLE receipts (payment_ref TEXT NOT NULL UNIQUE, seq BIGINT NOT NULL);
    INSERT INTO receipts SELECT '0x' || md5(i::text) || md5(i::text || 'x'), i FROM generate_series(1, 70000) i`);
});
afterAll(async () => db?.close());

/** What the journal reads for the checks, from this PGlite. */
const journaled = (): JournaledKeys => ({
  summary: async () => {
    const row = (await db.query<{ n: number; max_seq: string }>(`SELECT COUNT(*)::int AS n, MAX(seq)::text AS max_seq FROM receipts`)).rows[0]!;
    return { count: row.n, maxSeq: BigInt(row.max_seq) };
  },
  refsAfter: async (after, limit) =>
    (await db.query<{ payment_ref: string }>(`SELECT payment_ref FROM receipts WHERE payment_ref > $1 ORDER BY payment_ref LIMIT $2`, [after, limit])).rows.map((r) => r.payment_ref),
  has: async (ref) => (await db.query(`SELECT 1 FROM receipts WHERE payment_ref = $1`, [ref])).rows.length > 0,
});

describe("receipt keys", () => {
  it("refuses journaled references and seqs, references logged but not applied, and repeats within one write", async () => {
    const keys = await ReceiptKeys.load(journaled());
    expect(keys.maxSeq).toBe(70_000n);
    for (const i of [1, 777, 70_000]) {
      expect(await keys.conflict({ paymentRefs: [ref(1), await journaledRef(i)], seqs: [] })).toEqual({ constraint: "receipts_payment_ref_key", column: "payment_ref", value: await journaledRef(i) });
    }
    expect(await keys.conflict({ paymentRefs: [ref(1), ref(2)], seqs: ["70001", "70002"] })).toBeUndefined();
    expect(await keys.conflict({ paymentRefs: [ref(1), ref(1)], seqs: [] })).toMatchObject({ column: "payment_ref", value: ref(1) });
    expect(await keys.conflict({ paymentRefs: [ref(3)], seqs: ["70000"] })).toEqual({ constraint: "receipts_seq", column: "seq", value: "70000" });
    expect(await keys.conflict({ paymentRefs: [ref(3)], seqs: ["70005", "70004"] })).toMatchObject({ column: "seq", value: "70004" });

    keys.reserve({ paymentRefs: [ref(1)], seqs: ["70001"] });
    expect(await keys.conflict({ paymentRefs: [ref(1)], seqs: [] })).toMatchObject({ value: ref(1) });
    expect(await keys.conflict({ paymentRefs: [ref(2)], seqs: ["70001"] })).toMatchObject({ column: "seq" });
    // A write that was never made durable gives its keys back.
    keys.applied({ paymentRefs: [ref(1)], seqs: ["70001"] }, 70_000n);
    expect(await keys.conflict({ paymentRefs: [ref(1)], seqs: ["70001"] })).toBeUndefined();
  });

  it("adds a filter twice as large past its capacity, and each filter answers for the references it took", async () => {
    const keys = await ReceiptKeys.load(journaled());
    const logged = Array.from({ length: 600_000 }, (_, i) => ref(1_000_000 + i));
    keys.reserve({ paymentRefs: logged, seqs: [] });
    // 70,000 journaled: the first filter (262,144) takes 192,144 more, the rest go to one for 524,288.
    expect(keys.filterCount).toBe(2);
    // Two of them reach PGlite (one from each filter); then all are loaded as far as the keys know.
    const [early, late] = [logged[123_456]!, logged[599_999]!];
    await db.query(`INSERT INTO receipts VALUES ($1, 2000000), ($2, 2000001)`, [early, late]);
    keys.applied({ paymentRefs: logged, seqs: [] });
    // Found only through the filters (no longer among those not loaded) and PGlite's answer.
    expect(await keys.conflict({ paymentRefs: [early], seqs: [] })).toMatchObject({ value: early });
    expect(await keys.conflict({ paymentRefs: [late], seqs: [] })).toMatchObject({ value: late });
    expect(await keys.conflict({ paymentRefs: [await journaledRef(4242)], seqs: [] })).toMatchObject({ value: await journaledRef(4242) });
    expect(await keys.conflict({ paymentRefs: [logged[5]!, ref(5)], seqs: [] })).toBeUndefined();
  });
});
