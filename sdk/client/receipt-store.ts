import type { Address, Hex } from "viem";
import type { PaymentScheme } from "../protocol.ts";
import type { ReceiptJson } from "../receipt.ts";

/** A verified receipt as the payer keeps it: the proof `glassbox receipts` checks and submits. */
export interface StoredReceipt {
  receiptId: Hex;
  receipt: ReceiptJson;
  signature: Hex;
  /** Where the call was made (for reading the result back). */
  executorUrl: string;
  chainId: number;
  settlement: Address;
  scheme: PaymentScheme;
  /** USDC base units charged for the call. */
  charged: string;
  storedAt: string;
}

/** Where the SDK puts every receipt it verified. */
export interface ReceiptStore {
  add(entry: StoredReceipt): Promise<void>;
  list(payer: Address): Promise<StoredReceipt[]>;
}

/** Receipts kept for the life of the process (the SDK's default; the CLI keeps them in files). */
export class InMemoryReceiptStore implements ReceiptStore {
  private readonly entries: StoredReceipt[] = [];

  async add(entry: StoredReceipt): Promise<void> {
    if (!this.entries.some((e) => e.receiptId === entry.receiptId)) this.entries.push(entry);
  }

  async list(payer: Address): Promise<StoredReceipt[]> {
    return this.entries.filter((e) => e.receipt.payer.toLowerCase() === payer.toLowerCase());
  }
}
