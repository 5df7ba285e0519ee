import { gunzipSync, gzipSync } from "node:zlib";

/**
 * The published source of a capability: a gzipped POSIX ustar archive of the project's files,
 * written deterministically (sorted paths, mtime 0, fixed modes and owners) so the same files give
 * the same bytes and the same sha256 (which goes into the on-chain manifest as `sourceHash`).
 * Written from the ustar layout in POSIX.1-2001 (pax) `ustar Interchange Format`.
 */
export interface SourceFile {
  /** Relative path with forward slashes, e.g. "src/index.ts". */
  path: string;
  bytes: Uint8Array;
}

export class SourceArchiveError extends Error {
  override name = "SourceArchiveError";
}

/** Limits for reading someone else's archive: a source tarball is for humans, not a data dump. */
export const SOURCE_LIMITS = { maxFiles: 2_000, maxBytes: 16 * 1024 * 1024 };

const BLOCK = 512;

function checkPath(path: string): void {
  const parts = path.split("/");
  if (path.length === 0 || path.startsWith("/") || path.includes("\\") || path.includes("\0") || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new SourceArchiveError(`"${path}" is not a safe relative path for a source archive.`);
  }
  if (new TextEncoder().encode(path).length > 255) throw new SourceArchiveError(`"${path}" is longer than 255 bytes.`);
}

function writeString(header: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > length) throw new SourceArchiveError(`"${text}" does not fit a ${length}-byte tar field.`);
  header.set(bytes, offset);
}

function writeOctal(header: Uint8Array, offset: number, length: number, value: number): void {
  writeString(header, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

/** Splits a path into ustar's name (<= 100 bytes) and prefix (<= 155 bytes) at a slash. */
function splitName(path: string): { name: string; prefix: string } {
  if (new TextEncoder().encode(path).length <= 100) return { name: path, prefix: "" };
  for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (new TextEncoder().encode(prefix).length <= 155 && new TextEncoder().encode(name).length <= 100) return { name, prefix };
  }
  throw new SourceArchiveError(`"${path}" cannot be stored in a ustar header (name <= 100 bytes after a prefix <= 155).`);
}

function header(path: string, size: number): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const { name, prefix } = splitName(path);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, 0);
  block.fill(0x20, 148, 156); // checksum counted as spaces
  block[156] = 0x30; // '0': regular file
  writeString(block, 257, 6, "ustar\0");
  writeString(block, 263, 2, "00");
  writeString(block, 345, 155, prefix);
  const sum = block.reduce((n, b) => n + b, 0);
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

/** The deterministic .tar.gz of `files` (sorted by path; duplicate paths refused). */
export function packSource(files: readonly SourceFile[]): Uint8Array {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    const file = sorted[i]!;
    checkPath(file.path);
    if (i > 0 && sorted[i - 1]!.path === file.path) throw new SourceArchiveError(`"${file.path}" appears twice.`);
    total += file.bytes.length;
    chunks.push(header(file.path, file.bytes.length), file.bytes, new Uint8Array((BLOCK - (file.bytes.length % BLOCK)) % BLOCK));
  }
  if (sorted.length > SOURCE_LIMITS.maxFiles) throw new SourceArchiveError(`The source has ${sorted.length} files; at most ${SOURCE_LIMITS.maxFiles} are published.`);
  if (total > SOURCE_LIMITS.maxBytes) throw new SourceArchiveError(`The source is ${total} bytes; at most ${SOURCE_LIMITS.maxBytes} are published.`);
  chunks.push(new Uint8Array(2 * BLOCK));
  const tar = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    tar.set(chunk, offset);
    offset += chunk.length;
  }
  return new Uint8Array(gzipSync(tar, { level: 9 }));
}

function readString(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field : field.subarray(0, end));
}

/** The files of a source archive (regular files only; unsafe paths, links and oversize archives refused). */
export function unpackSource(archive: Uint8Array): SourceFile[] {
  let tar: Uint8Array;
  try {
    tar = new Uint8Array(gunzipSync(archive, { maxOutputLength: SOURCE_LIMITS.maxBytes + (SOURCE_LIMITS.maxFiles + 2) * 2 * BLOCK }));
  } catch (error) {
    throw new SourceArchiveError(`The source archive is not a readable .tar.gz within ${SOURCE_LIMITS.maxBytes} bytes: ${(error as Error).message}`);
  }
  const files: SourceFile[] = [];
  for (let offset = 0; offset + BLOCK <= tar.length; ) {
    const block = tar.subarray(offset, offset + BLOCK);
    if (block.every((b) => b === 0)) break;
    const stored = readString(block, 148, 8).trim();
    const sum = block.reduce((n, b, i) => n + (i >= 148 && i < 156 ? 0x20 : b), 0);
    if (Number.parseInt(stored, 8) !== sum) throw new SourceArchiveError(`Bad tar header checksum at byte ${offset}.`);
    const prefix = readString(block, 345, 155);
    const path = prefix ? `${prefix}/${readString(block, 0, 100)}` : readString(block, 0, 100);
    const size = Number.parseInt(readString(block, 124, 12).trim() || "0", 8);
    const type = block[156];
    offset += BLOCK;
    if (!Number.isSafeInteger(size) || size < 0 || offset + size > tar.length) throw new SourceArchiveError(`"${path}" claims ${size} bytes past the end of the archive.`);
    if (type === 0x30 || type === 0) {
      checkPath(path);
      files.push({ path, bytes: tar.slice(offset, offset + size) });
      if (files.length > SOURCE_LIMITS.maxFiles) throw new SourceArchiveError(`The archive has more than ${SOURCE_LIMITS.maxFiles} files.`);
    } else if (type !== 0x35) {
      throw new SourceArchiveError(`"${path}" is not a regular file or folder (tar type ${String.fromCharCode(type ?? 0)}): source archives hold files only.`);
    }
    offset += Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}
