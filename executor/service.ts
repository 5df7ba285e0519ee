import path from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { pino, type Logger } from "pino";
import { createPublicClient, defineChain, http, type Abi, type Address, type Hex, type PublicClient } from "viem";
import { capabilityRegistryAbi } from "../sdk/abi.ts";
import type { Deployment } from "../sdk/deployment.ts";
import { createApp } from "./app.ts";
import { BlobStore } from "./blobs.ts";
import { CallService } from "./calls.ts";
import { RegistryView } from "./chain.ts";
import { shortMessage } from "./errors.ts";
import type { ComponentHost } from "./host.ts";
import { Journal } from "./journal.ts";
import { OperatorSender } from "./operator.ts";
import { Payments } from "./payments.ts";
import { Settler, type SettlementMode } from "./settlement.ts";
import { BlobService } from "./uploads.ts";

export interface ExecutorConfig {
  rpcUrl: string;
  deployment: Deployment;
  /** The operator key (signs receipts, sends settlements). Never logged. */
  operatorKey: Hex;
  dataDir: string;
  /** Prepared (fuel-instrumented) components, keyed by hash: safe to share across runs. Default `<dataDir>/prepared`. */
  preparedCacheDir?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Bind address (default 127.0.0.1). */
  hostname?: string;
  settlement?: SettlementMode;
  /** Register (or update the fee of) this executor on-chain at start. */
  register?: boolean;
  /** Fee per call in USDC base units, used with `register`. */
  fee?: bigint;
  /** Public endpoint recorded on-chain with `register` (default: the listening URL). */
  endpoint?: string;
  /** PostgreSQL journal instead of PGlite (env DATABASE_URL), in schema `databaseSchema` (env DATABASE_SCHEMA). */
  databaseUrl?: string;
  databaseSchema?: string;
  batchSize?: number;
  batchIntervalMs?: number;
  /** Registry event polling interval. */
  pollMs?: number;
  maxCallBodyBytes?: number;
  maxBlobBytes?: number;
  /** WASI interfaces the operator allows components to import (intersected with each manifest). */
  allowedCapabilities?: string[];
  /** Sandbox limits per call (defaults: the runtime's). The memory cap is per instance: it limits nothing else in the process. */
  limits?: { fuel?: number; timeoutMs?: number; memoryLimitBytes?: number; workers?: number };
  /** The component host; default: the runtime library (executor/engine.ts). */
  componentHost?: ComponentHost;
  logger?: Logger;
  logLevel?: string;
}

export interface RunningExecutor {
  url: string;
  port: number;
  operator: Address;
  mode: SettlementMode;
  journal: Journal;
  settler: Settler;
  registry: RegistryView;
  /** Settles everything queued (batched mode) and waits for it. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULTS = {
  port: 8402,
  host: "127.0.0.1",
  settlement: "batched" as SettlementMode,
  batchSize: 50,
  batchIntervalMs: 250,
  pollMs: 500,
  maxCallBodyBytes: 1 << 20,
  maxBlobBytes: 64 << 20,
  fee: 1_000n,
};

/** Starts an executor in this process: journal, chain view, settlement, runtime, HTTP server. */
export async function startExecutor(config: ExecutorConfig): Promise<RunningExecutor> {
  const log = config.logger ?? pino({ level: config.logLevel ?? process.env.LOG_LEVEL ?? "info", base: { service: "executor" } });
  const { deployment } = config;
  const chain = defineChain({
    id: deployment.chainId,
    name: `chain-${deployment.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
  // Few, quick retries (a keep-alive connection closed by the server fails one request): an unreachable
  // RPC must still surface as a 503 within a fraction of a second, not after a long backoff.
  const client = createPublicClient({
    chain,
    pollingInterval: 250, // receipts of settlement transactions are awaited by polling
    transport: http(config.rpcUrl, { retryCount: 2, retryDelay: 50, timeout: 10_000 }),
  }) as PublicClient;
  const sender = new OperatorSender(config.operatorKey, chain, config.rpcUrl);
  const operator = sender.address;
  const mode = config.settlement ?? DEFAULTS.settlement;
  log.info({ operator, chainId: deployment.chainId, contracts: deployment.contracts, mode, dataDir: config.dataDir }, "starting executor");

  const journal = await Journal.open({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, databaseSchema: config.databaseSchema });
  const registry = new RegistryView(client, deployment.contracts.registry, operator, BigInt(deployment.startBlock), (error) =>
    log.warn({ err: shortMessage(error) }, "registry sync failed; will retry"),
  );
  await registry.start(config.pollMs ?? DEFAULTS.pollMs);

  const port = config.port ?? DEFAULTS.port;
  const hostname = config.hostname ?? DEFAULTS.host;

  const settler = new Settler({
    mode,
    journal,
    sender,
    client,
    settlement: deployment.contracts.settlement,
    log,
    batchSize: config.batchSize ?? DEFAULTS.batchSize,
    batchIntervalMs: config.batchIntervalMs ?? DEFAULTS.batchIntervalMs,
  });
  await settler.start();

  const payments = new Payments({
    chainId: deployment.chainId,
    usdc: deployment.contracts.usdc,
    settlement: deployment.contracts.settlement,
    operator,
    client,
    journal,
  });
  await payments.init();
  // Payments journaled but not settled yet are refused as replays (settled ones fail verification).
  for (const entry of await journal.unsettledReceipts()) payments.release(entry.payer, entry.nonce, true);

  const host =
    config.componentHost ?? (await (await import("./engine.ts")).createRuntimeHost({
      cacheDir: config.preparedCacheDir ?? path.join(config.dataDir, "prepared"),
      allowedCapabilities: config.allowedCapabilities ?? [],
      packageOf: (manifestHash) => registry.packageOfManifest(manifestHash),
      catalog: registry,
      log,
      pool: {
        ...(config.limits?.workers ? { size: config.limits.workers } : {}),
        ...(config.limits?.fuel ? { fuel: config.limits.fuel } : {}),
        ...(config.limits?.timeoutMs ? { timeoutMs: config.limits.timeoutMs } : {}),
        ...(config.limits?.memoryLimitBytes ? { memoryLimitBytes: config.limits.memoryLimitBytes } : {}),
      },
    }));
  const blobStore = new BlobStore(config.dataDir);
  const blobs = new BlobService({ registry, blobs: blobStore, host, chainId: deployment.chainId, operator, log });
  const prepared = await blobs.prepareStored();
  if (prepared > 0) log.info({ prepared }, "prepared stored components");

  const calls = new CallService({
    registry,
    host,
    payments,
    journal,
    settler,
    mode,
    operator: sender.account,
    chainId: deployment.chainId,
    settlement: deployment.contracts.settlement,
    log,
  });

  const app = createApp({
    calls,
    blobs,
    journal,
    log,
    maxCallBodyBytes: config.maxCallBodyBytes ?? DEFAULTS.maxCallBodyBytes,
    maxBlobBytes: config.maxBlobBytes ?? DEFAULTS.maxBlobBytes,
    info: async () => ({
      operator,
      chainId: deployment.chainId,
      network: payments.network,
      contracts: deployment.contracts,
      registered: registry.executor.active,
      feePerCall: registry.executor.feePerCall.toString(),
      endpoint: registry.executor.endpoint,
      settlementMode: mode,
      packages: registry
        .liveVersions()
        .filter((v) => host.isReady(v.hashes))
        .map((v) => ({
          name: v.name,
          version: v.version,
          versionId: v.versionId,
          accessMode: v.accessMode,
          price: v.price.toString(),
          fuelPricePerMillion: v.fuelPricePerMillion.toString(),
          componentHash: v.hashes.componentHash,
          functions: (host.functions(v.hashes) ?? []).map((f) => f.name),
        })),
    }),
    health: async () => {
      const chainReachable = await payments.chainReachable();
      return {
        ok: chainReachable,
        chainReachable,
        registered: registry.executor.active,
        settlementMode: mode,
        queuedSettlements: settler.queueLength,
        journal: await journal.countByStatus(),
      };
    },
  });

  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname }, () => resolve(s));
    s.once("error", reject);
  });
  const address = server.address();
  const boundPort = typeof address === "object" && address ? address.port : port;
  const url = `http://${hostname}:${boundPort}`;
  if (config.register) await ensureRegistered(config, config.endpoint ?? url, registry, sender, client, log);
  log.info({ url, operator, feePerCall: registry.executor.feePerCall.toString(), registered: registry.executor.active }, "executor listening");

  let closed = false;
  return {
    url,
    port: boundPort,
    operator,
    mode,
    journal,
    settler,
    registry,
    drain: () => settler.drain(),
    close: async () => {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      registry.stop();
      await settler.stop();
      await host.close();
      await journal.close();
      log.info("executor stopped");
    },
  };
}

/** Registers the operator as an executor (or updates its fee) so Settlement accepts its receipts. */
async function ensureRegistered(
  config: ExecutorConfig,
  endpoint: string,
  registry: RegistryView,
  sender: OperatorSender,
  client: PublicClient,
  log: Logger,
) {
  const current = await registry.refreshExecutor();
  // Without --fee, a registered executor keeps its on-chain fee.
  const fee = config.fee ?? (current.active ? current.feePerCall : DEFAULTS.fee);
  const registryCall = { address: config.deployment.contracts.registry, abi: capabilityRegistryAbi as Abi };
  let hash: Hex | undefined;
  if (!current.active) {
    hash = await sender.write({ ...registryCall, functionName: "registerExecutor", args: [endpoint, fee] });
  } else if (current.feePerCall !== fee || current.endpoint !== endpoint) {
    hash = await sender.write({ ...registryCall, functionName: "updateExecutor", args: [endpoint, fee] });
  }
  if (hash) {
    await client.waitForTransactionReceipt({ hash });
    await registry.refreshExecutor();
    log.info({ endpoint, feePerCall: fee.toString() }, current.active ? "executor registration updated" : "executor registered on-chain");
  }
}
