/**
 * The journey of every user, end to end against the real processes `npm start` runs: a Hardhat
 * chain, the deployed contracts, Ponder on PGlite, and an executor child process, driven through
 * the real `glassbox` CLI and the SDK (which pays with the unmodified @x402/fetch client).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { capabilityRegistryAbi, settlementAbi } from "../../sdk/abi.ts";
import { devAccount, devPrivateKey } from "../../sdk/dev-accounts.ts";
import { Glassbox, GlassboxError } from "../../sdk/glassbox.ts";
import { sha256Hex } from "../../sdk/ids.ts";
import { DEV_ROLES, REPO_ROOT, type DevStack } from "../../cli/dev-stack.ts";
import { startTestStack } from "../helpers/dev-stack.ts";
import { waitFor } from "../../cli/dev/wait.ts";
import { runGlassbox, type CliRun } from "../helpers/cli.ts";

const CAPABILITIES = path.join(REPO_ROOT, "capabilities");
const maintainer = devAccount(DEV_ROLES.maintainer);
const forkAuthor = devAccount(DEV_ROLES.forkAuthor);
const agent = devAccount(DEV_ROLES.agent);
const coMaintainer = devAccount(19).address; // acme/markdown's second split recipient (10%)

let stack: DevStack;
let home: string;

/** Runs the real `glassbox` bin against the stack, with --json. */
function glassbox(args: string[], opts: { account?: number } = {}): Promise<CliRun> {
  const flags = ["--json", "--rpc", stack.rpcUrl, "--deployments", stack.deploymentsFile, "--indexer", stack.indexerUrl, "--executor", stack.executorUrl];
  if (opts.account !== undefined) flags.push("--dev-account", String(opts.account));
  return runGlassbox([...args, ...flags], { cwd: REPO_ROOT, env: { GLASSBOX_HOME: home } });
}

/** Polls until `done(value)`; on timeout the error shows the last value read. */
function pollUntil<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  return waitFor(
    async () => {
      const value = await read();
      if (!done(value)) throw new Error(`last value ${JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`);
      return value;
    },
    { what, timeoutMs, intervalMs: 250 },
  );
}

function sdkFor(account: ReturnType<typeof devAccount> | ReturnType<typeof privateKeyToAccount>): Glassbox {
  return new Glassbox({ rpcUrl: stack.rpcUrl, deployment: stack.deployment, account, indexerUrl: stack.indexerUrl, executorUrl: stack.executorUrl });
}

const reader = () => sdkFor(agent);

/** Royalty lines the executor has settled on-chain (Settlement.nextSeq counts from 1). */
async function settledLines(): Promise<bigint> {
  const next = await reader().chain.publicClient.readContract({
    address: stack.deployment.contracts.settlement,
    abi: settlementAbi,
    functionName: "nextSeq",
    args: [devAccount(DEV_ROLES.operator).address],
  });
  return BigInt(next) - 1n;
}

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "glassbox-journey-"));
  stack = await startTestStack({ stateDir: path.join(home, "stack") });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  await rm(home, { recursive: true, force: true });
});

describe("the journey of every user", () => {
  let fee: bigint;
  const prices = { markdown: 2000n, plus: 3000n };

  it("a maintainer publishes a capability from a wallet and uploads it", async () => {
    const published = await glassbox(["publish", path.join(CAPABILITIES, "markdown")], { account: DEV_ROLES.maintainer });
    expect(published.code, published.stderr).toBe(0);
    expect(published.json).toMatchObject({ name: "acme/markdown", version: "1.0.0", uploadedTo: stack.executorUrl });
    const version = await reader().registry.resolveVersion("acme/markdown", "latest");
    expect(version.price).toBe(prices.markdown);
    expect((await reader().registry.getPackage("acme/markdown"))?.owner).toBe(maintainer.address);
    const executor = await reader().chain.publicClient.readContract({
      address: stack.deployment.contracts.registry,
      abi: capabilityRegistryAbi,
      functionName: "getExecutor",
      args: [devAccount(DEV_ROLES.operator).address],
    });
    expect(executor.active).toBe(true);
    fee = executor.feePerCall;
  });

  it("an agent searches the catalog and reads the spec and tests for free", async () => {
    const found = await pollUntil(
      "acme/markdown in search",
      () => glassbox(["search", "sanitized", "html"]),
      (r) => r.code === 0 && r.json.results?.some((p: { name: string }) => p.name === "acme/markdown"),
    );
    expect(found.json.results[0].name).toBe("acme/markdown");
    const info = await glassbox(["info", "acme/markdown"]);
    expect(info.code, info.stderr).toBe(0);
    const version = info.json.versions.find((v: { version: string }) => v.version === "1.0.0");
    const wit = await fetch(`${stack.executorUrl}/v1/blobs/${version.hashes.witHash}`);
    expect(wit.status).toBe(200);
    const witText = await wit.text();
    expect(witText).toBe(await readFile(path.join(CAPABILITIES, "markdown", "wit", "world.wit"), "utf8"));
    expect(sha256Hex(witText)).toBe(version.hashes.witHash);
    expect(info.json.spec).toBe(witText);
    // And the human form a person reads.
    const human = await runGlassbox(["info", "acme/markdown", "--rpc", stack.rpcUrl, "--deployments", stack.deploymentsFile, "--indexer", stack.indexerUrl, "--executor", stack.executorUrl], {
      cwd: REPO_ROOT,
      env: { GLASSBOX_HOME: home },
    });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`owner ${maintainer.address.toLowerCase()}`);
    expect(human.stdout).toContain("forks must pay upstream ≥ 10%");
    expect(human.stdout).toContain("to-html: func(markdown: string) -> string");
    expect(human.stdout).toContain("interface render {");
    expect(info.json.tests.cases.length).toBeGreaterThan(5);
    const tests = await fetch(`${stack.executorUrl}/v1/blobs/${version.hashes.testsHash}`);
    expect(tests.status).toBe(200);
    // Utility is paid: the component itself is never handed out.
    const component = await fetch(`${stack.executorUrl}/v1/blobs/${version.hashes.componentHash}`);
    expect(component.status).toBe(403);
  });

  it("the agent calls it through a channel (stock @x402/fetch), agreeing to the deposit, and gets a verified receipt", async () => {
    const sdk = sdkFor(agent);
    const before = await sdk.usdcBalance(agent.address);
    // Without a deposit amount or an answer, the SDK locks nothing.
    const refused = await sdk.call("acme/markdown", "to-html", ["# no deposit"]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GlassboxError);
    expect((refused as GlassboxError).code).toBe("DEPOSIT_REQUIRED");
    const offers: bigint[] = [];
    const outcome = await sdk.call("acme/markdown", "to-html", ["# Hello <script>alert(1)</script> *agents*"], {
      onDeposit: (offer) => {
        offers.push(offer.minimum);
        return 50_000n;
      },
    });
    expect(offers).toEqual([prices.markdown + fee]);
    expect(outcome.result).toContain("<h1>");
    expect(String(outcome.result)).not.toContain("<script>");
    expect(outcome.paid).toBe(true);
    expect(outcome.payment).toMatchObject({ scheme: "batch-settlement", amount: (prices.markdown + fee).toString() });
    expect(outcome.deposit?.amount).toBe(50_000n);
    expect(outcome.receipt?.royalty).toBe(prices.markdown);
    expect(outcome.receipt?.executorFee).toBe(fee);
    expect(outcome.receipt?.executor).toBe(devAccount(DEV_ROLES.operator).address);
    expect(outcome.receipt?.payer).toBe(agent.address);
    // The deposit left the wallet; the call is a voucher against it.
    expect(await sdk.usdcBalance(agent.address)).toBe(before - 50_000n);
    const channel = await sdk.channels.status(agent.address, stack.executorUrl);
    expect(channel).toMatchObject({ balance: 50_000n, charged: prices.markdown + fee, available: 50_000n - prices.markdown - fee });
    // The result is journaled with the receipt: the payer can read it back later (and only the payer).
    const recovered = await sdk.recoverResult(stack.executorUrl, outcome.receiptId!);
    expect(recovered.result).toBe(outcome.result);
    await expect(sdkFor(forkAuthor).recoverResult(stack.executorUrl, outcome.receiptId!)).rejects.toThrow(/payer/);
  });

  it("a fork author forks it with a 20% upstream share and publishes", async () => {
    const forked = await glassbox(["fork", "acme/markdown@1.0.0", "forker/markdown-plus", "--upstream-share", "20%"], { account: DEV_ROLES.forkAuthor });
    expect(forked.code, forked.stderr).toBe(0);
    expect(forked.json.upstreamShareBps).toBe(2000);
    const published = await glassbox(["publish", path.join(CAPABILITIES, "markdown-plus")], { account: DEV_ROLES.forkAuthor });
    expect(published.code, published.stderr).toBe(0);
    const fork = await reader().registry.getPackage("forker/markdown-plus");
    expect(fork?.owner).toBe(forkAuthor.address);
    expect(fork?.upstreamShareBps).toBe(2000);
  });

  it("the agent calls the fork through the CLI, paying with exact", async () => {
    const before = await reader().usdcBalance(agent.address);
    const called = await glassbox(["call", "forker/markdown-plus", "to-html", "## Forked", "--scheme", "exact"], { account: DEV_ROLES.agent });
    expect(called.code, called.stderr).toBe(0);
    expect(called.json.result).toContain("<h2");
    expect(called.json.paid).toBe(true);
    expect(called.json.receipt.royalty).toBe(prices.plus.toString());
    expect(called.json.payment).toMatchObject({ scheme: "exact", amount: (prices.plus + fee).toString() });
    expect(await reader().usdcBalance(agent.address)).toBe(before - prices.plus - fee);
  });

  it("the executor settles both receipts exactly as signed (the CLI checks them on-chain)", async () => {
    await pollUntil("both royalty lines settled on-chain", settledLines, (n) => n >= 2n);
    // The SDK's receipt (kept in memory) and the CLI's (kept in the config dir) both check out.
    const sdkAudits = await sdkFor(agent).auditReceipts();
    expect(sdkAudits).toHaveLength(0); // a fresh SDK object keeps no receipts: each store is its owner's
    const receipts = await glassbox(["receipts"], { account: DEV_ROLES.agent });
    expect(receipts.code, receipts.stderr).toBe(0);
    expect(receipts.json.counts).toEqual({ settled: 1 });
    expect(receipts.json.receipts[0].lines[0].settled.matches).toBe(true);
  });

  it("the catalog shows usage and earnings for all three", async () => {
    const upstream = await pollUntil(
      "acme/markdown usage",
      () => sdkFor(agent).info<any>("acme/markdown"),
      (p) => p.versions?.some((v: any) => v.usage.paidCalls === "1"),
    );
    expect(upstream.forks.map((f: any) => f.name)).toContain("forker/markdown-plus");
    await pollUntil("forker/markdown-plus usage", () => sdkFor(agent).info<any>("forker/markdown-plus"), (p) => p.versions?.some((v: any) => v.usage.paidCalls === "1"));
    const earnings = await glassbox(["earnings", maintainer.address]);
    expect(earnings.code, earnings.stderr).toBe(0);
  });

  it("the upstream maintainer and the fork author claim, and every balance matches to the base unit", async () => {
    const sdk = reader();
    // acme/markdown: 90% maintainer / 10% co-maintainer. forker/markdown-plus: 20% upstream, 80% fork author.
    const upstreamFromFork = (prices.plus * 2000n) / 10_000n;
    const expected = {
      maintainer: (prices.markdown * 9000n) / 10_000n + (upstreamFromFork * 9000n) / 10_000n,
      coMaintainer: (prices.markdown * 1000n) / 10_000n + (upstreamFromFork * 1000n) / 10_000n,
      forkAuthor: prices.plus - upstreamFromFork,
      // The executor is paid its fee directly (it is the x402 payee); Settlement holds royalties only.
      operator: 0n,
    };
    await pollUntil("credits", () => sdk.claimable(forkAuthor.address), (b) => b === expected.forkAuthor);
    expect(await sdk.claimable(maintainer.address)).toBe(expected.maintainer);
    expect(await sdk.claimable(coMaintainer)).toBe(expected.coMaintainer);
    expect(await sdk.claimable(devAccount(DEV_ROLES.operator).address)).toBe(expected.operator);

    // The catalog shows the same earnings for all three, per package and kind.
    const account = (address: string, claimable: bigint) =>
      pollUntil(`catalog earnings of ${address}`, () => sdk.catalog!.account<any>(address as Address), (a) => BigInt(a.claimable) === claimable);
    const upstreamAccount = await account(maintainer.address, expected.maintainer);
    const byName = (a: any) => Object.fromEntries(a.earnings.map((e: any) => [e.name, e]));
    expect(byName(upstreamAccount)["acme/markdown"]).toMatchObject({
      royalty: ((prices.markdown * 9000n) / 10_000n).toString(),
      upstream: ((upstreamFromFork * 9000n) / 10_000n).toString(),
    });
    const forkAccount = await account(forkAuthor.address, expected.forkAuthor);
    expect(byName(forkAccount)["forker/markdown-plus"]).toMatchObject({ royalty: expected.forkAuthor.toString(), upstream: "0" });
    const human = await glassbox(["earnings", maintainer.address]);
    expect(human.json.account.earnings.length).toBe(1);

    for (const [index, amount] of [
      [DEV_ROLES.maintainer, expected.maintainer],
      [DEV_ROLES.forkAuthor, expected.forkAuthor],
    ] as const) {
      const wallet = devAccount(index).address;
      const before = await sdk.usdcBalance(wallet);
      const claimed = await glassbox(["claim"], { account: index });
      expect(claimed.code, claimed.stderr).toBe(0);
      expect(claimed.json.claimed).toBe(amount.toString());
      expect(await sdk.usdcBalance(wallet)).toBe(before + amount);
      expect(await sdk.claimable(wallet)).toBe(0n);
    }
    // Money in == money owed + bonds: what Settlement holds is exactly what is still owed plus the executor's bond.
    const held = await sdk.usdcBalance(stack.deployment.contracts.settlement);
    const { bond } = await sdk.executorStanding(devAccount(DEV_ROLES.operator).address);
    expect(bond).toBe(100_000_000n);
    expect(held).toBe(expected.coMaintainer + expected.operator + bond);
  });

  it("the maintainer offers a licence; the agent pays once and runs the capability locally, credited through the splits", async () => {
    const sdk = reader();
    const price = 50_000n;
    const offered = await glassbox(["licence", "offer", "acme/markdown@1.0.0", price.toString()], { account: DEV_ROLES.maintainer });
    expect(offered.code, offered.stderr).toBe(0);
    const before = { agent: await sdk.usdcBalance(agent.address), maintainer: await sdk.claimable(maintainer.address), coMaintainer: await sdk.claimable(coMaintainer) };
    const refused = await glassbox(["run", "acme/markdown", "to-html", "# Local"], { account: DEV_ROLES.agent });
    expect(refused.json.error.code).toBe("LICENCE_REQUIRED");
    const bought = await glassbox(["licence", "buy", "acme/markdown", "--yes"], { account: DEV_ROLES.agent });
    expect(bought.code, bought.stderr).toBe(0);
    const ran = await glassbox(["run", "acme/markdown", "to-html", "# Local"], { account: DEV_ROLES.agent });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.json).toMatchObject({ package: "acme/markdown", result: expect.stringContaining("<h1>Local</h1>"), local: true });
    // 90% / 10%, exactly; running locally moved nothing more.
    expect(await sdk.usdcBalance(agent.address)).toBe(before.agent - price);
    expect((await sdk.claimable(maintainer.address)) - before.maintainer).toBe((price * 9000n) / 10_000n);
    expect((await sdk.claimable(coMaintainer)) - before.coMaintainer).toBe((price * 1000n) / 10_000n);
    // The catalog shows the offer and its holder.
    await pollUntil("the licence in the catalog", () => sdk.info<any>("acme/markdown"), (p) => p.versions?.[0]?.licenceCount === 1);
    const info = await runGlassbox(["info", "acme/markdown", "--rpc", stack.rpcUrl, "--deployments", stack.deploymentsFile, "--indexer", stack.indexerUrl, "--executor", stack.executorUrl], { cwd: REPO_ROOT, env: { GLASSBOX_HOME: home } });
    expect(info.stdout).toContain("licence 0.05 USDC (1 holder)");
    expect(info.stdout).toContain("glassbox licence buy acme/markdown@1.0.0");
  });

  describe("the refusals a user would hit", () => {
    it("publishing a version whose tests fail", async () => {
      // Inside the repository, so the capability's npm import (semver) resolves from node_modules.
      const dir = path.join(REPO_ROOT, ".glassbox", "test", `broken-semver-${process.pid}`);
      await rm(dir, { recursive: true, force: true });
      await cp(path.join(CAPABILITIES, "semver"), dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}dist`) && !src.includes(".glassbox") });
      const tests = JSON.parse(await readFile(path.join(dir, "tests.json"), "utf8"));
      const first = tests.cases[0];
      first.expect = "ok" in first.expect ? { ok: typeof first.expect.ok === "boolean" ? !first.expect.ok : "definitely-not-this" } : { ok: "definitely-not-this" };
      await writeFile(path.join(dir, "tests.json"), JSON.stringify(tests, null, 2));
      const result = await glassbox(["publish", dir], { account: DEV_ROLES.maintainer });
      expect(result.code).toBe(3);
      expect(result.json.error.message).toMatch(/test vectors fail: refusing to publish acme\/semver@1\.0\.0/);
      expect(await reader().registry.getPackage("acme/semver")).toBeUndefined();
      await rm(dir, { recursive: true, force: true });
    });

    it("forking below the upstream's minimum share", async () => {
      const result = await glassbox(["fork", "acme/markdown@1.0.0", "forker/cheap-markdown", "--upstream-share", "5%"], { account: DEV_ROLES.forkAuthor });
      expect(result.code).toBe(5);
      expect(result.json.error.message).toMatch(/at least 10%/);
      expect(await reader().registry.getPackage("forker/cheap-markdown")).toBeUndefined();
    });

    it("calling with an insufficient USDC balance takes nothing, through a channel or with exact", async () => {
      const broke = privateKeyToAccount(generatePrivateKey());
      const settledBefore = await settledLines();
      for (const opts of [{ deposit: 10_000n }, { scheme: "exact" as const }]) {
        const error = await sdkFor(broke).call("acme/markdown", "to-html", ["# no money"], opts).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(GlassboxError);
        expect((error as GlassboxError).message).toMatch(/insufficient|balance|funds|transfer amount exceeds/i);
      }
      expect(await reader().usdcBalance(broke.address)).toBe(0n);
      expect(await settledLines()).toBe(settledBefore);
    });

    it("calling a yanked version", async () => {
      const yanked = await glassbox(["yank", "acme/markdown@1.0.0"], { account: DEV_ROLES.maintainer });
      expect(yanked.code, yanked.stderr).toBe(0);
      const before = await reader().usdcBalance(agent.address);
      const viaCli = await glassbox(["call", "acme/markdown@1.0.0", "to-html", "# gone"], { account: DEV_ROLES.agent });
      expect(viaCli.code).not.toBe(0);
      expect(viaCli.json.error.message).toMatch(/yanked/);
      // The executor refuses it too, whatever the client says, before asking for any payment.
      const direct = await fetch(`${stack.executorUrl}/v1/call/acme/markdown@1.0.0/to-html`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(["# gone"]),
      });
      expect(direct.status).toBeGreaterThanOrEqual(400);
      expect(direct.status).not.toBe(402);
      expect((await direct.json()).error.message).toMatch(/yanked/i);
      expect(await reader().usdcBalance(agent.address)).toBe(before);
    });

    it("a package owner's key is required to publish under its name", async () => {
      const result = await glassbox(["publish", path.join(CAPABILITIES, "markdown")], { account: DEV_ROLES.forkAuthor });
      expect(result.code).toBe(5);
      expect(result.json.error.message).toMatch(/belongs to/);
    });
  });

  it("a wallet key never appears in CLI output", async () => {
    const key = devPrivateKey(DEV_ROLES.agent);
    const result = await glassbox(["earnings"], { account: DEV_ROLES.agent });
    expect(result.stdout + result.stderr).not.toContain(key.slice(2));
    expect(result.json.address).toBe(agent.address as Address);
  });
});
