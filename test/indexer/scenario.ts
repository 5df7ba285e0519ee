/**
 * The indexer end-to-end scenario, run once per database (PGlite and PostgreSQL): real Hardhat chain,
 * real contracts (deploy script), real Ponder process, real signatures, the stock x402 batch-settlement
 * client/server/facilitator for channels. Assertions poll the API and check every amount to the base unit.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zeroHash, type Hex } from "viem";
import type {
  AccountResponse,
  ActivityResponse,
  ChannelsResponse,
  ExecutorResponse,
  ExecutorsResponse,
  LicencesResponse,
  PackageResponse,
  SearchResponse,
} from "../../sdk/catalog-api.ts";
import type { Deployment } from "../../sdk/deployment.ts";
import { packageIdOf, versionIdOf } from "../../sdk/ids.ts";
import type { Receipt } from "../../sdk/receipt.ts";
import { devAccount, startLocalChain, type LocalChain } from "../helpers/chain.ts";
import { deployForTest } from "../helpers/deploy.ts";
import { GlassboxActor, testManifest } from "../helpers/glassbox.ts";
import { startIndexer, type IndexerDatabase, type RunningIndexer } from "../../cli/dev/indexer.ts";
import { createTestDatabase, uniqueSchemaName, type TestDatabase } from "../helpers/postgres.ts";
import { channelPayer, startPaidServer, WITHDRAW_DELAY } from "../helpers/x402-channels.ts";
import { WaitAbortedError, waitFor } from "../../cli/dev/wait.ts";
import { V2Actor, advanceTime, latestTimestamp, type SignedReceipt } from "./v2-actions.ts";

const PRICE = 1_000n;
const FEE = 200n;
const BOND = 10_000n;
const DEPOSIT = 10n * PRICE;
const EXACT = 1_200n;
const STRAY = 77n;
const LICENCE = 5_000n;

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
    const pdf010 = versionIdOf(packageIdOf("acme/pdf-tools"), "0.1.0");

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
        {
          address: executorAccount.address.toLowerCase(),
          endpoint: "http://127.0.0.1:9/exec",
          feePerCall: FEE.toString(),
          active: true,
          retired: false,
          registeredBlock: expect.any(String),
          updatedBlock: expect.any(String),
          retiredBlock: null,
          bond: { amount: "0", posted: "0", withdrawn: "0", slashed: "0", exitWithdrawableAt: null },
          royalties: { batches: 0, lines: "0", paid: "0", nextSeq: "1" },
          slashCount: 0,
          revenue: { channels: [], exact: { payments: 0, amount: "0" } },
        },
      ]);
    });

    it("indexes forks, endpoint updates, retired executors and an invalid manifest as they happen", async () => {
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

      await new GlassboxActor(executorAccount, chain.rpcUrl, deployment).updateExecutor("http://127.0.0.1:9/exec2");
      const exec2 = new GlassboxActor(executor2Account, chain.rpcUrl, deployment);
      await exec2.registerExecutor("http://127.0.0.1:9/other", 100n);
      await exec2.deregisterExecutor();

      const plus = await poll("bob/markdown-plus with its upstream", async () => {
        const p = await pkg("bob/markdown-plus").catch(() => undefined);
        return p && p.versions.length === 1 ? p : undefined;
      });
      expect(plus.upstream).toEqual([expect.objectContaining({ name: "acme/markdown", version: "1.1.0", upstreamShareBps: 2_000 })]);
      expect(plus.package.fork).toEqual(expect.objectContaining({ upstreamShareBps: 2_000, depth: 1 }));
      const md = await pkg("acme/markdown");
      expect(md.package.forkCount).toBe(1);
      expect(md.forks).toEqual([expect.objectContaining({ name: "bob/markdown-plus", parentVersion: "1.1.0", upstreamShareBps: 2_000 })]);

      const broken = await poll("acme/broken with its version", async () => {
        const p = await pkg("acme/broken").catch(() => undefined);
        return p && p.versions.length === 1 ? p : undefined;
      });
      expect(broken.versions[0]!.manifest).toEqual(expect.objectContaining({ valid: false, raw: "{ this is not json" }));
      expect(broken.versions[0]!.manifest.error).toMatch(/not valid JSON/);

      const executors = await poll("the retired executor", async () => {
        const list = await indexer.get<ExecutorsResponse>("/executors");
        return list.executors.some((e) => e.retired) ? list.executors : undefined;
      });
      // The fee stays what it was at registration; only the endpoint moved.
      expect(executors).toEqual([
        expect.objectContaining({ address: executorAccount.address.toLowerCase(), endpoint: "http://127.0.0.1:9/exec2", feePerCall: FEE.toString(), active: true, retired: false }),
        expect.objectContaining({ address: executor2Account.address.toLowerCase(), feePerCall: "100", active: false, retired: true, retiredBlock: expect.any(String) }),
      ]);
      expect((await indexer.get<ExecutorsResponse>("/executors?active=true")).executors).toHaveLength(1);
      expect((await search("hasForks=true")).results.map((x) => x.name)).toEqual(["acme/markdown"]);
    });

    it("indexes a channel through the stock x402 client (deposit, claims, sweep, timed withdrawal, refund) and exact payments", async () => {
      const r = relayer();
      await r.mintUsdc(payer1.address, 1_000_000n);
      await r.mintUsdc(payer2.address, 1_000_000n);
      const server = await startPaidServer({ receiver: executorAccount, rpcUrl: chain.rpcUrl, chainId: deployment.chainId, usdc: deployment.contracts.usdc, price: PRICE });
      try {
        const payer = channelPayer(payer1, { rpcUrl: chain.rpcUrl, chainId: deployment.chainId, usdc: deployment.contracts.usdc, depositMultiplier: 10 });
        for (let i = 0; i < 3; i++) expect((await payer.fetch(server.url)).status).toBe(200);
        const manager = server.scheme.createChannelManager(server.facilitator, server.network, deployment.contracts.usdc);
        await manager.claimAndSettle();

        const opened = await poll("the claimed channel", async () => {
          const list = await indexer.get<ChannelsResponse>(`/channels?payer=${payer1.address}`);
          return list.channels[0]?.claimed === (3n * PRICE).toString() ? list.channels[0] : undefined;
        });
        const receiverView = await indexer.get<ChannelsResponse>(`/channels?receiver=${executorAccount.address}`);
        expect(receiverView.channels).toEqual([opened]);
        expect(opened).toEqual({
          channelId: expect.stringMatching(/^0x[0-9a-f]{64}$/),
          payer: payer1.address.toLowerCase(),
          payerAuthorizer: expect.stringMatching(/^0x[0-9a-f]{40}$/),
          receiver: executorAccount.address.toLowerCase(),
          receiverAuthorizer: executorAccount.address.toLowerCase(),
          token: deployment.contracts.usdc.toLowerCase(),
          withdrawDelaySeconds: WITHDRAW_DELAY,
          salt: expect.stringMatching(/^0x[0-9a-f]{64}$/),
          deposited: DEPOSIT.toString(),
          claimed: (3n * PRICE).toString(),
          withdrawn: "0",
          refunded: "0",
          balance: DEPOSIT.toString(),
          available: (DEPOSIT - 3n * PRICE).toString(),
          withdrawal: null,
          rejectedVouchers: 0,
          createdBlock: expect.any(String),
          createdAt: expect.any(String),
          updatedBlock: expect.any(String),
        });

        // The indexed config is exact: the payer's own withdrawal call with it hits the same channel id.
        const config = {
          payer: opened.payer,
          payerAuthorizer: opened.payerAuthorizer,
          receiver: opened.receiver,
          receiverAuthorizer: opened.receiverAuthorizer,
          token: opened.token,
          withdrawDelay: opened.withdrawDelaySeconds,
          salt: opened.salt,
        };
        const payerActor = new V2Actor(payer1, chain.rpcUrl, deployment);
        await payerActor.initiateWithdraw(config, 2n * PRICE);
        const startedAt = await latestTimestamp(chain.rpcUrl);
        const withdrawing = await poll("the pending withdrawal", async () => {
          const [ch] = (await indexer.get<ChannelsResponse>(`/channels?payer=${payer1.address}`)).channels;
          return ch?.withdrawal ? ch : undefined;
        });
        expect(withdrawing.withdrawal).toEqual({ amount: (2n * PRICE).toString(), finalizeAfter: (startedAt + BigInt(WITHDRAW_DELAY)).toString() });

        await advanceTime(chain.rpcUrl, WITHDRAW_DELAY);
        await payerActor.finalizeWithdraw(config);
        // The receiver side refunds the rest of the escrow (the stock client asks, the stock facilitator signs).
        expect((await payer.scheme.refund(server.url)).success).toBe(true);
        const closed = await poll("the refunded channel", async () => {
          const [ch] = (await indexer.get<ChannelsResponse>(`/channels?payer=${payer1.address}`)).channels;
          return ch && ch.refunded !== "0" ? ch : undefined;
        });
        expect(closed).toEqual(
          expect.objectContaining({
            deposited: DEPOSIT.toString(),
            claimed: (3n * PRICE).toString(),
            withdrawn: (2n * PRICE).toString(),
            refunded: (DEPOSIT - 5n * PRICE).toString(),
            balance: (3n * PRICE).toString(),
            available: "0",
            withdrawal: null,
          }),
        );
      } finally {
        await server.close();
      }

      const nonce = await new V2Actor(executorAccount, chain.rpcUrl, deployment).collectExactPayment(payer2, EXACT);

      const payer2Account = await poll("the exact payment", async () => {
        const acc = await account(payer2.address);
        return acc.spent.exactPayments === 1 ? acc : undefined;
      });
      expect(payer2Account.spent).toEqual({ paid: "0", deposited: "0", returned: "0", available: "0", exact: EXACT.toString(), exactPayments: 1, total: EXACT.toString() });
      expect(payer2Account.payments).toEqual([
        { executor: executorAccount.address.toLowerCase(), amount: EXACT.toString(), nonce, blockNumber: expect.any(String), timestamp: expect.any(String), transactionHash: expect.stringMatching(/^0x/) },
      ]);
      // The channel deposit was an EIP-3009 authorization too, but to the deposit collector: not an exact payment.
      const payer1Account = await account(payer1.address);
      expect(payer1Account.spent).toEqual({
        paid: (3n * PRICE).toString(),
        deposited: DEPOSIT.toString(),
        returned: (DEPOSIT - 3n * PRICE).toString(),
        available: "0",
        exact: "0",
        exactPayments: 0,
        total: (3n * PRICE).toString(),
      });
      expect(payer1Account.channels.asPayer).toHaveLength(1);
      expect(payer1Account.channels.asReceiver).toEqual([]);
      expect(payer1Account.payments).toEqual([]);

      const executorView = await account(executorAccount.address);
      expect(executorView.channels.asReceiver.map((ch) => ch.payer)).toEqual([payer1.address.toLowerCase()]);
      expect(executorView.executor?.revenue).toEqual({
        channels: [{ token: deployment.contracts.usdc.toLowerCase(), claimed: (3n * PRICE).toString(), swept: (3n * PRICE).toString() }],
        exact: { payments: 1, amount: EXACT.toString() },
      });
    });

    it("indexes royalty batches per version, bonds, overdue and overcharge slashes, exits and surplus sweeps", async () => {
      const exec = new V2Actor(executorAccount, chain.rpcUrl, deployment);
      await relayer().mintUsdc(executorAccount.address, 100_000n);
      await exec.approveSettlement(100_000n);
      await exec.postBond(BOND);

      const now = await latestTimestamp(chain.rpcUrl);
      const receipt = (payer: typeof payer1, versionId: Hex, seq: bigint, fields: Partial<Receipt> = {}): Receipt => ({
        versionId,
        functionName: "run",
        payer: payer.address,
        executor: executorAccount.address,
        seq,
        royalty: PRICE,
        executorFee: FEE,
        fuel: 1_000n,
        // Distinct receipts even with equal fields.
        inputHash: `0x${seq.toString(16).padStart(64, "0")}`,
        outputHash: zeroHash,
        dependencies: [],
        paymentRef: zeroHash,
        issuedAt: now,
        deadline: now + 100n,
        ...fields,
      });
      const settled: SignedReceipt[] = [
        await exec.signReceipt(receipt(payer1, markdown110, 1n)),
        await exec.signReceipt(receipt(payer2, markdown110, 2n)),
        await exec.signReceipt(receipt(payer1, markdown110, 3n)),
        await exec.signReceipt(receipt(payer1, plus100, 4n)),
      ];
      const batch = await exec.settleRoyalties(1n, settled);
      // Line 5 is never settled: overdue once its deadline passes. A fee above the registered one: overcharge.
      const overdue = await exec.signReceipt(receipt(payer2, markdown110, 5n));
      const overcharged = await exec.signReceipt(receipt(payer1, pdf010, 0n, { royalty: 0n, executorFee: FEE + 50n }));
      await advanceTime(chain.rpcUrl, 200);
      await new V2Actor(payer2, chain.rpcUrl, deployment).slashOverdue(overdue);
      await new V2Actor(payer1, chain.rpcUrl, deployment).slashOvercharge(overcharged);
      await exec.beginExit();
      const exitAt = (await latestTimestamp(chain.rpcUrl)) + 8n * 86_400n;
      // Stray USDC sent straight to Settlement: anyone may sweep it to the immutable surplus recipient.
      await new V2Actor(payer1, chain.rpcUrl, deployment).transferUsdc(deployment.contracts.settlement, STRAY);
      await new V2Actor(payer2, chain.rpcUrl, deployment).sweepSurplus();

      const detail = await poll("the executor's exit", async () => {
        const d = await indexer.get<ExecutorResponse>(`/executors/${executorAccount.address}`);
        return d.executor.bond.exitWithdrawableAt !== null ? d : undefined;
      });
      const slashedTotal = PRICE + PRICE / 10n + 50n + 5n;
      expect(detail.executor.bond).toEqual({ amount: (BOND - slashedTotal).toString(), posted: BOND.toString(), withdrawn: "0", slashed: slashedTotal.toString(), exitWithdrawableAt: exitAt.toString() });
      expect(detail.executor.royalties).toEqual({ batches: 1, lines: "4", paid: (4n * PRICE).toString(), nextSeq: "5" });
      expect(detail.executor.slashCount).toBe(2);
      expect(detail.batches).toHaveLength(1);
      const [only] = detail.batches;
      expect(only).toEqual(expect.objectContaining({ firstSeq: "1", count: "4", total: (4n * PRICE).toString(), itemized: true }));
      expect([...only!.versions].sort((a, b) => a.name!.localeCompare(b.name!))).toEqual([
        { versionId: markdown110, name: "acme/markdown", version: "1.1.0", lines: "3", amount: (3n * PRICE).toString() },
        { versionId: plus100, name: "bob/markdown-plus", version: "1.0.0", lines: "1", amount: PRICE.toString() },
      ]);
      expect(batch.versions).toHaveLength(2);
      expect(detail.slashes).toEqual([
        expect.objectContaining({ receiptId: overcharged.id, payer: payer1.address.toLowerCase(), reason: "overcharge", paid: "50", bounty: "5" }),
        expect.objectContaining({ receiptId: overdue.id, payer: payer2.address.toLowerCase(), reason: "overdue", paid: PRICE.toString(), bounty: (PRICE / 10n).toString() }),
      ]);

      const md = await poll("acme/markdown settled usage", async () => {
        const p = await pkg("acme/markdown");
        return p.earnings.paidCalls === "3" ? p : undefined;
      });
      expect(md.earnings.royaltyRevenue).toBe((3n * PRICE).toString());
      expect(md.versions[1]!.usage).toEqual({ paidCalls: "3", royaltyRevenue: (3n * PRICE).toString(), licenceRevenue: "0" });
      expect(md.versions[0]!.usage).toEqual({ paidCalls: "0", royaltyRevenue: "0", licenceRevenue: "0" });
      // Alice: 3 settled royalties + the overdue one paid out of the bond + 20% of the fork's call. Payer2: the bounty.
      const aliceEarning = 4n * PRICE + PRICE / 5n;
      expect(md.earnings.recipients).toEqual([
        { account: alice().address.toLowerCase(), royalty: (4n * PRICE).toString(), upstream: (PRICE / 5n).toString(), bounty: "0", refund: "0", licence: "0", total: aliceEarning.toString() },
        { account: payer2.address.toLowerCase(), royalty: "0", upstream: "0", bounty: (PRICE / 10n).toString(), refund: "0", licence: "0", total: (PRICE / 10n).toString() },
      ]);
      // Nothing pending is known: the only active executor's endpoint does not answer, which the page shows.
      expect(md.pendingRoyalties).toEqual({
        receipts: 0,
        amount: "0",
        complete: false,
        executors: [
          {
            executor: executorAccount.address.toLowerCase(),
            endpoint: "http://127.0.0.1:9/exec2",
            status: "unknown",
            error: expect.stringMatching(/fetch failed/),
            receipts: null,
            amount: null,
            versions: [],
            checkedAt: expect.any(Number),
          },
        ],
      });
      const plus = await pkg("bob/markdown-plus");
      expect(plus.earnings).toEqual({
        paidCalls: "1",
        royaltyRevenue: PRICE.toString(),
        licenceCount: 0,
        licenceRevenue: "0",
        recipients: [{ account: bob().address.toLowerCase(), royalty: (PRICE - PRICE / 5n).toString(), upstream: "0", bounty: "0", refund: "0", licence: "0", total: (PRICE - PRICE / 5n).toString() }],
      });
      const pdf = await pkg("acme/pdf-tools");
      expect(pdf.earnings.recipients).toEqual([{ account: payer1.address.toLowerCase(), royalty: "0", upstream: "0", bounty: "5", refund: "50", licence: "0", total: "55" }]);

      const activity = await indexer.get<ActivityResponse>("/packages/acme/markdown/activity?interval=3600");
      expect(activity.interval).toBe(3600);
      expect(activity.buckets).toEqual([{ start: expect.any(String), paidCalls: "3", royaltyRevenue: (3n * PRICE).toString() }]);
      expect(Number(activity.buckets[0]!.start) % 3600).toBe(0);
      expect((await indexer.get<ActivityResponse>("/packages/acme/pdf-tools/activity")).buckets).toEqual([]);

      const aliceAccount = await account(alice().address);
      expect(aliceAccount.claimable).toBe(aliceEarning.toString());
      expect(BigInt(aliceAccount.claimable)).toBe(await alice().settlementBalance(alice().address));
      expect(aliceAccount.packages).toEqual(["acme/broken", "acme/markdown", "acme/pdf-tools"]);
      expect(aliceAccount.earnings.map((e) => [e.name, e.total])).toEqual([["acme/markdown", aliceEarning.toString()]]);
      const payer1Account = await account(payer1.address);
      expect(payer1Account.claimable).toBe("55");
      expect(BigInt(payer1Account.claimable)).toBe(await alice().settlementBalance(payer1.address));
      expect(payer1Account.slashes.map((x) => x.reason)).toEqual(["overcharge"]);
      expect((await account(payer2.address)).slashes.map((x) => [x.reason, x.receiptId])).toEqual([["overdue", overdue.id]]);
      expect((await account(bob().address)).claimable).toBe((PRICE - PRICE / 5n).toString());

      // Paid usage ranks acme/markdown above its (less used) fork for the same words.
      expect((await search("q=markdown")).results.map((x) => x.name)).toEqual(["acme/markdown", "bob/markdown-plus"]);
      expect((await search("q=markdown")).results[0]!.usage).toEqual({ paidCalls: "3", royaltyRevenue: (3n * PRICE).toString(), licenceRevenue: "0" });

      const graphql = await fetch(`${indexer.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ surplusSweepss { items { to amount } } royaltyBatchVersionss { totalCount } }" }),
      }).then((res) => res.json() as Promise<{ data: { surplusSweepss: { items: { to: string; amount: string }[] }; royaltyBatchVersionss: { totalCount: number } } }>);
      expect(graphql.data.surplusSweepss.items).toEqual([{ to: devAccount(0).address.toLowerCase(), amount: STRAY.toString() }]);
      expect(graphql.data.royaltyBatchVersionss.totalCount).toBe(2);
    });

    it("resumes after a restart without losing or duplicating rows", async () => {
      await indexer.stop();
      // Events while the indexer is down.
      const a = alice();
      const claimed = await a.claim();
      expect(claimed).toBe(4n * PRICE + PRICE / 5n);
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
      expect(md.versions.map((v) => [v.version, v.yanked])).toEqual([
        ["1.0.0", false],
        ["1.1.0", true],
      ]);
      // The yanked 1.1.0 is no longer offered: the callable version falls back to 1.0.0.
      expect(md.package.callableVersion?.version).toBe("1.0.0");
      const hit = (await search("q=markdown")).results.find((x) => x.name === "acme/markdown");
      expect(hit?.callableVersion?.version).toBe("1.0.0");
      expect((await indexer.get<ExecutorsResponse>("/executors")).executors[0]!.royalties.lines).toBe("4");
      const graphql = await fetch(`${indexer.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query:
            "{ packagess { totalCount } versionss { totalCount } claimss { totalCount } forkss { totalCount } royaltyBatchess { totalCount } " +
            "slashess { totalCount } channelss { totalCount } exactPaymentss { totalCount } surplusSweepss { totalCount } }",
        }),
      }).then((res) => res.json() as Promise<{ data: Record<string, { totalCount: number }> }>);
      expect(graphql.data).toEqual({
        packagess: { totalCount: 5 },
        versionss: { totalCount: 6 },
        claimss: { totalCount: 1 },
        forkss: { totalCount: 1 },
        royaltyBatchess: { totalCount: 1 },
        slashess: { totalCount: 2 },
        channelss: { totalCount: 1 },
        exactPaymentss: { totalCount: 1 },
        surplusSweepss: { totalCount: 1 },
      });
    });

    it("indexes licence offers and purchases through a fork: price, holders, licences by holder and version, licence earnings", async () => {
      const bobV2 = new V2Actor(devAccount(2), chain.rpcUrl, deployment);
      const aliceV2 = new V2Actor(devAccount(1), chain.rpcUrl, deployment);
      // Offered, then repriced: the version shows the current price. Offered, then withdrawn (0): none.
      await bobV2.setLicencePrice(plus100, 2n * LICENCE);
      await bobV2.setLicencePrice(plus100, LICENCE);
      await aliceV2.setLicencePrice(markdown100, 3_000n);
      await aliceV2.setLicencePrice(markdown100, 0n);
      // payer1 buys carol a licence; payer2 buys its own.
      await new V2Actor(payer1, chain.rpcUrl, deployment).buyLicence(plus100, carol().address, LICENCE);
      await new V2Actor(payer2, chain.rpcUrl, deployment).buyLicence(plus100, payer2.address, LICENCE);

      const plus = await poll("both licences of bob/markdown-plus", async () => {
        const p = await pkg("bob/markdown-plus");
        return p.versions[0]!.licenceCount === 2 ? p : undefined;
      });
      expect(plus.versions[0]!.licencePrice).toBe(LICENCE.toString());
      expect(plus.versions[0]!.usage).toEqual({ paidCalls: "1", royaltyRevenue: PRICE.toString(), licenceRevenue: (2n * LICENCE).toString() });
      // Each sale: 80% to the fork's own recipient (licence), 20% up to the parent version's (upstream).
      const bobLicence = 2n * (LICENCE - LICENCE / 5n);
      expect(plus.earnings).toEqual({
        paidCalls: "1",
        royaltyRevenue: PRICE.toString(),
        licenceCount: 2,
        licenceRevenue: (2n * LICENCE).toString(),
        recipients: [
          {
            account: bob().address.toLowerCase(),
            royalty: (PRICE - PRICE / 5n).toString(),
            upstream: "0",
            bounty: "0",
            refund: "0",
            licence: bobLicence.toString(),
            total: (PRICE - PRICE / 5n + bobLicence).toString(),
          },
        ],
      });
      const md = await pkg("acme/markdown");
      expect(md.versions.map((v) => [v.version, v.licencePrice, v.licenceCount])).toEqual([
        ["1.0.0", null, 0],
        ["1.1.0", null, 0],
      ]);
      expect(md.earnings.licenceRevenue).toBe("0");
      const aliceUpstream = PRICE / 5n + (2n * LICENCE) / 5n;
      expect(md.earnings.recipients[0]).toEqual({
        account: alice().address.toLowerCase(),
        royalty: (4n * PRICE).toString(),
        upstream: aliceUpstream.toString(),
        bounty: "0",
        refund: "0",
        licence: "0",
        total: (4n * PRICE + aliceUpstream).toString(),
      });

      const carolLicences = await indexer.get<LicencesResponse>(`/licences?holder=${carol().address}`);
      expect(carolLicences.licences).toEqual([
        {
          versionId: plus100,
          packageId: packageIdOf("bob/markdown-plus"),
          name: "bob/markdown-plus",
          version: "1.0.0",
          holder: carol().address.toLowerCase(),
          payer: payer1.address.toLowerCase(),
          price: LICENCE.toString(),
          blockNumber: expect.any(String),
          timestamp: expect.any(String),
          transactionHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
        },
      ]);
      const byVersion = await indexer.get<LicencesResponse>(`/licences?versionId=${plus100}`);
      // Newest first: payer2's own purchase came last.
      expect(byVersion.licences.map((l) => [l.holder, l.payer])).toEqual([
        [payer2.address.toLowerCase(), payer2.address.toLowerCase()],
        [carol().address.toLowerCase(), payer1.address.toLowerCase()],
      ]);
      expect((await indexer.get<LicencesResponse>(`/licences?versionId=${plus100}&holder=${payer2.address}`)).licences).toHaveLength(1);
      expect((await indexer.get<LicencesResponse>(`/licences?versionId=${markdown100}`)).licences).toEqual([]);

      const carolAccount = await account(carol().address);
      expect(carolAccount.licences).toEqual(carolLicences.licences);
      // Carol paid nothing herself, and is credited nothing for holding a licence.
      expect(carolAccount.credited).toBe("0");
      const bobAccount = await account(bob().address);
      expect(bobAccount.earnings).toEqual([
        { packageId: packageIdOf("bob/markdown-plus"), name: "bob/markdown-plus", royalty: (PRICE - PRICE / 5n).toString(), upstream: "0", bounty: "0", refund: "0", licence: bobLicence.toString(), total: (PRICE - PRICE / 5n + bobLicence).toString() },
      ]);
      expect(BigInt(bobAccount.claimable)).toBe(PRICE - PRICE / 5n + bobLicence);
      expect(BigInt(bobAccount.claimable)).toBe(await bob().settlementBalance(bob().address));
      // Alice claimed everything before the restart: what is claimable now is the licences' upstream share.
      const aliceAccount = await account(alice().address);
      expect(aliceAccount.claimable).toBe(((2n * LICENCE) / 5n).toString());
      expect(BigInt(aliceAccount.claimable)).toBe(await alice().settlementBalance(alice().address));
      expect(aliceAccount.licences).toEqual([]);

      const hit = (await search("q=diagrams")).results[0];
      expect(hit?.usage).toEqual({ paidCalls: "1", royaltyRevenue: PRICE.toString(), licenceRevenue: (2n * LICENCE).toString() });
      const page = await indexer.request("/llms/bob/markdown-plus.txt");
      expect(page.status).toBe(200);
      expect(String(page.body)).toContain("- Licence to run locally: 0.005 USDC, paid once (`glassbox licence buy bob/markdown-plus@1.0.0`");
      const parentPage = await indexer.request("/llms/acme/markdown.txt");
      expect(String(parentPage.body)).not.toContain("Licence to run locally");
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
        ["/channels?payer=0x12", "payer"],
        ["/channels?receiver=bob", "receiver"],
        ["/channels?limit=0", "limit"],
        ["/channels?state=open", "state"],
        ["/executors/0x12", "address"],
        ["/licences?holder=0x12", "holder"],
        ["/licences?versionId=0x12", "versionId"],
        ["/licences?limit=0", "limit"],
        ["/licences?package=acme/markdown", "package"],
        [`/accounts/${payer1.address}?verbose=1`, "verbose"],
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
      const unknownExecutor = await indexer.request("/executors/0x000000000000000000000000000000000000dEaD");
      expect(unknownExecutor.status).toBe(404);
      expect((unknownExecutor.body as { error: string }).error).toContain("0x000000000000000000000000000000000000dead");
      expect((await indexer.get<ChannelsResponse>("/channels?payer=0x000000000000000000000000000000000000dEaD")).channels).toEqual([]);
      // An account the chain never credited is a valid, empty account.
      const nobody = await account("0x000000000000000000000000000000000000dead");
      expect(nobody).toEqual(expect.objectContaining({ credited: "0", claimable: "0", earnings: [], payments: [], slashes: [], channels: { asPayer: [], asReceiver: [] } }));
      expect(nobody.spent).toEqual({ paid: "0", deposited: "0", returned: "0", available: "0", exact: "0", exactPayments: 0, total: "0" });
    });
  });
}
