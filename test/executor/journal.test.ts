import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { keccak256, toHex, type Hex } from "viem";
import { JournaledChannelStorage } from "../../executor/channel-storage.ts";
import { Journal } from "../../executor/journal.ts";
import { ReceiptIssuer, type ReceiptDraft } from "../../executor/receipts.ts";
import { recoverReceiptSigner, receiptFromJson } from "../../sdk/receipt.ts";
import { devAccount } from "../helpers/chain.ts";
import { dropSchema, TEST_DATABASE_URL, uniqueSchemaName } from "../helpers/postgres.ts";

const PAYER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" as const;
const SETTLEMENT = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const;
const operator = devAccount(3);
const dirs: string[] = [];
const schemas: string[] = [];

function draft(i: number, paymentRef: Hex = keccak256(toHex(`payment-${i}-${Math.random()}`)), royalty = 1_000n): ReceiptDraft {
  return {
    versionId: keccak256(toHex("version")),
    functionName: "add",
    payer: PAYER,
    royalty,
    executorFee: 500n,
    fuel: 0n,
    inputHash: keccak256(toHex(`in-${i}`)),
    outputHash: keccak256(toHex(`out-${i}`)),
    dependencies: [],
    paymentRef,
    scheme: "exact",
    result: String(i),
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

async function issuerOn(journal: Journal, chainNextSeq = 1n): Promise<ReceiptIssuer> {
  const issuer = new ReceiptIssuer({ journal, channels: new JournaledChannelStorage(journal), signer: operator, chainId: 31337, settlement: SETTLEMENT, settleWindowSeconds: 3600 });
  await issuer.start(chainNextSeq);
  return issuer;
}

// PostgreSQL on 127.0.0.1:5432 is a documented prerequisite of the suite (README): no silent skip.
for (const backend of backends) {
  describe(`receipts journal on ${backend.name}`, () => {
    it("assigns contiguous seqs across group commits and reopens, signs every receipt, and skips seq for fee-only receipts", async () => {
      const db = await backend.open();
      let journal = await db.open();
      let issuer = await issuerOn(journal);
      const first = await Promise.all([0, 1, 2, 3].map((i) => issuer.issue(draft(i))));
      const feeOnly = await issuer.issue(draft(4, undefined, 0n));
      expect(first.map((r) => r.receipt.seq)).toEqual([1n, 2n, 3n, 4n]);
      expect(feeOnly.receipt.seq).toBe(0n);
      for (const r of first) expect(await recoverReceiptSigner(r.receipt, r.signature, 31337, SETTLEMENT)).toBe(operator.address);
      await journal.close();

      journal = await db.open();
      issuer = await issuerOn(journal);
      expect((await issuer.issue(draft(5))).receipt.seq).toBe(5n);
      const stored = await journal.getReceipt(first[2]!.id);
      expect(receiptFromJson(stored!.receipt)).toEqual(first[2]!.receipt);
      expect(stored!.result).toBe("2");
      expect((await journal.receiptsFromSeq(3n, 10)).map((r) => r.seq)).toEqual([3n, 4n, 5n]);
      await journal.close();
    });

    it("journals results and channel records exactly, whatever characters they hold (one-round-trip commit)", async () => {
      const db = await backend.open();
      const journal = await db.open();
      const issuer = await issuerOn(journal);
      const tricky = [`"it's"`, String.raw`"back\\slash \" quote"`, `"$1 $$ $tag$ ; DROP TABLE receipts; --"`, `"üñí ☃ 𝄞"`, `"E'\\x41'"`, `{"a":[1,2,{"b":"'\\''"}]}`];
      const issued = await Promise.all(tricky.map((result, i) => issuer.issue({ ...draft(100 + i), result })));
      for (const [i, r] of issued.entries()) expect((await journal.getReceipt(r.id))!.result).toBe(tricky[i]);
      const record = JSON.stringify({ note: String.raw`a\b'c"d$e` });
      await journal.commitReceipts([], [{ channelId: "0xAB", record }]);
      expect(await journal.loadChannels()).toEqual([{ channelId: "0xab", record }]);
      await journal.close();
    });

    it("announced receipts never hold a commit: withdrawn or not, every receipt commits, seqs contiguous", async () => {
      const db = await backend.open();
      const journal = await db.open();
      const issuer = await issuerOn(journal);
      // An announcement that is never withdrawn (a call stuck in its run) delays the others' commit, briefly.
      const stuck = issuer.announce();
      const announced = [issuer.announce(), issuer.announce()];
      const issued = await Promise.all([issuer.issue(draft(0)), issuer.issue(draft(1), announced[0]), issuer.issue(draft(2), announced[1])]);
      expect(issued.map((r) => r.receipt.seq)).toEqual([1n, 2n, 3n]);
      // A call that fails before its receipt withdraws its announcement (twice is harmless).
      const failed = issuer.announce();
      failed.withdraw();
      failed.withdraw();
      stuck.withdraw();
      expect((await issuer.issue(draft(3))).receipt.seq).toBe(4n);
      expect(await journal.countReceipts()).toBe(4);
      await journal.close();
    });

    it("a failed commit assigns nothing: the seqs after it stay contiguous, and a payment backs one receipt only", async () => {
      const db = await backend.open();
      const journal = await db.open();
      const issuer = await issuerOn(journal, 7n);
      const ref = keccak256(toHex("one payment"));
      const ok = await issuer.issue(draft(0, ref));
      expect(ok.receipt.seq).toBe(7n);
      // The same payment reference again (a replay that raced past every other check): the whole group fails.
      const results = await Promise.allSettled([issuer.issue(draft(1)), issuer.issue(draft(2, ref))]);
      expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
      // Postgres' own error fields reach the caller (from PGlite's worker thread too): unique_violation.
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: "23505" });
      const next = await issuer.issue(draft(3));
      expect(next.receipt.seq).toBe(8n);
      expect(await journal.countReceipts()).toBe(2);
      await journal.close();
    });
  });
}

describe("PGlite journal worker", () => {
  it("keeps requests in the order they were made: a channel record saved after a commit never loses to it", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "glassbox-journal-"));
    dirs.push(dir);
    const journal = await Journal.open({ dataDir: dir });
    const channelId = `0x${"c".repeat(64)}`;
    for (let round = 0; round < 20; round++) {
      // The commit is still syncing its redo-log line when the save is made: the save must land after it.
      const committed = journal.commitReceipts([], [{ channelId, record: `commit-${round}` }]);
      const saved = journal.saveChannels([{ channelId, record: `save-${round}` }]);
      await Promise.all([committed, saved]);
      expect(await journal.loadChannels()).toEqual([{ channelId, record: `save-${round}` }]);
    }
    await journal.close();
  });

  it("interleaves transactions with other queries, keeps what they wrote across a reopen, and refuses queries once closed", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "glassbox-journal-"));
    dirs.push(dir);
    let journal = await Journal.open({ dataDir: dir });
    const issuer = await issuerOn(journal);
    const records = Array.from({ length: 20 }, (_, i) => ({ channelId: `0x${i.toString(16).padStart(64, "0")}`, record: JSON.stringify({ i }) }));
    // saveChannels runs as an interactive transaction in the worker; receipts and reads go on beside it.
    const [, , issued] = await Promise.all([
      Promise.all(records.map((r) => journal.saveChannels([r]))),
      Promise.all(records.map(() => journal.countReceipts())),
      Promise.all([0, 1, 2].map((i) => issuer.issue(draft(i)))),
    ]);
    await journal.close();
    await expect(journal.countReceipts()).rejects.toThrow(/closed/);

    journal = await Journal.open({ dataDir: dir });
    expect((await journal.loadChannels()).sort((a, b) => a.channelId.localeCompare(b.channelId))).toEqual(records);
    for (const r of issued) expect((await journal.getReceipt(r.id))?.signature).toBe(r.signature);
    await journal.close();
  });
});
