import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { createPublicClient, http } from "viem";
import { deployGlassbox } from "../contracts/scripts/deploy.ts";
import { localUsdcAbi } from "../sdk/abi.ts";
import type { Deployment } from "../sdk/deployment.ts";
import { DEV_ROLES, devAccount, devPrivateKey, LOCAL_CHAIN_ID } from "../sdk/dev-accounts.ts";

export { DEV_ROLES };
import { sendContractTx, createChainClients } from "../sdk/client/chain.ts";

import { REPO_ROOT } from "./config.ts";
import { startIndexer } from "./dev/indexer.ts";
import { freePort } from "./dev/ports.ts";
import { waitFor, WaitAbortedError } from "./dev/wait.ts";
import { buildCatalog, serveCatalog } from "../web/server.ts";

export { REPO_ROOT };
const BIN = (name: string) => path.join(REPO_ROOT, "node_modules", ".bin", name);


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
  executorFee?: bigint;
  settlementMode?: "immediate" | "batched";
  log?: (line: string) => void;
}

export interface DevStack {
  rpcUrl: string;
  chainId: number;
  deployment: Deployment;
  deploymentsFile: string;
  indexerUrl: string;
  executorUrl: string;
  /** The web catalog, unless started with `web: false`. */
  webUrl?: string;
  stateDir: string;
  stop(): Promise<void>;
}

/** Waits until `check` passes, failing at once if `child` exits (its log says why). */
async function waitUntilReady(what: string, check: () => Promise<boolean>, timeoutMs: number, child: ManagedProcess): Promise<void> {
  await waitFor(
    async () => {
      if (child.exited) throw new WaitAbortedError(`${what}: the process exited (code ${child.exitCode}); see ${child.logFile}`);
      return (await check().catch(() => false)) || undefined;
    },
    { timeoutMs, intervalMs: 150, what: `${what} (log: ${child.logFile})` },
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

/**
 * Starts the whole local stack: a Hardhat chain, the contracts, USDC for the dev wallets, the
 * indexer (Ponder on PGlite) and an executor. Every child is stopped by stop(), also on failure.
 */
export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const log = options.log ?? (() => {});
  const stateDir = path.resolve(options.stateDir);
  await rm(stateDir, { recursive: true, force: true });
  await mkdir(path.join(stateDir, "logs"), { recursive: true });
  const processes: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    for (const p of processes.reverse()) await p.stop();
  };
  const baseEnv = {
    ...process.env,
    PONDER_TELEMETRY_DISABLED: "true",
    HARDHAT_DISABLE_TELEMETRY_PROMPT: "true",
  };

  try {
    // Built (or taken from the cache) while the chain, indexer and executor start. The catalog is a
    // convenience: a failed build (e.g. an install without dev dependencies) leaves the rest running.
    const webBuild =
      options.web === false
        ? undefined
        : buildCatalog().catch((error: Error) => {
            log(`web        not started: the catalog did not build (${error.message})`);
            return undefined;
          });
    const rpcPort = await freePort(options.rpcPort ?? 8545);
    const rpcUrl = `http://127.0.0.1:${rpcPort}`;
    const chain = startProcess("chain", BIN("hardhat"), ["node", "--hostname", "127.0.0.1", "--port", String(rpcPort)], {
      cwd: REPO_ROOT,
      env: baseEnv,
      logFile: path.join(stateDir, "logs", "chain.log"),
    });
    processes.push(chain);
    await waitUntilReady("The local chain", () => rpcReady(rpcUrl), 60_000, chain);
    log(`chain      ${rpcUrl} (chain id ${LOCAL_CHAIN_ID})`);

    const deploymentsDir = path.join(stateDir, "deployments");
    const deployment = await deployGlassbox({ rpcUrl, deployerKey: devPrivateKey(DEV_ROLES.deployer), deploymentsDir });
    const deploymentsFile = path.join(deploymentsDir, `${deployment.chainId}.json`);
    log(`contracts  registry ${deployment.contracts.registry} · settlement ${deployment.contracts.settlement} · usdc ${deployment.contracts.usdc}`);

    const faucet = options.faucetAmount ?? 1_000_000_000n; // 1,000 USDC
    const minter = createChainClients(rpcUrl, deployment.chainId, devAccount(DEV_ROLES.deployer));
    for (let i = 0; i < 10; i++) {
      await sendContractTx(minter, "Funding dev wallets", { address: deployment.contracts.usdc, abi: localUsdcAbi, functionName: "mint", args: [devAccount(i).address, faucet] });
    }
    log(`funded     dev accounts 0-9 with ${Number(faucet) / 1e6} USDC each`);

    // Started now, waited for after the executor: both warm up in parallel.
    const indexerStarting = startIndexer({
      rpcUrl,
      deployment,
      database: { kind: "pglite", directory: path.join(stateDir, "indexer") },
      schema: `dev_${Date.now()}`,
      port: options.indexerPort ?? 42069,
      logFile: path.join(stateDir, "logs", "indexer.log"),
    });
    indexerStarting.catch(() => {}); // awaited below; handled now so an early failure is not "unhandled"
    processes.push({ stop: async () => (await indexerStarting.catch(() => undefined))?.stop() });

    const executorPort = await freePort(options.executorPort ?? 4020);
    const executor = startProcess(
      "executor",
      BIN("tsx"),
      [
        path.join(REPO_ROOT, "executor", "main.ts"),
        "--rpc", rpcUrl,
        "--deployments", deploymentsFile,
        "--data-dir", path.join(stateDir, "executor"),
        "--port", String(executorPort),
        "--fee", String(options.executorFee ?? 100n),
        "--settlement", options.settlementMode ?? "batched",
        "--endpoint", `http://127.0.0.1:${executorPort}`,
        "--register",
      ],
      {
        cwd: REPO_ROOT,
        env: { ...baseEnv, GLASSBOX_OPERATOR_KEY: devPrivateKey(DEV_ROLES.operator), DATABASE_URL: "" },
        logFile: path.join(stateDir, "logs", "executor.log"),
      },
    );
    processes.push(executor);
    const executorUrl = `http://127.0.0.1:${executorPort}`;

    await waitUntilReady("The executor", () => httpOk(`${executorUrl}/v1/health`), 90_000, executor);
    log(`executor   ${executorUrl} (operator ${devAccount(DEV_ROLES.operator).address})`);
    // Ponder may move off the port it was given: use the one it reports.
    const indexerUrl = (await indexerStarting).url;
    await waitFor(async () => (await httpOk(`${indexerUrl}/ready`)) || undefined, { timeoutMs: 120_000, what: "the indexer's /ready" });
    log(`indexer    ${indexerUrl} (search: ${indexerUrl}/search?q=markdown, GraphQL: ${indexerUrl}/graphql)`);

    let webUrl: string | undefined;
    const built = await webBuild;
    if (built) {
      const { dir, cached, ms } = built;
      const catalog = await serveCatalog({ dir, port: await freePort(options.webPort ?? 5173), config: { indexerUrl, rpcUrl, deployment, executorUrl, chainName: "Glassbox local" } });
      processes.push({ stop: catalog.close });
      webUrl = catalog.url;
      log(`web        ${webUrl} (catalog ${cached ? "from the build cache" : `built in ${(ms / 1000).toFixed(1)}s`})`);
    }

    // Touch the RPC once more so a dead chain shows up here rather than in the first command.
    await createPublicClient({ transport: http(rpcUrl) }).getBlockNumber();
    await writeFile(path.join(stateDir, "stack.json"), JSON.stringify({ rpcUrl, deploymentsFile, indexerUrl, executorUrl, webUrl }, null, 2));
    return { rpcUrl, chainId: deployment.chainId, deployment, deploymentsFile, indexerUrl, executorUrl, ...(webUrl ? { webUrl } : {}), stateDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
