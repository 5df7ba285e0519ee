/**
 * The PGlite journal's redo log (executor/journal-worker.ts): entries appended and synced with one
 * fdatasync per append, read back at start-up. Loaded by the worker with Node's type stripping (no
 * TS-only syntax here).
 *
 * The file is written in place over space allocated ahead (zeros), and starts over at the beginning
 * once everything in it was applied: an fdatasync that does not change the file's size does not wait
 * for a metadata journal commit, which more than triples its cost on ext4.
 *
 * Each line is `<crc32 of the JSON, 8 hex digits> <JSON of {lsn, text}>`. Reading stops at the first
 * line that is torn (its checksum fails: a write cut by a crash, never answered) or that does not raise
 * the LSN (what an earlier round left after the entries written since the log started over).
 */
import { closeSync, fdatasyncSync, fstatSync, openSync, readFileSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";

export interface RedoEntry {
  lsn: number;
  text: string;
}

/** Allocated ahead of the write position, so most syncs do not grow the file. */
const ALLOCATE_BYTES = 1 << 20;
/** Starts over at the beginning, once everything is applied, past this position. */
const START_OVER_AT_BYTES = 4 << 20;
const NEWLINE = 0x0a;

export class RedoLog {
  /** The entries found in the file when it was opened, in LSN order. */
  readonly recovered: readonly RedoEntry[];
  private readonly fd: number;
  private position = 0;
  private allocated: number;
  /** A failed write or sync: the file's state is unknown, so nothing more is written (as Postgres panics). */
  private failed: Error | undefined;

  // No parameter properties: Node's type stripping does not rewrite them.
  private constructor(fd: number, recovered: readonly RedoEntry[]) {
    this.fd = fd;
    this.recovered = recovered;
    this.allocated = fstatSync(fd).size;
  }

  /** Opens (or creates) the log at `file` and reads the entries it holds. */
  static open(file: string): RedoLog {
    const fd = openSync(file, "a+");
    closeSync(fd);
    // Reopened for positioned writes ("a+" would append whatever position is asked for).
    const positioned = openSync(file, "r+");
    return new RedoLog(positioned, readEntries(readFileSync(positioned)));
  }

  /** Writes `entries` after the last ones and syncs them: durable when this returns. */
  append(entries: readonly RedoEntry[]): void {
    if (this.failed) throw new Error(`The journal's redo log failed earlier and takes no more writes (restart the executor): ${this.failed.message}`, { cause: this.failed });
    const bytes = Buffer.from(entries.map(line).join(""));
    const end = this.position + bytes.length;
    try {
      if (end > this.allocated) {
        const zeros = Buffer.alloc(Math.max(ALLOCATE_BYTES, end - this.allocated));
        writeAll(this.fd, zeros, this.allocated);
        this.allocated += zeros.length;
      }
      writeAll(this.fd, bytes, this.position);
      fdatasyncSync(this.fd);
    } catch (error) {
      this.failed = error instanceof Error ? error : new Error(String(error));
      throw error;
    }
    this.position = end;
  }

  /** Everything appended so far is applied: the next append may start over at the beginning. */
  applied(): void {
    if (this.position >= START_OVER_AT_BYTES) this.position = 0;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function line(entry: RedoEntry): string {
  const json = JSON.stringify({ lsn: entry.lsn, text: entry.text });
  return `${crc32(json).toString(16).padStart(8, "0")} ${json}\n`;
}

function writeAll(fd: number, bytes: Buffer, position: number): void {
  for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written, position + written);
}

/** The valid entries from the start of `file`: each checksummed and each raising the LSN. */
export function readEntries(file: Buffer): RedoEntry[] {
  const entries: RedoEntry[] = [];
  let start = 0;
  for (;;) {
    const end = file.indexOf(NEWLINE, start);
    if (end < 0 || end - start < 10 || file[start + 8] !== 0x20) break;
    const json = file.subarray(start + 9, end);
    const sum = file.toString("latin1", start, start + 8);
    if (!/^[0-9a-f]{8}$/.test(sum) || crc32(json) !== Number.parseInt(sum, 16)) break;
    let entry: RedoEntry;
    try {
      entry = JSON.parse(json.toString("utf8")) as RedoEntry;
    } catch {
      break;
    }
    if (!Number.isSafeInteger(entry.lsn) || typeof entry.text !== "string" || entry.lsn <= (entries.at(-1)?.lsn ?? 0)) break;
    entries.push(entry);
    start = end + 1;
  }
  return entries;
}
