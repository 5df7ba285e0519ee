import { db } from "ponder:api";
import schema, { accountPackageCredits, accounts, claims, executors, forks, packages, receipts, versions } from "ponder:schema";
import { Hono, type Context } from "hono";
import { asc, client, desc, eq, graphql, sql } from "ponder";
import { isAddress } from "viem";
import { PACKAGE_NAME_PATTERN } from "../../../sdk/ids.ts";
import { ACCESS_MODES } from "../../lib/catalog.ts";
import {
  BadParameterError,
  amountParam,
  booleanParam,
  enumParam,
  integerParam,
  prefixTsQuery,
  rejectUnknown,
  textParam,
} from "../../lib/params.ts";
import { llmsIndex, llmsPackagePage } from "../../lib/llms.ts";
import { executorJson, packageSummaryJson, versionJson, type SearchRow } from "../../lib/shapes.ts";

const app = new Hono();

app.use("/sql/*", client({ db, schema }));
app.use("/graphql", graphql({ db, schema }));

app.onError((error, c) => {
  if (error instanceof BadParameterError) return c.json({ error: error.message, parameter: error.parameter }, 400);
  console.error(error);
  return c.json({ error: `Internal error: ${error.message}` }, 500);
});

const notFound = (c: Context, message: string) => c.json({ error: message }, 404);

/** Payments listed per account (newest first); `spent` still sums them all. */
const RECENT_PAYMENTS = 50;

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

  // Relevance first, scaled up by real usage: distinct payers count more than raw call volume.
  const usage = sql`(1 + ln(1 + distinct_payers::float8) + 0.5 * ln(1 + paid_calls::float8))`;
  const relevance = tsQuery ? sql`ts_rank(to_tsvector('english', search_text), to_tsquery('english', ${tsQuery}))` : sql`1`;
  const result = await db.execute(sql`
    SELECT id, name, owner, description, keywords, license, access_mode, price::text AS price,
      fuel_price_per_million::text AS fuel_price_per_million, latest_version_id, latest_version, function_names,
      fork_count, parent_version_id, upstream_share_bps, fork_depth, paid_calls::text AS paid_calls,
      distinct_payers, royalty_revenue::text AS royalty_revenue,
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

  const recipients = await db
    .select()
    .from(accountPackageCredits)
    .where(eq(accountPackageCredits.packageId, pkg.id))
    .orderBy(desc(accountPackageCredits.total), asc(accountPackageCredits.account));

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
    earnings: {
      paidCalls: pkg.paidCalls.toString(),
      distinctPayers: pkg.distinctPayers,
      royaltyRevenue: pkg.royaltyRevenue.toString(),
      executorFees: pkg.executorFees.toString(),
      recipients: recipients.map((r) => ({
        account: r.account,
        royalty: r.royalty.toString(),
        upstream: r.upstream.toString(),
        executorFee: r.executorFee.toString(),
        total: r.total.toString(),
      })),
    },
  });
});

/** Longest bucket series one answer holds (the newest buckets are kept). */
const MAX_ACTIVITY_BUCKETS = 1_000;

/** Settled calls of a package over time, in buckets of `interval` seconds of block time (empty buckets omitted). */
app.get("/packages/:scope/:name/activity", async (c) => {
  const query = c.req.query();
  rejectUnknown(query, ["interval"]);
  const interval = integerParam(query, "interval", 86_400, 60, 31_536_000);
  const name = packageName(c);
  const [pkg] = await db.select({ id: packages.id }).from(packages).where(eq(packages.name, name)).limit(1);
  if (!pkg) return notFound(c, `No package named "${name}" is registered.`);
  const buckets = await db
    .select({
      start: sql<string>`(floor(${receipts.timestamp} / ${interval}) * ${interval})::text`,
      paidCalls: sql<string>`count(*)::text`,
      royaltyRevenue: sql<string>`sum(${receipts.royalty})::text`,
      executorFees: sql<string>`sum(${receipts.executorFee})::text`,
    })
    .from(receipts)
    .where(eq(receipts.packageId, pkg.id))
    // By position: the bucket expression's parameters would not compare equal by value.
    .groupBy(sql`1`)
    .orderBy(sql`1 desc`)
    .limit(MAX_ACTIVITY_BUCKETS);
  return c.json({ interval, buckets: buckets.reverse() });
});

app.get("/executors", async (c) => {
  const query = c.req.query();
  rejectUnknown(query, ["active"]);
  const active = booleanParam(query, "active");
  const rows = await db
    .select()
    .from(executors)
    .where(active === undefined ? undefined : eq(executors.active, active))
    .orderBy(desc(executors.active), asc(executors.feePerCall), asc(executors.id));
  return c.json({ executors: rows.map(executorJson) });
});

app.get("/accounts/:address", async (c) => {
  const address = c.req.param("address");
  if (!isAddress(address, { strict: false })) {
    throw new BadParameterError("address", `"${address}" is not an address: expected 0x followed by 40 hex digits.`);
  }
  const account = address.toLowerCase() as `0x${string}`;
  const [balance] = await db.select().from(accounts).where(eq(accounts.id, account)).limit(1);
  const credits = await db
    .select({ credit: accountPackageCredits, name: packages.name })
    .from(accountPackageCredits)
    .leftJoin(packages, eq(packages.id, accountPackageCredits.packageId))
    .where(eq(accountPackageCredits.account, account))
    .orderBy(desc(accountPackageCredits.total));
  const claimRows = await db.select().from(claims).where(eq(claims.account, account)).orderBy(asc(claims.blockNumber));
  const owned = await db.select({ name: packages.name }).from(packages).where(eq(packages.owner, account)).orderBy(asc(packages.name));
  const [executor] = await db.select().from(executors).where(eq(executors.id, account)).limit(1);
  const [spent] = await db
    .select({
      paidCalls: sql<string>`count(*)::text`,
      royalty: sql<string>`coalesce(sum(${receipts.royalty}), 0)::text`,
      executorFees: sql<string>`coalesce(sum(${receipts.executorFee}), 0)::text`,
    })
    .from(receipts)
    .where(eq(receipts.payer, account));
  const payments = await db
    .select({ receipt: receipts, name: packages.name, version: versions.version })
    .from(receipts)
    .leftJoin(versions, eq(versions.id, receipts.versionId))
    .leftJoin(packages, eq(packages.id, receipts.packageId))
    .where(eq(receipts.payer, account))
    .orderBy(desc(receipts.blockNumber), asc(receipts.id))
    .limit(RECENT_PAYMENTS);
  return c.json({
    account,
    credited: (balance?.credited ?? 0n).toString(),
    claimed: (balance?.claimed ?? 0n).toString(),
    claimable: (balance?.claimable ?? 0n).toString(),
    earnings: credits.map(({ credit, name }) => ({
      packageId: credit.packageId,
      name: name ?? null,
      royalty: credit.royalty.toString(),
      upstream: credit.upstream.toString(),
      executorFee: credit.executorFee.toString(),
      total: credit.total.toString(),
    })),
    claims: claimRows.map((r) => ({ to: r.to, amount: r.amount.toString(), blockNumber: r.blockNumber.toString(), transactionHash: r.transactionHash })),
    packages: owned.map((p) => p.name),
    executor: executor ? executorJson(executor) : null,
    spent: {
      paidCalls: spent?.paidCalls ?? "0",
      royalty: spent?.royalty ?? "0",
      executorFees: spent?.executorFees ?? "0",
      total: (BigInt(spent?.royalty ?? 0) + BigInt(spent?.executorFees ?? 0)).toString(),
    },
    payments: payments.map(({ receipt, name, version }) => ({
      receiptId: receipt.id,
      name: name ?? null,
      version: version ?? null,
      versionId: receipt.versionId,
      executor: receipt.executor,
      royalty: receipt.royalty.toString(),
      executorFee: receipt.executorFee.toString(),
      timestamp: receipt.timestamp.toString(),
      transactionHash: receipt.transactionHash,
    })),
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
