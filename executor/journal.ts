import { mkdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { Address, Hex } from "viem";
import { PACKAGE_ROOT } from "../sdk/package-root.ts";
import type { ReceiptJson } from "../sdk/receipt.ts";
import type { JournalApplied, JournalReply, JournalRequest, JournalStarted, JournalWireError, JournalWorkerSetup } from "./journal-worker.ts";
import { ReceiptKeys, type JournaledKeys, type KeyConflict, type ReceiptKeysOf } from "./receipt-keys.ts";
import { upsertChannelsSql } from "./journal-sql.ts";
import { RedoLog, type RedoEntry } from "./redo-log.ts";

// From the package root, not from this module: the executor also runs compiled to dist/, while the
// worker always runs from its TypeScript source (Node strips its types).
const JOURNAL_WORKER_URL = pathToFileURL(path.join(PACKAGE_ROOT, "executor", "journal-worker.ts"));
/** The PGlite thread's nice value: its background loading yields the CPU to paid calls on a busy machine. */
const LOADER_NICE = 10;

/**
 * The durable journal (payments v2). PGlite in the data dir by default; PostgreSQL when a connection
 * string is given. What it keeps:
 * - `receipts`: every signed receipt, with the result the payer paid for. Its royalty-line sequence
 *   numbers are assigned in the same commit that inserts it (seq is unique, so they stay contiguous: a
 *   refused commit assigns nothing). A receipt is settled once Settlement.nextSeq(executor) passed it.
 *   `payment_ref` is unique: one payment (an exact transaction, a channel's cumulative amount) backs
 *   one receipt at most.
 * - `channels`: the batch-settlement channel records (latest voucher, charged amount), written in the
 *   same commit as the receipts they pay for, so a restart never loses a charge that has a receipt
 *   and never keeps one that has none.
 * - `royalty_batches`: every settleRoyalties transaction sent, so an unknown outcome is resolved before
 *   another batch is built (a batch binds its lines to the seqs it lands on).
 * - `events`: what the settlers did that an operator must be able to read later (a hostile channel
 *   dropped, a batch reverted), with the reason.
 */

export interface JournaledReceipt {
  receiptId: Hex;
  seq: bigint;
  lineCount: number;
  payer: Address;
  versionId: Hex;
  /** Total royalty the receipt owes (own + dependencies). */
  royalty: bigint;
  scheme: string;
  paymentRef: Hex;
  receipt: ReceiptJson;
  signature: Hex;
  /** Canonical JSON of the result the payer paid for. */
  result: string | null;
  deadline: bigint;
  createdAt: number;
}

/** A receipt to insert; its seq is already assigned by the caller inside the same flush. */
export type NewReceipt = Omit<JournaledReceipt, "createdAt">;

export interface ChannelRow {
  channelId: string;
  record: string;
}

export type BatchStatus = "submitted" | "settled" | "reverted";

export interface RoyaltyBatchRow {
  firstSeq: bigint;
  lineCount: number;
  total: bigint;
  txHash: Hex;
  status: BatchStatus;
  reason: string | null;
  createdAt: number;
}

export interface JournalEvent {
  kind: string;
  subject: string;
  detail: string;
  at: number;
}

interface Sql {
  query<T>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /** Runs `fn` in one transaction (all or nothing). */
  transaction<T>(fn: (q: Sql["query"]) => Promise<T>): Promise<T>;
  /**
   * Runs several statements (no parameters: values are `sqlLiteral`s) as one all-or-nothing write, durable
   * when it resolves and seen by every request sent after, then upserts `channels` ([channelId, SQL
   * tuple]). Refused with unique_violation (23505) when one of `receipts`' keys exists already
   * (PostgreSQL: by the tables' own unique indexes).
   */
  write(statements: readonly string[], receipts: ReceiptKeysOf, channels: readonly [string, string][]): Promise<void>;
  close(): Promise<void>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS receipts (
  receipt_id TEXT PRIMARY KEY,
  seq BIGINT NOT NULL,
  line_count INTEGER NOT NULL,
  payer TEXT NOT NULL,
  version_id TEXT NOT NULL,
  royalty NUMERIC(78, 0) NOT NULL,
  scheme TEXT NOT NULL,
  payment_ref TEXT NOT NULL UNIQUE,
  receipt TEXT NOT NULL,
  signature TEXT NOT NULL,
  result TEXT,
  deadline BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS receipts_seq ON receipts (seq) WHERE seq > 0;
CREATE TABLE IF NOT EXISTS channels (
  channel_id TEXT PRIMARY KEY,
  record TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS royalty_batches (
  first_seq BIGINT NOT NULL,
  line_count INTEGER NOT NULL,
  total NUMERIC(78, 0) NOT NULL,
  tx_hash TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  reason TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  id BIGSERIAL PRIMARY KEY,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL,
  at BIGINT NOT NULL
)
`;

interface ReceiptRow {
  receipt_id: string;
  seq: string | number;
  line_count: number;
  payer: string;
  version_id: string;
  royalty: string;
  scheme: string;
  payment_ref: string;
  receipt: string;
  signature: string;
  result: string | null;
  deadline: string | number;
  created_at: string | number;
}

interface BatchRow {
  first_seq: string | number;
  line_count: number;
  total: string;
  tx_hash: string;
  status: string;
  reason: string | null;
  created_at: string | number;
}

export class Journal {
  private constructor(private readonly sql: Sql) {}

  /**
   * Opens PostgreSQL when `databaseUrl` is set (tables in `databaseSchema`, default
   * "glassbox_executor": one schema per executor sharing a database), else PGlite under `<dataDir>/journal`.
   */
  static async open(opts: { dataDir: string; databaseUrl?: string; databaseSchema?: string }): Promise<Journal> {
    const sql = opts.databaseUrl ? await openPostgres(opts.databaseUrl, opts.databaseSchema ?? "glassbox_executor") : await openPglite(opts.dataDir);
    for (const statement of SCHEMA.split(";").map((s) => s.trim()).filter(Boolean)) {
      await sql.query(statement);
    }
    return new Journal(sql);
  }

  async close(): Promise<void> {
    await this.sql.close();
  }

  /**
   * Inserts receipts and the channel records they were paid from in one transaction: all or nothing.
   * Throws on any conflict (a payment reference or seq used twice), so the caller's seqs are never
   * half-assigned.
   */
  async commitReceipts(receipts: readonly NewReceipt[], channels: readonly ChannelRow[]): Promise<void> {
    if (receipts.length === 0 && channels.length === 0) return;
    // The hot path (one commit per group of paid calls): values as literals, so PostgreSQL runs it in one
    // round trip and PGlite's redo log holds it as one line.
    const now = Date.now();
    const statements: string[] = [];
    if (receipts.length > 0) {
      const tuples = receipts.map((r) =>
        sqlTuple([
          r.receiptId.toLowerCase(),
          r.seq,
          r.lineCount,
          r.payer.toLowerCase(),
          r.versionId.toLowerCase(),
          r.royalty,
          r.scheme,
          r.paymentRef.toLowerCase(),
          JSON.stringify(r.receipt),
          r.signature,
          r.result,
          r.deadline,
          now,
        ]),
      );
      statements.push(
        `INSERT INTO receipts (receipt_id, seq, line_count, payer, version_id, royalty, scheme, payment_ref, receipt, signature, result, deadline, created_at) VALUES ${tuples.join(", ")}`,
      );
    }
    const channelTuples = channels.map((c): [string, string] => [c.channelId.toLowerCase(), sqlTuple([c.channelId.toLowerCase(), c.record, now])]);
    await this.sql.write(statements, receiptKeys(receipts), channelTuples);
  }

  /** Channel records changed without a receipt (deposits, claims, dropped channels). */
  async saveChannels(channels: readonly ChannelRow[]): Promise<void> {
    if (channels.length === 0) return;
    await this.sql.transaction((query) => upsertChannels(query, channels, Date.now()));
  }

  async deleteChannel(channelId: string): Promise<void> {
    await this.sql.query(`DELETE FROM channels WHERE channel_id = $1`, [channelId.toLowerCase()]);
  }

  async loadChannels(): Promise<ChannelRow[]> {
    const { rows } = await this.sql.query<{ channel_id: string; record: string }>(`SELECT channel_id, record FROM channels`);
    return rows.map((r) => ({ channelId: r.channel_id, record: r.record }));
  }

  /** The first seq no journaled receipt uses yet (1 when there is none). */
  async nextFreeSeq(): Promise<bigint> {
    const { rows } = await this.sql.query<{ next: string | number | null }>(`SELECT MAX(seq + line_count) AS next FROM receipts WHERE seq > 0`);
    const next = rows[0]?.next;
    return next === null || next === undefined ? 1n : BigInt(next);
  }

  /** Receipts owing royalty lines from `fromSeq` on, in seq order (at most `limit`). */
  async receiptsFromSeq(fromSeq: bigint, limit: number): Promise<JournaledReceipt[]> {
    const { rows } = await this.sql.query<ReceiptRow>(
      `SELECT * FROM receipts WHERE seq > 0 AND seq + line_count > $1 ORDER BY seq LIMIT $2`,
      [fromSeq.toString(), limit],
    );
    return rows.map(toReceipt);
  }

  /** Unsettled royalties per version (receipts whose lines are not all below `nextSeq`). */
  async unsettledByVersion(nextSeq: bigint): Promise<{ versionId: Hex; receipts: number; amount: bigint; oldestDeadline: bigint }[]> {
    const { rows } = await this.sql.query<{ version_id: string; n: string | number; amount: string; oldest: string | number }>(
      `SELECT version_id, COUNT(*) AS n, SUM(royalty) AS amount, MIN(deadline) AS oldest FROM receipts
       WHERE seq > 0 AND seq + line_count > $1 GROUP BY version_id`,
      [nextSeq.toString()],
    );
    return rows.map((r) => ({ versionId: r.version_id as Hex, receipts: Number(r.n), amount: BigInt(r.amount), oldestDeadline: BigInt(r.oldest) }));
  }

  async getReceipt(receiptId: Hex): Promise<JournaledReceipt | undefined> {
    const { rows } = await this.sql.query<ReceiptRow>(`SELECT * FROM receipts WHERE receipt_id = $1`, [receiptId.toLowerCase()]);
    return rows[0] ? toReceipt(rows[0]) : undefined;
  }

  /** The receipt backed by `paymentRef` (an exact settlement's transaction, a channel's cumulative amount): unique per payment. */
  async getReceiptByPaymentRef(paymentRef: Hex): Promise<JournaledReceipt | undefined> {
    const { rows } = await this.sql.query<ReceiptRow>(`SELECT * FROM receipts WHERE payment_ref = $1`, [paymentRef.toLowerCase()]);
    return rows[0] ? toReceipt(rows[0]) : undefined;
  }

  async countReceipts(): Promise<number> {
    const { rows } = await this.sql.query<{ n: string | number }>(`SELECT COUNT(*) AS n FROM receipts`);
    return Number(rows[0]?.n ?? 0);
  }

  async recordBatch(batch: Omit<RoyaltyBatchRow, "createdAt" | "status" | "reason">): Promise<void> {
    const now = Date.now();
    await this.sql.query(
      `INSERT INTO royalty_batches (first_seq, line_count, total, tx_hash, status, reason, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'submitted', NULL, $5, $5) ON CONFLICT (tx_hash) DO NOTHING`,
      [batch.firstSeq.toString(), batch.lineCount, batch.total.toString(), batch.txHash.toLowerCase(), now],
    );
  }

  async markBatch(txHash: Hex, status: BatchStatus, reason: string | null): Promise<void> {
    await this.sql.query(`UPDATE royalty_batches SET status = $1, reason = $2, updated_at = $3 WHERE tx_hash = $4`, [status, reason, Date.now(), txHash.toLowerCase()]);
  }

  async submittedBatches(): Promise<RoyaltyBatchRow[]> {
    const { rows } = await this.sql.query<BatchRow>(`SELECT * FROM royalty_batches WHERE status = 'submitted' ORDER BY created_at`);
    return rows.map(toBatch);
  }

  async batches(): Promise<RoyaltyBatchRow[]> {
    const { rows } = await this.sql.query<BatchRow>(`SELECT * FROM royalty_batches ORDER BY created_at`);
    return rows.map(toBatch);
  }

  /** The settled batch whose seq range holds `seq`, if this executor journaled it. */
  async batchCovering(seq: bigint): Promise<RoyaltyBatchRow | undefined> {
    const { rows } = await this.sql.query<BatchRow>(
      `SELECT * FROM royalty_batches WHERE status = 'settled' AND first_seq <= $1 AND first_seq + line_count > $1 LIMIT 1`,
      [seq.toString()],
    );
    return rows[0] ? toBatch(rows[0]) : undefined;
  }

  async recordEvent(kind: string, subject: string, detail: string): Promise<void> {
    await this.sql.query(`INSERT INTO events (kind, subject, detail, at) VALUES ($1, $2, $3, $4)`, [kind, subject.toLowerCase(), detail, Date.now()]);
  }

  async events(kind?: string): Promise<JournalEvent[]> {
    const { rows } = await this.sql.query<{ kind: string; subject: string; detail: string; at: string | number }>(
      kind ? `SELECT * FROM events WHERE kind = $1 ORDER BY id` : `SELECT * FROM events ORDER BY id`,
      kind ? [kind] : [],
    );
    return rows.map((r) => ({ kind: r.kind, subject: r.subject, detail: r.detail, at: Number(r.at) }));
  }
}

async function upsertChannels(query: Sql["query"], channels: readonly ChannelRow[], now: number): Promise<void> {
  const params: unknown[] = [];
  const tuples = channels.map((c) => {
    const base = params.length;
    params.push(c.channelId.toLowerCase(), c.record, now);
    return `($${base + 1}, $${base + 2}, $${base + 3})`;
  });
  await query(upsertChannelsSql(tuples), params);
}

/** The unique keys of receipts, as the PGlite worker checks them (receipt_id follows from payment_ref). */
function receiptKeys(receipts: readonly NewReceipt[]): ReceiptKeysOf {
  return { paymentRefs: receipts.map((r) => r.paymentRef.toLowerCase()), seqs: receipts.flatMap((r) => (r.seq > 0n ? [r.seq.toString()] : [])) };
}

/**
 * A SQL literal for `write` (no parameters there): integers as digits, strings quoted as
 * libpq's PQescapeLiteral does (quotes doubled; with a backslash, an E'' string with backslashes
 * doubled), so the value reads back exactly whatever standard_conforming_strings says.
 */
export function sqlLiteral(value: string | number | bigint | null): string {
  if (value === null) return "NULL";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError(`journal literal ${value} is not a safe integer`);
    return value.toString();
  }
  if (value.includes("\0")) throw new TypeError("a journal text value cannot hold a NUL character");
  const quoted = `'${value.replace(/'/g, "''")}'`;
  return value.includes("\\") ? `E${quoted.replace(/\\/g, "\\\\")}` : quoted;
}

function sqlTuple(values: readonly (string | number | bigint | null)[]): string {
  return `(${values.map(sqlLiteral).join(", ")})`;
}

function toReceipt(row: ReceiptRow): JournaledReceipt {
  return {
    receiptId: row.receipt_id as Hex,
    seq: BigInt(row.seq),
    lineCount: Number(row.line_count),
    payer: row.payer as Address,
    versionId: row.version_id as Hex,
    royalty: BigInt(row.royalty),
    scheme: row.scheme,
    paymentRef: row.payment_ref as Hex,
    receipt: JSON.parse(row.receipt) as ReceiptJson,
    signature: row.signature as Hex,
    result: row.result,
    deadline: BigInt(row.deadline),
    createdAt: Number(row.created_at),
  };
}

function toBatch(row: BatchRow): RoyaltyBatchRow {
  return {
    firstSeq: BigInt(row.first_seq),
    lineCount: Number(row.line_count),
    total: BigInt(row.total),
    txHash: row.tx_hash as Hex,
    status: row.status as BatchStatus,
    reason: row.reason,
    createdAt: Number(row.created_at),
  };
}

/** Where the PGlite journal lives in a data dir (an empty PGlite database may be put there first). */
export function pgliteJournalDir(dataDir: string): string {
  return path.join(dataDir, "journal");
}

/**
 * PGlite in a worker thread of its own (executor/journal-worker.ts), behind a redo log written here.
 *
 * A `write` is checked against the receipts' unique keys in memory (ReceiptKeys), appended to the redo
 * log (`<dataDir>/journal.redo.0` and `.1`) and synced through libuv's thread pool, together with every
 * write that arrived meanwhile. It resolves then, and its entry goes to the worker, which loads entries
 * into PGlite in the background at a lower priority. Everything else is answered once PGlite returned.
 *
 * Requests reach the worker in the order they were made here, writes included: the outbox holds later
 * requests until an earlier write is durable and its entry sent. So each one sees every write made
 * before it, and a later channel record never lands before an earlier one.
 */
async function openPglite(dataDir: string): Promise<Sql> {
  const dir = pgliteJournalDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const redoFile = path.join(dataDir, "journal.redo");
  const setup: JournalWorkerSetup = { dir, redoLog: redoFile, nice: LOADER_NICE };
  // Node's own type stripping loads the worker: no loader (tsx, vitest) inherited from this thread.
  const worker = new Worker(JOURNAL_WORKER_URL, { workerData: setup, execArgv: [] });
  const pending = new Map<number, { resolve: (rows: unknown[] | undefined) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let stopped: Error | undefined;
  /** Durable and sent to the worker, not in PGlite yet: their keys stay reserved in memory until it says so. */
  const loading = new Map<number, ReceiptKeysOf>();
  let keys: ReceiptKeys | undefined;
  let redo: RedoLog | undefined;
  // The worker keeps the process alive only while a request waits on it, as PGlite on this thread did.
  const settle = () => {
    if (pending.size === 0) worker.unref();
  };
  const ready = new Promise<number>((resolve, reject) => {
    const fail = (error: Error) => {
      stopped ??= error;
      const waiting = [...pending.values()];
      pending.clear();
      for (const request of waiting) request.reject(stopped);
      reject(stopped);
    };
    worker.on("message", (message: JournalReply | JournalStarted | JournalApplied) => {
      if ("nextLsn" in message) {
        resolve(message.nextLsn);
        return;
      }
      if ("appliedLsn" in message) {
        for (const [lsn, receipts] of loading) {
          if (lsn > message.appliedLsn) break;
          keys?.applied(receipts);
          loading.delete(lsn);
        }
        redo?.applied(message.appliedLsn);
        return;
      }
      if (message.id === 0) {
        if (!message.ok) fail(journalError(`The PGlite journal in ${dir} could not open`, message.error));
        return;
      }
      const request = pending.get(message.id);
      if (!request) return;
      pending.delete(message.id);
      settle();
      if (message.ok) request.resolve(message.rows);
      else request.reject(journalError("Journal query failed", message.error));
    });
    worker.on("error", (error) => fail(new Error(`The PGlite journal worker failed: ${error.message}`, { cause: error })));
    worker.on("exit", (code) => fail(new Error(`The PGlite journal worker stopped (exit code ${code})`)));
  });

  /** Requests in the order they were made; a write's slot is held until its entry is durable (or refused). */
  const outbox: { message: JournalRequest | undefined; ready: boolean }[] = [];
  const flush = () => {
    while (outbox[0]?.ready) {
      const { message } = outbox.shift()!;
      if (message) worker.postMessage(message);
    }
  };
  /** `inOrder: false` skips the outbox (a transaction's own statements; the unique checks' reads). */
  const request = (body: JournalRequestBody, inOrder = true): { id: number; reply: Promise<unknown[] | undefined> } => {
    const id = nextId++;
    if (stopped) return { id, reply: Promise.reject(stopped) };
    const reply = new Promise<unknown[] | undefined>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.ref();
      const message = { ...body, id };
      if (!inOrder) {
        worker.postMessage(message);
        return;
      }
      outbox.push({ message, ready: true });
      flush();
    });
    return { id, reply };
  };
  const send = (body: JournalRequestBody, inOrder = true) => request(body, inOrder).reply;
  const rowsOf = <T>(rows: unknown[] | undefined): { rows: T[] } => ({ rows: (rows ?? []) as T[] });
  // The unique checks read past the outbox: the writes still held there have their keys reserved in memory.
  const read = async <T>(text: string, params: unknown[]) => rowsOf<T>(await send({ op: "query", text, params }, false)).rows;
  const journaled: JournaledKeys = {
    summary: async () => {
      const [row] = await read<{ n: number; max_seq: string | null }>(`SELECT COUNT(*)::int AS n, MAX(seq)::text AS max_seq FROM receipts`, []);
      return { count: row!.n, maxSeq: BigInt(row!.max_seq ?? "0") };
    },
    refsAfter: async (after, limit) => (await read<{ payment_ref: string }>(`SELECT payment_ref FROM receipts WHERE payment_ref > $1 ORDER BY payment_ref LIMIT $2`, [after, limit])).map((r) => r.payment_ref),
    has: async (ref) => (await read(`SELECT 1 FROM receipts WHERE payment_ref = $1`, [ref])).length > 0,
  };

  let nextLsn: number;
  try {
    nextLsn = await ready;
    // Opened once the worker loaded what the log held: writing starts over at its beginning.
    redo = RedoLog.open(redoFile);
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  settle();
  const log = redo;
  let logClosed: Promise<void> | undefined;

  /** Checks run one at a time in the order writes were made, so LSNs, the log and the outbox agree. */
  let checks: Promise<unknown> = Promise.resolve();
  const write = (statements: readonly string[], receipts: ReceiptKeysOf, channels: readonly [string, string][]): Promise<void> => {
    if (stopped) return Promise.reject(stopped);
    const slot: { message: JournalRequest | undefined; ready: boolean } = { message: undefined, ready: false };
    outbox.push(slot);
    const release = (message?: JournalRequest) => {
      slot.message = message;
      slot.ready = true;
      flush();
    };
    const checked = checks.then(async () => {
      keys ??= await ReceiptKeys.load(journaled);
      const conflict = await keys.conflict(receipts);
      if (conflict) throw uniqueViolation(conflict);
      const seqBefore = keys.maxSeq;
      keys.reserve(receipts);
      const entry: RedoEntry = { lsn: nextLsn++, text: statements.join(";\n"), channels: [...channels] };
      return { keys, seqBefore, entry };
    });
    checks = checked.catch(() => {});
    return (async () => {
      const { keys: reserved, seqBefore, entry } = await checked;
      try {
        await log.append([entry]);
      } catch (error) {
        reserved.applied(receipts, seqBefore);
        throw error;
      }
      loading.set(entry.lsn, receipts);
      release({ id: 0, op: "apply", entries: [entry] });
    })().catch((error: unknown) => {
      if (!slot.ready) release();
      throw error;
    });
  };

  return {
    query: async <T>(text: string, params?: unknown[]) => rowsOf<T>(await send({ op: "query", text, params: params ?? [] })),
    transaction: async <T>(fn: (q: Sql["query"]) => Promise<T>) => {
      // The worker names the transaction by its begin request's id.
      const begin = request({ op: "begin" });
      const tx = begin.id;
      await begin.reply;
      const inTx = (body: JournalRequestBody) => send(body, false);
      let value: T;
      try {
        value = await fn(async <R>(text: string, params?: unknown[]) => rowsOf<R>(await inTx({ op: "query", text, params: params ?? [], tx })));
      } catch (error) {
        await inTx({ op: "rollback", tx }).catch(() => {});
        throw error;
      }
      await inTx({ op: "commit", tx });
      return value;
    },
    write,
    close: async () => {
      if (!stopped) {
        await checks;
        // Every write made so far is in the outbox ahead of this: the worker loads them all, then closes.
        await send({ op: "close" });
        stopped = new Error("The journal is closed");
        await worker.terminate();
      }
      logClosed ??= log.close();
      await logClosed;
    },
  };
}

/** Postgres' unique_violation for a key the in-memory checks found taken. */
function uniqueViolation(conflict: KeyConflict): Error {
  return Object.assign(new Error(`Journal write refused: duplicate key value violates unique constraint "${conflict.constraint}"`), {
    code: "23505",
    constraint: conflict.constraint,
    detail: `Key (${conflict.column})=(${conflict.value}) already exists.`,
  });
}

type JournalRequestBody = JournalRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

/** An Error carrying Postgres' fields (code, constraint, detail, ...) as PGlite reported them. */
function journalError(context: string, wire: JournalWireError): Error {
  return Object.assign(new Error(`${context}: ${wire.message}`), wire.fields);
}

async function openPostgres(connectionString: string, schema: string): Promise<Sql> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid journal schema name "${schema}": use lowercase letters, digits and underscores.`);
  const pg = await import("pg");
  const pool = new pg.default.Pool({ connectionString, max: 4, options: `-c search_path=${schema}` });
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  return {
    query: async <T>(text: string, params?: unknown[]) => {
      const result = await pool.query(text, params);
      return { rows: result.rows as T[] };
    },
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const out = await fn(async <T>(text: string, params?: unknown[]) => {
          const result = await client.query(text, params);
          return { rows: result.rows as T[] };
        });
        await client.query("COMMIT");
        return out;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    write: async (statements, _receipts, channels) => {
      const upsert = channels.length > 0 ? [upsertChannelsSql(channels.map(([, tuple]) => tuple))] : [];
      await pool.query([...statements, ...upsert].join(";\n"));
    },
    close: () => pool.end(),
  };
}
