/**
 * The PGlite journal's redo log: entries appended and synced with one O_DSYNC write per group (written by
 * executor/journal.ts, through libuv's thread pool), read back at start-up by executor/journal-worker.ts
 * (loaded with Node's type stripping: no TS-only syntax here).
 *
 * Two files take turns. Each is written in place over space allocated ahead (zeros): a synced write that
 * does not change a file's size does not wait for a metadata journal commit, which more than triples
 * its cost on ext4. Past a size, writing moves to the other file, from its beginning, once everything
 * that file held is loaded into PGlite; so under a steady load neither file grows without end.
 *
 * Each line is `<crc32 of the JSON, 8 hex digits> <JSON of the entry>`. Reading a file stops at the
 * first line that is torn (its checksum fails: a write cut by a crash, never answered) or that does not
 * raise the LSN (what an earlier turn left after the entries written since).
 */
import { close, closeSync, constants, fstatSync, openSync, readFileSync, write } from "node:fs";
import { crc32 } from "node:zlib";

export interface RedoEntry {
  lsn: number;
  /** Statements without parameters (values are SQL literals); may be empty. */
  text: string;
  /**
   * Channel records as `[channelId, SQL tuple]`: entries loaded together write each channel's last
   * record once (a busy channel's record changes with every call it pays for).
   */
  channels?: [string, string][];
}

/** Allocated ahead of the write position, so most syncs do not grow the file. */
const ALLOCATE_BYTES = 1 << 20;
/** Writing moves to the other file past this position (once that file's entries are all loaded). */
const SWITCH_AT_BYTES = 4 << 20;
const NEWLINE = 0x0a;

/** The two files of the redo log at `base`. */
export function redoLogFiles(base: string): [string, string] {
  return [`${base}.0`, `${base}.1`];
}

interface RedoFile {
  fd: number;
  position: number;
  allocated: number;
  /** The highest LSN written to it in its current turn (0: none). */
  lastLsn: number;
}

/**
 * The writing side (the journal, on the executor's thread). Appends are queued and written in order,
 * one group at a time: every entry queued while a group is being synced goes out with the next one.
 */
export class RedoLog {
  private readonly files: [RedoFile, RedoFile];
  private current = 0;
  private appliedLsn = 0;
  private queued: { entries: readonly RedoEntry[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private writing = false;
  /** A failed write or sync: the file's state is unknown, so nothing more is written (as Postgres panics). */
  private failed: Error | undefined;

  // No parameter properties: Node's type stripping does not rewrite them.
  private constructor(files: [RedoFile, RedoFile]) {
    this.files = files;
  }

  /**
   * Opens (or creates) the log's files at `base` for writing, from the first file's beginning: what
   * they held must have been loaded first (the journal worker does at start-up).
   */
  static open(base: string): RedoLog {
    const [first, second] = redoLogFiles(base).map((file): RedoFile => {
      closeSync(openSync(file, "a"));
      // Reopened for positioned writes ("a" would append whatever position is asked for), each one
      // durable when it returns (O_DSYNC): one trip through libuv's thread pool instead of two with fdatasync.
      const fd = openSync(file, constants.O_RDWR | constants.O_DSYNC);
      return { fd, position: 0, allocated: fstatSync(fd).size, lastLsn: 0 };
    });
    return new RedoLog([first!, second!]);
  }

  /** Writes `entries` after every entry appended before them and syncs them: durable when this resolves. */
  append(entries: readonly RedoEntry[]): Promise<void> {
    const durable = new Promise<void>((resolve, reject) => this.queued.push({ entries, resolve, reject }));
    void this.writeQueued();
    return durable;
  }

  /** Every entry up to `lsn` is loaded into PGlite: a file holding no later one may be written over. */
  applied(lsn: number): void {
    if (lsn > this.appliedLsn) this.appliedLsn = lsn;
  }

  async close(): Promise<void> {
    for (const file of this.files) await new Promise<void>((resolve, reject) => close(file.fd, (error) => (error ? reject(error) : resolve())));
  }

  private async writeQueued(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    while (this.queued.length > 0) {
      const group = this.queued.splice(0);
      try {
        await this.write(group.flatMap((g) => g.entries));
        for (const g of group) g.resolve();
      } catch (error) {
        for (const g of group) g.reject(error);
      }
    }
    this.writing = false;
  }

  private async write(entries: readonly RedoEntry[]): Promise<void> {
    if (this.failed) throw new Error(`The journal's redo log failed earlier and takes no more writes (restart the executor): ${this.failed.message}`, { cause: this.failed });
    const other = this.files[1 - this.current]!;
    if (this.files[this.current]!.position >= SWITCH_AT_BYTES && other.lastLsn <= this.appliedLsn) {
      this.current = 1 - this.current;
      other.position = 0;
    }
    const file = this.files[this.current]!;
    const bytes = Buffer.from(entries.map(line).join(""));
    const end = file.position + bytes.length;
    try {
      if (end > file.allocated) {
        const zeros = Buffer.alloc(Math.max(ALLOCATE_BYTES, end - file.allocated));
        await writeAll(file.fd, zeros, file.allocated);
        file.allocated += zeros.length;
      }
      await writeAll(file.fd, bytes, file.position);
    } catch (error) {
      this.failed = error instanceof Error ? error : new Error(String(error));
      throw error;
    }
    file.position = end;
    file.lastLsn = entries[entries.length - 1]!.lsn;
  }
}

function line(entry: RedoEntry): string {
  const json = JSON.stringify({ lsn: entry.lsn, text: entry.text, ...(entry.channels?.length ? { channels: entry.channels } : {}) });
  return `${crc32(json).toString(16).padStart(8, "0")} ${json}\n`;
}

async function writeAll(fd: number, bytes: Buffer, position: number): Promise<void> {
  for (let written = 0; written < bytes.length; ) {
    written += await new Promise<number>((resolve, reject) =>
      write(fd, bytes, written, bytes.length - written, position + written, (error, n) => (error ? reject(error) : resolve(n))),
    );
  }
}

/** Every valid entry of the log's files at `base` (missing files hold none), in LSN order. */
export function readRedoLog(base: string): RedoEntry[] {
  const entries: RedoEntry[] = [];
  for (const file of redoLogFiles(base)) {
    try {
      entries.push(...readEntries(readFileSync(file)));
    } catch (error) {
      if ((error as { code?: unknown }).code !== "ENOENT") throw error;
    }
  }
  return entries.sort((a, b) => a.lsn - b.lsn);
}

/** The valid entries from the start of one file: each checksummed and each raising the LSN. */
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
    if (entry.channels !== undefined && !Array.isArray(entry.channels)) break;
    entries.push(entry);
    start = end + 1;
  }
  return entries;
}
