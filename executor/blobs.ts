import { existsSync, mkdirSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Hex } from "viem";

/** Content-addressed blobs on disk: `<dataDir>/blobs/<sha256 hex>`; writes are atomic (tmp + rename). */
export class BlobStore {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, "blobs");
    mkdirSync(this.dir, { recursive: true });
  }

  private file(hash: Hex): string {
    return path.join(this.dir, hash.slice(2).toLowerCase());
  }

  has(hash: Hex): boolean {
    return existsSync(this.file(hash));
  }

  async get(hash: Hex): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.file(hash)));
    } catch {
      return undefined;
    }
  }

  /** The caller has already checked sha256(bytes) === hash. */
  async put(hash: Hex, bytes: Uint8Array): Promise<void> {
    const target = this.file(hash);
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, target);
  }
}

/** 0x + 64 lowercase hex digits. */
export function parseSha256(text: string): Hex | undefined {
  const hex = text.toLowerCase().startsWith("0x") ? text.slice(2) : text;
  return /^[0-9a-fA-F]{64}$/.test(hex) ? (`0x${hex.toLowerCase()}` as Hex) : undefined;
}
