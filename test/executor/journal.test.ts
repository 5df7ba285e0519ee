import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { keccak256, toHex, type Hex } from "viem";
import { Journal, type NewReceipt } from "../../executor/journal.ts";
import { dropSchema, TEST_DATABASE_URL, uniqueSchemaName } from "../helpers/postgres.ts";

const PAYER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" as const;
const dirs: string[] = [];
const schemas: string[] = [];

function receipt(i: number, nonce: Hex = keccak256(toHex(`nonce-${i}-${Math.random()}`))): NewReceipt {
  const receiptId = keccak256(toHex(`receipt-${nonce}`));
  return {
    payer: PAYER,
    nonce,
    versionId: keccak256(toHex("version")),
    amount: 1500n,
    receiptId,
    receipt: {
      versionId: keccak256(toHex("version")),
      functionName: "add",
      payer: PAYER,
      executor: "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
      royalty: "1000",
      executorFee: "500",
      inputHash: keccak256(toHex("in")),
      outputHash: keccak256(toHex("out")),
      fuelUsed: "42",
      paymentNonce: nonce,
      timestamp: "1700000000",
    },
    receiptSignature: "0x01",
    authorization: { from: PAYER, to: PAYER, value: "1500", validAfter: "0", validBefore: "9999999999", nonce },
    paymentSignature: "0x02",
    result: JSON.stringify({ sum: i }),
  };
}

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  for (const schema of schemas) await dropSchema(schema).catch(() => {});
});

const backends: { name: string; open: () => Promise<{ open: () => Promise<Journal> }> }[] = [
  {
    name: "PGlite",
    open: async () => {
      const dir = await mkdtemp(path.join(tmpdir(), "glassbox-journal-"));
      dirs.push(dir);
      return { open: () => Journal.open({ dataDir: dir }) };
    },
  },
  {
    name: "PostgreSQL",
    open: async () => {
      const schema = uniqueSchemaName("gbx_journal").toLowerCase();
      schemas.push(schema);
      return { open: () => Journal.open({ dataDir: "unused", databaseUrl: TEST_DATABASE_URL, databaseSchema: schema }) };
    },
  },
];

// PostgreSQL on 127.0.0.1:5432 is a documented prerequisite of the suite (README): no silent skip.
for (const backend of backends) {
  describe(`journal on ${backend.name}`, () => {
    it("journals each payment once (also within one group commit) and survives a reopen", async () => {
      const db = await backend.open();
      let journal = await db.open();
      const first = receipt(0);
      expect(await journal.recordReceipt(first)).toBe(true);
      expect(await journal.recordReceipt({ ...first, receiptId: keccak256(toHex("other")) })).toBe(false);

      // 40 concurrent inserts, two of them for the same payment: one group commit, exactly one wins.
      const dup = receipt(99);
      const many = Array.from({ length: 38 }, (_, i) => receipt(i + 1));
      const results = await Promise.all([...many, dup, { ...dup, receiptId: keccak256(toHex("dup2")) }].map((r) => journal.recordReceipt(r)));
      expect(results.slice(0, 38).every(Boolean)).toBe(true);
      expect(results.slice(38).filter(Boolean)).toHaveLength(1);

      await journal.markSubmitted([first.receiptId, many[0]!.receiptId], "0xaa");
      await journal.markSettled([first.receiptId], "0xaa");
      await journal.markFailed([many[0]!.receiptId], "0xaa", "VersionYanked(0x..)");
      await journal.close();

      journal = await db.open();
      expect(await journal.countByStatus()).toEqual({ pending: 38, settled: 1, failed: 1 });
      const stored = await journal.getReceipt(first.receiptId);
      expect(stored).toMatchObject({ status: "settled", txHash: "0xaa", receipt: first.receipt, authorization: first.authorization, result: '{"sum":0}' });
      expect((await journal.getReceipt(many[0]!.receiptId))!.reason).toBe("VersionYanked(0x..)");
      const unsettled = await journal.unsettledReceipts();
      expect(unsettled).toHaveLength(38);
      // A terminal state is never left again.
      await journal.markSettled([many[0]!.receiptId], "0xbb");
      expect((await journal.getReceipt(many[0]!.receiptId))!.status).toBe("failed");
      await journal.close();
    });
  });
}
