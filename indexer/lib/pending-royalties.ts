import { isHex, type Address, type Hex } from "viem";
import type { PendingRoyalties, PendingRoyaltiesFromExecutor } from "../../sdk/catalog-api.ts";
import { ROUTES } from "../../sdk/protocol.ts";

/**
 * Royalties served but not settled yet live only in each executor's journal: the indexer asks every active
 * executor's GET /v1/info (`unsettledRoyalties`) and keeps each answer for a few seconds, so a busy catalog page
 * costs an executor at most one request per TTL. A slow, dead or lying executor is shown as "unknown" with the
 * reason; it never fails the page.
 */

export interface ExecutorToAsk {
  address: Address;
  endpoint: string;
}

/** One executor's unsettled royalties for every version it serves (versionId lowercase). */
interface InfoAnswer {
  versions: Map<string, { versionId: Hex; version: string | null; receipts: number; amount: bigint }>;
}

type Outcome = { ok: true; answer: InfoAnswer; at: number } | { ok: false; error: string; at: number };

export interface PendingRoyaltyOptions {
  /** How long one answer is reused. */
  ttlMs?: number;
  /** How long to wait for an executor. */
  timeoutMs?: number;
  /** Largest /v1/info body read. */
  maxBodyBytes?: number;
  fetch?: typeof fetch;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const DECIMAL = /^\d{1,78}$/;

/** Reads `unsettledRoyalties` from a /v1/info body: `{ versions: [...] }` or a bare list of { versionId, version, receipts, amount }. */
export function parseUnsettledRoyalties(body: unknown, executor: Address): InfoAnswer {
  if (!isRecord(body)) throw new Error("/v1/info did not answer a JSON object");
  const claimed = body.address ?? body.operator;
  if (typeof claimed === "string" && claimed.toLowerCase() !== executor.toLowerCase()) {
    throw new Error(`/v1/info answers for ${claimed}, not for the registered executor ${executor}`);
  }
  const field = body.unsettledRoyalties;
  const list = Array.isArray(field) ? field : isRecord(field) && Array.isArray(field.versions) ? field.versions : undefined;
  if (list === undefined) throw new Error("/v1/info has no unsettledRoyalties list");
  const versions: InfoAnswer["versions"] = new Map();
  list.forEach((entry: unknown, i: number) => {
    if (!isRecord(entry)) throw new Error(`unsettledRoyalties[${i}] is not an object`);
    const { versionId, version, receipts, amount } = entry;
    if (typeof versionId !== "string" || !isHex(versionId) || versionId.length !== 66) {
      throw new Error(`unsettledRoyalties[${i}].versionId must be a 32-byte hex string`);
    }
    if (typeof receipts !== "number" || !Number.isSafeInteger(receipts) || receipts < 0) {
      throw new Error(`unsettledRoyalties[${i}].receipts must be a non-negative integer`);
    }
    if (typeof amount !== "string" || !DECIMAL.test(amount)) {
      throw new Error(`unsettledRoyalties[${i}].amount must be a decimal string of base units`);
    }
    const key = versionId.toLowerCase();
    const previous = versions.get(key);
    versions.set(key, {
      versionId,
      version: typeof version === "string" ? version.slice(0, 100) : null,
      receipts: (previous?.receipts ?? 0) + receipts,
      amount: (previous?.amount ?? 0n) + BigInt(amount),
    });
  });
  return { versions };
}

/** Reads at most `limit` bytes of a body (an executor cannot make the indexer buffer an unbounded answer). */
async function boundedText(response: Response, limit: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`/v1/info answer is larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export class PendingRoyaltyReader {
  private readonly cache = new Map<string, Promise<Outcome>>();
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly fetchFn: typeof fetch;

  constructor(options: PendingRoyaltyOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 2_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 1_000_000;
    this.fetchFn = options.fetch ?? fetch;
  }

  /** Pending royalties of `versionIds` over `executors` (asked in parallel, each answer cached). */
  async forVersions(executors: readonly ExecutorToAsk[], versionIds: readonly Hex[]): Promise<PendingRoyalties> {
    const wanted = new Set(versionIds.map((id) => id.toLowerCase()));
    const rows = await Promise.all(
      executors.map(async (e): Promise<PendingRoyaltiesFromExecutor> => {
        const outcome = await this.ask(e);
        if (!outcome.ok) {
          return { executor: e.address, endpoint: e.endpoint, status: "unknown", error: outcome.error, receipts: null, amount: null, versions: [], checkedAt: outcome.at };
        }
        const versions = [...outcome.answer.versions]
          .filter(([id]) => wanted.has(id))
          .map(([, v]) => ({ versionId: v.versionId, version: v.version, receipts: v.receipts, amount: v.amount.toString() }));
        return {
          executor: e.address,
          endpoint: e.endpoint,
          status: "ok",
          error: null,
          receipts: versions.reduce((n, v) => n + v.receipts, 0),
          amount: versions.reduce((n, v) => n + BigInt(v.amount), 0n).toString(),
          versions,
          checkedAt: outcome.at,
        };
      }),
    );
    const known = rows.filter((r) => r.status === "ok");
    return {
      receipts: known.reduce((n, r) => n + (r.receipts ?? 0), 0),
      amount: known.reduce((n, r) => n + BigInt(r.amount ?? "0"), 0n).toString(),
      complete: known.length === rows.length,
      executors: rows,
    };
  }

  private ask(e: ExecutorToAsk): Promise<Outcome> {
    const key = `${e.address.toLowerCase()} ${e.endpoint}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const pending = this.fetchInfo(e);
    this.cache.set(key, pending);
    // Forget the answer once it is stale (the timer does not hold the process open).
    setTimeout(() => this.cache.delete(key), this.ttlMs).unref();
    return pending;
  }

  private async fetchInfo(e: ExecutorToAsk): Promise<Outcome> {
    try {
      const base = new URL(e.endpoint);
      if (base.protocol !== "http:" && base.protocol !== "https:") throw new Error(`endpoint is not an http(s) URL`);
      const url = `${e.endpoint.replace(/\/+$/, "")}${ROUTES.info}`;
      const response = await this.fetchFn(url, { signal: AbortSignal.timeout(this.timeoutMs), redirect: "error", headers: { accept: "application/json" } });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`/v1/info answered HTTP ${response.status}`);
      }
      const text = await boundedText(response, this.maxBodyBytes);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error("/v1/info did not answer JSON");
      }
      return { ok: true, answer: parseUnsettledRoyalties(body, e.address), at: Date.now() };
    } catch (error) {
      return { ok: false, error: describe(error, this.timeoutMs), at: Date.now() };
    }
  }
}

/** "fetch failed" alone says nothing: add the cause (ECONNREFUSED, ENOTFOUND, ...). */
function describe(error: unknown, timeoutMs: number): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

