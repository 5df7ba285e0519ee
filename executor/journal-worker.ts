/**
 * The PGlite journal's own thread. PGlite is Postgres compiled to WebAssembly and runs synchronously
 * on whichever thread owns it: parsing, executing and writing the WAL at each commit would stall every
 * request on the executor's event loop. Here it stalls only this thread.
 *
 * Receipts do not wait for PGlite. A PGlite commit writes its WAL with O_SYNC page writes, about a
 * millisecond however little it holds, and loading a receipt costs it ~100 µs of CPU. The journal
 * (executor/journal.ts) makes a receipt durable in its redo log and answers; it then sends the entry
 * here ("apply"), and this thread loads the entries in large transactions in the background. It runs
 * at a lower scheduling priority (Linux: a thread's own nice value), so on a busy machine that
 * loading mostly takes the CPU the calls leave idle.
 *
 * Messages run in the order they were sent, one at a time. Any other request first loads every entry
 * sent before it, so it sees every write answered before it was sent. At start-up the redo log's
 * entries PGlite has not loaded yet (a crash after their answer) are loaded before anything else.
 *
 * Loaded with Node's type stripping (execArgv: [], no TS-only syntax here).
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { upsertChannelsSql } from "./journal-sql.ts";
import { readRedoLog, type RedoEntry } from "./redo-log.ts";

export interface JournalWorkerSetup {
  /** The PGlite data directory (created by the caller). */
  dir: string;
  /** The redo log's base path (executor/redo-log.ts), replayed at start-up (it may not exist yet). */
  redoLog: string;
  /** This thread's nice value (0–19, Linux only): higher yields the CPU to the executor's calls. */
  nice: number;
}

export type JournalRequest =
  | { id: number; op: "query"; text: string; params: unknown[]; tx?: number }
  /** Entries already durable in the redo log: loaded in the background (no answer; see JournalApplied). */
  | { id: number; op: "apply"; entries: RedoEntry[] }
  /** Opens transaction `id`; its queries carry `tx: id` until "commit" or "rollback" names it. */
  | { id: number; op: "begin" }
  | { id: number; op: "commit" | "rollback"; tx: number }
  | { id: number; op: "close" };

/** What a failed request reports: the message and Postgres' own fields (code, constraint, ...). */
export interface JournalWireError {
  message: string;
  fields: Record<string, string | number>;
}

/** A request's answer; id 0 with an error: PGlite could not open. */
export type JournalReply = { id: number; ok: true; rows?: unknown[] } | { id: number; ok: false; error: JournalWireError };

/** PGlite is ready, the redo log loaded: `nextLsn` is the first LSN past it. */
export interface JournalStarted {
  nextLsn: number;
}

/** Sent after each load: every entry up to `appliedLsn` is in PGlite. */
export interface JournalApplied {
  appliedLsn: number;
}

interface OpenTransaction {
  /** Requests for this transaction, in order, while its callback waits for the next one. */
  inbox: JournalRequest[];
  wake: (() => void) | undefined;
}

/**
 * Longest an entry waits before it is loaded. Longer makes PGlite's transactions larger (cheaper per
 * entry) and each one holds this thread longer.
 */
const APPLY_AFTER_MS = 500;

const port = parentPort;
if (!port) throw new Error("executor/journal-worker.ts runs only as a worker thread (Journal.open starts it)");
const setup = workerData as JournalWorkerSetup;
const transactions = new Map<number, OpenTransaction>();
/** Requests in arrival order, one running at a time. */
const queue: JournalRequest[] = [];
let draining = false;
/** Entries received, not yet in PGlite, and since when. */
const unapplied: RedoEntry[] = [];
let unappliedSince = 0;
let applyTimer: NodeJS.Timeout | undefined;

function wireError(error: unknown): JournalWireError {
  const fields: Record<string, string | number> = {};
  if (error && typeof error === "object") {
    for (const [key, value] of Object.entries(error)) {
      // name, message and stack stay the caller's own Error's.
      if (key === "name" || key === "message" || key === "stack") continue;
      if (typeof value === "string" || typeof value === "number") fields[key] = value;
    }
  }
  return { message: error instanceof Error ? error.message : String(error), fields };
}

function reply(message: JournalReply): void {
  port!.postMessage(message);
}

async function answer(id: number, work: () => Promise<unknown[] | undefined>): Promise<void> {
  try {
    const rows = await work();
    reply(rows ? { id, ok: true, rows } : { id, ok: true });
  } catch (error) {
    reply({ id, ok: false, error: wireError(error) });
  }
}

/** The statements of `entries`, each channel's last record, and the applied-LSN mark, as one implicit transaction. */
function applyScript(entries: readonly RedoEntry[]): string {
  const channels = new Map<string, string>();
  for (const entry of entries) for (const [channelId, tuple] of entry.channels ?? []) channels.set(channelId, tuple);
  const statements = entries.map((e) => e.text).filter((text) => text.length > 0);
  if (channels.size > 0) statements.push(upsertChannelsSql([...channels.values()]));
  statements.push(`UPDATE journal_redo SET applied_lsn = ${entries[entries.length - 1]!.lsn}`);
  return statements.join(";\n");
}

/**
 * Loads every waiting entry into PGlite in one transaction. If that fails (an entry PGlite refuses,
 * which the journal's unique checks should have made impossible), each entry is loaded alone and one
 * that still fails is kept in journal_redo_failures with its error, so the rest of the journal goes on.
 */
async function applyUnapplied(db: PGlite): Promise<void> {
  if (applyTimer) clearTimeout(applyTimer);
  applyTimer = undefined;
  if (unapplied.length === 0) return;
  const entries = unapplied.splice(0);
  try {
    await db.exec(applyScript(entries));
  } catch {
    for (const entry of entries) {
      try {
        await db.exec(applyScript([entry]));
      } catch (error) {
        console.error(`glassbox journal: redo entry ${entry.lsn} could not be applied: ${wireError(error).message}`);
        await db.query(`INSERT INTO journal_redo_failures (lsn, text, error, at) VALUES ($1, $2, $3, $4)`, [entry.lsn, entry.text, wireError(error).message, Date.now()]);
        await db.exec(`UPDATE journal_redo SET applied_lsn = ${entry.lsn}`);
      }
    }
  }
  const applied: JournalApplied = { appliedLsn: entries[entries.length - 1]!.lsn };
  port!.postMessage(applied);
}

/** Runs one interactive transaction: its queries as they arrive, until commit or rollback. */
async function runTransaction(db: PGlite, begin: number, open: OpenTransaction): Promise<void> {
  const next = async (): Promise<JournalRequest> => {
    while (open.inbox.length === 0) await new Promise<void>((resolve) => (open.wake = resolve));
    open.wake = undefined;
    return open.inbox.shift()!;
  };
  let end: JournalRequest | undefined;
  try {
    await db.transaction(async (tx: Transaction) => {
      reply({ id: begin, ok: true });
      for (;;) {
        const request = await next();
        if (request.op === "query") {
          // A failed statement aborts the transaction in Postgres: report it, and let the caller roll back.
          await answer(request.id, async () => (await tx.query(request.text, request.params)).rows);
          continue;
        }
        end = request;
        if (request.op === "rollback") await tx.rollback();
        return;
      }
    });
    if (end) reply({ id: end.id, ok: true });
  } catch (error) {
    if (end) reply({ id: end.id, ok: false, error: wireError(error) });
    else reply({ id: begin, ok: false, error: wireError(error) });
  } finally {
    transactions.delete(begin);
  }
}

/** Hands a request to the open transaction it names (its callback is waiting for the next one). */
function deliver(tx: number, request: JournalRequest): void {
  const open = transactions.get(tx);
  if (!open) {
    reply({ id: request.id, ok: false, error: { message: `journal transaction ${tx} is not open`, fields: {} } });
    return;
  }
  open.inbox.push(request);
  open.wake?.();
}

/** Runs one request; anything but an entry to load first loads every entry sent before it. */
async function run(db: PGlite, request: JournalRequest): Promise<void> {
  switch (request.op) {
    case "apply":
      if (unapplied.length === 0) unappliedSince = Date.now();
      unapplied.push(...request.entries);
      return;
    case "query":
      await applyUnapplied(db);
      await answer(request.id, async () => (await db.query(request.text, request.params)).rows);
      return;
    case "begin": {
      await applyUnapplied(db);
      const open: OpenTransaction = { inbox: [], wake: undefined };
      transactions.set(request.id, open);
      await runTransaction(db, request.id, open);
      return;
    }
    case "close":
      await answer(request.id, async () => {
        await applyUnapplied(db);
        await db.close();
        return undefined;
      });
      port!.close();
      return;
    case "commit":
    case "rollback":
      return;
  }
}

/** The timer's load: now, unless the queue is running (it loads what is old enough between requests). */
async function applyNow(db: PGlite): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    await applyUnapplied(db);
  } finally {
    draining = false;
  }
  void drain(db);
}

/** Runs the queue one request at a time, loading what waits once it is old enough. */
async function drain(db: PGlite): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    while (queue.length > 0) {
      await run(db, queue.shift()!);
      if (unapplied.length > 0 && Date.now() - unappliedSince >= APPLY_AFTER_MS) await applyUnapplied(db);
    }
  } finally {
    draining = false;
  }
  if (unapplied.length > 0) {
    applyTimer ??= setTimeout(() => {
      applyTimer = undefined;
      void applyNow(db);
    }, APPLY_AFTER_MS);
  }
}

/** Loads the redo log's entries PGlite has not loaded (a crash after their answer); the first LSN past the log. */
async function recover(db: PGlite): Promise<number> {
  await db.exec(`
    CREATE TABLE IF NOT EXISTS journal_redo (id INTEGER PRIMARY KEY CHECK (id = 1), applied_lsn BIGINT NOT NULL);
    INSERT INTO journal_redo (id, applied_lsn) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
    CREATE TABLE IF NOT EXISTS journal_redo_failures (lsn BIGINT PRIMARY KEY, text TEXT NOT NULL, error TEXT NOT NULL, at BIGINT NOT NULL)`);
  const applied = Number((await db.query<{ applied_lsn: string | number }>(`SELECT applied_lsn FROM journal_redo`)).rows[0]!.applied_lsn);
  const entries = readRedoLog(setup.redoLog).filter((e) => e.lsn > applied);
  unapplied.push(...entries);
  await applyUnapplied(db);
  return Math.max(applied, entries.at(-1)?.lsn ?? 0) + 1;
}

/** Lowers this thread's own scheduling priority (Linux: nice values are per thread; elsewhere a no-op). */
function lowerPriority(nice: number): void {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isSafeInteger(tid)) setPriority(tid, nice);
  } catch {
    // Not Linux, or not permitted: the loading then competes with the calls at equal priority.
  }
}

async function main(): Promise<void> {
  lowerPriority(setup.nice);
  let db: PGlite;
  let nextLsn: number;
  try {
    db = new PGlite(setup.dir);
    await db.waitReady;
    nextLsn = await recover(db);
  } catch (error) {
    reply({ id: 0, ok: false, error: wireError(error) });
    return;
  }
  const started: JournalStarted = { nextLsn };
  port!.postMessage(started);
  port!.on("message", (request: JournalRequest) => {
    if (request.op === "commit" || request.op === "rollback" || (request.op === "query" && request.tx !== undefined)) {
      deliver(request.tx!, request);
      return;
    }
    queue.push(request);
    void drain(db);
  });
}

void main();
