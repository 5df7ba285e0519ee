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
    paidCalls: t.bigint().notNull(),
    royaltyRevenue: t.bigint().notNull(),
    executorFees: t.bigint().notNull(),
    distinctPayers: t.integer().notNull(),
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
    executorFees: t.bigint().notNull(),
    fuelUsed: t.bigint().notNull(),
    distinctPayers: t.integer().notNull(),
  }),
  (table) => ({ packageIdx: index().on(table.packageId) }),
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

export const executors = onchainTable("executors", (t) => ({
  id: t.hex().primaryKey(),
  endpoint: t.text().notNull(),
  feePerCall: t.bigint().notNull(),
  active: t.boolean().notNull(),
  registeredBlock: t.bigint().notNull(),
  updatedBlock: t.bigint().notNull(),
  settledCalls: t.bigint().notNull(),
  feesEarned: t.bigint().notNull(),
}));

export const receipts = onchainTable(
  "receipts",
  (t) => ({
    id: t.hex().primaryKey(),
    versionId: t.hex().notNull(),
    packageId: t.hex(),
    payer: t.hex().notNull(),
    executor: t.hex().notNull(),
    royalty: t.bigint().notNull(),
    executorFee: t.bigint().notNull(),
    fuelUsed: t.bigint().notNull(),
    paymentNonce: t.hex().notNull(),
    frontRun: t.boolean().notNull(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
  }),
  (table) => ({ versionIdx: index().on(table.versionId), payerIdx: index().on(table.payer) }),
);

export const skippedSettlements = onchainTable("skipped_settlements", (t) => ({
  id: t.text().primaryKey(),
  receiptId: t.hex().notNull(),
  reason: t.hex().notNull(),
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

/** What an account earned from one package's calls, by credit kind. */
export const accountPackageCredits = onchainTable(
  "account_package_credits",
  (t) => ({
    account: t.hex().notNull(),
    packageId: t.hex().notNull(),
    royalty: t.bigint().notNull(),
    upstream: t.bigint().notNull(),
    executorFee: t.bigint().notNull(),
    total: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.account, table.packageId] }), accountIdx: index().on(table.account) }),
);

/** Distinct payer bookkeeping (presence rows) for per-version and per-package distinct payer counts. */
export const versionPayers = onchainTable(
  "version_payers",
  (t) => ({ versionId: t.hex().notNull(), payer: t.hex().notNull() }),
  (table) => ({ pk: primaryKey({ columns: [table.versionId, table.payer] }) }),
);

export const packagePayers = onchainTable(
  "package_payers",
  (t) => ({ packageId: t.hex().notNull(), payer: t.hex().notNull() }),
  (table) => ({ pk: primaryKey({ columns: [table.packageId, table.payer] }) }),
);
