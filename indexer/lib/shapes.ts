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
  distinct_payers: number;
  royalty_revenue: string;
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
    usage: { paidCalls: r.paid_calls, distinctPayers: r.distinct_payers, royaltyRevenue: r.royalty_revenue },
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
  executorFees: bigint;
  fuelUsed: bigint;
  distinctPayers: number;
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
    usage: {
      paidCalls: v.paidCalls.toString(),
      distinctPayers: v.distinctPayers,
      royaltyRevenue: v.royaltyRevenue.toString(),
      executorFees: v.executorFees.toString(),
      fuelUsed: v.fuelUsed.toString(),
    },
  };
}

export function executorJson(e: {
  id: string;
  endpoint: string;
  feePerCall: bigint;
  active: boolean;
  registeredBlock: bigint;
  updatedBlock: bigint;
  settledCalls: bigint;
  feesEarned: bigint;
}) {
  return {
    address: e.id,
    endpoint: e.endpoint,
    feePerCall: e.feePerCall.toString(),
    active: e.active,
    registeredBlock: e.registeredBlock.toString(),
    updatedBlock: e.updatedBlock.toString(),
    settledCalls: e.settledCalls.toString(),
    feesEarned: e.feesEarned.toString(),
  };
}
