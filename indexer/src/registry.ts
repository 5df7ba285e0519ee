import { ponder, type Context } from "ponder:registry";
import { executors, forks, packages, scopes, versions } from "ponder:schema";
import { parseManifest } from "../lib/manifest.ts";
import { compareSemver as compareVersions } from "../../sdk/semver.ts";
import { ACCESS_MODES, searchTextOf } from "../lib/catalog.ts";

type Db = Context["db"];
type Hex = `0x${string}`;
type VersionRow = typeof versions.$inferSelect;

const ZERO_BYTES32 = `0x${"0".repeat(64)}` as const;

/** The package columns that mirror its latest callable version (what search filters and ranks on). */
function latestColumns(pkgName: string, v: VersionRow) {
  const functionNames = v.functions.map((f) => f.name);
  return {
    latestVersionId: v.id,
    latestVersion: v.version,
    accessMode: v.accessMode,
    price: v.price,
    fuelPricePerMillion: v.fuelPricePerMillion,
    splits: v.splits,
    description: v.description,
    keywords: v.keywords,
    license: v.license,
    functionNames,
    searchText: searchTextOf(pkgName, v.description, v.keywords, functionNames),
  };
}

/** Highest-semver version of the package that is not yanked, or undefined when none is callable. */
async function latestCallable(db: Db, versionIds: readonly Hex[]): Promise<VersionRow | undefined> {
  let best: VersionRow | undefined;
  for (const id of versionIds) {
    const v = await db.find(versions, { id });
    if (v && !v.yanked && (best === undefined || compareVersions(v.version, best.version) > 0)) best = v;
  }
  return best;
}

ponder.on("CapabilityRegistry:ScopeClaimed", async ({ event, context }) => {
  await context.db
    .insert(scopes)
    .values({ id: event.args.scopeId, scope: event.args.scope, owner: event.args.owner, claimedBlock: event.block.number })
    .onConflictDoUpdate({ owner: event.args.owner });
});

ponder.on("CapabilityRegistry:ScopeTransferred", async ({ event, context }) => {
  const scope = await context.db.find(scopes, { id: event.args.scopeId });
  if (scope) await context.db.update(scopes, { id: event.args.scopeId }).set({ owner: event.args.to });
});

ponder.on("CapabilityRegistry:PackageRegistered", async ({ event, context }) => {
  const { packageId, name, owner, parentVersionId, upstreamShareBps, minForkShareBps } = event.args;
  const slash = name.indexOf("/");
  const isFork = parentVersionId !== ZERO_BYTES32;
  const parentVersion = isFork ? await context.db.find(versions, { id: parentVersionId }) : null;
  const parentPackage = parentVersion ? await context.db.find(packages, { id: parentVersion.packageId }) : null;
  const forkDepth = isFork ? (parentPackage?.forkDepth ?? 0) + 1 : 0;

  await context.db.insert(packages).values({
    id: packageId,
    name,
    scope: slash > 0 ? name.slice(0, slash) : name,
    shortName: slash > 0 ? name.slice(slash + 1) : name,
    owner,
    minForkShareBps,
    parentVersionId: isFork ? parentVersionId : null,
    parentPackageId: parentVersion?.packageId ?? null,
    upstreamShareBps,
    forkDepth,
    forkCount: 0,
    registeredBlock: event.block.number,
    registeredAt: event.block.timestamp,
    versionIds: [],
    searchText: searchTextOf(name, null, [], []),
    paidCalls: 0n,
    royaltyRevenue: 0n,
    licenceCount: 0,
    licenceRevenue: 0n,
  });

  if (isFork) {
    await context.db.insert(forks).values({
      id: packageId,
      childName: name,
      parentVersionId,
      parentPackageId: parentVersion?.packageId ?? null,
      upstreamShareBps,
      depth: forkDepth,
      createdBlock: event.block.number,
    });
    if (parentPackage) {
      await context.db.update(packages, { id: parentPackage.id }).set((row) => ({ forkCount: row.forkCount + 1 }));
    }
  }
});

ponder.on("CapabilityRegistry:PackageTransferred", async ({ event, context }) => {
  const pkg = await context.db.find(packages, { id: event.args.packageId });
  if (pkg) await context.db.update(packages, { id: pkg.id }).set({ owner: event.args.to });
});

ponder.on("CapabilityRegistry:MinForkShareUpdated", async ({ event, context }) => {
  const pkg = await context.db.find(packages, { id: event.args.packageId });
  if (pkg) await context.db.update(packages, { id: pkg.id }).set({ minForkShareBps: event.args.minForkShareBps });
});

ponder.on("CapabilityRegistry:VersionPublished", async ({ event, context }) => {
  const { versionId, packageId, version, hashes, accessMode, price, fuelPricePerMillion, splits, manifest } = event.args;
  const pkg = await context.db.find(packages, { id: packageId });
  const fields = parseManifest(manifest);
  const row = await context.db.insert(versions).values({
    id: versionId,
    packageId,
    packageName: pkg?.name ?? "",
    version,
    componentHash: hashes.componentHash,
    witHash: hashes.witHash,
    testsHash: hashes.testsHash,
    manifestHash: hashes.manifestHash,
    accessMode: ACCESS_MODES[accessMode] ?? `unknown-${accessMode}`,
    price,
    fuelPricePerMillion,
    splits: splits.map((s) => ({ recipient: s.recipient, bps: s.bps })),
    manifest,
    manifestValid: fields.valid,
    manifestError: fields.error,
    description: fields.description,
    keywords: fields.keywords,
    license: fields.license,
    repository: fields.repository,
    witWorld: fields.witWorld,
    witInterface: fields.witInterface,
    functions: fields.functions,
    capabilities: fields.capabilities,
    yanked: false,
    publishedBlock: event.block.number,
    publishedAt: event.block.timestamp,
    transactionHash: event.transaction.hash,
    paidCalls: 0n,
    royaltyRevenue: 0n,
    licencePrice: null,
    licenceCount: 0,
    licenceRevenue: 0n,
  });
  if (!pkg) return;
  const isLatest = pkg.latestVersion == null || compareVersions(version, pkg.latestVersion) > 0;
  await context.db
    .update(packages, { id: packageId })
    .set({ versionIds: [...pkg.versionIds, versionId], ...(isLatest ? latestColumns(pkg.name, row) : {}) });
});

ponder.on("CapabilityRegistry:VersionYanked", async ({ event, context }) => {
  const { versionId, packageId } = event.args;
  const version = await context.db.find(versions, { id: versionId });
  if (!version) return;
  await context.db.update(versions, { id: versionId }).set({ yanked: true, yankedBlock: event.block.number });
  const pkg = await context.db.find(packages, { id: packageId });
  if (!pkg || pkg.latestVersionId !== versionId) return;
  const next = await latestCallable(context.db, pkg.versionIds);
  // With no callable version left the descriptive columns stay (the package is still findable with
  // includeUncallable) but nothing is offered to call.
  await context.db.update(packages, { id: packageId }).set(
    next
      ? latestColumns(pkg.name, next)
      : { latestVersionId: null, latestVersion: null, accessMode: null, price: null, fuelPricePerMillion: null },
  );
});

// Price 0 withdraws the offer: stored as null so readers never mistake it for a free licence.
ponder.on("CapabilityRegistry:LicenceOffered", async ({ event, context }) => {
  const { versionId, price } = event.args;
  const version = await context.db.find(versions, { id: versionId });
  if (version) await context.db.update(versions, { id: versionId }).set({ licencePrice: price === 0n ? null : price });
});

// A key registers once: the registry refuses a retired operator, and the fee never changes afterwards.
ponder.on("CapabilityRegistry:ExecutorRegistered", async ({ event, context }) => {
  const { operator, endpoint, feePerCall } = event.args;
  await context.db.insert(executors).values({
    id: operator,
    endpoint,
    feePerCall,
    active: true,
    retired: false,
    registeredBlock: event.block.number,
    updatedBlock: event.block.number,
    retiredBlock: null,
  });
});

// The event repeats the (immutable) fee for readers; only the endpoint can change.
ponder.on("CapabilityRegistry:ExecutorUpdated", async ({ event, context }) => {
  const existing = await context.db.find(executors, { id: event.args.operator });
  if (existing) {
    await context.db.update(executors, { id: event.args.operator }).set({ endpoint: event.args.endpoint, updatedBlock: event.block.number });
  }
});

ponder.on("CapabilityRegistry:ExecutorDeregistered", async ({ event, context }) => {
  const existing = await context.db.find(executors, { id: event.args.operator });
  if (existing) {
    await context.db
      .update(executors, { id: event.args.operator })
      .set({ active: false, retired: true, updatedBlock: event.block.number, retiredBlock: event.block.number });
  }
});
