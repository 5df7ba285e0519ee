import type { BatchSettlementClientContext, ClientChannelStorage } from "@x402/evm/batch-settlement/client";
import type { Address } from "viem";
import type { ReceiptStore, StoredReceipt } from "../../sdk/client/receipt-store.ts";

/**
 * What the browser keeps between visits, in localStorage: the stock x402 client's channel records (so a
 * voucher continues the running total instead of asking the executor to recover it) and every receipt the
 * SDK verified (the payer's proofs: the account page checks them against the chain and submits the overdue
 * ones). Both are keyed per deployment, so two catalogs on one origin never mix.
 */

function readJson<T>(key: string, fallback: T): T {
  const text = localStorage.getItem(key);
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    // A value another version of the page wrote in another shape: start from the fallback, never crash.
    return fallback;
  }
}

/** The stock client's ClientChannelStorage over localStorage. */
export class LocalChannelStorage implements ClientChannelStorage {
  constructor(private readonly prefix: string) {}

  private key(channel: string): string {
    return `${this.prefix}.channel.${channel.toLowerCase()}`;
  }

  async get(key: string): Promise<BatchSettlementClientContext | undefined> {
    return readJson<BatchSettlementClientContext | undefined>(this.key(key), undefined);
  }

  async set(key: string, context: BatchSettlementClientContext): Promise<void> {
    localStorage.setItem(this.key(key), JSON.stringify(context));
  }

  async delete(key: string): Promise<void> {
    localStorage.removeItem(this.key(key));
  }
}

/** Verified receipts per payer over localStorage (one JSON array per payer). */
export class LocalReceiptStore implements ReceiptStore {
  constructor(private readonly prefix: string) {}

  private key(payer: Address): string {
    return `${this.prefix}.receipts.${payer.toLowerCase()}`;
  }

  async add(entry: StoredReceipt): Promise<void> {
    const entries = await this.list(entry.receipt.payer);
    if (entries.some((e) => e.receiptId === entry.receiptId)) return;
    localStorage.setItem(this.key(entry.receipt.payer), JSON.stringify([...entries, entry]));
  }

  async list(payer: Address): Promise<StoredReceipt[]> {
    const entries = readJson<unknown>(this.key(payer), []);
    return Array.isArray(entries) ? (entries as StoredReceipt[]) : [];
  }
}

/** The storage prefix of a deployment: its chain and Settlement contract. */
export function storagePrefix(chainId: number, settlement: Address): string {
  return `glassbox.${chainId}.${settlement.toLowerCase()}`;
}
