/**
 * Starts an executor: `npm run executor -- [flags]` (or `node dist/executor/main.js` once built). Flags: USAGE below.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { createPublicClient, http, isHex, type Hex } from "viem";
import { parseDeployment, type Deployment } from "../sdk/deployment.ts";
import { loadDeployment } from "../sdk/deployments.ts";
import { decryptKeystore } from "../sdk/keystore.ts";
import { startExecutor, DEFAULTS } from "./service.ts";

const USAGE = `Starts an executor: npm run executor -- [flags]

  --rpc URL              chain RPC (env GLASSBOX_RPC_URL, default http://127.0.0.1:8545)
  --deployments FILE     deployments/<chainId>.json (env GLASSBOX_DEPLOYMENTS; default: the chain's file in deployments/)
  --key 0x...            operator key (env GLASSBOX_OPERATOR_KEY); or --keystore FILE with env GLASSBOX_KEYSTORE_PASSWORD
  --data-dir DIR         blobs + PGlite journal (env GLASSBOX_DATA_DIR, default .glassbox/executor)
  --cache-dir DIR        prepared (fuel-instrumented) components by hash, shareable across runs (default DATA_DIR/prepared)
  --port N               (env PORT, default 8402; 0 = any free port)   --host ADDR (default 127.0.0.1)
  --register             register this executor on-chain at start (later starts update the endpoint)
  --fee N                fee per call in USDC base units when registering (default 1000; fixed per registration)
  --endpoint URL         public URL recorded on-chain with --register
  --bond N               USDC base units to hold as bond in Settlement (topped up at start); paid calls stop
                         (503 BOND_EXHAUSTED) while unsettled royalties would exceed it
  --settle-window S      seconds from a receipt to its settlement deadline (default 3600)
  --royalty-batch-size N royalty lines per settleRoyalties (default 1000)
  --settle-interval-ms N how often royalties are settled (default 5000)
  --withdraw-delay S     withdraw delay channel payers must accept (default 900, x402's minimum)
  --claim-interval-ms N  claim channel vouchers and sweep at least this often (default 60000)
  --allow-capability X   WASI interface components may import (repeatable)
  --fuel N, --timeout-ms N, --memory-mb N, --workers N   sandbox limits per call
  DATABASE_URL           PostgreSQL journal instead of PGlite (schema DATABASE_SCHEMA, default glassbox_executor)
  LOG_LEVEL              pino level (default info)
Keys are never logged.
`;

class ConfigError extends Error {}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rpc: { type: "string" },
      deployments: { type: "string" },
      key: { type: "string" },
      keystore: { type: "string" },
      "data-dir": { type: "string" },
      "cache-dir": { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      fee: { type: "string" },
      bond: { type: "string" },
      "settle-window": { type: "string" },
      "royalty-batch-size": { type: "string" },
      "settle-interval-ms": { type: "string" },
      "withdraw-delay": { type: "string" },
      "claim-interval-ms": { type: "string" },
      register: { type: "boolean" },
      endpoint: { type: "string" },
      "allow-capability": { type: "string", multiple: true },
      fuel: { type: "string" },
      "timeout-ms": { type: "string" },
      "memory-mb": { type: "string" },
      workers: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const rpcUrl = values.rpc ?? process.env.GLASSBOX_RPC_URL ?? "http://127.0.0.1:8545";
  const deployment = await readDeployment(values.deployments ?? process.env.GLASSBOX_DEPLOYMENTS, rpcUrl);
  const operatorKey = await readKey(values.key ?? process.env.GLASSBOX_OPERATOR_KEY, values.keystore ?? process.env.GLASSBOX_KEYSTORE);

  const executor = await startExecutor({
    rpcUrl,
    deployment,
    operatorKey,
    dataDir: path.resolve(values["data-dir"] ?? process.env.GLASSBOX_DATA_DIR ?? ".glassbox/executor"),
    ...(values["cache-dir"] ? { preparedCacheDir: path.resolve(values["cache-dir"]) } : {}),
    port: integer("--port", values.port ?? process.env.PORT, DEFAULTS.port),
    hostname: values.host ?? DEFAULTS.host,
    fee: values.fee === undefined ? undefined : BigInt(integer("--fee", values.fee, 0)),
    ...(values.bond !== undefined ? { bond: BigInt(integer("--bond", values.bond, 0)) } : {}),
    settleWindowSeconds: integer("--settle-window", values["settle-window"], DEFAULTS.settleWindowSeconds),
    royaltyBatchSize: integer("--royalty-batch-size", values["royalty-batch-size"], DEFAULTS.royaltyBatchSize),
    settleIntervalMs: integer("--settle-interval-ms", values["settle-interval-ms"], DEFAULTS.settleIntervalMs),
    ...(values["withdraw-delay"] !== undefined ? { withdrawDelaySeconds: integer("--withdraw-delay", values["withdraw-delay"], 900) } : {}),
    claimIntervalMs: integer("--claim-interval-ms", values["claim-interval-ms"], DEFAULTS.claimIntervalMs),
    register: values.register ?? false,
    endpoint: values.endpoint,
    allowedCapabilities: values["allow-capability"] ?? [],
    limits: {
      fuel: optionalInteger("--fuel", values.fuel),
      timeoutMs: optionalInteger("--timeout-ms", values["timeout-ms"]),
      memoryLimitBytes: values["memory-mb"] === undefined ? undefined : integer("--memory-mb", values["memory-mb"], 0) * 1024 * 1024,
      workers: optionalInteger("--workers", values.workers),
    },
    databaseUrl: process.env.DATABASE_URL,
    databaseSchema: process.env.DATABASE_SCHEMA,
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await executor.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

async function readDeployment(file: string | undefined, rpcUrl: string): Promise<Deployment> {
  if (file) {
    try {
      return parseDeployment(JSON.parse(await readFile(file, "utf8")), file);
    } catch (error) {
      throw new ConfigError(`Cannot read the deployments file ${file}: ${(error as Error).message}`);
    }
  }
  let chainId: number;
  try {
    chainId = await createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) }).getChainId();
  } catch {
    throw new ConfigError(`The chain RPC ${rpcUrl} does not answer: start the chain or pass --rpc.`);
  }
  return loadDeployment(chainId);
}

async function readKey(key: string | undefined, keystore: string | undefined): Promise<Hex> {
  if (key) {
    if (!isHex(key) || key.length !== 66) throw new ConfigError("The operator key must be 0x followed by 64 hex digits (--key or GLASSBOX_OPERATOR_KEY).");
    return key;
  }
  if (keystore) {
    const password = process.env.GLASSBOX_KEYSTORE_PASSWORD;
    if (password === undefined) throw new ConfigError("Set GLASSBOX_KEYSTORE_PASSWORD to unlock --keystore.");
    return decryptKeystore(JSON.parse(await readFile(keystore, "utf8")), password);
  }
  throw new ConfigError("No operator key: pass --key, set GLASSBOX_OPERATOR_KEY, or use --keystore FILE with GLASSBOX_KEYSTORE_PASSWORD.");
}

function optionalInteger(flag: string, text: string | undefined): number | undefined {
  return text === undefined ? undefined : integer(flag, text, 0);
}

function integer(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new ConfigError(`${flag} must be a non-negative integer, got "${text}".`);
  return Number(text);
}

main().catch((error) => {
  // Only the message: configuration errors never echo key material.
  process.stderr.write(`executor: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
