import type { Channel, ChannelStorage, ChannelUpdateResult } from "@x402/evm/batch-settlement/server";
import type { ChannelRow, Journal } from "./journal.ts";

/**
 * The stock batch-settlement server's channel storage, kept in memory (the hot path reads and writes it
 * twice per paid call) and written to the journal:
 * - a channel whose voucher was just charged for a call is "held" until that call's receipt is journaled;
 *   its record is written in the same transaction as the receipt (ReceiptIssuer), never before, so a
 *   crash never keeps a charge that has no receipt (the payer would have paid for nothing);
 * - any other change (a deposit's on-chain state, a claim, a dropped channel) is written by `flush()`.
 * Updates are synchronous inside one process, so read-modify-write needs no lock.
 */
export class JournaledChannelStorage implements ChannelStorage {
  private readonly channels = new Map<string, Channel>();
  /** Change counter per channel: a write is clean only if nothing changed since it was taken. */
  private readonly versions = new Map<string, number>();
  private readonly dirty = new Map<string, number>();
  private readonly deleted = new Set<string>();
  private readonly holds = new Map<string, number>();

  constructor(private readonly journal: Journal) {}

  /** Loads every journaled channel (at start). */
  async load(): Promise<number> {
    for (const row of await this.journal.loadChannels()) {
      const channel = JSON.parse(row.record) as Channel;
      // A reservation does not survive a restart: its request is gone.
      delete channel.pendingRequest;
      // Mirrored on-chain state is re-read on the next voucher (the payer may have withdrawn meanwhile).
      delete channel.onchainSyncedAt;
      this.channels.set(key(row.channelId), channel);
    }
    return this.channels.size;
  }

  async get(channelId: string): Promise<Channel | undefined> {
    return this.channels.get(key(channelId));
  }

  async list(): Promise<Channel[]> {
    return [...this.channels.values()];
  }

  /** Synchronous read for the claimer and /v1/info. */
  peek(channelId: string): Channel | undefined {
    return this.channels.get(key(channelId));
  }

  all(): Channel[] {
    return [...this.channels.values()];
  }

  async updateChannel(channelId: string, update: (current: Channel | undefined) => Channel | undefined): Promise<ChannelUpdateResult> {
    return this.updateNow(channelId, update);
  }

  updateNow(channelId: string, update: (current: Channel | undefined) => Channel | undefined): ChannelUpdateResult {
    const k = key(channelId);
    const current = this.channels.get(k);
    const next = update(current);
    if (next === current) return { channel: current, status: "unchanged" };
    const version = (this.versions.get(k) ?? 0) + 1;
    this.versions.set(k, version);
    this.dirty.set(k, version);
    if (!next) {
      this.channels.delete(k);
      this.deleted.add(k);
      return { channel: undefined, status: current ? "deleted" : "unchanged" };
    }
    this.deleted.delete(k);
    this.channels.set(k, next);
    return { channel: next, status: "updated" };
  }

  /** A call charged this channel and its receipt is not journaled yet: keep the change out of `flush()`. */
  hold(channelId: string): void {
    const k = key(channelId);
    this.holds.set(k, (this.holds.get(k) ?? 0) + 1);
  }

  release(channelId: string): void {
    const k = key(channelId);
    const n = (this.holds.get(k) ?? 0) - 1;
    if (n <= 0) this.holds.delete(k);
    else this.holds.set(k, n);
  }

  /**
   * The rows to write with a group of receipts: the channels those receipts were paid from (held) and
   * every other unheld change. `commit` marks them clean once the transaction succeeded.
   */
  takeRows(paidFrom: Iterable<string>): { rows: ChannelRow[]; deletions: string[]; commit: () => void } {
    const include = new Set<string>();
    for (const id of paidFrom) include.add(key(id));
    for (const k of this.dirty.keys()) if (!this.holds.has(k)) include.add(k);
    const taken = new Map<string, number>();
    const rows: ChannelRow[] = [];
    const deletions: string[] = [];
    for (const k of include) {
      const version = this.dirty.get(k);
      if (version === undefined) continue;
      taken.set(k, version);
      const channel = this.channels.get(k);
      if (channel) rows.push({ channelId: k, record: JSON.stringify(channel) });
      else if (this.deleted.has(k)) deletions.push(k);
    }
    return {
      rows,
      deletions,
      commit: () => {
        for (const [k, version] of taken) {
          if (this.dirty.get(k) === version) {
            this.dirty.delete(k);
            this.deleted.delete(k);
          }
        }
      },
    };
  }

  /** Writes every unheld change (deposits, claims, drops). */
  async flush(): Promise<void> {
    const { rows, deletions, commit } = this.takeRows([]);
    if (rows.length === 0 && deletions.length === 0) return;
    await this.journal.saveChannels(rows);
    for (const id of deletions) await this.journal.deleteChannel(id);
    commit();
  }
}

function key(channelId: string): string {
  return channelId.toLowerCase();
}
