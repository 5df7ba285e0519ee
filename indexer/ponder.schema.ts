import { index, onchainTable, primaryKey, sql } from "ponder";

export const scopes = onchainTable("scopes", (t) => ({
  id: t.hex().primaryKey(),
  scope: t.text().notNull(),
  owner: t.hex().notNull(),
  claimedBlock: t.bigint().notNull(),
}));

/**
 * One row per package. The `latest*`, description, keywords, license, functions and search text columns
 * mirror the latest callable (non-yanked, highest semver) version, so search reads one table.
 */
export const packages = onchainTable(
  "packages",
  (t) => ({
    id: t.hex().primaryKey(),
    name: t.text().notNull(),
    scope: t.text().notNull(),
    shortName: t.text().notNull(),
    owner: t.hex().notNull(),
    minForkShareBps: t.integer().notNull(),
    parentVersionId: t.hex(),
    parentPackageId: t.hex(),
    upstreamShareBps: t.integer().notNull(),
    forkDepth: t.integer().notNull(),
    forkCount: t.integer().notNull(),
    registeredBlock: t.bigint().notNull(),
    registeredAt: t.bigint().notNull(),
    /** Every version id in publication order (yanked included). */
    versionIds: t.jsonb().$type<`0x${string}`[]>().notNull(),
    latestVersionId: t.hex(),
    latestVersion: t.text(),
    accessMode: t.text(),
    price: t.bigint(),
    fuelPricePerMillion: t.bigint(),
    splits: t.jsonb().$type<{ recipient: `0x${string}`; bps: number }[]>(),
    description: t.text(),
    keywords: t.jsonb().$type<string[]>(),
    license: t.text(),
    functionNames: t.jsonb().$type<string[]>(),
    searchText: t.text().notNull(),
    /** Royalty lines settled for this package's versions (one per paid call, dependency calls included). */
    paidCalls: t.bigint().notNull(),
    /** What those lines paid (before fork shares flow upstream). */
    royaltyRevenue: t.bigint().notNull(),
    /** Licences bought for this package's versions (one per holder and version). */
    licenceCount: t.integer().notNull(),
    /** What those licences paid (before fork shares flow upstream). */
    licenceRevenue: t.bigint().notNull(),
  }),
  (table) => ({
    nameIdx: index().on(table.name),
    // GET /search filters with this exact expression, so PostgreSQL (and PGlite) can use the index.
    searchIdx: index("packages_search_idx").using("gin", sql`to_tsvector('english', ${table.searchText})`),
  }),
);

export const versions = onchainTable(
  "versions",
  (t) => ({
    id: t.hex().primaryKey(),
    packageId: t.hex().notNull(),
    packageName: t.text().notNull(),
    version: t.text().notNull(),
    componentHash: t.hex().notNull(),
    witHash: t.hex().notNull(),
    testsHash: t.hex().notNull(),
    manifestHash: t.hex().notNull(),
    accessMode: t.text().notNull(),
    price: t.bigint().notNull(),
    fuelPricePerMillion: t.bigint().notNull(),
    splits: t.jsonb().$type<{ recipient: `0x${string}`; bps: number }[]>().notNull(),
    manifest: t.text().notNull(),
    manifestValid: t.boolean().notNull(),
    manifestError: t.text(),
    description: t.text(),
    keywords: t.jsonb().$type<string[]>().notNull(),
    license: t.text(),
    repository: t.text(),
    witWorld: t.text(),
    witInterface: t.text(),
    functions: t.jsonb().$type<{ name: string; signature: string | null }[]>().notNull(),
    capabilities: t.jsonb().$type<string[]>().notNull(),
    yanked: t.boolean().notNull(),
    yankedBlock: t.bigint(),
    publishedBlock: t.bigint().notNull(),
    publishedAt: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
    paidCalls: t.bigint().notNull(),
    royaltyRevenue: t.bigint().notNull(),
    /** The registry's current licence price (LicenceOffered); null when none is offered (never, or withdrawn with 0). */
    licencePrice: t.bigint(),
    /** Holders: the contract sells one licence per holder and version. */
    licenceCount: t.integer().notNull(),
    licenceRevenue: t.bigint().notNull(),
  }),
  (table) => ({ packageIdx: index().on(table.packageId) }),
);

/** A licence to run a version locally (Settlement.LicenceBought): one per version and holder. */
export const licences = onchainTable(
  "licences",
  (t) => ({
    id: t.text().primaryKey(),
    versionId: t.hex().notNull(),
    packageId: t.hex(),
    holder: t.hex().notNull(),
    payer: t.hex().notNull(),
    price: t.bigint().notNull(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
  }),
  (table) => ({ holderIdx: index().on(table.holder), versionIdx: index().on(table.versionId) }),
);

/** Fork tree edges: child package -> parent version. */
export const forks = onchainTable(
  "forks",
  (t) => ({
    id: t.hex().primaryKey(),
    childName: t.text().notNull(),
    parentVersionId: t.hex().notNull(),
    parentPackageId: t.hex(),
    upstreamShareBps: t.integer().notNull(),
    depth: t.integer().notNull(),
    createdBlock: t.bigint().notNull(),
  }),
  (table) => ({ parentIdx: index().on(table.parentPackageId) }),
);

/** Registry view of an executor: fee fixed at registration, endpoint, retirement (a deregistered key never returns). */
export const executors = onchainTable("executors", (t) => ({
  id: t.hex().primaryKey(),
  endpoint: t.text().notNull(),
  feePerCall: t.bigint().notNull(),
  active: t.boolean().notNull(),
  /** Deregistered: retired for good (the registry refuses the key again). */
  retired: t.boolean().notNull(),
  registeredBlock: t.bigint().notNull(),
  updatedBlock: t.bigint().notNull(),
  retiredBlock: t.bigint(),
}));

/** Settlement's view of an executor (any address that settled, bonded or was slashed, registered or not). */
export const executorBooks = onchainTable("executor_books", (t) => ({
  id: t.hex().primaryKey(),
  /** What slashes can still take. */
  bond: t.bigint().notNull(),
  bondPosted: t.bigint().notNull(),
  bondWithdrawn: t.bigint().notNull(),
  /** Paid out of the bond by slashes (royalties/refunds + bounties). */
  bondSlashed: t.bigint().notNull(),
  /** When withdrawBond becomes possible (set by ExitBegun, cleared by BondWithdrawn). */
  exitWithdrawableAt: t.bigint(),
  royaltyBatches: t.integer().notNull(),
  royaltyLines: t.bigint().notNull(),
  royaltiesPaid: t.bigint().notNull(),
  slashCount: t.integer().notNull(),
}));

/** One settleRoyalties call: lines firstSeq .. firstSeq + count - 1 of its executor. */
export const royaltyBatches = onchainTable(
  "royalty_batches",
  (t) => ({
    id: t.text().primaryKey(),
    executor: t.hex().notNull(),
    firstSeq: t.bigint().notNull(),
    count: t.bigint().notNull(),
    total: t.bigint().notNull(),
    batchHash: t.hex().notNull(),
    /**
     * Whether the per-version breakdown was read from the transaction's calldata (a direct settleRoyalties call
     * whose arguments hash to batchHash). A batch sent through a contract wallet is counted in totals only.
     */
    itemized: t.boolean().notNull(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
  }),
  (table) => ({ executorIdx: index().on(table.executor) }),
);

/** The lines of one batch owed to one version: how many and what they paid. */
export const royaltyBatchVersions = onchainTable(
  "royalty_batch_versions",
  (t) => ({
    id: t.text().primaryKey(),
    batchId: t.text().notNull(),
    executor: t.hex().notNull(),
    versionId: t.hex().notNull(),
    packageId: t.hex(),
    lines: t.bigint().notNull(),
    amount: t.bigint().notNull(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
  }),
  (table) => ({ packageIdx: index().on(table.packageId), versionIdx: index().on(table.versionId) }),
);

/** A receipt proof paid out of an executor's bond. */
export const slashes = onchainTable(
  "slashes",
  (t) => ({
    id: t.text().primaryKey(),
    executor: t.hex().notNull(),
    receiptId: t.hex().notNull(),
    payer: t.hex().notNull(),
    reason: t.text().notNull(),
    paid: t.bigint().notNull(),
    bounty: t.bigint().notNull(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
  }),
  (table) => ({ executorIdx: index().on(table.executor), payerIdx: index().on(table.payer) }),
);

export const surplusSweeps = onchainTable("surplus_sweeps", (t) => ({
  id: t.text().primaryKey(),
  to: t.hex().notNull(),
  amount: t.bigint().notNull(),
  blockNumber: t.bigint().notNull(),
  transactionHash: t.hex().notNull(),
}));

export const accounts = onchainTable("accounts", (t) => ({
  id: t.hex().primaryKey(),
  credited: t.bigint().notNull(),
  claimed: t.bigint().notNull(),
  claimable: t.bigint().notNull(),
}));

export const claims = onchainTable("claims", (t) => ({
  id: t.text().primaryKey(),
  account: t.hex().notNull(),
  to: t.hex().notNull(),
  amount: t.bigint().notNull(),
  blockNumber: t.bigint().notNull(),
  transactionHash: t.hex().notNull(),
}));

/** What an account was credited for one package's versions, by credit kind (Settlement.CreditKind). */
export const accountPackageCredits = onchainTable(
  "account_package_credits",
  (t) => ({
    account: t.hex().notNull(),
    packageId: t.hex().notNull(),
    royalty: t.bigint().notNull(),
    upstream: t.bigint().notNull(),
    bounty: t.bigint().notNull(),
    refund: t.bigint().notNull(),
    /** A version's own recipients paid for a licence (the parents' share of it is `upstream`). */
    licence: t.bigint().notNull(),
    total: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.account, table.packageId] }), accountIdx: index().on(table.account) }),
);

/** One x402 batch-settlement channel (id = EIP-712 hash of its config) and its running totals. */
export const channels = onchainTable(
  "channels",
  (t) => ({
    id: t.hex().primaryKey(),
    payer: t.hex().notNull(),
    payerAuthorizer: t.hex().notNull(),
    receiver: t.hex().notNull(),
    receiverAuthorizer: t.hex().notNull(),
    token: t.hex().notNull(),
    withdrawDelay: t.integer().notNull(),
    salt: t.hex().notNull(),
    deposited: t.bigint().notNull(),
    /** Cumulative amount the receiver side claimed (what the payer has paid). */
    claimed: t.bigint().notNull(),
    /** Returned to the payer by finalized timed withdrawals. */
    withdrawn: t.bigint().notNull(),
    /** Returned to the payer by the receiver side's refunds. */
    refunded: t.bigint().notNull(),
    /** Escrow held: deposited - withdrawn - refunded (claimed funds stay in it until the channel is drained). */
    balance: t.bigint().notNull(),
    pendingWithdrawal: t.bigint(),
    withdrawFinalizeAfter: t.bigint(),
    rejectedVouchers: t.integer().notNull(),
    createdBlock: t.bigint().notNull(),
    createdAt: t.bigint().notNull(),
    updatedBlock: t.bigint().notNull(),
  }),
  (table) => ({ payerIdx: index().on(table.payer), receiverIdx: index().on(table.receiver) }),
);

/** Claimed and swept totals of one channel receiver and token. */
export const channelReceivers = onchainTable(
  "channel_receivers",
  (t) => ({
    id: t.text().primaryKey(),
    receiver: t.hex().notNull(),
    token: t.hex().notNull(),
    claimed: t.bigint().notNull(),
    swept: t.bigint().notNull(),
    sweeps: t.integer().notNull(),
  }),
  (table) => ({ receiverIdx: index().on(table.receiver) }),
);

/** An `exact` payment: an EIP-3009 transfer from a payer to a registered executor. */
export const exactPayments = onchainTable(
  "exact_payments",
  (t) => ({
    id: t.text().primaryKey(),
    payer: t.hex().notNull(),
    executor: t.hex().notNull(),
    amount: t.bigint().notNull(),
    nonce: t.hex().notNull(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
  }),
  (table) => ({ payerIdx: index().on(table.payer), executorIdx: index().on(table.executor) }),
);
