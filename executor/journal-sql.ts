/**
 * SQL the journal writes from both sides of its worker boundary (executor/journal.ts and
 * executor/journal-worker.ts, which loads it with Node's type stripping: no TS-only syntax here).
 */

/** Upserts channel records given as SQL tuples `(channel_id, record, updated_at)`: one row per channel. */
export function upsertChannelsSql(tuples: readonly string[]): string {
  return `INSERT INTO channels (channel_id, record, updated_at) VALUES ${tuples.join(", ")}
    ON CONFLICT (channel_id) DO UPDATE SET record = EXCLUDED.record, updated_at = EXCLUDED.updated_at`;
}
