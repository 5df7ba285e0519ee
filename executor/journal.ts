import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Address, Hex } from "viem";
import type { ReceiptJson } from "../sdk/receipt.ts";

/**
 * The durable journal: every payment the executor has seen (unique on payer + nonce, so a payment
 * is accepted once, even across restarts) and every signed receipt with its settlement state.
 * PGlite in the data dir by default; PostgreSQL when a connection string is given.
 *
 * A payment is journaled once its run succeeded, together with the signed receipt (a failed run is
 * never charged and leaves no row): pending -> submitted (tx sent) -> settled | failed (terminal,
 * with the reason Settlement gave).
 */
export type PaymentStatus = "pending" | "submitted" | "settled" | "failed";

export interface AuthorizationJson {
  from: Address;
  to: Address;
  value: string;
  validAfter: string;
  validBefore: string;
  nonce: Hex;
}

export interface JournaledReceipt {
  payer: Address;
  nonce: Hex;
  receiptId: Hex;
  receipt: ReceiptJson;
  receiptSignature: Hex;
  authorization: AuthorizationJson;
  paymentSignature: Hex;
  status: PaymentStatus;
  txHash: Hex | null;
  reason: string | null;
  createdAt: number;
  /** Canonical JSON of the result the payer paid for (kept so a crash before the response loses nothing). */
  result: string | null;
}

export interface NewReceipt {
  payer: Address;
  nonce: Hex;
  versionId: Hex;
  amount: bigint;
  receiptId: Hex;
  receipt: ReceiptJson;
  receiptSignature: Hex;
  authorization: AuthorizationJson;
  paymentSignature: Hex;
  /** Canonical JSON of the call's result. */
  result: string;
}

interface Sql {
  query<T>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
  close(): Promise<void>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS payments (
  payer TEXT NOT NULL,
  nonce TEXT NOT NULL,
  version_id TEXT NOT NULL,
  amount TEXT NOT NULL,
  status TEXT NOT NULL,
  receipt_id TEXT UNIQUE,
  receipt TEXT,
  receipt_signature TEXT,
  authorization_json TEXT,
  payment_signature TEXT,
  tx_hash TEXT,
  reason TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (payer, nonce)
);
CREATE INDEX IF NOT EXISTS payments_status ON payments (status);
ALTER TABLE payments ADD COLUMN IF NOT EXISTS result TEXT;
`;

interface Row {
  payer: string;
  nonce: string;
  status: string;
  receipt_id: string | null;
  receipt: string | null;
  receipt_signature: string | null;
  authorization_json: string | null;
  payment_signature: string | null;
  tx_hash: string | null;
  reason: string | null;
  created_at: string | number;
  result: string | null;
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
   * Journals a signed receipt (status pending) with its payment, unique on payer + nonce: false when
   * this payment was already journaled (a replay). Resolves only once the row is committed, so it
   * must complete before the response is sent. Concurrent calls are group-committed: one multi-row
   * INSERT per event-loop turn instead of one commit per receipt.
   */
  recordReceipt(r: NewReceipt): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pendingInserts.push({ row: r, resolve, reject });
      if (this.pendingInserts.length === 1) setImmediate(() => void this.flushInserts());
    });
  }

  private pendingInserts: { row: NewReceipt; resolve: (inserted: boolean) => void; reject: (error: unknown) => void }[] = [];

  private async flushInserts(): Promise<void> {
    const taken = this.pendingInserts.splice(0, 500);
    if (this.pendingInserts.length > 0) setImmediate(() => void this.flushInserts());
    // The same payment twice in one batch: only the first can be journaled.
    const keyOf = (r: NewReceipt) => `${r.payer.toLowerCase()}:${r.nonce.toLowerCase()}`;
    const seen = new Set<string>();
    const batch = taken.filter(({ row, resolve }) => {
      if (seen.has(keyOf(row))) {
        resolve(false);
        return false;
      }
      seen.add(keyOf(row));
      return true;
    });
    if (batch.length === 0) return;
    const now = Date.now();
    const params: unknown[] = [];
    const tuples = batch.map(({ row: r }) => {
      const base = params.length;
      params.push(
        r.payer.toLowerCase(),
        r.nonce.toLowerCase(),
        r.versionId,
        r.amount.toString(),
        r.receiptId.toLowerCase(),
        JSON.stringify(r.receipt),
        r.receiptSignature,
        JSON.stringify(r.authorization),
        r.paymentSignature,
        now,
        r.result,
      );
      const p = (i: number) => `$${base + i}`;
      return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, 'pending', ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, ${p(10)}, ${p(11)})`;
    });
    try {
      const { rows } = await this.sql.query<{ payer: string; nonce: string }>(
        `INSERT INTO payments (payer, nonce, version_id, amount, status, receipt_id, receipt, receipt_signature,
           authorization_json, payment_signature, created_at, updated_at, result)
         VALUES ${tuples.join(", ")}
         ON CONFLICT DO NOTHING RETURNING payer, nonce`,
        params,
      );
      const inserted = new Set(rows.map((row) => `${row.payer}:${row.nonce}`));
      for (const { row, resolve } of batch) resolve(inserted.has(keyOf(row)));
    } catch (error) {
      for (const { reject } of batch) reject(error);
    }
  }

  async markSubmitted(receiptIds: Hex[], txHash: Hex): Promise<void> {
    await this.setStatus(receiptIds, "submitted", txHash, null, ["pending", "submitted"]);
  }

  async markSettled(receiptIds: Hex[], txHash: Hex | null): Promise<void> {
    await this.setStatus(receiptIds, "settled", txHash, null, ["pending", "submitted"]);
  }

  async markFailed(receiptIds: Hex[], txHash: Hex | null, reason: string): Promise<void> {
    await this.setStatus(receiptIds, "failed", txHash, reason, ["pending", "submitted"]);
  }

  private async setStatus(ids: Hex[], status: PaymentStatus, txHash: Hex | null, reason: string | null, from: PaymentStatus[]) {
    if (ids.length === 0) return;
    await this.sql.query(
      `UPDATE payments SET status = $1, tx_hash = COALESCE($2, tx_hash), reason = $3, updated_at = $4
       WHERE receipt_id = ANY($5) AND status = ANY($6)`,
      [status, txHash, reason, Date.now(), ids, from],
    );
  }

  /** Receipts not yet settled on-chain, oldest first. */
  async unsettledReceipts(limit = 10_000): Promise<JournaledReceipt[]> {
    const { rows } = await this.sql.query<Row>(
      `SELECT * FROM payments WHERE status IN ('pending', 'submitted') ORDER BY created_at LIMIT $1`,
      [limit],
    );
    return rows.map(toReceipt);
  }

  async getReceipt(receiptId: Hex): Promise<JournaledReceipt | undefined> {
    const { rows } = await this.sql.query<Row>(`SELECT * FROM payments WHERE receipt_id = $1`, [receiptId.toLowerCase()]);
    return rows[0] ? toReceipt(rows[0]) : undefined;
  }

  async countByStatus(): Promise<Record<string, number>> {
    const { rows } = await this.sql.query<{ status: string; n: string | number }>(
      `SELECT status, COUNT(*) AS n FROM payments GROUP BY status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
}

function toReceipt(row: Row): JournaledReceipt {
  return {
    payer: row.payer as Address,
    nonce: row.nonce as Hex,
    receiptId: row.receipt_id as Hex,
    receipt: JSON.parse(row.receipt ?? "null") as ReceiptJson,
    receiptSignature: row.receipt_signature as Hex,
    authorization: JSON.parse(row.authorization_json ?? "null") as AuthorizationJson,
    paymentSignature: row.payment_signature as Hex,
    status: row.status as PaymentStatus,
    txHash: (row.tx_hash as Hex | null) ?? null,
    reason: row.reason,
    createdAt: Number(row.created_at),
    result: row.result ?? null,
  };
}

/** Where the PGlite journal lives in a data dir (an empty PGlite database may be put there first). */
export function pgliteJournalDir(dataDir: string): string {
  return path.join(dataDir, "journal");
}

async function openPglite(dataDir: string): Promise<Sql> {
  const { PGlite } = await import("@electric-sql/pglite");
  const dir = pgliteJournalDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const db = new PGlite(dir);
  await db.waitReady;
  return {
    query: async <T>(text: string, params?: unknown[]) => {
      const result = await db.query<T>(text, params);
      return { rows: result.rows };
    },
    close: () => db.close(),
  };
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
    close: () => pool.end(),
  };
}
