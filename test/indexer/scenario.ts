/**
 * The indexer end-to-end scenario, run once per database (PGlite and PostgreSQL): real Hardhat chain,
 * real contracts (deploy script), real Ponder process, real signatures. Assertions poll the API.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hex } from "viem";
import type { Deployment } from "../../sdk/deployment.ts";
import { packageIdOf, versionIdOf } from "../../sdk/ids.ts";
import { devAccount, startLocalChain, type LocalChain } from "../helpers/chain.ts";
import { deployForTest } from "../helpers/deploy.ts";
import { GlassboxActor, testManifest } from "../helpers/glassbox.ts";
import { startIndexer, type IndexerDatabase, type RunningIndexer } from "../../cli/dev/indexer.ts";
import { paidCall } from "../helpers/payments.ts";
import { createTestDatabase, uniqueSchemaName, type TestDatabase } from "../helpers/postgres.ts";
import { WaitAbortedError, waitFor } from "../../cli/dev/wait.ts";

interface SearchResponse {
  total: number;
  results: {
    name: string;
    callableVersion: { versionId: string; version: string } | null;
    accessMode: string | null;
    price: string | null;
    forkCount: number;
    usage: { paidCalls: string; distinctPayers: number };
    functionNames: string[];
  }[];
}

interface PackageResponse {
  package: { name: string; owner: string; callableVersion: { version: string } | null; forkCount: number; fork: unknown };
  versions: {
    version: string;
    yanked: boolean;
    callable: boolean;
    hashes: Record<string, string>;
    manifest: {
      valid: boolean;
      error: string | null;
      raw: string;
      keywords: string[];
      functions: { name: string; signature: string | null }[];
      dependencies: { package: string; range: string; maxRoyaltyPerCall: string }[];
    };
    usage: { paidCalls: string; distinctPayers: number; royaltyRevenue: string };
  }[];
  forks: { name: string; parentVersion: string; upstreamShareBps: number }[];
  dependencies: { name: string; version: string; versionId: string | null; range: string; maxRoyaltyPerCall: string }[];
  dependents: { name: string; version: string; versionId: string; range: string }[];
  upstream: { name: string; version: string; upstreamShareBps: number }[];
  earnings: { paidCalls: string; distinctPayers: number; royaltyRevenue: string; recipients: { account: string; royalty: string; upstream: string; total: string }[] };
}

interface AccountResponse {
  credited: string;
  claimed: string;
  claimable: string;
  earnings: { name: string | null; royalty: string; upstream: string; executorFee: string; total: string }[];
  packages: string[];
  spent: { paidCalls: string; royalty: string; executorFees: string; total: string };
  payments: { name: string | null; version: string | null; royalty: string; executorFee: string; timestamp: string }[];
}

interface ActivityResponse {
  interval: number;
  buckets: { start: string; paidCalls: string; royaltyRevenue: string; executorFees: string }[];
}

interface ExecutorsResponse {
  executors: { address: string; endpoint: string; feePerCall: string; active: boolean; settledCalls: string; feesEarned: string }[];
}

const PRICE = 1_000n;
const FEE = 200n;
const NEW_FEE = 250n;

export function indexerScenario(kind: IndexerDatabase["kind"]): void {
  describe(`indexer on ${kind}`, () => {
    let chain: LocalChain;
    let deployment: Deployment;
    let indexer: RunningIndexer;
    let database: IndexerDatabase;
    let schema: string;
    let pgliteDir: string | undefined;
    let postgres: TestDatabase | undefined;

    const alice = () => new GlassboxActor(devAccount(1), chain.rpcUrl, deployment);
    const bob = () => new GlassboxActor(devAccount(2), chain.rpcUrl, deployment);
    const executorAccount = devAccount(3);
    const executor2Account = devAccount(4);
    const payer1 = devAccount(5);
    const payer2 = devAccount(6);
    const carol = () => new GlassboxActor(devAccount(7), chain.rpcUrl, deployment);
    const relayer = () => new GlassboxActor(devAccount(8), chain.rpcUrl, deployment);

    const markdown = packageIdOf("acme/markdown");
    const markdown100 = versionIdOf(markdown, "1.0.0");
    const markdown110 = versionIdOf(markdown, "1.1.0");
    const plus100 = versionIdOf(packageIdOf("bob/markdown-plus"), "1.0.0");

    const start = () => startIndexer({ rpcUrl: chain.rpcUrl, deployment, database, schema });
    const poll = <T>(what: string, probe: () => Promise<T | undefined>) =>
      waitFor(
        async () => {
          const exit = indexer.exitStatus();
          if (exit) throw new WaitAbortedError(`ponder exited (code ${exit.code}):\n${indexer.logs.slice(-20).join("\n")}`);
          return probe();
        },
        { timeoutMs: 60_000, what },
      );
    const search = (query: string) => indexer.get<SearchResponse>(`/search?${query}`);
    const pkg = (name: string) => indexer.get<PackageResponse>(`/packages/${name}`);
    const account = (address: string) => indexer.get<AccountResponse>(`/accounts/${address}`);

    beforeAll(async () => {
      chain = await startLocalChain();
      deployment = await deployForTest(chain.rpcUrl);
      schema = uniqueSchemaName(`idx_${kind}`);
      if (kind === "pglite") {
        pgliteDir = mkdtempSync(path.join(tmpdir(), "glassbox-indexer-"));
        database = { kind, directory: pgliteDir };
      } else {
        postgres = await createTestDatabase("glassbox_idx");
        database = { kind, url: postgres.url };
      }

      // History before the indexer starts: exercised by the backfill.
      const a = alice();
      await a.registerPackage("acme/markdown", 1_000);
      await a.publishVersion("acme/markdown", "1.0.0", {
        manifest: {
          ...testManifest({ name: "acme/markdown", version: "1.0.0", recipient: a.address }),
          description: "Render Markdown documents to HTML",
          keywords: ["markdown", "html"],
          functions: [{ name: "render-html", params: [{ name: "source", type: "string" }], result: "string" }],
        },
      });
      await a.publishVersion("acme/markdown", "1.1.0", {
        manifest: {
          ...testManifest({ name: "acme/markdown", version: "1.1.0", recipient: a.address }),
          description: "Render Markdown documents to HTML, with tables",
          keywords: ["markdown", "html", "tables"],
          functions: [{ name: "render-html", params: [{ name: "source", type: "string" }], result: "string" }],
        },
      });
      await a.registerPackage("acme/pdf-tools");
      await a.publishVersion("acme/pdf-tools", "0.1.0", {
        manifest: {
          ...testManifest({ name: "acme/pdf-tools", version: "0.1.0", recipient: a.address }),
          description: "Extract text from PDF files",
          license: "MIT",
          access: { mode: "free", price: "0", fuelPricePerMillion: "0" },
          functions: [{ name: "extract-text", params: [{ name: "pdf", type: "list<u8>" }], result: "string" }],
        },
      });
      await new GlassboxActor(executorAccount, chain.rpcUrl, deployment).registerExecutor("http://127.0.0.1:9/exec", FEE);

      indexer = await start();
    });

    afterAll(async () => {
      await indexer?.stop();
      await chain?.close();
      if (pgliteDir) rmSync(pgliteDir, { recursive: true, force: true });
      await postgres?.drop();
    });

    it("backfills packages, versions and executors, and finds them by name, description, keywords and function names", async () => {
      // The executor registration is the last backfilled event: once it shows, everything before it has.
      await poll("the backfill", async () => ((await indexer.get<ExecutorsResponse>("/executors")).executors.length > 0 ? true : undefined));
      const found = await search("q=markdown");
      expect(found.results.map((r) => r.name)).toEqual(["acme/markdown"]);
      expect(found.results[0]!.callableVersion?.version).toBe("1.1.0");
      expect(found.results[0]!.accessMode).toBe("per-call");
      expect(found.results[0]!.price).toBe(PRICE.toString());

      expect((await search("q=render")).results.map((r) => r.name)).toEqual(["acme/markdown"]); // WIT function name (prefix)
      expect((await search("q=tables")).results.map((r) => r.name)).toEqual(["acme/markdown"]); // keyword of the latest version
      expect((await search("q=pdf%20text")).results.map((r) => r.name)).toEqual(["acme/pdf-tools"]);
      expect((await search("q=extracting")).results.map((r) => r.name)).toEqual(["acme/pdf-tools"]); // stemmed
      expect((await search("q=nothing-like-this")).results).toEqual([]);

      expect((await search("access=free")).results.map((r) => r.name)).toEqual(["acme/pdf-tools"]);
      expect((await search("maxPrice=999")).results.map((r) => r.name)).toEqual(["acme/pdf-tools"]);
      expect((await search("maxPrice=1000")).total).toBe(2);
      expect((await search("license=mit")).results.map((r) => r.name)).toEqual(["acme/pdf-tools"]);
      const page = await search("limit=1&offset=1");
      expect(page.total).toBe(2);
      expect(page.results).toHaveLength(1);

      const detail = await pkg("acme/markdown");
      expect(detail.versions.map((v) => v.version)).toEqual(["1.0.0", "1.1.0"]);
      expect(detail.versions[1]!.manifest.valid).toBe(true);
      expect(detail.versions[1]!.manifest.keywords).toEqual(["markdown", "html", "tables"]);
      expect(detail.versions[1]!.manifest.functions).toEqual([{ name: "render-html", signature: "render-html: func(source: string) -> string" }]);
      expect(Object.keys(detail.versions[0]!.hashes).sort()).toEqual(["componentHash", "manifestHash", "testsHash", "witHash"]);

      const executors = await indexer.get<ExecutorsResponse>("/executors");
      expect(executors.executors).toEqual([
        expect.objectContaining({ address: executorAccount.address.toLowerCase(), endpoint: "http://127.0.0.1:9/exec", feePerCall: FEE.toString(), active: true }),
      ]);
    });

    it("indexes forks, executor changes, settlements, skipped items and an invalid manifest as they happen", async () => {
      const b = bob();
      await b.registerFork("bob/markdown-plus", markdown110, 2_000);
      await b.publishVersion("bob/markdown-plus", "1.0.0", {
        manifest: {
          ...testManifest({ name: "bob/markdown-plus", version: "1.0.0", recipient: b.address }),
          description: "Markdown with diagrams",
          // Composition: a wrapping fork imports its parent (the catalog shows dependencies and dependents).
          dependencies: [{ package: "acme/markdown", version: "^1.0.0", maxRoyaltyPerCall: "1000" }],
        },
      });
      await alice().registerPackage("acme/broken");
      await alice().publishVersion("acme/broken", "1.0.0", { manifestText: "{ this is not json" });

      const exec = new GlassboxActor(executorAccount, chain.rpcUrl, deployment);
      await exec.updateExecutor("http://127.0.0.1:9/exec2", NEW_FEE);
      const exec2 = new GlassboxActor(executor2Account, chain.rpcUrl, deployment);
      await exec2.registerExecutor("http://127.0.0.1:9/other", 100n);
      await exec2.deregisterExecutor();

      const r = relayer();
      await r.mintUsdc(payer1.address, 1_000_000n);
      await r.mintUsdc(payer2.address, 1_000_000n);
      const common = { executor: executorAccount, royalty: PRICE, executorFee: NEW_FEE, usdc: deployment.contracts.usdc, settlement: deployment.contracts.settlement, chainId: deployment.chainId };
      const items = [
        await paidCall({ ...common, payer: payer1, versionId: markdown110 }),
        await paidCall({ ...common, payer: payer2, versionId: markdown110 }),
        await paidCall({ ...common, payer: payer1, versionId: markdown110 }),
        await paidCall({ ...common, payer: payer1, versionId: plus100 }),
        // Royalty below the registered price: the contract skips it and charges nobody.
        await paidCall({ ...common, payer: payer2, versionId: markdown110, royalty: PRICE - 1n }),
      ];
      const result = await r.settleBatch(items);
      expect(result.settled).toHaveLength(4);
      expect(result.skipped).toHaveLength(1);

      const plus = await poll("bob/markdown-plus with its upstream", async () => {
        const p = await pkg("bob/markdown-plus").catch(() => undefined);
        return p && p.earnings.paidCalls === "1" ? p : undefined;
      });
      expect(plus.upstream).toEqual([expect.objectContaining({ name: "acme/markdown", version: "1.1.0", upstreamShareBps: 2_000 })]);
      expect(plus.package.fork).toEqual(expect.objectContaining({ upstreamShareBps: 2_000, depth: 1 }));
      // The declared range resolves to the newest non-yanked version in it.
      expect(plus.dependencies).toEqual([{ name: "acme/markdown", version: "1.1.0", versionId: markdown110, range: "^1.0.0", maxRoyaltyPerCall: "1000" }]);
      expect(plus.versions[0]!.manifest.dependencies).toEqual([{ package: "acme/markdown", range: "^1.0.0", maxRoyaltyPerCall: "1000" }]);
      expect(plus.dependents).toEqual([]);

      // Credited events follow the Settled events of the batch: wait for the last ones (the fork's upstream share).
      const md = await poll("acme/markdown usage and credits", async () => {
        const p = await pkg("acme/markdown");
        return p.earnings.paidCalls === "3" && p.earnings.recipients.some((x) => x.upstream !== "0") ? p : undefined;
      });
      expect(md.earnings.distinctPayers).toBe(2);
      expect(md.earnings.royaltyRevenue).toBe((3n * PRICE).toString());
      expect(md.package.forkCount).toBe(1);
      expect(md.forks).toEqual([expect.objectContaining({ name: "bob/markdown-plus", parentVersion: "1.1.0", upstreamShareBps: 2_000 })]);
      expect(md.dependents).toEqual([{ name: "bob/markdown-plus", version: "1.0.0", versionId: plus100, range: "^1.0.0" }]);
      expect(md.dependencies).toEqual([]);
      expect(md.versions[1]!.usage).toEqual(expect.objectContaining({ paidCalls: "3", distinctPayers: 2 }));
      // Alice gets 3 royalties plus 20% of the fork's call; bob keeps 80%.
      const aliceEarning = 3n * PRICE + (PRICE * 2_000n) / 10_000n;
      expect(md.earnings.recipients).toEqual([
        expect.objectContaining({ account: alice().address.toLowerCase(), royalty: (3n * PRICE).toString(), upstream: (PRICE / 5n).toString(), total: aliceEarning.toString() }),
        // The executor's fees for this package's calls.
        expect.objectContaining({ account: executorAccount.address.toLowerCase(), royalty: "0", executorFee: (3n * NEW_FEE).toString() }),
      ]);

      const aliceAccount = await account(alice().address);
      expect(aliceAccount.claimable).toBe(aliceEarning.toString());
      expect(BigInt(aliceAccount.claimable)).toBe(await r.settlementBalance(alice().address));
      expect(aliceAccount.packages).toEqual(["acme/broken", "acme/markdown", "acme/pdf-tools"]);
      const bobAccount = await account(bob().address);
      expect(bobAccount.claimable).toBe((PRICE - PRICE / 5n).toString());

      const broken = await poll("acme/broken", () => pkg("acme/broken").catch(() => undefined));
      expect(broken.versions[0]!.manifest).toEqual(expect.objectContaining({ valid: false, raw: "{ this is not json" }));
      expect(broken.versions[0]!.manifest.error).toMatch(/not valid JSON/);

      // What a payer spent, and a package's calls over time (one batch: one bucket).
      const payer1Account = await account(payer1.address);
      expect(payer1Account.spent).toEqual({ paidCalls: "3", royalty: (3n * PRICE).toString(), executorFees: (3n * NEW_FEE).toString(), total: (3n * (PRICE + NEW_FEE)).toString() });
      expect(payer1Account.payments.map((p) => `${p.name}@${p.version}`).sort()).toEqual(["acme/markdown@1.1.0", "acme/markdown@1.1.0", "bob/markdown-plus@1.0.0"]);
      expect((await account(alice().address)).spent.paidCalls).toBe("0");
      const activity = await indexer.get<ActivityResponse>("/packages/acme/markdown/activity?interval=3600");
      expect(activity.interval).toBe(3600);
      expect(activity.buckets).toEqual([{ start: expect.any(String), paidCalls: "3", royaltyRevenue: (3n * PRICE).toString(), executorFees: (3n * NEW_FEE).toString() }]);
      expect(Number(activity.buckets[0]!.start) % 3600).toBe(0);
      expect((await indexer.get<ActivityResponse>("/packages/acme/pdf-tools/activity")).buckets).toEqual([]);

      const executors = await indexer.get<ExecutorsResponse>("/executors");
      expect(executors.executors).toEqual([
        expect.objectContaining({ address: executorAccount.address.toLowerCase(), endpoint: "http://127.0.0.1:9/exec2", feePerCall: NEW_FEE.toString(), active: true, settledCalls: "4", feesEarned: (4n * NEW_FEE).toString() }),
        expect.objectContaining({ address: executor2Account.address.toLowerCase(), active: false }),
      ]);
      expect((await indexer.get<ExecutorsResponse>("/executors?active=true")).executors).toHaveLength(1);
      const executorAccountView = await account(executorAccount.address);
      expect(executorAccountView.claimable).toBe((4n * NEW_FEE).toString());

      expect((await search("hasForks=true")).results.map((x) => x.name)).toEqual(["acme/markdown"]);
      // Paid usage ranks acme/markdown above its (less used) fork for the same words.
      expect((await search("q=markdown")).results.map((x) => x.name)).toEqual(["acme/markdown", "bob/markdown-plus"]);

      const graphql = await fetch(`${indexer.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ receiptss { totalCount } skippedSettlementss { items { receiptId } } }" }),
      }).then((res) => res.json() as Promise<{ data: { receiptss: { totalCount: number }; skippedSettlementss: { items: { receiptId: string }[] } } }>);
      expect(graphql.data.receiptss.totalCount).toBe(4);
      expect(graphql.data.skippedSettlementss.items.map((x) => x.receiptId)).toEqual(result.skipped.map((id) => id.toLowerCase()));
    });

    it("resumes after a restart without losing or duplicating rows", async () => {
      await indexer.stop();
      // Events while the indexer is down.
      const a = alice();
      const claimed = await a.claim();
      expect(claimed).toBe(3n * PRICE + PRICE / 5n);
      await a.yankVersion(markdown110);
      await carol().registerPackage("carol/csv");
      await carol().publishVersion("carol/csv", "2.0.0", {
        manifest: { ...testManifest({ name: "carol/csv", version: "2.0.0", recipient: carol().address }), description: "Parse CSV files" },
      });
      indexer = await start();
      await poll("carol/csv after restart", async () => ((await search("q=csv")).total === 1 ? true : undefined));

      const aliceAccount = await poll("alice's claim", async () => {
        const acc = await account(a.address);
        return acc.claimed !== "0" ? acc : undefined;
      });
      expect(aliceAccount).toEqual(expect.objectContaining({ claimable: "0", claimed: claimed.toString(), credited: claimed.toString() }));

      const md = await pkg("acme/markdown");
      expect(md.earnings.paidCalls).toBe("3");
      expect(md.earnings.distinctPayers).toBe(2);
      expect(md.versions.map((v) => [v.version, v.yanked])).toEqual([
        ["1.0.0", false],
        ["1.1.0", true],
      ]);
      // The yanked 1.1.0 is no longer offered: the callable version falls back to 1.0.0.
      expect(md.package.callableVersion?.version).toBe("1.0.0");
      const hit = (await search("q=markdown")).results.find((x) => x.name === "acme/markdown");
      expect(hit?.callableVersion?.version).toBe("1.0.0");
      expect((await indexer.get<ExecutorsResponse>("/executors")).executors[0]!.settledCalls).toBe("4");
      const graphql = await fetch(`${indexer.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: "{ receiptss { totalCount } packagess { totalCount } versionss { totalCount } claimss { totalCount } skippedSettlementss { totalCount } forkss { totalCount } }",
        }),
      }).then((res) => res.json() as Promise<{ data: Record<string, { totalCount: number }> }>);
      expect(graphql.data).toEqual({
        receiptss: { totalCount: 4 },
        packagess: { totalCount: 5 },
        versionss: { totalCount: 6 },
        claimss: { totalCount: 1 },
        skippedSettlementss: { totalCount: 1 },
        forkss: { totalCount: 1 },
      });
    });

    it("offers no callable version once every version is yanked", async () => {
      await alice().yankVersion(markdown100);
      await poll("acme/markdown without a callable version", async () => {
        const p = await pkg("acme/markdown");
        return p.package.callableVersion === null ? true : undefined;
      });
      expect((await search("q=render")).results).toEqual([]);
      const all = await search("q=render&includeUncallable=true");
      expect(all.results.map((x) => [x.name, x.callableVersion, x.accessMode, x.price])).toEqual([["acme/markdown", null, null, null]]);
      const detail = await pkg("acme/markdown");
      expect(detail.versions.every((v) => v.yanked && !v.callable)).toBe(true);
    });

    it("answers bad parameters with 400 naming the parameter, and unknown names with 404", async () => {
      const bad: [string, string][] = [
        ["/search?limit=0", "limit"],
        ["/search?limit=abc", "limit"],
        ["/search?offset=-1", "offset"],
        ["/search?access=cheap", "access"],
        ["/search?maxPrice=-5", "maxPrice"],
        ["/search?maxPrice=1.5", "maxPrice"],
        ["/search?hasForks=yes", "hasForks"],
        ["/search?includeUncallable=1", "includeUncallable"],
        ["/search?q=%21%21%21", "q"],
        [`/search?q=${"x".repeat(201)}`, "q"],
        ["/search?sort=price", "sort"],
        ["/executors?active=maybe", "active"],
        ["/packages/Acme/Markdown", "name"],
        ["/packages/acme/-bad-", "name"],
        ["/accounts/0x1234", "address"],
        ["/accounts/alice", "address"],
        ["/packages/acme/markdown/activity?interval=10", "interval"],
        ["/packages/acme/markdown/activity?from=1", "from"],
      ];
      for (const [url, parameter] of bad) {
        const { status, body } = await indexer.request(url);
        expect({ url, status, parameter: (body as { parameter?: string }).parameter }).toEqual({ url, status: 400, parameter });
        expect((body as { error: string }).error).toContain(parameter === "name" || parameter === "address" ? "" : parameter);
      }
      const missing = await indexer.request("/packages/acme/does-not-exist");
      expect(missing.status).toBe(404);
      expect((missing.body as { error: string }).error).toContain("acme/does-not-exist");
      expect((await indexer.request("/packages/acme/does-not-exist/activity")).status).toBe(404);
      // An account the chain never credited is a valid, empty account.
      const nobody = await account("0x000000000000000000000000000000000000dead");
      expect(nobody).toEqual(expect.objectContaining({ credited: "0", claimable: "0", earnings: [], payments: [] }));
      expect(nobody.spent).toEqual({ paidCalls: "0", royalty: "0", executorFees: "0", total: "0" });
    });
  });
}
