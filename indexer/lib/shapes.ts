import type { channels, executorBooks, executors, licences, slashes } from "ponder:schema";
import type { Hex } from "viem";
import type { ChannelEntry, CreditsByKind, ExecutorEntry, LicenceEntry, SlashEntry } from "../../sdk/catalog-api.ts";
import { SLASH_REASONS } from "./catalog.ts";

/** The stable JSON shapes of the API (documented in docs/indexer-api.md). Amounts are decimal strings. */
import { compositionOf } from "./manifest.ts";
export interface SearchRow {
  id: string;
  name: string;
  owner: string;
  description: string | null;
  keywords: string[] | null;
  license: string | null;
  access_mode: string | null;
  price: string | null;
  fuel_price_per_million: string | null;
  latest_version_id: string | null;
  latest_version: string | null;
  function_names: string[] | null;
  fork_count: number;
  parent_version_id: string | null;
  upstream_share_bps: number;
  fork_depth: number;
  paid_calls: string;
  royalty_revenue: string;
  licence_revenue: string;
  score: number;
  total: number | string;
}

export function packageSummaryJson(r: SearchRow) {
  return {
    packageId: r.id,
    name: r.name,
    owner: r.owner,
    description: r.description,
    keywords: r.keywords ?? [],
    license: r.license,
    functionNames: r.function_names ?? [],
    callableVersion: r.latest_version_id ? { versionId: r.latest_version_id, version: r.latest_version } : null,
    accessMode: r.latest_version_id ? r.access_mode : null,
    price: r.latest_version_id ? r.price : null,
    fuelPricePerMillion: r.latest_version_id ? r.fuel_price_per_million : null,
    forkCount: r.fork_count,
    fork: r.parent_version_id ? { parentVersionId: r.parent_version_id, upstreamShareBps: r.upstream_share_bps, depth: r.fork_depth } : null,
    usage: { paidCalls: r.paid_calls, royaltyRevenue: r.royalty_revenue, licenceRevenue: r.licence_revenue },
    score: Number(r.score),
  };
}

interface VersionRow {
  id: string;
  version: string;
  yanked: boolean;
  yankedBlock: bigint | null;
  componentHash: string;
  witHash: string;
  testsHash: string;
  manifestHash: string;
  accessMode: string;
  price: bigint;
  fuelPricePerMillion: bigint;
  splits: { recipient: string; bps: number }[];
  manifest: string;
  manifestValid: boolean;
  manifestError: string | null;
  description: string | null;
  keywords: string[];
  license: string | null;
  repository: string | null;
  witWorld: string | null;
  witInterface: string | null;
  functions: { name: string; signature: string | null }[];
  capabilities: string[];
  publishedBlock: bigint;
  publishedAt: bigint;
  transactionHash: string;
  paidCalls: bigint;
  royaltyRevenue: bigint;
  licencePrice: bigint | null;
  licenceCount: number;
  licenceRevenue: bigint;
}

/** Dependencies and published source come from the raw manifest (the on-chain text), parsed on read. */
export function versionJson(v: VersionRow, isLatestCallable: boolean) {
  return {
    versionId: v.id,
    version: v.version,
    yanked: v.yanked,
    yankedBlock: v.yankedBlock?.toString() ?? null,
    callable: !v.yanked,
    latest: isLatestCallable,
    hashes: { componentHash: v.componentHash, witHash: v.witHash, testsHash: v.testsHash, manifestHash: v.manifestHash },
    accessMode: v.accessMode,
    price: v.price.toString(),
    fuelPricePerMillion: v.fuelPricePerMillion.toString(),
    splits: v.splits,
    manifest: {
      valid: v.manifestValid,
      error: v.manifestError,
      raw: v.manifest,
      description: v.description,
      keywords: v.keywords,
      license: v.license,
      repository: v.repository,
      witWorld: v.witWorld,
      witInterface: v.witInterface,
      functions: v.functions,
      capabilities: v.capabilities,
      ...compositionOf(v.manifest),
    },
    publishedBlock: v.publishedBlock.toString(),
    publishedAt: v.publishedAt.toString(),
    transactionHash: v.transactionHash,
    usage: { paidCalls: v.paidCalls.toString(), royaltyRevenue: v.royaltyRevenue.toString(), licenceRevenue: v.licenceRevenue.toString() },
    licencePrice: v.licencePrice?.toString() ?? null,
    licenceCount: v.licenceCount,
  };
}

type ExecutorRow = typeof executors.$inferSelect;
type BooksRow = typeof executorBooks.$inferSelect;
type ChannelRow = typeof channels.$inferSelect;
type SlashRow = typeof slashes.$inferSelect;

/** Registry row + Settlement books (absent before its first bond or batch) + what it took as a payee. */
export function executorJson(
  e: ExecutorRow,
  books: BooksRow | undefined,
  revenue: { channels: { token: Hex; claimed: bigint; swept: bigint }[]; exactPayments: number; exactAmount: bigint },
): ExecutorEntry {
  const lines = books?.royaltyLines ?? 0n;
  return {
    address: e.id,
    endpoint: e.endpoint,
    feePerCall: e.feePerCall.toString(),
    active: e.active,
    retired: e.retired,
    registeredBlock: e.registeredBlock.toString(),
    updatedBlock: e.updatedBlock.toString(),
    retiredBlock: e.retiredBlock?.toString() ?? null,
    bond: {
      amount: (books?.bond ?? 0n).toString(),
      posted: (books?.bondPosted ?? 0n).toString(),
      withdrawn: (books?.bondWithdrawn ?? 0n).toString(),
      slashed: (books?.bondSlashed ?? 0n).toString(),
      exitWithdrawableAt: books?.exitWithdrawableAt?.toString() ?? null,
    },
    royalties: {
      batches: books?.royaltyBatches ?? 0,
      lines: lines.toString(),
      paid: (books?.royaltiesPaid ?? 0n).toString(),
      nextSeq: (lines + 1n).toString(),
    },
    slashCount: books?.slashCount ?? 0,
    revenue: {
      channels: revenue.channels.map((c) => ({ token: c.token, claimed: c.claimed.toString(), swept: c.swept.toString() })),
      exact: { payments: revenue.exactPayments, amount: revenue.exactAmount.toString() },
    },
  };
}

export function channelJson(c: ChannelRow): ChannelEntry {
  return {
    channelId: c.id,
    payer: c.payer,
    payerAuthorizer: c.payerAuthorizer,
    receiver: c.receiver,
    receiverAuthorizer: c.receiverAuthorizer,
    token: c.token,
    withdrawDelaySeconds: c.withdrawDelay,
    salt: c.salt,
    deposited: c.deposited.toString(),
    claimed: c.claimed.toString(),
    withdrawn: c.withdrawn.toString(),
    refunded: c.refunded.toString(),
    balance: c.balance.toString(),
    available: (c.balance - c.claimed).toString(),
    withdrawal:
      c.pendingWithdrawal === null || c.withdrawFinalizeAfter === null
        ? null
        : { amount: c.pendingWithdrawal.toString(), finalizeAfter: c.withdrawFinalizeAfter.toString() },
    rejectedVouchers: c.rejectedVouchers,
    createdBlock: c.createdBlock.toString(),
    createdAt: c.createdAt.toString(),
    updatedBlock: c.updatedBlock.toString(),
  };
}

const isSlashReason = (reason: string): reason is SlashEntry["reason"] => (SLASH_REASONS as readonly string[]).includes(reason);

export function slashJson(s: SlashRow): SlashEntry {
  if (!isSlashReason(s.reason)) throw new Error(`slash ${s.id} has an unknown reason "${s.reason}"`);
  return {
    receiptId: s.receiptId,
    executor: s.executor,
    payer: s.payer,
    reason: s.reason,
    paid: s.paid.toString(),
    bounty: s.bounty.toString(),
    blockNumber: s.blockNumber.toString(),
    timestamp: s.timestamp.toString(),
    transactionHash: s.transactionHash,
  };
}

export function creditsJson(c: { royalty: bigint; upstream: bigint; bounty: bigint; refund: bigint; licence: bigint; total: bigint }): CreditsByKind {
  return {
    royalty: c.royalty.toString(),
    upstream: c.upstream.toString(),
    bounty: c.bounty.toString(),
    refund: c.refund.toString(),
    licence: c.licence.toString(),
    total: c.total.toString(),
  };
}

type LicenceRow = typeof licences.$inferSelect;

/** A licence row with the name and version of what it licenses (null when that version is not indexed). */
export function licenceJson(l: LicenceRow, named: { name: string | null; version: string | null }): LicenceEntry {
  return {
    versionId: l.versionId,
    packageId: l.packageId,
    name: named.name,
    version: named.version,
    holder: l.holder,
    payer: l.payer,
    price: l.price.toString(),
    blockNumber: l.blockNumber.toString(),
    timestamp: l.timestamp.toString(),
    transactionHash: l.transactionHash,
  };
}
