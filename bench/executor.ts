/**
 * npm run bench:executor: a bare Hono endpoint running the same function as plain JS (baseline), a
 * free call through the executor, paid calls through x402 batch-settlement channels (one channel per
 * client: deposit once, a voucher per call) and paid calls with `exact` (settled on-chain before each
 * response); p50/p99 latency and throughput at 1 and 16 concurrent clients, with a bounded in-repo
 * load generator on loopback, all in the same run. Paid requests carry pre-signed payments (client-side
 * signing is not the executor's cost). At the end, royalties are settled and counted on-chain: the
 * RoyaltiesSettled seq ranges tile 1..n (none duplicated) and every returned receipt is settled (none lost).
 */
import { spawn } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { pino } from "pino";
import { encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload } from "@x402/core/types";
import { toClientEvmSigner } from "@x402/evm";
import { signVoucher } from "@x402/evm/batch-settlement/client";
import type { Hex, LocalAccount } from "viem";
import { startExecutor, type RunningExecutor } from "../executor/service.ts";
import { createPublicClient, createTestClient, http } from "viem";
import { hardhat } from "viem/chains";
import { devAccount, devPrivateKey, type LocalChain } from "../test/helpers/chain.ts";
import { freePort } from "../cli/dev/ports.ts";
import { waitFor } from "../cli/dev/wait.ts";
import { buildAdder, buildCalc, TestStack } from "../test/executor/helpers/stack.ts";
import { challengeOf, channelFetch, craftPayment } from "../test/executor/helpers/x402.ts";

interface LoadResult {
  ok: number;
  failed: number;
  p50: number;
  p99: number;
  throughput: number;
  /**
   * CPU time of this whole process (executor threads, journal worker, load generator) per successful
   * request: on a shared 2-core machine it moves far less with other processes' load than calls/s.
   */
  cpuUsPerCall: number;
  /**
   * The executor's event loop (this process's main thread) over the run: busy time per successful
   * request, and the share of the run it was busy. Well below 100%, the loop is not what limits calls/s.
   */
  loopUsPerCall: number;
  loopBusy: number;
}

/**
 * Runs the requests with at most `concurrency` in flight, from a worker thread (the clients must not
 * compete with the executor for its event loop); latency per request in ms.
 */
async function load(
  total: number,
  concurrency: number,
  request: (i: number) => { url: string; body: string; headers?: Record<string, string> },
  lanes?: number[][],
): Promise<LoadResult & { bodies: unknown[] }> {
  const requests = Array.from({ length: total }, (_, i) => ({ headers: {}, ...request(i) }));
  const loopAtStart = performance.eventLoopUtilization();
  const worker = new Worker(new URL("./executor-loadgen.ts", import.meta.url), { workerData: { requests, concurrency, lanes } });
  const out = await new Promise<{ latencies: number[]; statuses: number[]; bodies: string[]; elapsedMs: number; cpuMicros: number }>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  const loop = performance.eventLoopUtilization(loopAtStart);
  await worker.terminate();
  const bodies: unknown[] = [];
  let failed = 0;
  out.statuses.forEach((status, i) => {
    if (status === 200) bodies.push(JSON.parse(out.bodies[i]!));
    else if (++failed <= 3) console.error(`request ${i}: ${status} ${out.bodies[i]}`);
  });
  const latencies = out.latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  const perCall = (micros: number) => micros / Math.max(1, bodies.length);
  return {
    ok: bodies.length,
    failed,
    p50: pct(50),
    p99: pct(99),
    throughput: bodies.length / (out.elapsedMs / 1000),
    cpuUsPerCall: perCall(out.cpuMicros),
    loopUsPerCall: perCall(loop.active * 1000),
    loopBusy: loop.utilization,
    bodies,
  };
}

/**
 * `hardhat node` as its own process, so the chain does not share the executor's event loop. On the
 * config's default network: `node` alone picks Hardhat's built-in "node" network, whose automine adds
 * a second per block, so after the set-up's few hundred blocks the chain runs minutes ahead of wall
 * time and the channel deposits' EIP-3009 authorizations revert as expired.
 */
async function startHardhatNode(): Promise<LocalChain> {
  const port = await freePort();
  const child = spawn(process.execPath, ["node_modules/hardhat/dist/src/cli.js", "--network", "default", "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const rpcUrl = `http://127.0.0.1:${port}`;
  const chain = { ...hardhat, rpcUrls: { default: { http: [rpcUrl] } } };
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });
  const testClient = createTestClient({ chain, mode: "hardhat", transport: http(rpcUrl) });
  await waitFor(() => publicClient.getChainId().catch(() => (child.exitCode !== null ? Promise.reject(new Error(stderr)) : undefined)), {
    timeoutMs: 60_000,
    what: "hardhat node",
  });
  return {
    rpcUrl,
    port,
    chainId: 31337,
    mineBlock: () => testClient.mine({ blocks: 1 }),
    blockNumber: () => publicClient.getBlockNumber(),
    close: async () => {
      child.kill("SIGTERM");
      if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

function percent(share: number): string {
  return `${(share * 100).toFixed(0)}%`;
}

/** `--name N` from the command line: a whole number of at least `min`, or `fallback` when absent. */
function integerFlag<T extends number | undefined>(name: string, fallback: T, min: number): number | T {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} wants a whole number of at least ${min}, got ${process.argv[at + 1]}`);
  return value;
}

async function main(): Promise<void> {
  const log = pino({ level: "warn" });
  const adder = await buildAdder();
  const calc = await buildCalc();
  const stack = await TestStack.start(await startHardhatNode());
  const cleanups: (() => Promise<void>)[] = [() => stack.close()];
  const PRICE = 1_000n;
  // `npm run bench:executor -- --paid-per-client 500`: a longer 16-client channel run (default 250 each).
  const paidPerClient = integerFlag("--paid-per-client", 250, 1);
  // `-- --rounds 5`: after the table, free and channel-paid runs at 16 clients in turn, each pair's p50s
  // compared within minutes: on a shared machine whose speed drifts, the median of those ratios moves less.
  const rounds = integerFlag("--rounds", 0, 0);
  // `-- --settle-interval-ms 1000`: otherwise the executor's default.
  const settleIntervalMs = integerFlag("--settle-interval-ms", undefined, 100);
  const FEE = 500n;
  try {
    await stack.mint(stack.payer.address, 100_000_000_000n);
    await stack.publish({ name: "bench/adder", version: "1.0.0", mode: "free", artifacts: adder, world: "adder-world", interfaceName: "adder" });
    await stack.publish({ name: "bench/adder-paid", version: "1.0.0", mode: "per-call", price: PRICE, artifacts: adder, world: "adder-world", interfaceName: "adder" });
    await stack.publish({ name: "bench/calc", version: "1.0.0", mode: "free", artifacts: calc });

    // Bonded executors; royalties settle during the runs at the executor's default interval (5 s), as in
    // production (`-- --settle-interval-ms N` to change it).
    const bond = 100_000_000n;
    const common = { rpcUrl: stack.chain.rpcUrl, deployment: stack.deployment, port: 0, register: true, fee: FEE, bond, logger: log, ...(settleIntervalMs === undefined ? {} : { settleIntervalMs }) };
    await stack.mint(stack.operator.address, 2n * bond);
    await stack.mint(devAccount(5).address, 2n * bond);
    const channels = await startExecutor({ ...common, operatorKey: stack.operatorKey, dataDir: await stack.tempDir() });
    const exact = await startExecutor({ ...common, operatorKey: devPrivateKey(5), dataDir: await stack.tempDir() });
    cleanups.push(() => channels.close(), () => exact.close());
    for (const executor of [channels, exact]) {
      await stack.uploadAll(executor.url, executor.operator, adder);
      await stack.uploadAll(executor.url, executor.operator, calc);
    }

    // Baseline: the same function as plain JS behind a bare Hono endpoint.
    const baseline = new Hono().post("/add", async (c) => {
      const [a, b] = (await c.req.json()) as [number, number];
      return c.json({ result: (a + b) | 0 });
    });
    const baselineServer = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: baseline.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    const baselinePort = (baselineServer.address() as { port: number }).port;
    cleanups.push(() => new Promise<void>((resolve) => baselineServer.close(() => resolve())));

    const post = (url: string, body: string, headers: Record<string, string> = {}) =>
      fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
    const call = (url: string, headers?: Record<string, string>) => () => ({ url, body: "[1, 2]", headers });
    const paidUrl = (executor: RunningExecutor) => `${executor.url}/v1/call/bench/adder-paid@1.0.0/add`;

    async function presignExact(count: number): Promise<string[]> {
      const { required } = await challengeOf(paidUrl(exact), [1, 2]);
      const headers: string[] = [];
      for (let i = 0; i < count; i++) headers.push(await craftPayment(stack.payer, required, { chainId: stack.deployment.chainId }));
      return headers;
    }

    // One channel per client: opened with the stock client (deposit + first call), then vouchers pre-signed
    // in sequence exactly as the stock client signs them.
    const payers: LocalAccount[] = Array.from({ length: 16 }, (_, i) => devAccount(20 + i));
    const channelOf = new Map<string, { id: Hex; charged: bigint }>();
    for (const payer of payers) await stack.mint(payer.address, 1_000_000_000n);
    async function openChannel(payer: LocalAccount): Promise<{ id: Hex; charged: bigint }> {
      const known = channelOf.get(payer.address);
      if (known) return known;
      const pay = channelFetch(payer, stack.client, stack.deployment.contracts.usdc, stack.deployment.chainId, 500_000_000n);
      const response = await pay(paidUrl(channels), { method: "POST", body: "[1, 2]", headers: { "content-type": "application/json" } });
      const opened = (await response.json()) as { payment?: { channelId: Hex; chargedCumulativeAmount: string } };
      if (response.status !== 200 || !opened.payment) throw new Error(`opening a channel for ${payer.address} failed: ${response.status} ${JSON.stringify(opened)}`);
      const channel = { id: opened.payment.channelId, charged: BigInt(opened.payment.chargedCumulativeAmount) };
      channelOf.set(payer.address, channel);
      return channel;
    }
    async function presignVouchers(clients: number, perClient: number): Promise<{ headers: string[]; lanes: number[][] }> {
      const { required } = await challengeOf(paidUrl(channels), [1, 2]);
      const accepted = required.accepts.find((a) => a.scheme === "batch-settlement")!;
      const headers: string[] = [];
      const lanes: number[][] = [];
      for (let k = 0; k < clients; k++) {
        const payer = payers[k]!;
        const channel = await openChannel(payer);
        const record = (await channels.gate.channelServer.getStorage().get(channel.id))!;
        const signer = toClientEvmSigner(payer, stack.client);
        const lane: number[] = [];
        for (let i = 0; i < perClient; i++) {
          channel.charged += PRICE + FEE;
          const voucher = await signVoucher(signer, channel.id, channel.charged.toString(), accepted.network);
          const payload: PaymentPayload = { x402Version: 2, resource: required.resource, accepted, payload: { type: "voucher", channelConfig: record.channelConfig, voucher } };
          lane.push(headers.length);
          headers.push(encodePaymentSignatureHeader(payload));
        }
        lanes.push(lane);
      }
      return { headers, lanes };
    }

    const rows: { scenario: string; concurrency: number; result: LoadResult }[] = [];
    const receipts = new Map<string, Hex[]>([
      [channels.operator, []],
      [exact.operator, []],
    ]);
    const warm = async (url: string) => {
      for (let i = 0; i < 20; i++) await (await post(url, "[1, 2]")).json();
    };
    await warm(`http://127.0.0.1:${baselinePort}/add`);
    await warm(`${channels.url}/v1/call/bench/adder@1.0.0/add`);
    await warm(`${channels.url}/v1/call/bench/calc@1.0.0/add`);

    for (const concurrency of [1, 16]) {
      const n = concurrency === 1 ? 500 : 4000;
      rows.push({ scenario: "baseline (bare Hono, plain JS)", concurrency, result: await load(n, concurrency, call(`http://127.0.0.1:${baselinePort}/add`)) });
      rows.push({ scenario: "free call (executor, WAT adder)", concurrency, result: await load(n, concurrency, call(`${channels.url}/v1/call/bench/adder@1.0.0/add`)) });
      rows.push({ scenario: "free call (executor, QuickJS calc)", concurrency, result: await load(n, concurrency, call(`${channels.url}/v1/call/bench/calc@1.0.0/add`)) });

      const vouchers = await presignVouchers(concurrency, concurrency === 1 ? 500 : paidPerClient);
      const channelResult = await load(vouchers.headers.length, concurrency, (i) => ({ url: paidUrl(channels), body: "[1, 2]", headers: { "PAYMENT-SIGNATURE": vouchers.headers[i]! } }), vouchers.lanes);
      for (const body of channelResult.bodies) receipts.get(channels.operator)!.push((body as { receiptId: Hex }).receiptId);
      rows.push({ scenario: "paid, batch-settlement channel", concurrency, result: channelResult });

      const exactHeaders = await presignExact(concurrency === 1 ? 100 : 400);
      const exactResult = await load(exactHeaders.length, concurrency, (i) => ({ url: paidUrl(exact), body: "[1, 2]", headers: { "PAYMENT-SIGNATURE": exactHeaders[i]! } }));
      for (const body of exactResult.bodies) receipts.get(exact.operator)!.push((body as { receiptId: Hex }).receiptId);
      rows.push({ scenario: "paid, exact (settled before the response)", concurrency, result: exactResult });
    }

    const pairs: { free: LoadResult; paid: LoadResult }[] = [];
    for (let round = 0; round < rounds; round++) {
      const free = await load(4000, 16, call(`${channels.url}/v1/call/bench/adder@1.0.0/add`));
      const vouchers = await presignVouchers(16, paidPerClient);
      const paid = await load(vouchers.headers.length, 16, (i) => ({ url: paidUrl(channels), body: "[1, 2]", headers: { "PAYMENT-SIGNATURE": vouchers.headers[i]! } }), vouchers.lanes);
      for (const body of paid.bodies) receipts.get(channels.operator)!.push((body as { receiptId: Hex }).receiptId);
      pairs.push({ free, paid });
    }

    // Claim and sweep the channels, settle every royalty, then count on-chain.
    await channels.drain();
    await exact.drain();
    const batches = await stack.royaltyBatches();

    console.log("\nGlassbox executor benchmark (loopback; hardhat node in its own process; add(a, b) as a WAT component unless noted)\n");
    console.log("| scenario | clients | requests ok | failed | p50 ms | p99 ms | calls/s | process CPU µs/call | event loop µs/call | event loop busy |");
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const { scenario, concurrency, result } of rows) {
      console.log(
        `| ${scenario} | ${concurrency} | ${result.ok} | ${result.failed} | ${result.p50.toFixed(2)} | ${result.p99.toFixed(2)} | ${result.throughput.toFixed(0)} | ${result.cpuUsPerCall.toFixed(0)} | ${result.loopUsPerCall.toFixed(0)} | ${percent(result.loopBusy)} |`,
      );
    }
    console.log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(2)).join(", ")} (${availableParallelism()} cores; other processes' load lowers calls/s)`);
    const row = (prefix: string, concurrency: number) => rows.find((r) => r.scenario.startsWith(prefix) && r.concurrency === concurrency)!.result;
    const base1 = row("baseline", 1).p50;
    const free1 = row("free call (executor, WAT", 1).p50;
    const freeJs1 = row("free call (executor, QuickJS", 1).p50;
    console.log(`\nfree call p50 / baseline p50 at 1 client: WAT ${(free1 / base1).toFixed(2)}x, QuickJS ${(freeJs1 / base1).toFixed(2)}x`);
    for (const concurrency of [1, 16]) {
      const paid = row("paid, batch-settlement", concurrency);
      const free = row("free call (executor, WAT", concurrency);
      console.log(`channel paid at ${concurrency} client(s): ${paid.throughput.toFixed(0)} calls/s, p50 ${(paid.p50 / free.p50).toFixed(2)}x the free call's (targets at 16: >= 1000 calls/s, <= 1.5x)`);
    }

    if (pairs.length > 0) {
      console.log(`\n${pairs.length} rounds at 16 clients, free (WAT) then channel-paid, each pair's p50s compared:`);
      console.log("| round | free p50 ms | free calls/s | free: event loop busy | paid p50 ms | paid calls/s | paid: event loop busy | paid p50 / free p50 |");
      console.log("|---:|---:|---:|---:|---:|---:|---:|---:|");
      pairs.forEach(({ free, paid }, i) =>
        console.log(
          `| ${i + 1} | ${free.p50.toFixed(2)} | ${free.throughput.toFixed(0)} | ${percent(free.loopBusy)} | ${paid.p50.toFixed(2)} | ${paid.throughput.toFixed(0)} | ${percent(paid.loopBusy)} | ${(paid.p50 / free.p50).toFixed(2)}x |`,
        ),
      );
      const ratios = pairs.map(({ free, paid }) => paid.p50 / free.p50).sort((a, b) => a - b);
      const paidRates = pairs.map(({ paid }) => paid.throughput).sort((a, b) => a - b);
      const median = (sorted: number[]) => (sorted.length % 2 ? sorted[sorted.length >> 1]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2);
      console.log(`median over the rounds: paid p50 ${median(ratios).toFixed(2)}x the free call's, ${median(paidRates).toFixed(0)} paid calls/s (targets: <= 1.5x, >= 1000 calls/s)`);
    }

    let lost = 0;
    let duplicated = 0;
    for (const [operator, returned] of receipts) {
      const mine = batches.filter((b) => b.executor === operator).sort((a, b) => Number(a.firstSeq - b.firstSeq));
      let next = 1n;
      for (const b of mine) {
        if (b.firstSeq !== next) duplicated++;
        next = b.firstSeq + b.count;
      }
      const executor = operator === channels.operator ? channels : exact;
      for (const id of returned) {
        const stored = await executor.journal.getReceipt(id);
        if (!stored || stored.seq === 0n || stored.seq >= next) lost++;
      }
      const lines = mine.reduce((n, b) => n + b.count, 0n);
      console.log(`${operator === channels.operator ? "channel" : "exact"} executor: ${returned.length} receipts returned in the runs, ${lines} royalty lines settled on-chain in ${mine.length} batches`);
    }
    console.log(`channel claims: ${channels.claimer.stats.claims} transactions for ${channels.claimer.stats.vouchers} vouchers, ${channels.claimer.stats.sweeps} sweeps`);
    console.log(`settlements lost: ${lost}, duplicated: ${duplicated}`);
    if (lost > 0 || duplicated > 0) process.exitCode = 1;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => console.error(error));
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
