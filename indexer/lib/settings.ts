import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { getAddress, isAddress, type Address } from "viem";
import { parseDeployment, type Deployment } from "../../sdk/deployment.ts";
import { deploymentPath } from "../../sdk/deployments.ts";
import { BATCH_SETTLEMENT_ADDRESS } from "../../sdk/x402-contracts.ts";

/** Where the indexer reads its chain and contracts from: env vars override the deployments file. */
export interface IndexerSettings {
  chainId: number;
  rpcUrl: string;
  registry: Address;
  settlement: Address;
  /**
   * The token (exact payments are its EIP-3009 transfers to executors). Undefined when only env addresses were
   * given without GLASSBOX_USDC: ponder.config.ts then asks Settlement for it (`usdc()`).
   */
  usdc: Address | undefined;
  /** The x402 batch-settlement channel contract (the canonical address unless overridden). */
  batchSettlement: Address;
  startBlock: number;
  pollingIntervalMs: number;
  database: { kind: "pglite"; directory: string } | { kind: "postgres"; connectionString: string };
}

const LOCAL_CHAIN_ID = 31337;

function readDeployments(file: string): Deployment {
  if (!existsSync(file)) {
    throw new Error(
      `Deployments file ${file} does not exist: deploy the contracts first (tsx contracts/scripts/deploy.ts --rpc <url>), ` +
        `point GLASSBOX_DEPLOYMENTS at the file, or set GLASSBOX_REGISTRY and GLASSBOX_SETTLEMENT (optionally GLASSBOX_USDC ` +
        `and GLASSBOX_BATCH_SETTLEMENT).`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`Deployments file ${file} is not valid JSON (${(error as Error).message}): redeploy or fix it.`);
  }
  return parseDeployment(parsed, file);
}

function addressFrom(name: string, value: string | undefined): Address {
  if (value === undefined || !isAddress(value, { strict: false })) {
    throw new Error(`${name} must be a 0x-prefixed 20-byte address, got ${JSON.stringify(value)}.`);
  }
  return getAddress(value);
}

function integerFrom(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(value)}.`);
  return n;
}

/** `repoRoot` anchors relative paths (the PGlite directory, a relative GLASSBOX_DEPLOYMENTS). */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, repoRoot = process.cwd()): IndexerSettings {
  const explicitFile = env.GLASSBOX_DEPLOYMENTS;
  const defaultFile = deploymentPath(Number(env.GLASSBOX_CHAIN_ID ?? LOCAL_CHAIN_ID));
  const useFile = explicitFile !== undefined || env.GLASSBOX_REGISTRY === undefined;
  const file = useFile ? readDeployments(path.resolve(repoRoot, explicitFile ?? defaultFile)) : undefined;

  const chainId = integerFrom("GLASSBOX_CHAIN_ID", env.GLASSBOX_CHAIN_ID, file?.chainId ?? LOCAL_CHAIN_ID);
  const registry = addressFrom("GLASSBOX_REGISTRY", env.GLASSBOX_REGISTRY ?? file?.contracts.registry);
  const settlement = addressFrom("GLASSBOX_SETTLEMENT", env.GLASSBOX_SETTLEMENT ?? file?.contracts.settlement);
  const usdcRaw = env.GLASSBOX_USDC ?? file?.contracts.usdc;
  const usdc = usdcRaw === undefined ? undefined : addressFrom("GLASSBOX_USDC", usdcRaw);
  const batchSettlement = addressFrom(
    "GLASSBOX_BATCH_SETTLEMENT",
    env.GLASSBOX_BATCH_SETTLEMENT ?? file?.contracts.batchSettlement ?? BATCH_SETTLEMENT_ADDRESS,
  );
  const startBlock = integerFrom("GLASSBOX_START_BLOCK", env.GLASSBOX_START_BLOCK, file?.startBlock ?? 0);
  // A local chain mines on demand: poll fast so a publication is searchable within a few hundred ms.
  const pollingIntervalMs = integerFrom("GLASSBOX_POLLING_MS", env.GLASSBOX_POLLING_MS, chainId === LOCAL_CHAIN_ID ? 100 : 1000);
  const rpcUrl = env.GLASSBOX_RPC_URL ?? "http://127.0.0.1:8545";

  const databaseUrl = env.DATABASE_URL;
  const database: IndexerSettings["database"] =
    databaseUrl !== undefined && databaseUrl !== ""
      ? { kind: "postgres", connectionString: databaseUrl }
      : { kind: "pglite", directory: path.resolve(repoRoot, env.GLASSBOX_INDEXER_DIR ?? ".glassbox/indexer/pglite") };

  return { chainId, rpcUrl, registry, settlement, usdc, batchSettlement, startBlock, pollingIntervalMs, database };
}
