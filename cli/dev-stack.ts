import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { deployGlassbox } from "../contracts/scripts/deploy.ts";
import { localUsdcAbi } from "../sdk/abi.ts";
import { createChainClients, sendContractTx } from "../sdk/client/chain.ts";
import type { Deployment } from "../sdk/deployment.ts";
import { DEV_ROLES, devAccount, devExecutorOperatorIndex, devPrivateKey, LOCAL_CHAIN_ID, MAX_DEV_EXECUTORS } from "../sdk/dev-accounts.ts";
import { pgliteJournalDir } from "../executor/journal.ts";
import { REPO_ROOT } from "./config.ts";
import { startIndexer } from "./dev/indexer.ts";
import { seedPglite } from "./dev/pglite.ts";
import { freePort } from "./dev/ports.ts";
import { waitFor, WaitAbortedError } from "./dev/wait.ts";
import { buildCatalog, serveCatalog } from "../web/server.ts";

export { DEV_ROLES, REPO_ROOT };
const BIN = (name: string) => path.join(REPO_ROOT, "node_modules", ".bin", name);
/** The executor as compiled by `npm run build:cli` (a TypeScript loader would add seconds to its start). */
const EXECUTOR_MAIN = path.join(REPO_ROOT, "dist", "executor", "main.js");
/** Prepared components by hash: kept across runs (the state dir is wiped), so a restart re-prepares nothing. */
const PREPARED_CACHE = path.join(REPO_ROOT, ".glassbox", "cache", "executor-prepared");

export interface DevStackOptions {
  /** Where logs, deployments and databases go; wiped at start so a second run needs no cleanup. */
  stateDir: string;
  rpcPort?: number;
  indexerPort?: number;
  executorPort?: number;
  /** Port of the web catalog (tried first); `web: false` skips it. */
  webPort?: number;
  web?: boolean;
  /** USDC minted to each dev account, base units. */
  faucetAmount?: bigint;
  /** The first executor's fee per call (base units); executor i charges this + 10 * i, so they differ. */
  executorFee?: bigint;
  /** How many independent executors to run (default 1, at most MAX_DEV_EXECUTORS): each its own operator key, fee, bond and journal. */
  executors?: number;
  /** USDC each executor bonds in Settlement, base units (default 100 USDC): paid calls stop while unsettled royalties would exceed it. */
  executorBond?: bigint;
  /** Seconds from a receipt to its royalty settlement deadline. */
  settleWindowSeconds?: number;
  /** How often the executor settles royalties (ms). */
  settleIntervalMs?: number;
  /** How often the executor claims channel vouchers and sweeps (ms; the executor's default otherwise). */
  claimIntervalMs?: number;
  /** One line per service as it becomes ready, with the seconds it took. */
  log?: (line: string) => void;
  /**
   * Runs once the chain, contracts, funded wallets and executor are up, while the indexer warms up
   * (e.g. publishing the samples): the stack is returned when both are done.
   */
  whileIndexerStarts?: (services: DevServices) => Promise<void>;
  /** Aborting stops every process started so far and rejects. */
  signal?: AbortSignal;
}

/** The services up before the indexer is. */
export interface DevServices {
  rpcUrl: string;
  chainId: number;
  deployment: Deployment;
  deploymentsFile: string;
  /** The first executor (what single-executor tools default to). */
  executorUrl: string;
  /** Every executor of the stack, the first one first. */
  executors: DevExecutor[];
  stateDir: string;
}

/** One executor of the local stack. */
export interface DevExecutor {
  url: string;
  operator: `0x${string}`;
  /** Its dev account index (its key: devPrivateKey(operatorIndex)). */
  operatorIndex: number;
  fee: bigint;
  bond: bigint;
  dataDir: string;
  logFile: string;
  /** The process: stop() ends it; `child` for tests that kill it outright. */
  process: ManagedProcess;
}

export interface DevStack extends DevServices {
  indexerUrl: string;
  /** The web catalog, unless started with `web: false` or its build failed. */
  webUrl?: string;
  stop(): Promise<void>;
}

/** Waits until `check` passes, failing at once if `child` exits (its log says why) or the start is aborted. */
async function waitUntilReady(what: string, check: () => Promise<boolean>, timeoutMs: number, child: ManagedProcess, signal?: AbortSignal): Promise<void> {
  await waitFor(
    async () => {
      if (signal?.aborted) throw new WaitAbortedError("The start was aborted.");
      if (child.exited) throw new WaitAbortedError(`${what}: the process exited (code ${child.exitCode}); see ${child.logFile}`);
      return (await check().catch(() => false)) || undefined;
    },
    { timeoutMs, intervalMs: 100, what: `${what} (log: ${child.logFile})` },
  );
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: boolean;
  exitCode: number | null;
  stop(): Promise<void>;
}

/** Starts a child in its own process group, its output to a log file; stop() ends the whole group. */
export function startProcess(name: string, command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }): ManagedProcess {
  const log = createWriteStream(opts.logFile, { flags: "a" });
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const managed: ManagedProcess = {
    name,
    child,
    logFile: opts.logFile,
    exited: false,
    exitCode: null,
    async stop() {
      if (managed.exited || child.pid === undefined) return;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // already gone
        }
      }, 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
  child.once("exit", (code) => {
    managed.exited = true;
    managed.exitCode = code;
  });
  return managed;
}

async function rpcReady(rpcUrl: string): Promise<boolean> {
  const response = await fetch(rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }) });
  return response.ok;
}

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url);
  return response.ok;
}

const since = (started: number) => `${((Date.now() - started) / 1000).toFixed(1)}s`;

/**
 * Starts the whole local stack: a Hardhat chain, the contracts, USDC for the dev wallets, the
 * indexer (Ponder on PGlite) and an executor. What does not depend on each other starts in
 * parallel: once the contracts are deployed, the funding, the indexer and the executor all start
 * at once. Every child is stopped by stop(), also on failure or abort.
 */
export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const log = options.log ?? (() => {});
  const { signal } = options;
  const executorCount = options.executors ?? 1;
  if (!Number.isInteger(executorCount) || executorCount < 1 || executorCount > MAX_DEV_EXECUTORS) {
    throw new RangeError(`--executors must be a whole number from 1 to ${MAX_DEV_EXECUTORS}, got ${options.executors}.`);
  }
  if (!existsSync(EXECUTOR_MAIN)) throw new Error(`The executor is not built (${EXECUTOR_MAIN} is missing): run \`npm run build:cli\`.`);
  const stateDir = path.resolve(options.stateDir);
  await rm(stateDir, { recursive: true, force: true });
  await mkdir(path.join(stateDir, "logs"), { recursive: true });
  const processes: { stop(): Promise<void> }[] = [];
  // Each call waits for any stop under way, then stops whatever started since: safe from the abort
  // listener and the error path at once.
  let stopped = Promise.resolve();
  const stop = () =>
    (stopped = stopped.then(async () => {
      for (const p of processes.splice(0).reverse()) await p.stop();
    }));
  const onAbort = () => void stop();
  signal?.addEventListener("abort", onAbort, { once: true });
  const baseEnv = { ...process.env, PONDER_TELEMETRY_DISABLED: "true", HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" };

  try {
    // Built (or taken from the cache) while the rest starts. The catalog is a convenience: a failed
    // build (e.g. an install without dev dependencies) leaves the rest running.
    const webBuild =
      options.web === false
        ? Promise.resolve(undefined)
        : buildCatalog().catch((error: Error) => {
            log(`web        not started: the catalog did not build (${error.message})`);
            return undefined;
          });
    // The two empty databases are copied while the chain starts.
    const indexerDir = path.join(stateDir, "indexer");
    const executorDirs = Array.from({ length: executorCount }, (_, i) => path.join(stateDir, i === 0 ? "executor" : `executor-${i + 1}`));
    const seeding = Promise.all([seedPglite(indexerDir), ...executorDirs.map((dir) => seedPglite(pgliteJournalDir(dir)))]);
    seeding.catch(() => {}); // awaited below
    let started = Date.now();
    const rpcPort = await freePort(options.rpcPort ?? 8545);
    const rpcUrl = `http://127.0.0.1:${rpcPort}`;
    // The config's default network (same-timestamp blocks): `node` alone runs Hardhat's built-in network,
    // whose automine adds a second per block, so the chain clock runs ahead of wall time (30 blocks: +28 s)
    // and EIP-3009 authorizations signed against wall time expire.
    const chain = startProcess("chain", BIN("hardhat"), ["--network", "default", "node", "--hostname", "127.0.0.1", "--port", String(rpcPort)], {
      cwd: REPO_ROOT,
      env: baseEnv,
      logFile: path.join(stateDir, "logs", "chain.log"),
    });
    processes.push(chain);
    await waitUntilReady("The local chain", () => rpcReady(rpcUrl), 60_000, chain, signal);
    log(`chain      ${rpcUrl} (chain id ${LOCAL_CHAIN_ID}) · ${since(started)}`);

    started = Date.now();
    const deploymentsDir = path.join(stateDir, "deployments");
    const deployment = await deployGlassbox({ rpcUrl, deployerKey: devPrivateKey(DEV_ROLES.deployer), deploymentsDir });
    const deploymentsFile = path.join(deploymentsDir, `${deployment.chainId}.json`);
    log(`contracts  registry ${deployment.contracts.registry} · settlement ${deployment.contracts.settlement} · usdc ${deployment.contracts.usdc} · ${since(started)}`);

    // From here on nothing waits for anything else: funding, indexer and executor start together.
    await seeding;
    started = Date.now();
    const faucet = options.faucetAmount ?? 1_000_000_000n; // 1,000 USDC
    const minter = createChainClients(rpcUrl, deployment.chainId, devAccount(DEV_ROLES.deployer));
    const mint = (index: number) => sendContractTx(minter, "Funding dev wallets", { address: deployment.contracts.usdc, abi: localUsdcAbi, functionName: "mint", args: [devAccount(index).address, faucet] });
    // The operators first: each executor posts its bond from its own key as it starts.
    const operatorIndexes = executorDirs.map((_, i) => devExecutorOperatorIndex(i));
    for (const index of operatorIndexes) await mint(index);
    const funding = (async () => {
      // One sender: its transactions go one at a time (automine cannot queue a sender's nonces).
      for (let i = 0; i < 10; i++) if (!operatorIndexes.includes(i)) await mint(i);
      log(`funded     dev accounts 0-9 with ${Number(faucet) / 1e6} USDC each · ${since(started)}`);
    })();

    const indexerStarting = startIndexer({
      rpcUrl,
      deployment,
      database: { kind: "pglite", directory: indexerDir },
      schema: `dev_${Date.now()}`,
      port: options.indexerPort ?? 42069,
      logFile: path.join(stateDir, "logs", "indexer.log"),
    });
    processes.push({ stop: async () => (await indexerStarting.catch(() => undefined))?.stop() });
    const indexerReady = (async () => {
      // Ponder may move off the port it was given: use the one it reports.
      const indexerUrl = (await indexerStarting).url;
      await waitFor(
        async () => {
          if (signal?.aborted) throw new WaitAbortedError("The start was aborted.");
          return (await httpOk(`${indexerUrl}/ready`).catch(() => false)) || undefined;
        },
        { timeoutMs: 120_000, what: "the indexer's /ready" },
      );
      log(`indexer    ${indexerUrl} (search: ${indexerUrl}/search?q=markdown, GraphQL: ${indexerUrl}/graphql) · ${since(started)}`);
      return indexerUrl;
    })();

    const executors: DevExecutor[] = [];
    const executorsReady: Promise<void>[] = [];
    const bond = options.executorBond ?? 100_000_000n;
    for (const [i, dataDir] of executorDirs.entries()) {
      // Port 0 asks the OS for each; otherwise consecutive ports from the first.
      const executorPort = await freePort(options.executorPort === 0 ? 0 : (options.executorPort ?? 4020) + i);
      const url = `http://127.0.0.1:${executorPort}`;
      const operatorIndex = operatorIndexes[i]!;
      const fee = (options.executorFee ?? 100n) + 10n * BigInt(i);
      const name = i === 0 ? "executor" : `executor-${i + 1}`;
      const logFile = path.join(stateDir, "logs", `${name}.log`);
      const child = startProcess(
        name,
        process.execPath,
        [
          EXECUTOR_MAIN,
          "--rpc", rpcUrl,
          "--deployments", deploymentsFile,
          "--data-dir", dataDir,
          "--cache-dir", PREPARED_CACHE,
          "--port", String(executorPort),
          "--fee", String(fee),
          "--bond", String(bond),
          "--settle-window", String(options.settleWindowSeconds ?? 3_600),
          "--settle-interval-ms", String(options.settleIntervalMs ?? 2_000),
          "--endpoint", url,
          ...(options.claimIntervalMs !== undefined ? ["--claim-interval-ms", String(options.claimIntervalMs)] : []),
          "--register",
        ],
        { cwd: REPO_ROOT, env: { ...baseEnv, GLASSBOX_OPERATOR_KEY: devPrivateKey(operatorIndex), DATABASE_URL: "" }, logFile },
      );
      processes.push(child);
      const operator = devAccount(operatorIndex).address;
      executors.push({ url, operator, operatorIndex, fee, bond, dataDir, logFile, process: child });
      executorsReady.push(
        (async () => {
          await waitUntilReady(`The ${name}`, () => httpOk(`${url}/v1/health`), 90_000, child, signal);
          log(`${name.padEnd(10)} ${url} (operator ${operator}, fee ${fee}) · ${since(started)}`);
        })(),
      );
    }
    const executorUrl = executors[0]!.url;
    const executorReady = Promise.all(executorsReady);

    // Served as soon as it is built and the indexer has its port: the page polls the indexer itself.
    const webServing = (async () => {
      const built = await webBuild;
      if (!built) return undefined;
      const indexerUrl = (await indexerStarting).url;
      const catalog = await serveCatalog({ dir: built.dir, port: await freePort(options.webPort ?? 5173), config: { indexerUrl, rpcUrl, deployment, executorUrl, chainName: "Glassbox local" } });
      log(`web        ${catalog.url} (catalog ${built.cached ? "from the build cache" : `built in ${(built.ms / 1000).toFixed(1)}s`}) · ${since(started)}`);
      return catalog;
    })();
    processes.push({ stop: async () => (await webServing.catch(() => undefined))?.close() });

    // Handled now, awaited below: an early failure of one must not go "unhandled" while another is awaited.
    const all = [funding, indexerReady, executorReady, webServing];
    for (const p of all) p.catch(() => {});
    await Promise.all([funding, executorReady]);
    const services: DevServices = { rpcUrl, chainId: deployment.chainId, deployment, deploymentsFile, executorUrl, executors, stateDir };
    const [indexerUrl, web] = await Promise.all([indexerReady, webServing, options.whileIndexerStarts?.(services)]);
    const webUrl = web?.url;
    await writeFile(path.join(stateDir, "stack.json"), JSON.stringify({ rpcUrl, deploymentsFile, indexerUrl, executorUrl, executorUrls: executors.map((e) => e.url), webUrl }, null, 2));
    signal?.removeEventListener("abort", onAbort);
    return { ...services, indexerUrl, ...(webUrl ? { webUrl } : {}), stop };
  } catch (error) {
    signal?.removeEventListener("abort", onAbort);
    await stop();
    throw error;
  }
}
