/**
 * A newcomer's journey, as the README tells it: install the CLI from the clone (`npm link`), then,
 * from a folder outside the repository and against the processes `npm start` runs (Hardhat chain,
 * contracts, Ponder, executor), init → build → test → publish → call → fork --dir → publish the
 * fork → call the fork → earnings → claim. Every step runs the installed `glassbox` bin, and the
 * command lines the CLI suggests are run as printed.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, type DevState } from "../../cli/config.ts";
import type { DevStack } from "../../cli/dev-stack.ts";
import { startTestStack } from "../helpers/dev-stack.ts";
import { waitFor } from "../../cli/dev/wait.ts";
import { devAccount } from "../../sdk/dev-accounts.ts";
import { localUsdcAbi } from "../../sdk/abi.ts";
import { createPublicClient, http, type Address } from "viem";

const maintainer = devAccount(1);
const forkAuthor = devAccount(2);
const PRICE = 1000n; // the scaffold's per-call price
const FEE = 100n; // the dev stack's executor fee
/** How the agent pays: the only flags Payments v2 (channels by default) should need to change. */
const PAY = ["--dev-account", "3"];

let home: string;
let work: string;
let env: NodeJS.ProcessEnv;
let stack: DevStack;
/** The command lines init and fork print after "then" / "Next:", run as printed. */
let initNext: string;
let forkNext: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The installed `glassbox`, found on PATH like a user's shell finds it. */
const glassbox = (args: string[], cwd = work) => run("glassbox", args, cwd);
/** A command line as printed by the CLI, through a shell, stderr merged into stdout as in a log. */
const shell = (line: string, cwd = work) => run("sh", ["-c", `(${line}) 2>&1`], cwd);
const json = (r: Run) => JSON.parse(r.stdout) as Record<string, any>;

/** The line after `marker` in the CLI's output, e.g. the command after "Try: ". */
function suggested(output: string, marker: RegExp): string {
  const match = marker.exec(output);
  if (!match?.[1]) throw new Error(`no ${marker} in:\n${output}`);
  return match[1].trim();
}

const agent = devAccount(3);

/** A wallet's USDC, read on-chain. */
async function usdcBalance(address: Address): Promise<bigint> {
  const client = createPublicClient({ transport: http(stack.rpcUrl) });
  return client.readContract({ address: stack.deployment.contracts.usdc, abi: localUsdcAbi, functionName: "balanceOf", args: [address] });
}

async function claimable(address: string): Promise<bigint> {
  const earnings = await glassbox(["earnings", address, "--json"]);
  expect(earnings.code, earnings.stderr).toBe(0);
  return BigInt(json(earnings).claimable);
}

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "glassbox-newcomer-"));
  work = path.join(home, "work");
  const prefix = path.join(home, "npm-global");
  await mkdir(work);
  await mkdir(prefix);
  env = {
    ...process.env,
    PATH: [path.join(prefix, "bin"), path.dirname(process.execPath), process.env.PATH].join(path.delimiter),
    NPM_CONFIG_PREFIX: prefix,
    GLASSBOX_HOME: home,
    NO_COLOR: "1",
    GLASSBOX_PRIVATE_KEY: "",
    GLASSBOX_KEYSTORE: "",
    GLASSBOX_RPC_URL: "",
    GLASSBOX_DEPLOYMENTS: "",
    GLASSBOX_INDEXER_URL: "",
    GLASSBOX_EXECUTOR_URL: "",
  };
  // The README's install step, into a private global prefix: it links the bin and runs `prepare`.
  const linked = await run("npm", ["link", "--offline", "--no-audit", "--no-fund"], REPO_ROOT);
  expect(linked.code, linked.stderr).toBe(0);
  stack = await startTestStack({ stateDir: path.join(home, "stack") });
  // What `npm start` records for every other command: no connection flags from here on.
  const { rpcUrl, chainId, deploymentsFile, indexerUrl, executorUrl } = stack;
  const state: DevState = { pid: process.pid, rpcUrl, chainId, deploymentsFile, indexerUrl, executorUrl, startedAt: new Date().toISOString() };
  await writeFile(path.join(home, "dev.json"), JSON.stringify(state)); // devStatePath() under GLASSBOX_HOME
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

describe("a newcomer's journey through the installed CLI, outside the repository", () => {
  it("the installed bin starts from any folder", async () => {
    const version = await glassbox(["--version"]);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(await readFile(path.join(REPO_ROOT, "package.json"), "utf8")).version);
    const help = await glassbox(["publish", "--help"]);
    const globals = help.stdout.slice(help.stdout.indexOf("Global Options:"));
    for (const option of ["--json", "--keystore", "--dev-account", "--rpc", "--deployments", "--indexer", "--executor"]) expect(globals).toContain(option);
    expect(help.stdout).toContain("Needs a wallet");
  });

  it("init writes the wallet's address into the splits and prints the next commands with that wallet", async () => {
    const init = await glassbox(["init", "newbie/word-tools", "--dev-account", "1"]);
    expect(init.code, init.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(work, "word-tools", "glassbox.json"), "utf8"));
    expect(manifest.splits).toEqual([{ recipient: maintainer.address, bps: 10_000 }]);
    initNext = suggested(init.stdout, /then (cd .*)/);
    expect(initNext).toBe("cd word-tools && glassbox build && glassbox test && glassbox publish --dev-account 1");

    // Without a wallet at init the splits name a placeholder: publish refuses it before any build or transaction.
    const placeholder = await glassbox(["init", "newbie/no-wallet"]);
    expect(placeholder.code, placeholder.stderr).toBe(0);
    const refused = await glassbox(["publish", "--dev-account", "1"], path.join(work, "no-wallet"));
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("splits[0].recipient 0x0000000000000000000000000000000000000001 is a placeholder address");
    expect(refused.stderr).not.toContain("Building");
  });

  it("build → test → publish, run as init printed them", async () => {
    const journey = await shell(initNext);
    expect(journey.code, journey.stdout).toBe(0);
    expect(journey.stdout).toMatch(/4 passed, 0 failed/);
    expect(journey.stdout).toMatch(/Published newbie\/word-tools@0\.1\.0/);
    // In a log, each progress line stays before the result it led to.
    const uploaded = journey.stdout.indexOf("✔ Uploading what");
    expect(uploaded).toBeGreaterThan(-1);
    expect(uploaded).toBeLessThan(journey.stdout.indexOf("Published newbie/word-tools"));
    expect(journey.stdout).toContain(`served by ${stack.executorUrl}`);
  });

  it("publishing again resumes: nothing on-chain, nothing missing, and the Try: line works as printed", async () => {
    const again = await glassbox(["publish", "--dev-account", "1"], path.join(work, "word-tools"));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Already registered newbie\/word-tools@0\.1\.0 with these exact files/);
    expect(again.stdout).toContain("(it had every file already)");
    const tryLine = suggested(again.stdout, /Try: (.*)/);
    expect(tryLine).toBe("glassbox call newbie/word-tools@0.1.0 word-count 'the quick brown fox' --dev-account 3 --deposit 100000");
    const agentBefore = await usdcBalance(agent.address);
    const tried = await shell(tryLine);
    expect(tried.code, tried.stdout).toBe(0);
    expect(tried.stdout).toMatch(/^4$/m);
    expect(tried.stdout).toContain("✔ receipt verified");
    // The first call opened a channel with the deposit the Try: line gave; the call itself was a voucher.
    expect(tried.stdout).toMatch(/deposited 0\.1 USDC into the channel/);
    expect(await usdcBalance(agent.address)).toBe(agentBefore - 100_000n);
    const channel = await glassbox(["channel", "status", ...PAY, "--json"]);
    expect(channel.code, channel.stderr).toBe(0);
    expect(json(channel)).toMatchObject({ balance: "100000", charged: (PRICE + FEE).toString(), available: (100_000n - PRICE - FEE).toString() });
  });

  it("call --scheme exact pays one transfer of exactly the price and the fee", async () => {
    const before = await usdcBalance(agent.address);
    const exact = await glassbox(["call", "newbie/word-tools", "word-count", "one two", ...PAY, "--scheme", "exact", "--json"]);
    expect(exact.code, exact.stderr).toBe(0);
    expect(json(exact)).toMatchObject({ result: 2, paid: true, payment: { scheme: "exact", amount: (PRICE + FEE).toString() } });
    expect(await usdcBalance(agent.address)).toBe(before - PRICE - FEE);
  });

  it("call: JSON arguments are parsed, plain text is taken as typed, and a result::err exits 7 and stays paid", async () => {
    const jsonString = await glassbox(["call", "newbie/word-tools", "greet", '"Ada"', ...PAY, "--json"]);
    expect(jsonString.code, jsonString.stderr).toBe(0);
    expect(json(jsonString)).toMatchObject({ outcome: "ok", result: { ok: "Hello, Ada!" }, paid: true });

    const refused = await glassbox(["call", "newbie/word-tools", "greet", " ", ...PAY, "--json"]);
    expect(refused.code).toBe(7);
    expect(json(refused)).toMatchObject({ outcome: "error", result: { error: "name must not be empty" }, paid: true });
    expect(json(refused).receipt.royalty).toBe(PRICE.toString());
    const human = await glassbox(["call", "newbie/word-tools", "greet", "", ...PAY]);
    expect(human.code).toBe(7);
    expect(human.stderr).toMatch(/Error: newbie\/word-tools@0\.1\.0 greet returned an error: name must not be empty/);
    expect(human.stderr).toMatch(/the call was paid/);
  });

  it("fork --dir scaffolds the parent's public files and stubs; the stubs build and fail the tests", async () => {
    const forked = await glassbox(["fork", "newbie/word-tools@0.1.0", "forker/word-tools", "--upstream-share", "20%", "--dir", "word-tools-fork", "--dev-account", "2"]);
    expect(forked.code, forked.stderr).toBe(0);
    const dir = path.join(work, "word-tools-fork");
    for (const file of ["wit/world.wit", "tests.json"]) {
      expect(await readFile(path.join(dir, file), "utf8")).toBe(await readFile(path.join(work, "word-tools", file), "utf8"));
    }
    const manifest = JSON.parse(await readFile(path.join(dir, "glassbox.json"), "utf8"));
    expect(manifest).toMatchObject({ name: "forker/word-tools", fork: { parent: "newbie/word-tools@0.1.0", upstreamShareBps: 2000 }, splits: [{ recipient: forkAuthor.address, bps: 10_000 }] });
    expect(await readFile(path.join(dir, "src", "index.ts"), "utf8")).toMatch(/wordCount\(text\) \{\n\s+throw new Error\("word-count is not implemented yet"\)/);
    forkNext = suggested(forked.stdout, /^\s+(cd .*)$/m);
    expect(forkNext).toBe("cd word-tools-fork && glassbox build && glassbox test && glassbox publish --dev-account 2");
    const stubs = await glassbox(["test"], dir);
    expect(stubs.code).toBe(3);
    expect(stubs.stdout).toMatch(/0 passed, 4 failed/);
  });

  it("the fork author implements it and publishes the fork, run as fork printed it", async () => {
    const dir = path.join(work, "word-tools-fork");
    await writeFile(
      path.join(dir, "src", "index.ts"),
      `export const api = {
  wordCount(text: string): number {
    return (text.match(/\\S+/g) ?? []).length;
  },
  greet(name: string): string {
    if (name.trim() === "") throw "name must not be empty";
    return \`Hello, \${name}!\`;
  },
};
`,
    );
    const published = await shell(forkNext);
    expect(published.code, published.stdout).toBe(0);
    expect(published.stdout).toMatch(/Published forker\/word-tools@0\.1\.0/);
    // The WIT and tests are the parent's, already on the executor: only the fork's component went up.
    expect(published.stdout).toContain("(uploaded component)");
  });

  it("an agent calls the fork", async () => {
    const called = await glassbox(["call", "forker/word-tools", "word-count", "a b c", ...PAY, "--json"]);
    expect(called.code, called.stderr).toBe(0);
    expect(json(called)).toMatchObject({ result: 3, paid: true, receipt: { royalty: PRICE.toString(), executorFee: FEE.toString() } });
  });

  it("receipts: every paid call's receipt is kept, and the executor settles each as signed", async () => {
    const settled = await waitFor(
      async () => {
        const run = await glassbox(["receipts", ...PAY, "--json"]);
        const counts = json(run).counts;
        if (run.code !== 0 || counts.settled !== 6) throw new Error(run.stdout + run.stderr);
        return json(run);
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: "the royalties to settle" },
    );
    expect(settled.receipts).toHaveLength(6);
    const human = await glassbox(["receipts", ...PAY]);
    expect(human.stdout).toMatch(/6 settled/);
  });

  it("the catalog counts the calls and the fork, in the right grammar", async () => {
    const found = await waitFor(
      async () => {
        const search = await glassbox(["search", "word-tools"]);
        if (!/newbie\/word-tools@0\.1\.0[\s\S]*5 paid calls settled · 1 fork\b/.test(search.stdout)) throw new Error(search.stdout + search.stderr);
        return search;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: "the calls in the catalog" },
    );
    expect(found.stdout).toMatch(/forker\/word-tools@0\.1\.0[\s\S]*1 paid call settled · 0 forks/);
  });

  it("earnings, then claim: the maintainer gets its royalties and 20% of the fork's, the fork author the rest", async () => {
    // Parent: word-count (channel), word-count (exact), greet "Ada", greet " " and greet "" (error answers, paid).
    // Fork: word-count, 20% upstream.
    const upstream = (PRICE * 2000n) / 10_000n;
    const expected = { maintainer: 5n * PRICE + upstream, forkAuthor: PRICE - upstream };
    await waitFor(async () => {
      const now = { maintainer: await claimable(maintainer.address), forkAuthor: await claimable(forkAuthor.address) };
      if (now.maintainer !== expected.maintainer || now.forkAuthor !== expected.forkAuthor) throw new Error(`claimable ${now.maintainer} and ${now.forkAuthor}`);
      return now;
    }, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: "the calls to settle",
    });
    const earnings = await glassbox(["earnings", "--dev-account", "1"]);
    expect(earnings.code, earnings.stderr).toBe(0);
    expect(earnings.stdout).toContain("claimable now: 0.0052 USDC");
    for (const [account, amount] of [
      ["1", expected.maintainer],
      ["2", expected.forkAuthor],
    ] as const) {
      const claimed = await glassbox(["claim", "--dev-account", account, "--json"]);
      expect(claimed.code, claimed.stderr).toBe(0);
      expect(json(claimed).claimed).toBe(amount.toString());
    }
    expect(await claimable(maintainer.address)).toBe(0n);
  });
});
