import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, describe, expect, it } from "vitest";
import { Journal, pgliteJournalDir } from "../../executor/journal.ts";
import { readEntries, readRedoLog, redoLogFiles, RedoLog, type RedoEntry } from "../../executor/redo-log.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "glassbox-redo-"));
  dirs.push(dir);
  return dir;
}

const entry = (lsn: number, text = `INSERT INTO t VALUES (${lsn})`): RedoEntry => ({ lsn, text });

describe("redo log", () => {
  it("reads back what was appended, in order, whatever the statements hold", async () => {
    const base = path.join(await tempDir(), "journal.redo");
    const log = RedoLog.open(base);
    expect(readRedoLog(base)).toEqual([]);
    const tricky = entry(2, "INSERT INTO t VALUES ('a\nb', E'\\\\', '☃ 𝄞')");
    const withChannels: RedoEntry = { ...entry(4), channels: [["0xab", "('0xab', '{\"a\":1}', 7)"]] };
    // Appended together: the later ones wait for the first's sync, then go out as one group.
    await Promise.all([log.append([entry(1)]), log.append([tricky, entry(3)]), log.append([withChannels])]);
    await log.close();
    expect(readRedoLog(base)).toEqual([entry(1), tricky, entry(3), withChannels]);
  });

  it("stops at a torn line: a write a crash cut short was never answered, so nothing after it counts", async () => {
    const base = path.join(await tempDir(), "journal.redo");
    const log = RedoLog.open(base);
    await log.append([entry(1), entry(2), entry(3)]);
    await log.close();
    const [file] = redoLogFiles(base);
    const bytes = readFileSync(file);
    const second = bytes.indexOf("\n") + 1;
    // One flipped byte in entry 2's statement: its checksum fails, entry 3 after it is not read either.
    bytes[bytes.indexOf("(2)", second) + 1] = "7".charCodeAt(0);
    writeFileSync(file, bytes);
    expect(readEntries(readFileSync(file))).toEqual([entry(1)]);
    // Cut inside the first line (and zeros after it, as allocated space looks): nothing.
    expect(readEntries(Buffer.concat([bytes.subarray(0, second - 5), Buffer.alloc(64)]))).toEqual([]);
  });

  it("takes turns between its two files, writing over one only once all it held is loaded", async () => {
    const base = path.join(await tempDir(), "journal.redo");
    const [first, second] = redoLogFiles(base);
    const log = RedoLog.open(base);
    const big = "x".repeat(64 * 1024);
    let lsn = 0;
    // Past the switch position (4 MiB) of the first file: nothing loaded yet, but the second file holds nothing.
    for (let i = 0; i < 70; i++) await log.append([entry(++lsn, big)]);
    const firstTurn = readEntries(readFileSync(first)).map((e) => e.lsn);
    const switchedAt = firstTurn.length + 1;
    expect(switchedAt).toBeLessThan(70);
    expect(readEntries(readFileSync(second)).map((e) => e.lsn)).toEqual(Array.from({ length: 70 - firstTurn.length }, (_, i) => switchedAt + i));
    // The second past its switch position too: the first still holds entries not loaded, so writing stays.
    for (let i = 0; i < 70; i++) await log.append([entry(++lsn, big)]);
    expect(readEntries(readFileSync(second)).at(-1)!.lsn).toBe(lsn);
    // All of the first file loaded (not all of the second): the first is written over, from its beginning.
    log.applied(switchedAt - 1);
    await log.append([entry(++lsn), entry(++lsn)]);
    await log.close();
    // The first file's earlier turn is still there after the new lines, intact: its lower LSNs end the read.
    expect(readFileSync(first).includes(`"lsn":3,`)).toBe(true);
    expect(readEntries(readFileSync(first)).map((e) => e.lsn)).toEqual([lsn - 1, lsn]);
    // Read back whole: both files' entries, in order, none twice.
    expect(readRedoLog(base).map((e) => e.lsn)).toEqual(Array.from({ length: lsn - switchedAt + 1 }, (_, i) => switchedAt + i));
  });
});

describe("PGlite journal with its redo log", () => {
  it("keeps every receipt whose commit resolved when the process is killed before PGlite applied it", async () => {
    const dataDir = await tempDir();
    const child = spawn(process.execPath, ["--import", "tsx", "test/executor/helpers/journal-child.ts", dataDir, "40"], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, sig) => resolve(sig)));
    expect(signal).toBe("SIGKILL");
    const ids = JSON.parse(stdout) as string[];
    expect(ids).toHaveLength(40);

    // Straight after the kill, PGlite itself holds fewer (the redo log holds the rest, synced)...
    const raw = new PGlite(pgliteJournalDir(dataDir));
    const before = Number((await raw.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM receipts`)).rows[0]!.n);
    await raw.close();
    expect(before).toBeLessThan(40);
    expect(readRedoLog(path.join(dataDir, "journal.redo")).length).toBeGreaterThan(0);

    // ...and opening the journal replays them: every receipt, seqs 1..40 contiguous.
    const journal = await Journal.open({ dataDir });
    for (const id of ids) expect((await journal.getReceipt(id as `0x${string}`))?.receiptId).toBe(id);
    expect((await journal.receiptsFromSeq(1n, 100)).map((r) => Number(r.seq))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await journal.nextFreeSeq()).toBe(41n);
    await journal.close();
  });
});
