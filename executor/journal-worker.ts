/**
 * The PGlite journal's own thread. PGlite is Postgres compiled to WebAssembly and runs synchronously
 * on whichever thread owns it: parsing, executing and writing the WAL at each commit would stall every
 * request on the executor's event loop. Here it stalls only this thread.
 *
 * Receipt commits do not wait for PGlite. Each PGlite commit writes its WAL with O_SYNC page writes,
 * about a millisecond however little it holds, and paid calls would queue behind them. A "logged" write
 * is instead appended to a redo log next to the database and made durable with one fdatasync, shared by
 * every write that arrived together; it is answered then. The redo log is loaded into PGlite in large
 * transactions in the background, and before any other request runs, so every query sees every write
 * answered before it was sent. At start-up the entries PGlite has not applied yet are replayed; once
 * everything is applied the log is emptied.
 *
 * A logged write names its unique keys, and is refused (Postgres' unique_violation, 23505) when one of
 * them is already in the table or in a write not applied yet: the same answer an INSERT would give.
 *
 * Loaded with Node's type stripping (execArgv: [], no TS-only syntax here).
 */
import { parentPort, workerData } from "node:worker_threads";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { ReceiptKeys, type KeyConflict, type ReceiptKeysOf } from "./receipt-keys.ts";
import { RedoLog, type RedoEntry } from "./redo-log.ts";

export interface JournalWorkerSetup {
  /** The PGlite data directory (created by the caller). */
  dir: string;
  /** The redo log file (created when missing). */
  redoLog: string;
}

export type JournalRequest =
  | { id: number; op: "query"; text: string; params: unknown[]; tx?: number }
  /** Statements inserting `receipts` (and more), no parameters, one implicit transaction, durable through the redo log. */
  | { id: number; op: "logged"; text: string; receipts: ReceiptKeysOf }
  /** Opens transaction `id`; its queries carry `tx: id` until "commit" or "rollback" names it. */
  | { id: number; op: "begin" }
  | { id: number; op: "commit" | "rollback"; tx: number }
  | { id: number; op: "close" };

/** What a failed request reports: the message and Postgres' own fields (code, constraint, ...). */
export interface JournalWireError {
  message: string;
  fields: Record<string, string | number>;
}

/** Id 0 answers the start-up: PGlite is ready, or could not open. */
export type JournalReply = { id: number; ok: true; rows?: unknown[] } | { id: number; ok: false; error: JournalWireError };

type LoggedRequest = Extract<JournalRequest, { op: "logged" }>;

/** An entry answered and not yet in PGlite: its receipts' keys stay reserved until it is. */
interface Unapplied extends RedoEntry {
  receipts: ReceiptKeysOf;
  loggedAt: number;
}

/** Queued by this thread itself: apply the waiting entries now. */
const APPLY = { op: "apply" } as const;

interface OpenTransaction {
  /** Requests for this transaction, in order, while its callback waits for the next one. */
  inbox: JournalRequest[];
  wake: (() => void) | undefined;
}

/**
 * Longest a logged write waits in the redo log alone before it is applied. Longer makes PGlite's
 * transactions larger (cheaper per write) and each one holds this thread longer.
 */
const APPLY_AFTER_MS = 50;

const port = parentPort;
if (!port) throw new Error("executor/journal-worker.ts runs only as a worker thread (Journal.open starts it)");
const setup = workerData as JournalWorkerSetup;
const transactions = new Map<number, OpenTransaction>();
/** Requests in arrival order; one runs at a time (logged writes that arrived together run as one). */
const queue: (JournalRequest | typeof APPLY)[] = [];
let draining = false;
/** Logged, answered, not yet in PGlite; and the unique keys they hold. */
const unapplied: Unapplied[] = [];
/** Loaded at the first logged write (the journal creates its tables after this thread started). */
let receiptKeys: ReceiptKeys | undefined;
let applyTimer: NodeJS.Timeout | undefined;
let nextLsn = 1;
let redoLog: RedoLog;

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

/** The statements of `entries` and the applied-LSN mark, as one implicit transaction. */
function applyScript(entries: readonly RedoEntry[]): string {
  return `${entries.map((e) => e.text).join(";\n")};\nUPDATE journal_redo SET applied_lsn = ${entries[entries.length - 1]!.lsn}`;
}

/**
 * Loads every unapplied entry into PGlite in one transaction. If that fails (an entry PGlite refuses,
 * which the unique check should have made impossible), each entry is applied alone and one that still
 * fails is kept in journal_redo_failures with its error, so the rest of the journal goes on.
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
  for (const entry of entries) receiptKeys?.applied(entry.receipts);
  redoLog.applied();
}

function refuse(request: LoggedRequest, conflict: KeyConflict): void {
  reply({
    id: request.id,
    ok: false,
    error: {
      message: `duplicate key value violates unique constraint "${conflict.constraint}"`,
      fields: { code: "23505", severity: "ERROR", detail: `Key (${conflict.column})=(${conflict.value}) already exists.`, constraint: conflict.constraint },
    },
  });
}

/**
 * Logged writes that arrived together: refused if a receipt's key is journaled already, else appended
 * to the redo log and synced once for all of them, then answered.
 */
async function logWrites(db: PGlite, batch: LoggedRequest[]): Promise<void> {
  let keys: ReceiptKeys;
  try {
    keys = receiptKeys ??= await ReceiptKeys.load(db);
  } catch (error) {
    for (const request of batch) reply({ id: request.id, ok: false, error: wireError(error) });
    return;
  }
  const seqBefore = keys.maxSeq;
  const accepted: LoggedRequest[] = [];
  const entries: Unapplied[] = [];
  try {
    for (const request of batch) {
      const conflict = await keys.conflict(request.receipts);
      if (conflict) {
        refuse(request, conflict);
        continue;
      }
      await keys.reserve(request.receipts);
      accepted.push(request);
      entries.push({ lsn: nextLsn++, text: request.text, receipts: request.receipts, loggedAt: Date.now() });
    }
    if (entries.length > 0) redoLog.append(entries);
  } catch (error) {
    // Not durable, so not answered as written: nothing of it is applied (a torn tail is never read back).
    for (const entry of entries) keys.applied(entry.receipts, seqBefore);
    for (const request of accepted) reply({ id: request.id, ok: false, error: wireError(error) });
    return;
  }
  unapplied.push(...entries);
  for (const request of accepted) reply({ id: request.id, ok: true });
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

/** Any request but a logged write: it sees every write answered before it, so those are applied first. */
async function run(db: PGlite, request: JournalRequest | typeof APPLY): Promise<void> {
  switch (request.op) {
    case "apply":
      await applyUnapplied(db);
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
        redoLog.close();
        return undefined;
      });
      port!.close();
      return;
    case "logged":
    case "commit":
    case "rollback":
      return;
  }
}

/** Runs the queue one request at a time; logged writes next to each other share one sync. */
async function drain(db: PGlite): Promise<void> {
  if (draining) return;
  draining = true;
  try {
    while (queue.length > 0) {
      // Let the messages already sent land first, so they join this round.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (queue[0]!.op !== "logged") {
        await run(db, queue.shift()!);
        continue;
      }
      const batch: LoggedRequest[] = [];
      while (queue[0]?.op === "logged") batch.push(queue.shift() as LoggedRequest);
      await logWrites(db, batch);
      if (unapplied.length > 0 && Date.now() - unapplied[0]!.loggedAt >= APPLY_AFTER_MS) await applyUnapplied(db);
    }
  } finally {
    draining = false;
  }
  if (unapplied.length > 0) {
    applyTimer ??= setTimeout(() => {
      applyTimer = undefined;
      queue.push(APPLY);
      void drain(db);
    }, APPLY_AFTER_MS);
  }
}

/** Replays the redo log's entries PGlite has not applied (a crash after their answer), then empties it. */
async function recover(db: PGlite): Promise<void> {
  await db.exec(`
    CREATE TABLE IF NOT EXISTS journal_redo (id INTEGER PRIMARY KEY CHECK (id = 1), applied_lsn BIGINT NOT NULL);
    INSERT INTO journal_redo (id, applied_lsn) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
    CREATE TABLE IF NOT EXISTS journal_redo_failures (lsn BIGINT PRIMARY KEY, text TEXT NOT NULL, error TEXT NOT NULL, at BIGINT NOT NULL)`);
  const applied = Number((await db.query<{ applied_lsn: string | number }>(`SELECT applied_lsn FROM journal_redo`)).rows[0]!.applied_lsn);
  redoLog = RedoLog.open(setup.redoLog);
  const entries = redoLog.recovered.filter((e) => e.lsn > applied);
  nextLsn = Math.max(applied, entries.at(-1)?.lsn ?? 0) + 1;
  unapplied.push(...entries.map((e) => ({ ...e, receipts: { paymentRefs: [], seqs: [] }, loggedAt: 0 })));
  // Applied before anything is answered; the log then starts over (its position is at the beginning).
  await applyUnapplied(db);
}

async function main(): Promise<void> {
  let db: PGlite;
  try {
    db = new PGlite(setup.dir);
    await db.waitReady;
    await recover(db);
  } catch (error) {
    reply({ id: 0, ok: false, error: wireError(error) });
    return;
  }
  reply({ id: 0, ok: true });
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
