import path from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { pino, type Logger } from "pino";
import { createPublicClient, defineChain, http, type Address, type Hex, type PublicClient } from "viem";
import { capabilityRegistryAbi, settlementAbi } from "../sdk/abi.ts";
import { PAYMENT_SCHEMES, type InfoBody } from "../sdk/protocol.ts";
import type { Deployment } from "../sdk/deployment.ts";
import { createApp } from "./app.ts";
import { BlobStore } from "./blobs.ts";
import { CallService } from "./calls.ts";
import { RegistryView } from "./chain.ts";
import { shortMessage } from "./errors.ts";
import type { ComponentHost } from "./host.ts";
import { ChannelClaimer, withdrawalsPending } from "./channel-claimer.ts";
import { JournaledChannelStorage } from "./channel-storage.ts";
import { Discovery } from "./discovery.ts";
import { Journal } from "./journal.ts";
import { handleMcpRequest } from "./mcp.ts";
import { OperatorSender } from "./operator.ts";
import { PaymentGate } from "./payment-gate.ts";
import { ReceiptIssuer } from "./receipts.ts";
import { RoyaltyBook } from "./royalty-book.ts";
import { RoyaltySettler } from "./royalty-settler.ts";
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
  /** Register this executor on-chain at start (the fee is fixed per registration; later starts update the endpoint). */
  register?: boolean;
  /** Fee per call in USDC base units, used when registering. */
  fee?: bigint;
  /** Public endpoint recorded on-chain with `register` (default: the listening URL). */
  endpoint?: string;
  /** Bond to hold in Settlement (USDC base units): topped up to this at start. Paid calls need unsettled royalties <= bond. */
  bond?: bigint;
  /** Seconds from a receipt's issuedAt to its settlement deadline (default 1 h; below Settlement's MAX_SETTLE_WINDOW). */
  settleWindowSeconds?: number;
  /** Most royalty lines per settleRoyalties transaction. */
  royaltyBatchSize?: number;
  /** How often unsettled royalties are settled (ms). */
  settleIntervalMs?: number;
  /** The withdraw delay channel payers must accept (seconds, x402 minimum 900): the executor's time to claim. */
  withdrawDelaySeconds?: number;
  /** Claim channel vouchers and sweep at least this often (ms). */
  claimIntervalMs?: number;
  /** Vouchers per claim transaction. */
  maxClaimsPerBatch?: number;
  /** PostgreSQL journal instead of PGlite (env DATABASE_URL), in schema `databaseSchema` (env DATABASE_SCHEMA). */
  databaseUrl?: string;
  databaseSchema?: string;
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
  journal: Journal;
  gate: PaymentGate;
  settler: RoyaltySettler;
  claimer: ChannelClaimer;
  book: RoyaltyBook;
  receipts: ReceiptIssuer;
  registry: RegistryView;
  /** Claims and sweeps channel income, then settles every journaled royalty, and waits for it. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULTS = {
  port: 8402,
  host: "127.0.0.1",
  settleWindowSeconds: 3_600,
  royaltyBatchSize: 1_000,
  settleIntervalMs: 5_000,
  claimIntervalMs: 60_000,
  watchIntervalMs: 5_000,
  maxClaimsPerBatch: 100,
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
  log.info({ operator, chainId: deployment.chainId, contracts: deployment.contracts, dataDir: config.dataDir }, "starting executor");

  const journal = await Journal.open({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, databaseSchema: config.databaseSchema });
  const registry = new RegistryView(client, deployment.contracts.registry, operator, BigInt(deployment.startBlock), (error) =>
    log.warn({ err: shortMessage(error) }, "registry sync failed; will retry"),
  );
  await registry.start(config.pollMs ?? DEFAULTS.pollMs);

  const port = config.port ?? DEFAULTS.port;
  const hostname = config.hostname ?? DEFAULTS.host;
  const { usdc, settlement } = deployment.contracts;

  const channels = new JournaledChannelStorage(journal);
  const loadedChannels = await channels.load();
  const book = new RoyaltyBook();
  const settler = new RoyaltySettler({
    journal,
    book,
    sender,
    client,
    settlement,
    usdc,
    log,
    batchSize: config.royaltyBatchSize ?? DEFAULTS.royaltyBatchSize,
    intervalMs: config.settleIntervalMs ?? DEFAULTS.settleIntervalMs,
    replenish: async () => {
      await claimer.claimAndSweep();
    },
  });
  await settler.refresh();
  await book.load(journal, settler.nextSeq);
  const receipts = new ReceiptIssuer({
    journal,
    channels,
    signer: sender.account,
    chainId: deployment.chainId,
    settlement,
    settleWindowSeconds: config.settleWindowSeconds ?? DEFAULTS.settleWindowSeconds,
    onIssued: (row) => book.issued(row),
  });
  await receipts.start(settler.nextSeq);

  let claimer: ChannelClaimer;
  const gate = new PaymentGate({
    chainId: deployment.chainId,
    usdc,
    operator: sender.account,
    sender,
    client,
    channels,
    ...(config.withdrawDelaySeconds ? { withdrawDelaySeconds: config.withdrawDelaySeconds } : {}),
    isBlockedChannel: (id) => claimer.isBlocked(id),
  });
  await gate.init();
  claimer = new ChannelClaimer({
    facilitator: gate.facilitator,
    channels,
    journal,
    network: gate.network,
    receiver: operator,
    usdc,
    log,
    maxClaimsPerBatch: config.maxClaimsPerBatch ?? DEFAULTS.maxClaimsPerBatch,
    claimIntervalMs: config.claimIntervalMs ?? DEFAULTS.claimIntervalMs,
    watchIntervalMs: DEFAULTS.watchIntervalMs,
    withdrawalsPending: (ids) => withdrawalsPending(client, deployment.contracts.batchSettlement, ids),
    chainReachable: () => gate.chainReachable(),
  });
  await claimer.start();
  if (loadedChannels > 0) log.info({ channels: loadedChannels }, "channels loaded from the journal");

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
  const blobs = new BlobService({
    registry,
    blobs: blobStore,
    host,
    chainId: deployment.chainId,
    operator,
    log,
    hasLicence: (versionId, holder) => client.readContract({ address: settlement, abi: settlementAbi, functionName: "hasLicence", args: [versionId, holder] }),
  });
  const prepared = await blobs.prepareStored();
  if (prepared > 0) log.info({ prepared }, "prepared stored components");

  const discovery = new Discovery({ registry, host, blobs: blobStore, log });
  const calls = new CallService({ registry, host, gate, receipts, royalties: book, chainId: deployment.chainId, log, discovery });

  const info = async (): Promise<InfoBody> => {
    const versions = new Map(registry.liveVersions().map((v) => [v.versionId.toLowerCase(), v]));
    const unsettled = book.byVersion().map((u) => {
      const v = versions.get(u.versionId.toLowerCase()) ?? registry.versionById(u.versionId);
      return { versionId: u.versionId, name: v?.name ?? "", version: v?.version ?? "", receipts: u.receipts, amount: u.amount.toString() };
    });
    return {
      operator,
      address: operator,
      chainId: deployment.chainId,
      network: gate.network,
      contracts: deployment.contracts,
      registered: registry.executor.active,
      fee: registry.executor.feePerCall.toString(),
      endpoint: registry.executor.endpoint,
      bond: book.bond.toString(),
      schemes: [...PAYMENT_SCHEMES],
      channels: { contract: deployment.contracts.batchSettlement, withdrawDelaySeconds: gate.withdrawDelaySeconds },
      settleWindowSeconds: receipts.settleWindowSeconds,
      unsettledRoyalties: { total: book.total.toString(), receipts: book.count, versions: unsettled },
      nextSeq: settler.nextSeq.toString(),
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
    };
  };

  const app = createApp({
    calls,
    blobs,
    journal,
    log,
    maxCallBodyBytes: config.maxCallBodyBytes ?? DEFAULTS.maxCallBodyBytes,
    maxBlobBytes: config.maxBlobBytes ?? DEFAULTS.maxBlobBytes,
    settledBelow: () => settler.nextSeq,
    info,
    mcp: (request) => handleMcpRequest({ calls, discovery, log }, request),
    health: async () => {
      const chainReachable = await gate.chainReachable();
      return {
        ok: chainReachable,
        chainReachable,
        registered: registry.executor.active,
        bond: book.bond.toString(),
        unsettledRoyalties: book.total.toString(),
        unsettledReceipts: book.count,
        receipts: await journal.countReceipts(),
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
  await settler.ensureApproval().catch((error) => log.warn({ err: shortMessage(error) }, "approving Settlement failed; will retry when settling"));
  if (config.bond !== undefined) settler.setBondTarget(config.bond);
  await settler.topUpBond();
  await settler.start();
  log.info({ url, operator, feePerCall: registry.executor.feePerCall.toString(), bond: book.bond.toString(), registered: registry.executor.active }, "executor listening");

  let closed = false;
  return {
    url,
    port: boundPort,
    operator,
    journal,
    gate,
    settler,
    claimer,
    book,
    receipts,
    registry,
    drain: async () => {
      await claimer.claimAndSweep();
      await settler.drain();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      registry.stop();
      await settler.stop();
      await claimer.stop();
      await channels.flush().catch((error) => log.warn({ err: shortMessage(error) }, "channel records not written at stop"));
      await host.close();
      await journal.close();
      log.info("executor stopped");
    },
  };
}

/** Registers the operator as an executor (fee fixed per registration), or updates its endpoint. */
async function ensureRegistered(
  config: ExecutorConfig,
  endpoint: string,
  registry: RegistryView,
  sender: OperatorSender,
  client: PublicClient,
  log: Logger,
) {
  const current = await registry.refreshExecutor();
  const registryCall = { address: config.deployment.contracts.registry, abi: capabilityRegistryAbi };
  let hash: Hex | undefined;
  if (!current.active) {
    hash = await sender.write({ ...registryCall, functionName: "registerExecutor", args: [endpoint, config.fee ?? DEFAULTS.fee] });
  } else {
    if (config.fee !== undefined && config.fee !== current.feePerCall) {
      log.warn({ registered: current.feePerCall.toString(), asked: config.fee.toString() }, "the executor fee is fixed per registration: keeping the registered fee");
    }
    if (current.endpoint !== endpoint) hash = await sender.write({ ...registryCall, functionName: "updateExecutor", args: [endpoint] });
  }
  if (hash) {
    await client.waitForTransactionReceipt({ hash });
    await registry.refreshExecutor();
    log.info({ endpoint, feePerCall: registry.executor.feePerCall.toString() }, current.active ? "executor endpoint updated" : "executor registered on-chain");
  }
}
