import { db } from "ponder:api";
import schema, {
  accountPackageCredits,
  accounts,
  channelReceivers,
  channels,
  claims,
  exactPayments,
  executorBooks,
  executors,
  forks,
  licences,
  packages,
  royaltyBatches,
  royaltyBatchVersions,
  slashes,
  versions,
} from "ponder:schema";
import { Hono, type Context } from "hono";
import { and, asc, desc, eq, graphql, client, inArray, or, sql } from "ponder";
import { isAddress, type Address } from "viem";
import type { ExecutorEntry } from "../../../sdk/catalog-api.ts";
import { PACKAGE_NAME_PATTERN } from "../../../sdk/ids.ts";
import { newestSatisfying } from "../../../sdk/semver.ts";
import { compositionOf } from "../../lib/manifest.ts";
import { ACCESS_MODES } from "../../lib/catalog.ts";
import {
  BadParameterError,
  amountParam,
  booleanParam,
  bytes32Param,
  enumParam,
  integerParam,
  prefixTsQuery,
  rejectUnknown,
  textParam,
} from "../../lib/params.ts";
import { PendingRoyaltyReader } from "../../lib/pending-royalties.ts";
import { channelJson, creditsJson, executorJson, licenceJson, packageSummaryJson, slashJson, versionJson, type SearchRow } from "../../lib/shapes.ts";
import { llmsIndex, llmsPackagePage } from "../../lib/llms.ts";

const app = new Hono();

app.use("/sql/*", client({ db, schema }));
app.use("/graphql", graphql({ db, schema }));

app.onError((error, c) => {
  if (error instanceof BadParameterError) return c.json({ error: error.message, parameter: error.parameter }, 400);
  console.error(error);
  return c.json({ error: `Internal error: ${error.message}` }, 500);
});

const notFound = (c: Context, message: string) => c.json({ error: message }, 404);

/** Payments, slashes and batches listed per account or executor (newest first); totals still sum them all. */
const RECENT_ROWS = 50;

/** Licences listed on an account (a holder with more pages through GET /licences?holder=). */
const MAX_ACCOUNT_LICENCES = 1_000;

/** Most executors asked for pending royalties per page (the cheapest first). */
const MAX_EXECUTORS_ASKED = 32;

const pendingRoyalties = new PendingRoyaltyReader();

/** Upper bound on the upstream walk: the contract bounds fork depth far below this. */
const MAX_UPSTREAM_HOPS = 64;

const SEARCH_PARAMS = ["q", "access", "maxPrice", "license", "hasForks", "includeUncallable", "limit", "offset"] as const;

app.get("/search", async (c) => {
  const query = c.req.query();
  rejectUnknown(query, SEARCH_PARAMS);
  const q = textParam(query, "q", 200)?.trim();
  const access = enumParam(query, "access", ACCESS_MODES);
  const maxPrice = amountParam(query, "maxPrice");
  const license = textParam(query, "license", 100);
  const hasForks = booleanParam(query, "hasForks");
  const includeUncallable = booleanParam(query, "includeUncallable") ?? false;
  const limit = integerParam(query, "limit", 20, 1, 100);
  const offset = integerParam(query, "offset", 0, 0, 100_000);
  const tsQuery = q ? prefixTsQuery(q) : undefined;

  const filters = [sql`true`];
  if (tsQuery) filters.push(sql`to_tsvector('english', search_text) @@ to_tsquery('english', ${tsQuery})`);
  if (!includeUncallable) filters.push(sql`latest_version_id IS NOT NULL`);
  if (access) filters.push(sql`access_mode = ${access}`);
  if (maxPrice !== undefined) filters.push(sql`price <= ${maxPrice.toString()}::numeric`);
  if (license) filters.push(sql`lower(license) = lower(${license})`);
  if (hasForks !== undefined) filters.push(hasForks ? sql`fork_count > 0` : sql`fork_count = 0`);

  // Relevance first, scaled up by real (settled) usage.
  const usage = sql`(1 + 0.5 * ln(1 + paid_calls::float8))`;
  const relevance = tsQuery ? sql`ts_rank(to_tsvector('english', search_text), to_tsquery('english', ${tsQuery}))` : sql`1`;
  const result = await db.execute(sql`
    SELECT id, name, owner, description, keywords, license, access_mode, price::text AS price,
      fuel_price_per_million::text AS fuel_price_per_million, latest_version_id, latest_version, function_names,
      fork_count, parent_version_id, upstream_share_bps, fork_depth, paid_calls::text AS paid_calls,
      royalty_revenue::text AS royalty_revenue, licence_revenue::text AS licence_revenue,
      (${relevance} * ${usage})::float8 AS score, count(*) OVER () AS total
    FROM ${packages}
    WHERE ${sql.join(filters, sql` AND `)}
    ORDER BY score DESC, name ASC
    LIMIT ${limit} OFFSET ${offset}`);
  const rows = result.rows as unknown as SearchRow[];
  return c.json({
    query: { q: q ?? null, access: access ?? null, maxPrice: maxPrice?.toString() ?? null, license: license ?? null, hasForks: hasForks ?? null, includeUncallable, limit, offset },
    total: Number(rows[0]?.total ?? 0),
    results: rows.map(packageSummaryJson),
  });
});

function packageName(c: Context): string {
  const name = `${c.req.param("scope")}/${c.req.param("name")}`;
  if (!PACKAGE_NAME_PATTERN.test(name)) {
    throw new BadParameterError("name", `Package name "${name}" is invalid: expected scope/name in lowercase letters, digits and dashes.`);
  }
  return name;
}

app.get("/packages/:scope/:name", async (c) => {
  const name = packageName(c);
  const [pkg] = await db.select().from(packages).where(eq(packages.name, name)).limit(1);
  if (!pkg) return notFound(c, `No package named "${name}" is registered.`);

  const versionRows = await db.select().from(versions).where(eq(versions.packageId, pkg.id));
  const order = new Map(pkg.versionIds.map((id, i) => [id, i]));
  versionRows.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));

  const children = await db
    .select({ fork: forks, parentVersion: versions.version })
    .from(forks)
    .leftJoin(versions, eq(versions.id, forks.parentVersionId))
    .where(eq(forks.parentPackageId, pkg.id))
    .orderBy(asc(forks.createdBlock), asc(forks.childName));

  const upstream = [];
  let link: { versionId: `0x${string}` | null; share: number } = { versionId: pkg.parentVersionId, share: pkg.upstreamShareBps };
  for (let hop = 0; link.versionId && hop < MAX_UPSTREAM_HOPS; hop++) {
    const [row] = await db
      .select({ version: versions, pkg: packages })
      .from(versions)
      .innerJoin(packages, eq(packages.id, versions.packageId))
      .where(eq(versions.id, link.versionId))
      .limit(1);
    if (!row) break;
    upstream.push({
      packageId: row.pkg.id,
      name: row.pkg.name,
      versionId: row.version.id,
      version: row.version.version,
      yanked: row.version.yanked,
      upstreamShareBps: link.share,
    });
    link = { versionId: row.pkg.parentVersionId, share: row.pkg.upstreamShareBps };
  }

  // Composition: dependencies of the callable version (ranges resolved to the newest non-yanked
  // match), and dependents: versions whose manifest declares this package.
  const current = versionRows.find((v) => v.id === pkg.latestVersionId) ?? versionRows.at(-1);
  const dependencies = [];
  for (const declared of current ? compositionOf(current.manifest).dependencies : []) {
    const candidates = await db.select({ id: versions.id, version: versions.version, yanked: versions.yanked }).from(versions).where(eq(versions.packageName, declared.package));
    const live = candidates.filter((v) => !v.yanked);
    const newest = newestSatisfying(live.map((v) => v.version), declared.range);
    const match = live.find((v) => v.version === newest);
    dependencies.push({ name: declared.package, version: match?.version ?? declared.range, versionId: match?.id ?? null, range: declared.range, maxRoyaltyPerCall: declared.maxRoyaltyPerCall });
  }
  const mentioning = await db
    .select({ id: versions.id, packageName: versions.packageName, version: versions.version, manifest: versions.manifest })
    .from(versions)
    .where(sql`${versions.manifest} LIKE ${`%"package":${JSON.stringify(name)}%`}`);
  const dependents = mentioning.flatMap((v) => {
    const declared = compositionOf(v.manifest).dependencies.find((d) => d.package === name);
    return declared && v.packageName !== name ? [{ name: v.packageName, version: v.version, versionId: v.id, range: declared.range }] : [];
  });

  const recipients = await db
    .select()
    .from(accountPackageCredits)
    .where(eq(accountPackageCredits.packageId, pkg.id))
    .orderBy(desc(accountPackageCredits.total), asc(accountPackageCredits.account));

  const asked = await db
    .select({ address: executors.id, endpoint: executors.endpoint })
    .from(executors)
    .where(eq(executors.active, true))
    .orderBy(asc(executors.feePerCall), asc(executors.id))
    .limit(MAX_EXECUTORS_ASKED);
  const pending = await pendingRoyalties.forVersions(asked, pkg.versionIds);

  return c.json({
    package: {
      packageId: pkg.id,
      name: pkg.name,
      scope: pkg.scope,
      owner: pkg.owner,
      minForkShareBps: pkg.minForkShareBps,
      registeredBlock: pkg.registeredBlock.toString(),
      registeredAt: pkg.registeredAt.toString(),
      callableVersion: pkg.latestVersionId ? { versionId: pkg.latestVersionId, version: pkg.latestVersion } : null,
      description: pkg.description,
      keywords: pkg.keywords ?? [],
      license: pkg.license,
      fork: pkg.parentVersionId ? { parentVersionId: pkg.parentVersionId, upstreamShareBps: pkg.upstreamShareBps, depth: pkg.forkDepth } : null,
      forkCount: pkg.forkCount,
    },
    versions: versionRows.map((v) => versionJson(v, v.id === pkg.latestVersionId)),
    forks: children.map(({ fork, parentVersion }) => ({
      packageId: fork.id,
      name: fork.childName,
      parentVersionId: fork.parentVersionId,
      parentVersion: parentVersion ?? null,
      upstreamShareBps: fork.upstreamShareBps,
      depth: fork.depth,
    })),
    upstream,
    dependencies,
    dependents,
    earnings: {
      paidCalls: pkg.paidCalls.toString(),
      royaltyRevenue: pkg.royaltyRevenue.toString(),
      licenceCount: pkg.licenceCount,
      licenceRevenue: pkg.licenceRevenue.toString(),
      recipients: recipients.map((r) => ({ account: r.account, ...creditsJson(r) })),
    },
    pendingRoyalties: pending,
  });
});

/** Longest bucket series one answer holds (the newest buckets are kept). */
const MAX_ACTIVITY_BUCKETS = 1_000;

/**
 * Settled royalty lines of a package over time, in buckets of `interval` seconds of block time (empty buckets
 * omitted), from the itemized royalty batches.
 */
app.get("/packages/:scope/:name/activity", async (c) => {
  const query = c.req.query();
  rejectUnknown(query, ["interval"]);
  const interval = integerParam(query, "interval", 86_400, 60, 31_536_000);
  const name = packageName(c);
  const [pkg] = await db.select({ id: packages.id }).from(packages).where(eq(packages.name, name)).limit(1);
  if (!pkg) return notFound(c, `No package named "${name}" is registered.`);
  const buckets = await db
    .select({
      start: sql<string>`(floor(${royaltyBatchVersions.timestamp} / ${interval}) * ${interval})::text`,
      paidCalls: sql<string>`sum(${royaltyBatchVersions.lines})::text`,
      royaltyRevenue: sql<string>`sum(${royaltyBatchVersions.amount})::text`,
    })
    .from(royaltyBatchVersions)
    .where(eq(royaltyBatchVersions.packageId, pkg.id))
    // By position: the bucket expression's parameters would not compare equal by value.
    .groupBy(sql`1`)
    .orderBy(sql`1 desc`)
    .limit(MAX_ACTIVITY_BUCKETS);
  return c.json({ interval, buckets: buckets.reverse() });
});

/** Registry rows joined with their Settlement books and payee revenue, in one query per table. */
async function executorEntries(rows: (typeof executors.$inferSelect)[]): Promise<ExecutorEntry[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const books = await db.select().from(executorBooks).where(inArray(executorBooks.id, ids));
  const receivers = await db.select().from(channelReceivers).where(inArray(channelReceivers.receiver, ids)).orderBy(asc(channelReceivers.token));
  const exact = await db
    .select({ executor: exactPayments.executor, payments: sql<number>`count(*)::int`, amount: sql<string>`sum(${exactPayments.amount})::text` })
    .from(exactPayments)
    .where(inArray(exactPayments.executor, ids))
    .groupBy(exactPayments.executor);
  return rows.map((row) => {
    const paid = exact.find((x) => x.executor === row.id);
    return executorJson(row, books.find((b) => b.id === row.id), {
      channels: receivers.filter((r) => r.receiver === row.id).map((r) => ({ token: r.token, claimed: r.claimed, swept: r.swept })),
      exactPayments: paid?.payments ?? 0,
      exactAmount: BigInt(paid?.amount ?? 0),
    });
  });
}

function addressParam(value: string, parameter: string): Address {
  if (!isAddress(value, { strict: false })) {
    throw new BadParameterError(parameter, `"${parameter}" must be an address (0x followed by 40 hex digits), got ${JSON.stringify(value)}.`);
  }
  return value.toLowerCase() as Address;
}

app.get("/executors", async (c) => {
  const query = c.req.query();
  rejectUnknown(query, ["active"]);
  const active = booleanParam(query, "active");
  const rows = await db
    .select()
    .from(executors)
    .where(active === undefined ? undefined : eq(executors.active, active))
    .orderBy(desc(executors.active), asc(executors.feePerCall), asc(executors.id));
  return c.json({ executors: await executorEntries(rows) });
});

app.get("/executors/:address", async (c) => {
  rejectUnknown(c.req.query(), []);
  const address = addressParam(c.req.param("address"), "address");
  const [row] = await db.select().from(executors).where(eq(executors.id, address)).limit(1);
  if (!row) return notFound(c, `No executor ${address} was ever registered.`);
  const [entry] = await executorEntries([row]);
  const slashRows = await db.select().from(slashes).where(eq(slashes.executor, address)).orderBy(desc(slashes.blockNumber), asc(slashes.id)).limit(RECENT_ROWS);
  const batchRows = await db
    .select()
    .from(royaltyBatches)
    .where(eq(royaltyBatches.executor, address))
    .orderBy(desc(royaltyBatches.firstSeq))
    .limit(RECENT_ROWS);
  const lines = batchRows.length
    ? await db
        .select({ line: royaltyBatchVersions, name: versions.packageName, version: versions.version })
        .from(royaltyBatchVersions)
        .leftJoin(versions, eq(versions.id, royaltyBatchVersions.versionId))
        .where(inArray(royaltyBatchVersions.batchId, batchRows.map((b) => b.id)))
        .orderBy(asc(royaltyBatchVersions.id))
    : [];
  return c.json({
    executor: entry,
    slashes: slashRows.map(slashJson),
    batches: batchRows.map((b) => ({
      firstSeq: b.firstSeq.toString(),
      count: b.count.toString(),
      total: b.total.toString(),
      batchHash: b.batchHash,
      itemized: b.itemized,
      versions: lines
        .filter((l) => l.line.batchId === b.id)
        .map((l) => ({ versionId: l.line.versionId, name: l.name ?? null, version: l.version ?? null, lines: l.line.lines.toString(), amount: l.line.amount.toString() })),
      blockNumber: b.blockNumber.toString(),
      timestamp: b.timestamp.toString(),
      transactionHash: b.transactionHash,
    })),
  });
});

app.get("/channels", async (c) => {
  const query = c.req.query();
  rejectUnknown(query, ["payer", "receiver", "limit", "offset"]);
  const payer = query.payer === undefined ? undefined : addressParam(query.payer, "payer");
  const receiver = query.receiver === undefined ? undefined : addressParam(query.receiver, "receiver");
  const limit = integerParam(query, "limit", 100, 1, 1_000);
  const offset = integerParam(query, "offset", 0, 0, 1_000_000);
  const filters = [payer ? eq(channels.payer, payer) : undefined, receiver ? eq(channels.receiver, receiver) : undefined].filter((f) => f !== undefined);
  const rows = await db
    .select()
    .from(channels)
    .where(filters.length ? and(...filters) : undefined)
    .orderBy(desc(channels.createdBlock), asc(channels.id))
    .limit(limit)
    .offset(offset);
  return c.json({ channels: rows.map(channelJson) });
});

/** Licences with the name and version they license, newest first. */
async function licenceEntries(where: ReturnType<typeof eq> | undefined, limit: number, offset: number) {
  const rows = await db
    .select({ licence: licences, name: versions.packageName, version: versions.version })
    .from(licences)
    .leftJoin(versions, eq(versions.id, licences.versionId))
    .where(where)
    .orderBy(desc(licences.blockNumber), asc(licences.id))
    .limit(limit)
    .offset(offset);
  return rows.map((r) => licenceJson(r.licence, { name: r.name ?? null, version: r.version ?? null }));
}

app.get("/licences", async (c) => {
  const query = c.req.query();
  rejectUnknown(query, ["holder", "versionId", "limit", "offset"]);
  const holder = query.holder === undefined ? undefined : addressParam(query.holder, "holder");
  const versionId = bytes32Param(query, "versionId");
  const limit = integerParam(query, "limit", 100, 1, 1_000);
  const offset = integerParam(query, "offset", 0, 0, 1_000_000);
  const filters = [holder ? eq(licences.holder, holder) : undefined, versionId ? eq(licences.versionId, versionId) : undefined].filter((f) => f !== undefined);
  return c.json({ licences: await licenceEntries(filters.length ? and(...filters) : undefined, limit, offset) });
});

app.get("/accounts/:address", async (c) => {
  rejectUnknown(c.req.query(), []);
  const account = addressParam(c.req.param("address"), "address");
  const [balance] = await db.select().from(accounts).where(eq(accounts.id, account)).limit(1);
  const credits = await db
    .select({ credit: accountPackageCredits, name: packages.name })
    .from(accountPackageCredits)
    .leftJoin(packages, eq(packages.id, accountPackageCredits.packageId))
    .where(eq(accountPackageCredits.account, account))
    .orderBy(desc(accountPackageCredits.total), asc(accountPackageCredits.packageId));
  const claimRows = await db.select().from(claims).where(eq(claims.account, account)).orderBy(asc(claims.blockNumber));
  const owned = await db.select({ name: packages.name }).from(packages).where(eq(packages.owner, account)).orderBy(asc(packages.name));
  const executorRows = await db.select().from(executors).where(eq(executors.id, account)).limit(1);
  const [executor] = await executorEntries(executorRows);
  const channelRows = await db
    .select()
    .from(channels)
    .where(or(eq(channels.payer, account), eq(channels.receiver, account)))
    .orderBy(desc(channels.createdBlock), asc(channels.id));
  const asPayer = channelRows.filter((ch) => ch.payer === account);
  const [exact] = await db
    .select({ payments: sql<number>`count(*)::int`, amount: sql<string>`coalesce(sum(${exactPayments.amount}), 0)::text` })
    .from(exactPayments)
    .where(eq(exactPayments.payer, account));
  const payments = await db
    .select()
    .from(exactPayments)
    .where(eq(exactPayments.payer, account))
    .orderBy(desc(exactPayments.blockNumber), asc(exactPayments.id))
    .limit(RECENT_ROWS);
  const slashRows = await db.select().from(slashes).where(eq(slashes.payer, account)).orderBy(desc(slashes.blockNumber), asc(slashes.id)).limit(RECENT_ROWS);
  // Not only the newest few: the account page is where a holder finds what it may run (bounded all the same).
  const held = await licenceEntries(eq(licences.holder, account), MAX_ACCOUNT_LICENCES, 0);

  const sum = (pick: (ch: (typeof asPayer)[number]) => bigint) => asPayer.reduce((n, ch) => n + pick(ch), 0n);
  const paid = sum((ch) => ch.claimed);
  const exactAmount = BigInt(exact?.amount ?? 0);
  return c.json({
    account,
    credited: (balance?.credited ?? 0n).toString(),
    claimed: (balance?.claimed ?? 0n).toString(),
    claimable: (balance?.claimable ?? 0n).toString(),
    earnings: credits.map(({ credit, name }) => ({ packageId: credit.packageId, name: name ?? null, ...creditsJson(credit) })),
    claims: claimRows.map((r) => ({ to: r.to, amount: r.amount.toString(), blockNumber: r.blockNumber.toString(), transactionHash: r.transactionHash })),
    packages: owned.map((p) => p.name),
    executor: executor ?? null,
    channels: { asPayer: asPayer.map(channelJson), asReceiver: channelRows.filter((ch) => ch.receiver === account).map(channelJson) },
    spent: {
      paid: paid.toString(),
      deposited: sum((ch) => ch.deposited).toString(),
      returned: sum((ch) => ch.withdrawn + ch.refunded).toString(),
      available: sum((ch) => ch.balance - ch.claimed).toString(),
      exact: exactAmount.toString(),
      exactPayments: exact?.payments ?? 0,
      total: (paid + exactAmount).toString(),
    },
    payments: payments.map((p) => ({
      executor: p.executor,
      amount: p.amount.toString(),
      nonce: p.nonce,
      blockNumber: p.blockNumber.toString(),
      timestamp: p.timestamp.toString(),
      transactionHash: p.transactionHash,
    })),
    slashes: slashRows.map(slashJson),
    licences: held,
  });
});

/** The origin links in the plain text point at: the one the reader used. */
function origin(c: Context): string {
  return new URL(c.req.url).origin;
}

const PLAIN_TEXT = { "content-type": "text/plain; charset=utf-8" };

/** llms.txt: every callable package, one line each, linking to its plain-text page. */
app.get("/llms.txt", async (c) => {
  const rows = await db
    .select({
      name: packages.name,
      latestVersion: packages.latestVersion,
      description: packages.description,
      accessMode: packages.accessMode,
      price: packages.price,
      fuelPricePerMillion: packages.fuelPricePerMillion,
      functionNames: packages.functionNames,
    })
    .from(packages)
    .where(sql`${packages.latestVersionId} IS NOT NULL`)
    .orderBy(asc(packages.name));
  return c.body(llmsIndex(origin(c), rows), 200, PLAIN_TEXT);
});

/** A package's spec as plain text: its latest callable version's WIT, schemas, tests, price and executors. */
app.get("/llms/:scope/:file", async (c) => {
  const file = c.req.param("file");
  if (!file.endsWith(".txt")) return c.body(`No page here: package pages are /llms/<scope>/<name>.txt.\n`, 404, PLAIN_TEXT);
  const name = `${c.req.param("scope")}/${file.slice(0, -".txt".length)}`;
  if (!PACKAGE_NAME_PATTERN.test(name)) return c.body(`"${name}" is not a package name: expected scope/name in lowercase letters, digits and dashes.\n`, 400, PLAIN_TEXT);
  const [pkg] = await db.select().from(packages).where(eq(packages.name, name)).limit(1);
  if (!pkg) return c.body(`No package named "${name}" is registered. The index: ${origin(c)}/llms.txt\n`, 404, PLAIN_TEXT);
  if (!pkg.latestVersionId) return c.body(`${name} has no callable version (every version was yanked).\n`, 404, PLAIN_TEXT);
  const [version] = await db.select().from(versions).where(eq(versions.id, pkg.latestVersionId)).limit(1);
  if (!version) return c.body(`${name}: its latest version is not indexed yet; try again shortly.\n`, 503, PLAIN_TEXT);
  let fork = null;
  if (pkg.parentVersionId) {
    const [parent] = await db
      .select({ version: versions.version, name: packages.name })
      .from(versions)
      .innerJoin(packages, eq(packages.id, versions.packageId))
      .where(eq(versions.id, pkg.parentVersionId))
      .limit(1);
    if (parent) fork = { parent: `${parent.name}@${parent.version}`, upstreamShareBps: pkg.upstreamShareBps };
  }
  const active = await db.select({ endpoint: executors.endpoint, feePerCall: executors.feePerCall }).from(executors).where(eq(executors.active, true)).orderBy(asc(executors.feePerCall), asc(executors.id));
  const text = await llmsPackagePage({ name, version, fork, executors: active });
  return c.body(text, 200, PLAIN_TEXT);
});

export default app;
