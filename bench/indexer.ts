/**
 * Indexer benchmark (`npm run bench:indexer`): seeds a local chain with packages and royalty lines settled in
 * settleRoyalties batches (payments v2), then, for PGlite and PostgreSQL in turn, measures with the real Ponder process:
 *   - backfill throughput (events/s) from a cold start over the seeded history,
 *   - block-to-searchable latency of a new publication (p50/p99),
 *   - GET /search latency over the catalog (p50/p99).
 * Flags: --packages N (10000) --receipts N (100000) --batch N (500 royalty lines per settleRoyalties)
 *        --samples N (30 publications) --searches N (300) --databases pglite,postgres
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { createPublicClient, createTestClient, publicActions, encodeFunctionData, http, keccak256, parseEventLogs, toHex, type Address, type Hex, type LocalAccount } from "viem";
import { capabilityRegistryAbi, localUsdcAbi, settlementAbi } from "../sdk/abi.ts";
import type { Deployment } from "../sdk/deployment.ts";
import { packageIdOf, sha256Hex, versionIdOf } from "../sdk/ids.ts";
import { ACCESS_MODE_CODE, canonicalManifestJson, type AccessMode } from "../sdk/manifest.ts";
import { encodeRoyaltyLine } from "../sdk/royalty-batch.ts";
import { devAccount, devPrivateKey, startLocalChain, type LocalChain } from "../test/helpers/chain.ts";
import { deployForTest } from "../test/helpers/deploy.ts";
import { GlassboxActor, testManifest } from "../test/helpers/glassbox.ts";
import { startIndexer, type IndexerDatabase, type RunningIndexer } from "../cli/dev/indexer.ts";
import { createTestDatabase, isPostgresReachable, TEST_DATABASE_URL, uniqueSchemaName } from "../test/helpers/postgres.ts";
import { WaitAbortedError, waitFor } from "../cli/dev/wait.ts";

const { values: flags } = parseArgs({
  options: {
    packages: { type: "string", default: "10000" },
    receipts: { type: "string", default: "100000" },
    batch: { type: "string", default: "500" },
    samples: { type: "string", default: "30" },
    searches: { type: "string", default: "300" },
    databases: { type: "string", default: "pglite,postgres" },
  },
});
const count = (name: keyof typeof flags) => {
  const n = Number(flags[name]);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${flags[name]}`);
  return n;
};
const PACKAGES = count("packages");
const RECEIPTS = count("receipts");
const BATCH = Math.max(1, count("batch"));
const SAMPLES = count("samples");
const SEARCHES = count("searches");
const DATABASES = String(flags.databases).split(",").filter(Boolean) as IndexerDatabase["kind"][];

const VOCABULARY = (
  "markdown html render parse csv json yaml toml xml pdf image resize crop thumbnail compress zip gzip brotli " +
  "encrypt decrypt hash sign verify token jwt oauth email validate phone address geocode route distance " +
  "translate language detect sentiment summarize classify embed vector search index sort filter dedupe " +
  "diff patch merge format lint minify bundle transpile compile regex template invoice receipt tax currency " +
  "convert units date time calendar schedule cron queue retry cache store audio video transcode subtitle"
).split(" ");
const LICENSES = ["MIT", "Apache-2.0", "GPL-3.0", "BSD-3-Clause", "MPL-2.0"];
const EXECUTOR_FEE = 100n;
/** Executors settling in parallel (each its own contiguous sequence). */
const EXECUTORS = 4;

let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const stats = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? NaN) };
};
const round = (x: number) => Math.round(x * 10) / 10;
const log = (msg: string) => console.error(`[bench:indexer ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** Raw transactions from many senders, mined one block at a time (automine off). */
class BlockBuilder {
  private readonly nonces = new Map<Address, number>();
  private pending: Promise<unknown>[] = [];
  private readonly client;
  blocks = 0;

  constructor(private readonly chain: LocalChain) {
    this.client = createPublicClient({ transport: http(chain.rpcUrl, { batch: { batchSize: 100 } }) });
  }

  async send(account: LocalAccount, to: Address, data: Hex, gas: bigint): Promise<void> {
    if (!this.nonces.has(account.address)) {
      this.nonces.set(account.address, await this.client.getTransactionCount({ address: account.address, blockTag: "pending" }));
    }
    const nonce = this.nonces.get(account.address)!;
    this.nonces.set(account.address, nonce + 1);
    const raw = await account.signTransaction!({
      chainId: this.chain.chainId,
      type: "eip1559",
      nonce,
      to,
      data,
      gas,
      maxFeePerGas: 1n,
      maxPriorityFeePerGas: 0n,
    });
    this.pending.push(this.client.request({ method: "eth_sendRawTransaction", params: [raw] }));
  }

  /** Mines until every sent transaction is in a block. */
  async mine(): Promise<void> {
    await Promise.all(this.pending);
    this.pending = [];
    for (;;) {
      await this.chain.mineBlock();
      this.blocks++;
      const block = await this.client.getBlock({ blockTag: "pending" });
      if (block.transactions.length === 0) return;
    }
  }
}

interface SeededVersion {
  versionId: Hex;
  mode: AccessMode;
  price: bigint;
  fuelPricePerMillion: bigint;
}

async function seedPackages(chain: LocalChain, deployment: Deployment, builder: BlockBuilder): Promise<SeededVersion[]> {
  const publishers = Array.from({ length: 8 }, (_, i) => devAccount(10 + i));
  const versions: SeededVersion[] = [];
  const perBlock = 400;
  for (let i = 0; i < PACKAGES; i++) {
    const publisher = publishers[i % publishers.length]!;
    const name = `scope-${i % publishers.length}/${pick(VOCABULARY)}-${pick(VOCABULARY)}-${i}`;
    const mode = pick(["free", "per-call", "per-fuel"] as const);
    const price = mode === "free" ? 0n : BigInt(100 + Math.floor(random() * 9_900));
    const fuelPricePerMillion = mode === "per-fuel" ? BigInt(1 + Math.floor(random() * 50)) : 0n;
    const manifest = {
      ...testManifest({ name, version: "1.0.0", recipient: publisher.address }),
      description: Array.from({ length: 8 }, () => pick(VOCABULARY)).join(" "),
      keywords: [pick(VOCABULARY), pick(VOCABULARY), pick(VOCABULARY)],
      license: pick(LICENSES),
      access: { mode, price: price.toString(), fuelPricePerMillion: fuelPricePerMillion.toString() },
      functions: [{ name: `${pick(VOCABULARY)}-${pick(VOCABULARY)}`, params: [{ name: "input", type: "string" }], result: "string" }],
    };
    const manifestText = canonicalManifestJson(manifest);
    const packageId = packageIdOf(name);
    await builder.send(
      publisher,
      deployment.contracts.registry,
      encodeFunctionData({ abi: capabilityRegistryAbi, functionName: "registerPackage", args: [name, 0] }),
      400_000n,
    );
    await builder.send(
      publisher,
      deployment.contracts.registry,
      encodeFunctionData({
        abi: capabilityRegistryAbi,
        functionName: "publishVersion",
        args: [
          packageId,
          "1.0.0",
          {
            hashes: { componentHash: sha256Hex(`c${i}`), witHash: sha256Hex(`w${i}`), testsHash: sha256Hex(`t${i}`), manifestHash: sha256Hex(manifestText) },
            accessMode: ACCESS_MODE_CODE[mode],
            price,
            fuelPricePerMillion,
            splits: manifest.splits,
            manifest: manifestText,
          },
        ],
      }),
      1_500_000n,
    );
    versions.push({ versionId: versionIdOf(packageId, "1.0.0"), mode, price, fuelPricePerMillion });
    if ((i + 1) % (perBlock / 2) === 0) await builder.mine();
    if ((i + 1) % 2_000 === 0) log(`  ${i + 1} packages`);
  }
  await builder.mine();
  return versions;
}

/**
 * Settled royalty lines (payments v2): EXECUTORS executors each settle their own contiguous sequence in
 * settleRoyalties batches of BATCH lines over random versions. Lines carry receipt-id prefixes only (Settlement
 * checks receipts when a slash proof comes, not at settlement), so seeding needs no signatures.
 */
async function seedReceipts(chain: LocalChain, deployment: Deployment, builder: BlockBuilder, versions: SeededVersion[]): Promise<number> {
  const executors = Array.from({ length: EXECUTORS }, (_, i) => devAccount(2 + i)); // publishers are 10-17
  for (const [i, executor] of executors.entries()) {
    await new GlassboxActor(executor, chain.rpcUrl, deployment).registerExecutor(`http://127.0.0.1:9/bench${i}`, EXECUTOR_FEE);
  }
  await createTestClient({ mode: "hardhat", transport: http(chain.rpcUrl) }).setAutomine(false);
  for (const executor of executors) {
    await builder.send(executor, deployment.contracts.usdc, encodeFunctionData({ abi: localUsdcAbi, functionName: "mint", args: [executor.address, 10n ** 15n] }), 100_000n);
    await builder.send(executor, deployment.contracts.usdc, encodeFunctionData({ abi: localUsdcAbi, functionName: "approve", args: [deployment.contracts.settlement, 10n ** 15n] }), 100_000n);
  }
  await builder.mine();

  let batches = 0;
  for (let done = 0; done < RECEIPTS; done += BATCH) {
    const batchVersions: Hex[] = [];
    const index = new Map<Hex, number>();
    const lines: bigint[] = [];
    for (let j = 0; j < Math.min(BATCH, RECEIPTS - done); j++) {
      const v = pick(versions);
      const fuel = BigInt(1_000 + Math.floor(random() * 100_000));
      const royalty = v.price + (fuel * v.fuelPricePerMillion + 999_999n) / 1_000_000n;
      let at = index.get(v.versionId);
      if (at === undefined) {
        at = batchVersions.length;
        batchVersions.push(v.versionId);
        index.set(v.versionId, at);
      }
      lines.push(encodeRoyaltyLine(keccak256(toHex(BigInt(done + j + 1), { size: 32 })), at, royalty));
    }
    // Per version: registry reads and credits up its fork chain; per line: a calldata word and a sum.
    const gas = BigInt(batchVersions.length) * 250_000n + BigInt(lines.length) * 3_000n + 300_000n;
    await builder.send(
      executors[batches % executors.length]!,
      deployment.contracts.settlement,
      encodeFunctionData({ abi: settlementAbi, functionName: "settleRoyalties", args: [batchVersions, lines] }),
      gas,
    );
    batches++;
    if (batches % 8 === 0) await builder.mine();
    if ((done + BATCH) % 10_000 < BATCH) log(`  ${Math.min(done + BATCH, RECEIPTS)} royalty lines sent`);
  }
  await builder.mine();
  return batches;
}

async function countEvents(chain: LocalChain, deployment: Deployment): Promise<{ total: number; batches: number; lines: number }> {
  const client = createPublicClient({ transport: http(chain.rpcUrl) });
  const latest = await client.getBlockNumber();
  let total = 0;
  let batches = 0;
  let lines = 0;
  // One block at a time: a block of large batches holds many Credited logs (viem caps bodies at 10 MB).
  for (let from = BigInt(deployment.startBlock); from <= latest; from += 1n) {
    const logs = await client.getLogs({ address: [deployment.contracts.registry, deployment.contracts.settlement], fromBlock: from, toBlock: from });
    total += logs.length;
    for (const event of parseEventLogs({ abi: settlementAbi, logs, eventName: "RoyaltiesSettled" })) {
      batches++;
      lines += Number(event.args.count);
    }
  }
  return { total, batches, lines };
}

/** How often PostgreSQL used the full-text GIN index (proof that /search does not scan the table). */
async function searchIndexScans(url: string, schema: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ idx_scan: string }>(
      "SELECT idx_scan FROM pg_stat_user_indexes WHERE schemaname = $1 AND indexrelname = 'packages_search_idx'",
      [schema],
    );
    return Number(rows[0]?.idx_scan ?? 0);
  } finally {
    await client.end();
  }
}

async function graphqlCounts(indexer: RunningIndexer): Promise<{ receipts: number; packages: number }> {
  const res = await fetch(`${indexer.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ royaltyBatchess { totalCount } packagess { totalCount } }" }),
  });
  const body = (await res.json()) as { data?: { royaltyBatchess: { totalCount: number }; packagess: { totalCount: number } } };
  return { receipts: body.data?.royaltyBatchess.totalCount ?? -1, packages: body.data?.packagess.totalCount ?? -1 };
}

async function measure(kind: IndexerDatabase["kind"], chain: LocalChain, deployment: Deployment, events: number, expected: { receipts: number; packages: number }) {
  const schema = uniqueSchemaName(`bench_${kind}`);
  const dir = kind === "pglite" ? mkdtempSync(path.join(tmpdir(), "glassbox-bench-")) : undefined;
  const postgres = kind === "postgres" ? await createTestDatabase("glassbox_bench") : undefined;
  const database: IndexerDatabase = postgres ? { kind: "postgres", url: postgres.url } : { kind: "pglite", directory: dir! };
  const started = performance.now();
  const indexer = await startIndexer({ rpcUrl: chain.rpcUrl, deployment, database, schema });
  try {
    await waitFor(
      async () => {
        const exit = indexer.exitStatus();
        if (exit) throw new WaitAbortedError(`ponder exited (code ${exit.code}): ${indexer.logs.slice(-20).join("\n")}`);
        // Rows become visible while the backfill runs: wait for Ponder to finish it, then for every row.
        if (!indexer.logs.some((l) => l.includes("Completed backfill indexing across all chains"))) return undefined;
        const c = await graphqlCounts(indexer);
        return c.receipts >= expected.receipts && c.packages >= expected.packages ? c : undefined;
      },
      { timeoutMs: 3_600_000, intervalMs: 250, what: `the ${kind} backfill` },
    );
    const backfillSeconds = (performance.now() - started) / 1000;
    const completed = indexer.logs
      .filter((l) => l.includes("Completed backfill indexing across all chains"))
      .map((l) => JSON.parse(l) as { duration?: number })[0];
    log(`${kind}: backfill of ${events} events done in ${backfillSeconds.toFixed(1)} s`);

    // Search latency over the catalog: single words, two words, filters.
    const queries = Array.from({ length: SEARCHES }, (_, i) => {
      const shape = i % 4;
      if (shape === 0) return `q=${pick(VOCABULARY)}`;
      if (shape === 1) return `q=${pick(VOCABULARY)}%20${pick(VOCABULARY)}`;
      if (shape === 2) return `q=${pick(VOCABULARY).slice(0, 3)}&access=per-call&maxPrice=5000`;
      return `license=${pick(LICENSES)}&hasForks=false&limit=50`;
    });
    for (const q of queries.slice(0, 20)) await indexer.get(`/search?${q}`); // warm-up
    const searchMs: number[] = [];
    for (const q of queries) {
      const t = performance.now();
      await indexer.get(`/search?${q}`);
      searchMs.push(performance.now() - t);
    }

    // Block-to-searchable latency: from the publication's receipt (block mined) to the first search hit.
    const publisher = new GlassboxActor(devAccount(1), chain.rpcUrl, deployment);
    const latencyMs: number[] = [];
    // Sample -1 is a warm-up (the first live block after the backfill also settles Ponder's caches).
    for (let i = -1; i < SAMPLES; i++) {
      const token = `zq${kind}${i + 1}x${Math.floor(random() * 1e9)}`;
      const name = `fresh-${kind}/${token}`;
      await publisher.registerPackage(name);
      await publisher.publishVersion(name, "1.0.0", {
        manifest: { ...testManifest({ name, version: "1.0.0", recipient: publisher.address }), description: `fresh ${token}` },
      });
      const t = performance.now();
      await waitFor(async () => ((await indexer.get<{ total: number }>(`/search?q=${token}`)).total === 1 ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 5,
        what: `${name} in search`,
      });
      if (i >= 0) latencyMs.push(performance.now() - t);
    }
    return {
      database: kind,
      ...(postgres ? { searchIndexScans: await searchIndexScans(postgres.url, schema) } : {}),
      backfill: {
        events,
        wallSeconds: round(backfillSeconds),
        eventsPerSecond: Math.round(events / backfillSeconds),
        ponderBackfillSeconds: completed?.duration ? round(completed.duration / 1000) : null,
        ponderEventsPerSecond: completed?.duration ? Math.round(events / (completed.duration / 1000)) : null,
      },
      blockToSearchableMs: stats(latencyMs),
      searchMs: stats(searchMs),
    };
  } catch (error) {
    log(`${kind} indexer log tail:\n${indexer.logs.slice(-40).join("\n")}`);
    throw error;
  } finally {
    await indexer.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await postgres?.drop();
  }
}

async function main(): Promise<void> {
  if (DATABASES.includes("postgres") && !(await isPostgresReachable())) {
    throw new Error(`PostgreSQL is not reachable at ${TEST_DATABASE_URL}: start it, set TEST_DATABASE_URL, or pass --databases pglite.`);
  }
  // Base fee 0 keeps fees flat across hundreds of full blocks; a large gas limit packs many transactions per block.
  const chain = await startLocalChain({ blockGasLimit: 1_000_000_000n, initialBaseFeePerGas: 0n, transactionGasCap: false });
  try {
    const deployment = await deployForTest(chain.rpcUrl);
    const client = createTestClient({ mode: "hardhat", transport: http(chain.rpcUrl) }).extend(publicActions);
    await client.setAutomine(false);
    const builder = new BlockBuilder(chain);
    let t = performance.now();
    log(`seeding ${PACKAGES} packages`);
    const versions = await seedPackages(chain, deployment, builder);
    const packagesSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    log(`seeding ${RECEIPTS} receipts in batches of ${BATCH}`);
    await client.setAutomine(true);
    const batches = RECEIPTS > 0 ? await seedReceipts(chain, deployment, builder, versions) : 0;
    await client.setAutomine(true);
    const receiptsSeconds = (performance.now() - t) / 1000;
    // Ponder treats the newest 30 blocks as unfinalized and indexes them block by block (its live path):
    // bury the seeded history under 32 empty blocks so the measurement is of the backfill path.
    for (let i = 0; i < 32; i++) await chain.mineBlock();
    const events = await countEvents(chain, deployment);
    if (events.lines !== RECEIPTS || events.batches !== batches) {
      const latest = await client.getBlock({ includeTransactions: true });
      for (const tx of latest.transactions.slice(0, 3)) {
        const r = await client.getTransactionReceipt({ hash: tx.hash });
        log(`debug block ${latest.number} tx to ${tx.to} status ${r.status} gasUsed ${r.gasUsed} gas ${tx.gas} logs ${r.logs.length}`);
      }
    }
    if (events.lines !== RECEIPTS || events.batches !== batches) {
      throw new Error(`expected ${RECEIPTS} royalty lines in ${batches} batches, the chain has ${events.lines} in ${events.batches}`);
    }
    const blocks = Number(await chain.blockNumber());
    log(`seeded: ${events.total} events in ${blocks} blocks (packages ${packagesSeconds.toFixed(0)} s, receipts ${receiptsSeconds.toFixed(0)} s)`);

    const results = [];
    let extraPackages = 0;
    for (const kind of DATABASES) {
      const eventsNow = kind === DATABASES[0] ? events.total : (await countEvents(chain, deployment)).total;
      const result = await measure(kind, chain, deployment, eventsNow, { receipts: batches, packages: PACKAGES + extraPackages }).catch(
        (error: unknown) => ({ database: kind, error: error instanceof Error ? error.message.slice(0, 2_000) : String(error) }),
      );
      // Printed as soon as known: a later failure must not lose it.
      log(`${kind} result: ${JSON.stringify(result)}`);
      results.push(result);
      extraPackages += SAMPLES + 1;
    }
    const report = {
      sizes: { packages: PACKAGES, receipts: RECEIPTS, batch: BATCH, settleRoyaltiesTransactions: batches, blocks, events: events.total, searches: SEARCHES, publications: SAMPLES },
      seedingSeconds: { packages: round(packagesSeconds), receipts: round(receiptsSeconds) },
      targets: { blockToSearchableP50Ms: 500, searchP50Ms: 25 },
      results,
    };
    console.log(JSON.stringify(report, null, 2));
    console.log("\ndatabase  | backfill events/s (wall, ponder) | block->searchable p50/p99 ms | search p50/p99 ms");
    for (const r of results) {
      if ("error" in r) {
        console.log(`${r.database.padEnd(9)} | failed: ${r.error.split("\n")[0]}`);
        continue;
      }
      console.log(
        `${r.database.padEnd(9)} | ${String(r.backfill.eventsPerSecond).padStart(6)}, ${String(r.backfill.ponderEventsPerSecond ?? "-").padStart(6)}` +
          `                  | ${r.blockToSearchableMs.p50} / ${r.blockToSearchableMs.p99}` +
          `                  | ${r.searchMs.p50} / ${r.searchMs.p99}`,
      );
    }
  } finally {
    await chain.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);
