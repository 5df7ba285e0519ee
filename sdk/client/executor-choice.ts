/**
 * Choosing among the executors that serve a version, and failing over between them without ever
 * paying twice for one call. Each candidate is asked for /v1/info (health, registration, fee, the
 * versions it serves) and timed; the best is tried first: the lowest fee for a paid version, then
 * the lowest measured latency. For a paid version, an executor must also be in good standing on-chain
 * (registered, not retired, its bond not exiting and covering what it owes): a payment to one that is
 * not is a claim its bond may not honour, so it is skipped before anything is signed. A failure moves on to the next executor only when nothing was signed
 * yet and the executor, not the call, is the problem (down, not registered, missing the component,
 * out of bond, overloaded). Once a payment has left (PaymentSignedError), the call belongs to that
 * executor: the failure is returned to the caller, who reads back a paid result from it
 * (recoverPaidCall), never by paying another executor.
 */
import { getAddress, type Address, type Hex } from "viem";
import { localUsdcAbi } from "../abi.ts";
import { ROUTES, type InfoBody, type ReceiptByPaymentBody } from "../protocol.ts";
import { channelPaymentRef } from "../receipt.ts";
import type { ChainClients } from "./chain.ts";
import { GlassboxError, PaymentSignedError } from "./errors.ts";
import type { VersionView } from "./registry.ts";

/** An executor able to take this call, as probed. */
export interface RankedExecutor {
  url: string;
  operator: Address;
  /** Its registered fee per call (USDC base units). */
  fee: bigint;
  /** Measured: this probe, smoothed with earlier calls to it. */
  latencyMs: number;
}

export interface ExecutorRanking {
  ranked: RankedExecutor[];
  /**
   * Candidates left out, with why (unreachable, not registered, not serving the version, or in bad
   * standing on-chain: then `standing` is true).
   */
  skipped: SkippedExecutor[];
}

export interface SkippedExecutor {
  url: string;
  reason: string;
  /** Left out for its on-chain standing (retired, exiting, bond short of what it owes), not for being down. */
  standing?: true;
}

/** What the chain says of an executor's operator (Glassbox.executorStanding). */
export interface ExecutorStanding {
  active: boolean;
  retired: boolean;
  /** USDC held as its bond in Settlement. */
  bond: bigint;
  /** When its bond may leave (0: no exit begun). */
  exitAt: bigint;
}

export type StandingReader = (operator: Address) => Promise<ExecutorStanding>;

/** Failures that say "this executor cannot take the call now", not "the call is wrong". */
const EXECUTOR_SIDE_CODES = new Set([
  "CALL_FAILED",
  "COMPONENT_NOT_AVAILABLE",
  "EXECUTOR_NOT_REGISTERED",
  "CHAIN_UNAVAILABLE",
  "BOND_EXHAUSTED",
  "EXECUTOR_BUSY",
  "PAYEE_MISMATCH",
  "WORKER_CRASHED",
  "SHUTTING_DOWN",
  "UNKNOWN_PACKAGE",
  "UNKNOWN_VERSION",
  "INTERNAL",
]);

/** May the call be tried on another executor after `error`? Only when no payment was signed for it. */
export function canFailOver(error: unknown): boolean {
  if (error instanceof PaymentSignedError) return false;
  if (!(error instanceof GlassboxError)) return false;
  return EXECUTOR_SIDE_CODES.has(error.code) || /^HTTP_5\d\d$/.test(error.code);
}

const LATENCY_WEIGHT = 0.3;

type ProbedInfo = Omit<InfoBody, "packages"> & { packages?: { versionId?: string; componentHash?: string }[] };

/**
 * Probes and ranks executors; remembers measured latencies across calls (one per Glassbox), and
 * each executor's /v1/info and on-chain standing for `probeTtlMs` (default 5 s), so back-to-back
 * calls do not ask again. Without `standing` (no chain to read), paid versions are ranked on the
 * executors' own answers only.
 */
export class ExecutorChooser {
  private readonly latency = new Map<string, number>();
  private readonly infos = new Map<string, { at: number; info: ProbedInfo; standing?: Promise<ExecutorStanding> }>();

  constructor(private readonly opts: { probeTimeoutMs?: number; probeTtlMs?: number; standing?: StandingReader } = {}) {}

  /** Drops what is known of `url` (it just failed): the next ranking asks it again. */
  forget(url: string): void {
    this.infos.delete(url);
  }

  /** Records a call's duration at `url` (smoothed), so busy or distant executors drift down the list. */
  observe(url: string, ms: number): void {
    const previous = this.latency.get(url);
    this.latency.set(url, previous === undefined ? ms : previous * (1 - LATENCY_WEIGHT) + ms * LATENCY_WEIGHT);
  }

  /** Probes every candidate at once and ranks those that can take a call of `version`. */
  async rank(urls: string[], version: VersionView): Promise<ExecutorRanking> {
    const unique = [...new Set(urls.map((u) => u.replace(/\/+$/, "")))];
    const probes = await Promise.all(unique.map((url) => this.probe(url, version)));
    const ranked: RankedExecutor[] = [];
    const skipped: ExecutorRanking["skipped"] = [];
    for (const probe of probes) {
      if ("reason" in probe) skipped.push(probe);
      else ranked.push(probe);
    }
    const paid = version.accessMode !== "free";
    ranked.sort((a, b) => (paid && a.fee !== b.fee ? (a.fee < b.fee ? -1 : 1) : a.latencyMs - b.latencyMs));
    return { ranked, skipped };
  }

  private async probe(url: string, version: VersionView): Promise<RankedExecutor | SkippedExecutor> {
    let cached = this.infos.get(url);
    let info: ProbedInfo;
    // A cached answer is reused only while fresh and only when it serves the version (an upload may have just added it).
    if (cached && performance.now() - cached.at < (this.opts.probeTtlMs ?? 5_000) && servesVersion(cached.info, version)) {
      info = cached.info;
    } else {
      const started = performance.now();
      try {
        const response = await fetch(`${url}${ROUTES.info}`, { signal: AbortSignal.timeout(this.opts.probeTimeoutMs ?? 3_000) });
        if (!response.ok) return { url, reason: `/v1/info answered ${response.status}` };
        info = (await response.json()) as ProbedInfo;
      } catch (error) {
        return { url, reason: `unreachable (${(error as Error).message})` };
      }
      this.observe(url, performance.now() - started);
      cached = { at: performance.now(), info };
      this.infos.set(url, cached);
    }
    if (!servesVersion(info, version)) return { url, reason: `does not serve ${version.name}@${version.version}` };
    if (version.accessMode !== "free" && !info.registered) return { url, reason: "not registered on-chain (it takes no paid calls)" };
    let operator: Address;
    try {
      operator = getAddress(info.address);
    } catch {
      return { url, reason: `/v1/info names no valid operator address (${String(info.address)})` };
    }
    if (version.accessMode !== "free" && this.opts.standing) {
      cached.standing ??= this.opts.standing(operator);
      const problem = await cached.standing.then(
        (standing) => standingProblem(standing, info, version),
        (error: unknown) => {
          // A failed read is not remembered: the next ranking reads again.
          if (cached) cached.standing = undefined;
          return `its standing could not be read on-chain (${(error as Error).message.split("\n")[0]})`;
        },
      );
      if (problem) return { url, reason: `operator ${operator} ${problem}`, standing: true };
    }
    return { url, operator, fee: BigInt(info.fee), latencyMs: this.latency.get(url)! };
  }
}

/**
 * Why paying this executor for `version` is not safe, or undefined when it is in good standing. The
 * registration and bond come from the chain; only what it owes comes from the executor (its unsettled
 * royalties: a low claim there can only hide debt it will be slashed for, and an honest one is checked).
 * The call's own royalty is at least the version's price, so a bond that cannot cover the unsettled
 * royalties plus that price would have this call's receipt backed by nothing.
 */
export function standingProblem(standing: ExecutorStanding, info: Pick<InfoBody, "unsettledRoyalties">, version: Pick<VersionView, "accessMode" | "price">): string | undefined {
  if (standing.retired) return "is retired from the registry";
  if (!standing.active) return "is not an active executor in the registry";
  if (standing.exitAt !== 0n) return `has begun withdrawing its bond (exit at ${new Date(Number(standing.exitAt) * 1000).toISOString()})`;
  if (version.accessMode === "free") return undefined;
  let unsettled: bigint;
  try {
    unsettled = BigInt(info.unsettledRoyalties?.total ?? "");
  } catch {
    return "does not say what royalties it owes (/v1/info has no unsettledRoyalties.total)";
  }
  if (standing.bond < unsettled + version.price) {
    return `has a bond of ${standing.bond} on-chain, short of its unsettled royalties (${unsettled}) plus this call's (at least ${version.price}) in USDC base units`;
  }
  return undefined;
}

/**
 * The refusal when no executor is left for a paid call and at least one was skipped for its
 * standing: names each candidate and why, before anything is signed.
 */
export function noExecutorInGoodStanding(ref: string, skipped: SkippedExecutor[]): GlassboxError {
  const why = skipped.map((s) => `${s.url}: ${s.reason}`).join("; ");
  return new GlassboxError(
    "NO_EXECUTOR_IN_GOOD_STANDING",
    `No executor in good standing serves ${ref}: ${why}.`,
    "Nothing was signed or paid. Try again once an executor serving it is registered, bonded and not exiting, with a bond that covers what it owes (`glassbox info` lists executors).",
    { skipped },
  );
}

function servesVersion(info: ProbedInfo, version: VersionView): boolean {
  return info.packages?.some((p) => p.versionId === version.versionId || p.componentHash === version.hashes.componentHash) ?? false;
}

/** Which tried executor failed how, for the error when all of them did. */
export interface FailedAttempt {
  url: string;
  code: string;
  message: string;
}

/**
 * Runs `attempt` on each ranked executor in turn until one answers. Moves on only when canFailOver
 * says nothing was paid; any other failure (the call's own, or one after a payment was sent) is
 * thrown at once. When every executor failed, the error lists each one.
 */
export async function callWithFailover<T>(
  ranking: ExecutorRanking,
  attempt: (executor: RankedExecutor) => Promise<T>,
  chooser?: ExecutorChooser,
): Promise<{ value: T; executor: RankedExecutor; failed: FailedAttempt[] }> {
  const failed: FailedAttempt[] = [];
  for (const executor of ranking.ranked) {
    const started = performance.now();
    try {
      const value = await attempt(executor);
      chooser?.observe(executor.url, performance.now() - started);
      return { value, executor, failed };
    } catch (error) {
      chooser?.forget(executor.url);
      if (!canFailOver(error)) throw error;
      const e = error as GlassboxError;
      failed.push({ url: executor.url, code: e.code, message: e.message });
    }
  }
  const tried = [...failed.map((f) => `${f.url}: ${f.code} ${f.message}`), ...ranking.skipped.map((s) => `${s.url}: ${s.reason}`)];
  throw new GlassboxError(
    failed.length > 0 ? "ALL_EXECUTORS_FAILED" : "NO_EXECUTOR",
    failed.length > 0 ? `Every executor serving this version failed before any payment was signed: ${tried.join("; ")}.` : `No executor can take this call${tried.length ? `: ${tried.join("; ")}` : ""}.`,
    "Nothing was paid. Try again later, or pass --executor URL.",
    { failed, skipped: ranking.skipped },
  );
}

/**
 * The payment reference a receipt for `payment` names (sdk/receipt.ts paymentRef): for a voucher,
 * keccak256(channelId, its cumulative amount); for an exact authorization, the transaction that used
 * it on-chain (undefined while it is unused: then nothing was taken).
 */
export async function paymentRefOf(chain: ChainClients, usdc: Address, payment: PaymentSignedError["payment"]): Promise<Hex | undefined> {
  const payload = payment.payload as { voucher?: { channelId: Hex; maxClaimableAmount: string }; authorization?: { from: Address; nonce: Hex } };
  if (payload.voucher) return channelPaymentRef(payload.voucher.channelId, BigInt(payload.voucher.maxClaimableAmount));
  if (!payload.authorization) return undefined;
  const logs = await chain.publicClient.getContractEvents({
    address: usdc,
    abi: localUsdcAbi,
    eventName: "AuthorizationUsed",
    args: { authorizer: payload.authorization.from, nonce: payload.authorization.nonce },
    fromBlock: 0n,
  });
  return logs[0]?.transactionHash ?? undefined;
}

/** The receipt id `executorUrl` journaled for `paymentRef`, or undefined when it took no such payment. */
export async function receiptIdForPayment(executorUrl: string, paymentRef: Hex): Promise<Hex | undefined> {
  const response = await fetch(`${executorUrl}${ROUTES.receiptByPayment(paymentRef)}`);
  if (response.status === 404) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!response.ok) throw new GlassboxError(`HTTP_${response.status}`, `${executorUrl} answered ${response.status} for the receipt of payment ${paymentRef}.`, "Is the executor back up? Try again.");
  return ((await response.json()) as ReceiptByPaymentBody).receiptId;
}
