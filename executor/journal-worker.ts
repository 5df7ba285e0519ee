/**
 * The PGlite journal's own thread. PGlite is Postgres compiled to WebAssembly and runs synchronously
 * on whichever thread owns it: parsing, executing and writing the WAL at each commit (a blocking
 * fs.writeSync) would stall every request on the executor's event loop. Here it stalls only this
 * thread, and the executor keeps serving calls while a group of receipts commits.
 *
 * A request is answered only when PGlite returned, so a commit is answered once its WAL write went
 * through exactly as when PGlite ran on the caller's thread (the caller serves a result only after
 * that answer). Loaded with Node's type stripping (execArgv: [], no TS-only syntax here).
 */
import { parentPort, workerData } from "node:worker_threads";
import { PGlite, type Transaction } from "@electric-sql/pglite";

export interface JournalWorkerSetup {
  /** The PGlite data directory (created by the caller). */
  dir: string;
}

export type JournalRequest =
  | { id: number; op: "query"; text: string; params: unknown[]; tx?: number }
  /** Several statements, no parameters, one implicit transaction (PGlite's exec). */
  | { id: number; op: "script"; text: string }
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

interface OpenTransaction {
  /** Requests for this transaction, in order, while its callback waits for the next one. */
  inbox: JournalRequest[];
  wake: (() => void) | undefined;
}

const port = parentPort;
if (!port) throw new Error("executor/journal-worker.ts runs only as a worker thread (Journal.open starts it)");
const setup = workerData as JournalWorkerSetup;
const transactions = new Map<number, OpenTransaction>();

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

async function main(): Promise<void> {
  let db: PGlite;
  try {
    db = new PGlite(setup.dir);
    await db.waitReady;
  } catch (error) {
    reply({ id: 0, ok: false, error: wireError(error) });
    return;
  }
  reply({ id: 0, ok: true });
  port!.on("message", (request: JournalRequest) => {
    switch (request.op) {
      case "query": {
        if (request.tx !== undefined) {
          deliver(request.tx, request);
          return;
        }
        void answer(request.id, async () => (await db.query(request.text, request.params)).rows);
        return;
      }
      case "script":
        void answer(request.id, async () => {
          await db.exec(request.text);
          return undefined;
        });
        return;
      case "begin": {
        const open: OpenTransaction = { inbox: [], wake: undefined };
        transactions.set(request.id, open);
        void runTransaction(db, request.id, open);
        return;
      }
      case "commit":
      case "rollback":
        deliver(request.tx, request);
        return;
      case "close":
        void answer(request.id, async () => {
          await db.close();
          return undefined;
        }).then(() => port!.close());
        return;
    }
  });
}

void main();
