import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { createPublicClient, http } from "viem";
import { deployGlassbox } from "../contracts/scripts/deploy.ts";
import { localUsdcAbi } from "../sdk/abi.ts";
import type { Deployment } from "../sdk/deployments.ts";
import { DEV_ROLES, devAccount, devPrivateKey, LOCAL_CHAIN_ID } from "../sdk/dev-accounts.ts";

export { DEV_ROLES };
import { sendContractTx, createChainClients } from "../sdk/client/chain.ts";

import { REPO_ROOT } from "./config.ts";

export { REPO_ROOT };
const BIN = (name: string) => path.join(REPO_ROOT, "node_modules", ".bin", name);


export interface DevStackOptions {
  /** Where logs, deployments and databases go; wiped at start so a second run needs no cleanup. */
  stateDir: string;
  rpcPort?: number;
  indexerPort?: number;
  executorPort?: number;
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
  stateDir: string;
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that is free now: `preferred` if possible, else one the OS picks. */
export async function freePort(preferred = 0): Promise<number> {
  const probe = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => (address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port"))));
      });
    });
  if (preferred) {
    try {
      return await probe(preferred);
    } catch {
      // taken: fall through to an OS-picked port
    }
  }
  return probe(0);
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, child?: ManagedProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child?.exited) throw new Error(`${what}: the process exited (code ${child.exitCode}); see ${child.logFile}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000}s${child ? `; see ${child.logFile}` : ""}`);
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
  const processes: ManagedProcess[] = [];
  const stop = async () => {
    for (const p of processes.reverse()) await p.stop();
  };
  const baseEnv = {
    ...process.env,
    PONDER_TELEMETRY_DISABLED: "true",
    HARDHAT_DISABLE_TELEMETRY_PROMPT: "true",
  };

  try {
    const rpcPort = await freePort(options.rpcPort ?? 8545);
    const rpcUrl = `http://127.0.0.1:${rpcPort}`;
    const chain = startProcess("chain", BIN("hardhat"), ["node", "--hostname", "127.0.0.1", "--port", String(rpcPort)], {
      cwd: REPO_ROOT,
      env: baseEnv,
      logFile: path.join(stateDir, "logs", "chain.log"),
    });
    processes.push(chain);
    await waitFor("The local chain", () => rpcReady(rpcUrl), 60_000, chain);
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

    const indexerPort = await freePort(options.indexerPort ?? 42069);
    // From inside indexer/: Ponder writes generated/ into the directory it starts in.
    const indexer = startProcess("indexer", BIN("ponder"), ["start", "--port", String(indexerPort), "--hostname", "127.0.0.1", "--schema", `dev_${Date.now()}`], {
      cwd: path.join(REPO_ROOT, "indexer"),
      env: {
        ...baseEnv,
        GLASSBOX_DEPLOYMENTS: deploymentsFile,
        GLASSBOX_RPC_URL: rpcUrl,
        GLASSBOX_INDEXER_DIR: path.join(stateDir, "indexer"),
        DATABASE_URL: "",
      },
      logFile: path.join(stateDir, "logs", "indexer.log"),
    });
    processes.push(indexer);
    const indexerUrl = `http://127.0.0.1:${indexerPort}`;

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

    await waitFor("The executor", () => httpOk(`${executorUrl}/v1/health`), 90_000, executor);
    log(`executor   ${executorUrl} (operator ${devAccount(DEV_ROLES.operator).address})`);
    await waitFor("The indexer", () => httpOk(`${indexerUrl}/ready`), 120_000, indexer);
    log(`indexer    ${indexerUrl} (search: ${indexerUrl}/search?q=markdown, GraphQL: ${indexerUrl}/graphql)`);

    // Touch the RPC once more so a dead chain shows up here rather than in the first command.
    await createPublicClient({ transport: http(rpcUrl) }).getBlockNumber();
    await writeFile(path.join(stateDir, "stack.json"), JSON.stringify({ rpcUrl, deploymentsFile, indexerUrl, executorUrl }, null, 2));
    return { rpcUrl, chainId: deployment.chainId, deployment, deploymentsFile, indexerUrl, executorUrl, stateDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
