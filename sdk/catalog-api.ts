import type { Address, Hex } from "viem";
import type { AccessMode, Split } from "./manifest.ts";

/**
 * The JSON the indexer's catalog API answers (docs/indexer-api.md), for its readers: the CLI and the
 * web catalog. Amounts, block numbers, timestamps, call counts and fuel are decimal strings.
 */

export interface VersionRef {
  versionId: Hex;
  version: string;
}

export interface ForkLink {
  parentVersionId: Hex;
  upstreamShareBps: number;
  depth: number;
}

export interface PackageSummary {
  packageId: Hex;
  name: string;
  owner: Address;
  description: string | null;
  keywords: string[];
  license: string | null;
  functionNames: string[];
  callableVersion: VersionRef | null;
  accessMode: AccessMode | null;
  price: string | null;
  fuelPricePerMillion: string | null;
  forkCount: number;
  fork: ForkLink | null;
  usage: { paidCalls: string; distinctPayers: number; royaltyRevenue: string };
  score: number;
}

export interface SearchResponse {
  query: Record<string, unknown>;
  total: number;
  results: PackageSummary[];
}

export interface VersionDetail {
  versionId: Hex;
  version: string;
  yanked: boolean;
  yankedBlock: string | null;
  callable: boolean;
  latest: boolean;
  hashes: { componentHash: Hex; witHash: Hex; testsHash: Hex; manifestHash: Hex };
  accessMode: AccessMode;
  price: string;
  fuelPricePerMillion: string;
  splits: Split[];
  manifest: {
    valid: boolean;
    error: string | null;
    raw: string;
    description: string | null;
    keywords: string[];
    license: string | null;
    repository: string | null;
    witWorld: string | null;
    witInterface: string | null;
    functions: { name: string; signature: string | null }[];
    capabilities: string[];
    /** Declared dependencies (composition): package, semver range, most royalty per call accepted. */
    dependencies: { package: string; range: string; maxRoyaltyPerCall: string }[];
    /** sha256 of the published source tarball (`glassbox source`), or null. */
    sourceHash: Hex | null;
  };
  publishedBlock: string;
  publishedAt: string;
  transactionHash: Hex;
  usage: { paidCalls: string; distinctPayers: number; royaltyRevenue: string; executorFees: string; fuelUsed: string };
}

export interface PackageEarner {
  account: Address;
  royalty: string;
  upstream: string;
  executorFee: string;
  total: string;
}

export interface PackageResponse {
  package: {
    packageId: Hex;
    name: string;
    scope: string;
    owner: Address;
    minForkShareBps: number;
    registeredBlock: string;
    registeredAt: string;
    callableVersion: VersionRef | null;
    description: string | null;
    keywords: string[];
    license: string | null;
    fork: ForkLink | null;
    forkCount: number;
  };
  versions: VersionDetail[];
  forks: { packageId: Hex; name: string; parentVersionId: Hex; parentVersion: string | null; upstreamShareBps: number; depth: number }[];
  upstream: { packageId: Hex; name: string; versionId: Hex; version: string; yanked: boolean; upstreamShareBps: number }[];
  earnings: { paidCalls: string; distinctPayers: number; royaltyRevenue: string; executorFees: string; recipients: PackageEarner[] };
  /**
   * Composition: what the callable version imports (each declared range with the newest non-yanked
   * version in it, `version` = the range and `versionId` null when none is published), and every
   * version of another package that declares this one as a dependency.
   */
  dependencies?: { name: string; version: string; versionId: Hex | null; range: string; maxRoyaltyPerCall: string }[];
  dependents?: { name: string; version: string; versionId: Hex; range: string }[];
}

export interface ActivityResponse {
  /** Bucket width in seconds of block time. */
  interval: number;
  /** Non-empty buckets, oldest first; `start` is a unix time, a multiple of `interval`. */
  buckets: { start: string; paidCalls: string; royaltyRevenue: string; executorFees: string }[];
}

export interface ExecutorEntry {
  address: Address;
  endpoint: string;
  feePerCall: string;
  active: boolean;
  registeredBlock: string;
  updatedBlock: string;
  settledCalls: string;
  feesEarned: string;
}

export interface ExecutorsResponse {
  executors: ExecutorEntry[];
}

export interface AccountResponse {
  account: Address;
  credited: string;
  claimed: string;
  claimable: string;
  earnings: { packageId: Hex; name: string | null; royalty: string; upstream: string; executorFee: string; total: string }[];
  claims: { to: Address; amount: string; blockNumber: string; transactionHash: Hex }[];
  packages: string[];
  executor: ExecutorEntry | null;
  spent: { paidCalls: string; royalty: string; executorFees: string; total: string };
  payments: {
    receiptId: Hex;
    name: string | null;
    version: string | null;
    versionId: Hex;
    executor: Address;
    royalty: string;
    executorFee: string;
    timestamp: string;
    transactionHash: Hex;
  }[];
}
