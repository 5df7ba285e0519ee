import { appendFile, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Address } from "viem";
import type { ReceiptStore, StoredReceipt } from "./receipt-store.ts";

/**
 * Receipts in append-only JSON Lines, one file per payer under `directory`: a write is one line, so a
 * crash loses at most the line being written, never an earlier receipt. Node only.
 */
export class FileReceiptStore implements ReceiptStore {
  constructor(private readonly directory: string) {}

  fileOf(payer: Address): string {
    return path.join(this.directory, `${payer.toLowerCase()}.jsonl`);
  }

  async add(entry: StoredReceipt): Promise<void> {
    const existing = await this.list(entry.receipt.payer);
    if (existing.some((e) => e.receiptId === entry.receiptId)) return;
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    await appendFile(this.fileOf(entry.receipt.payer), `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  }

  async list(payer: Address): Promise<StoredReceipt[]> {
    let text: string;
    try {
      text = await readFile(this.fileOf(payer), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const entries: StoredReceipt[] = [];
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      try {
        entries.push(JSON.parse(line) as StoredReceipt);
      } catch {
        // A torn last line (crash mid-write) is skipped; every complete line before it is kept.
      }
    }
    return entries;
  }
}
