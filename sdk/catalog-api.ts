import type { Address, Hex } from "viem";
import type { AccessMode, Split } from "./manifest.ts";

/**
 * The JSON the indexer's catalog API answers (docs/indexer-api.md), for its readers: the CLI and the
 * web catalog. Amounts, block numbers, timestamps, call counts and fuel are decimal strings.
 */

/**
 * Settled royalty lines and what they paid (calls not yet settled are in PendingRoyalties), and what licences
 * to run locally paid (Settlement.buyLicence), both before fork shares flow upstream.
 */
export interface Usage {
  paidCalls: string;
  royaltyRevenue: string;
  licenceRevenue: string;
}

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
  /**
   * Settled on-chain (payments v2): `paidCalls` counts the royalty lines executors settled for the package's
   * versions (one per paid call, calls as a dependency included), `royaltyRevenue` what they paid.
   */
  usage: Usage;
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
  usage: Usage;
  /** What a licence to run this version locally costs now (CapabilityRegistry.licencePrice), or null when none is offered. */
  licencePrice: string | null;
  /** Holders of a licence to this version (one licence per holder). */
  licenceCount: number;
}

/**
 * Credits by Settlement.CreditKind: royalty (own splits), upstream (fork share), bounty (slash proof), refund
 * (overcharge), licence (own splits, for a licence to run a version locally).
 */
export interface CreditsByKind {
  royalty: string;
  upstream: string;
  bounty: string;
  refund: string;
  licence: string;
  total: string;
}

/** A licence to run a version locally, bought through Settlement.buyLicence. */
export interface LicenceEntry {
  versionId: Hex;
  packageId: Hex | null;
  /** The package name and version (null if the version is not indexed). */
  name: string | null;
  version: string | null;
  holder: Address;
  /** Who paid (the holder, or anyone buying it for them). */
  payer: Address;
  price: string;
  blockNumber: string;
  timestamp: string;
  transactionHash: Hex;
}

export interface LicencesResponse {
  /** Newest first. */
  licences: LicenceEntry[];
}

export interface PackageEarner extends CreditsByKind {
  account: Address;
}

/** One executor's answer about the royalties it owes a package and has not settled yet. */
export interface PendingRoyaltiesFromExecutor {
  executor: Address;
  endpoint: string;
  /** "unknown" when the executor could not be asked or answered something unusable (`error` says what). */
  status: "ok" | "unknown";
  error: string | null;
  /** Null when unknown. */
  receipts: number | null;
  amount: string | null;
  versions: { versionId: Hex; version: string | null; receipts: number; amount: string }[];
  /** Unix milliseconds of the answer (answers are cached for a few seconds). */
  checkedAt: number;
}

/** Royalties owed to a package for calls served but not settled yet, polled from the active executors' /v1/info. */
export interface PendingRoyalties {
  /** Sums over the executors that answered. */
  receipts: number;
  amount: string;
  /** True when every active executor answered (otherwise the sums are lower bounds). */
  complete: boolean;
  executors: PendingRoyaltiesFromExecutor[];
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
  /** Settled royalty lines and licences of all its versions, and who was credited for them. */
  earnings: { paidCalls: string; royaltyRevenue: string; licenceCount: number; licenceRevenue: string; recipients: PackageEarner[] };
  pendingRoyalties: PendingRoyalties;
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
  /**
   * Non-empty buckets, oldest first; `start` is a unix time, a multiple of `interval`. Settled royalty lines by
   * block time of their batch (batches settled through a contract wallet are not itemized and not shown).
   */
  buckets: { start: string; paidCalls: string; royaltyRevenue: string }[];
}

/** An executor's bond in Settlement. */
export interface BondState {
  /** What slashes can still take. */
  amount: string;
  posted: string;
  withdrawn: string;
  slashed: string;
  /** Set once the executor called beginExit: the bond is withdrawable from then (unix seconds). */
  exitWithdrawableAt: string | null;
}

export interface ExecutorEntry {
  address: Address;
  endpoint: string;
  /** Fixed at registration: receipts charging more are slashable. */
  feePerCall: string;
  active: boolean;
  /** Deregistered for good (the registry refuses the key again). */
  retired: boolean;
  registeredBlock: string;
  updatedBlock: string;
  retiredBlock: string | null;
  bond: BondState;
  /** Royalty batches settled: lines (paid calls) and USDC paid into Settlement; nextSeq = lines + 1. */
  royalties: { batches: number; lines: string; paid: string; nextSeq: string };
  slashCount: number;
  /** What it took as a payee: channel claims and sweeps per token, exact payments. */
  revenue: { channels: { token: Address; claimed: string; swept: string }[]; exact: { payments: number; amount: string } };
}

export interface ExecutorsResponse {
  executors: ExecutorEntry[];
}

export interface SlashEntry {
  receiptId: Hex;
  executor: Address;
  payer: Address;
  reason: "overdue" | "mismatch" | "overcharge";
  /** Royalties credited (or, for overcharge, the excess refunded) out of the bond. */
  paid: string;
  /** Credited to the payer on top. */
  bounty: string;
  blockNumber: string;
  timestamp: string;
  transactionHash: Hex;
}

export interface RoyaltyBatchEntry {
  firstSeq: string;
  count: string;
  total: string;
  batchHash: Hex;
  /** Per-version breakdown read from the calldata (empty when the batch was not itemized). */
  itemized: boolean;
  versions: { versionId: Hex; name: string | null; version: string | null; lines: string; amount: string }[];
  blockNumber: string;
  timestamp: string;
  transactionHash: Hex;
}

export interface ExecutorResponse {
  executor: ExecutorEntry;
  slashes: SlashEntry[];
  /** Newest first. */
  batches: RoyaltyBatchEntry[];
}

/** An x402 batch-settlement channel. */
export interface ChannelEntry {
  channelId: Hex;
  payer: Address;
  payerAuthorizer: Address;
  receiver: Address;
  receiverAuthorizer: Address;
  token: Address;
  withdrawDelaySeconds: number;
  salt: Hex;
  deposited: string;
  /** What the receiver claimed: what the payer has paid through the channel. */
  claimed: string;
  withdrawn: string;
  refunded: string;
  /** Escrow left (deposited - withdrawn - refunded); claimed funds count until the receiver sweeps them. */
  balance: string;
  /** balance - claimed: what the payer can still spend or take back. */
  available: string;
  /** A timed withdrawal in progress: the amount asked and when it can be finalized (unix seconds). */
  withdrawal: { amount: string; finalizeAfter: string } | null;
  rejectedVouchers: number;
  createdBlock: string;
  createdAt: string;
  updatedBlock: string;
}

export interface ChannelsResponse {
  channels: ChannelEntry[];
}

export interface ExactPaymentEntry {
  executor: Address;
  amount: string;
  nonce: Hex;
  blockNumber: string;
  timestamp: string;
  transactionHash: Hex;
}

export interface AccountResponse {
  account: Address;
  credited: string;
  claimed: string;
  claimable: string;
  earnings: ({ packageId: Hex; name: string | null } & CreditsByKind)[];
  claims: { to: Address; amount: string; blockNumber: string; transactionHash: Hex }[];
  packages: string[];
  executor: ExecutorEntry | null;
  /** Channels this account pays from, and channels it is paid through (as receiver). */
  channels: { asPayer: ChannelEntry[]; asReceiver: ChannelEntry[] };
  /**
   * What the account paid executors: through channels (paid = claimed by receivers, deposited, returned =
   * withdrawn + refunded, available = still spendable) and by exact payments; total = paid + exact.
   */
  spent: { paid: string; deposited: string; returned: string; available: string; exact: string; exactPayments: number; total: string };
  /** Exact payments, newest first (the latest 50). */
  payments: ExactPaymentEntry[];
  /** Slash proofs naming this account as the payer (bounties and refunds it was credited). */
  slashes: SlashEntry[];
  /** Licences to run a version locally this account holds, newest first. */
  licences: LicenceEntry[];
}
