/**
 * npm run bench:executor: a bare Hono endpoint running the same function as plain JS (baseline), a
 * free call through the executor, a paid call with immediate settlement and a paid call with batched
 * settlement; p50/p99 latency and throughput at 1 and 16 concurrent clients, with a bounded in-repo
 * load generator on loopback. Paid requests carry pre-signed x402 payments (client-side signing is
 * not the executor's cost). At the end, settlements are counted on-chain: none lost, none duplicated.
 */
import { spawn } from "node:child_process";
import { Worker } from "node:worker_threads";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { pino } from "pino";
import type { Hex } from "viem";
import { settlementAbi } from "../sdk/abi.ts";
import { startExecutor, type RunningExecutor } from "../executor/service.ts";
import { createPublicClient, createTestClient, http } from "viem";
import { hardhat } from "viem/chains";
import { devPrivateKey, type LocalChain } from "../test/helpers/chain.ts";
import { freePort } from "../cli/dev/ports.ts";
import { waitFor } from "../cli/dev/wait.ts";
import { buildAdder, buildCalc, TestStack } from "../test/executor/helpers/stack.ts";
import { challengeOf, craftPayment } from "../test/executor/helpers/x402.ts";

interface LoadResult {
  ok: number;
  failed: number;
  p50: number;
  p99: number;
  throughput: number;
}

/**
 * Runs the requests with at most `concurrency` in flight, from a worker thread (the clients must not
 * compete with the executor for its event loop); latency per request in ms.
 */
async function load(total: number, concurrency: number, request: (i: number) => { url: string; body: string; headers?: Record<string, string> }): Promise<LoadResult & { bodies: unknown[] }> {
  const requests = Array.from({ length: total }, (_, i) => ({ headers: {}, ...request(i) }));
  const worker = new Worker(new URL("./executor-loadgen.ts", import.meta.url), { workerData: { requests, concurrency } });
  const out = await new Promise<{ latencies: number[]; statuses: number[]; bodies: string[]; elapsedMs: number }>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  await worker.terminate();
  const bodies: unknown[] = [];
  let failed = 0;
  out.statuses.forEach((status, i) => {
    if (status === 200) bodies.push(JSON.parse(out.bodies[i]!));
    else if (++failed <= 3) console.error(`request ${i}: ${status} ${out.bodies[i]}`);
  });
  const latencies = out.latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { ok: bodies.length, failed, p50: pct(50), p99: pct(99), throughput: bodies.length / (out.elapsedMs / 1000), bodies };
}

/** `hardhat node` as its own process, so the chain does not share the executor's event loop. */
async function startHardhatNode(): Promise<LocalChain> {
  const port = await freePort();
  const child = spawn(process.execPath, ["node_modules/hardhat/dist/src/cli.js", "node", "--hostname", "127.0.0.1", "--port", String(port)], {
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

async function main(): Promise<void> {
  const log = pino({ level: "warn" });
  const adder = await buildAdder();
  const calc = await buildCalc();
  const stack = await TestStack.start(await startHardhatNode());
  const cleanups: (() => Promise<void>)[] = [() => stack.close()];
  try {
    await stack.mint(stack.payer.address, 100_000_000_000n);
    await stack.publish({ name: "bench/adder", version: "1.0.0", mode: "free", artifacts: adder, world: "adder-world", interfaceName: "adder" });
    await stack.publish({ name: "bench/adder-paid", version: "1.0.0", mode: "per-call", price: 1_000n, artifacts: adder, world: "adder-world", interfaceName: "adder" });
    await stack.publish({ name: "bench/calc", version: "1.0.0", mode: "free", artifacts: calc });

    const common = { rpcUrl: stack.chain.rpcUrl, deployment: stack.deployment, port: 0, register: true, fee: 500n, logger: log };
    const immediate = await startExecutor({ ...common, operatorKey: stack.operatorKey, dataDir: await stack.tempDir(), settlement: "immediate" });
    const batched = await startExecutor({ ...common, operatorKey: devPrivateKey(5), dataDir: await stack.tempDir(), settlement: "batched", batchSize: 100, batchIntervalMs: 200 });
    cleanups.push(() => immediate.close(), () => batched.close());
    for (const executor of [immediate, batched]) {
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

    async function presign(executor: RunningExecutor, count: number): Promise<string[]> {
      const { required } = await challengeOf(`${executor.url}/v1/call/bench/adder-paid@1.0.0/add`, [1, 2]);
      const headers: string[] = [];
      for (let i = 0; i < count; i++) headers.push(await craftPayment(stack.payer, required, { chainId: stack.deployment.chainId }));
      return headers;
    }

    const rows: { scenario: string; concurrency: number; result: LoadResult }[] = [];
    const receiptsByExecutor = new Map<string, Set<Hex>>([
      [immediate.operator, new Set()],
      [batched.operator, new Set()],
    ]);
    const warm = async (url: string, headers?: string[]) => {
      for (let i = 0; i < 20; i++) await (await post(url, "[1, 2]", headers ? { "PAYMENT-SIGNATURE": headers[i]! } : {})).json();
    };
    await warm(`http://127.0.0.1:${baselinePort}/add`);
    await warm(`${immediate.url}/v1/call/bench/adder@1.0.0/add`);
    await warm(`${immediate.url}/v1/call/bench/calc@1.0.0/add`);

    for (const concurrency of [1, 16]) {
      const n = concurrency === 1 ? 500 : 2000;
      rows.push({ scenario: "baseline (bare Hono, plain JS)", concurrency, result: await load(n, concurrency, call(`http://127.0.0.1:${baselinePort}/add`)) });
      rows.push({ scenario: "free call (executor, WAT adder)", concurrency, result: await load(n, concurrency, call(`${immediate.url}/v1/call/bench/adder@1.0.0/add`)) });
      rows.push({ scenario: "free call (executor, QuickJS calc)", concurrency, result: await load(n, concurrency, call(`${immediate.url}/v1/call/bench/calc@1.0.0/add`)) });

      for (const [scenario, executor, count] of [
        ["paid, immediate settlement", immediate, concurrency === 1 ? 150 : 400],
        ["paid, batched settlement", batched, concurrency === 1 ? 300 : 1500],
      ] as const) {
        const headers = await presign(executor, count);
        const url = `${executor.url}/v1/call/bench/adder-paid@1.0.0/add`;
        const result = await load(count, concurrency, (i) => ({ url, body: "[1, 2]", headers: { "PAYMENT-SIGNATURE": headers[i]! } }));
        for (const body of result.bodies) receiptsByExecutor.get(executor.operator)!.add((body as { receiptId: Hex }).receiptId);
        rows.push({ scenario, concurrency, result });
      }
    }

    // Settle everything, then count on-chain.
    await batched.drain();
    await immediate.drain();
    const settled = await stack.client.getContractEvents({
      address: stack.deployment.contracts.settlement,
      abi: settlementAbi,
      eventName: "Settled",
      fromBlock: BigInt(stack.deployment.startBlock),
    });
    const skipped = await stack.client.getContractEvents({
      address: stack.deployment.contracts.settlement,
      abi: settlementAbi,
      eventName: "SettlementSkipped",
      fromBlock: BigInt(stack.deployment.startBlock),
    });

    console.log("\nGlassbox executor benchmark (loopback; hardhat node in its own process; add(a, b) as a WAT component unless noted)\n");
    console.log("| scenario | clients | requests ok | failed | p50 ms | p99 ms | calls/s |");
    console.log("|---|---:|---:|---:|---:|---:|---:|");
    for (const { scenario, concurrency, result } of rows) {
      console.log(`| ${scenario} | ${concurrency} | ${result.ok} | ${result.failed} | ${result.p50.toFixed(2)} | ${result.p99.toFixed(2)} | ${result.throughput.toFixed(0)} |`);
    }
    const base1 = rows.find((r) => r.scenario.startsWith("baseline") && r.concurrency === 1)!.result.p50;
    const free1 = rows.find((r) => r.scenario.includes("WAT") && r.concurrency === 1)!.result.p50;
    const freeJs1 = rows.find((r) => r.scenario.includes("QuickJS") && r.concurrency === 1)!.result.p50;
    const batched16 = rows.find((r) => r.scenario.includes("batched") && r.concurrency === 16)!.result.throughput;
    console.log(`\nfree call p50 / baseline p50 at 1 client: WAT ${(free1 / base1).toFixed(2)}x, QuickJS ${(freeJs1 / base1).toFixed(2)}x (target <= 1.3x)`);
    console.log(`batched paid throughput at 16 clients: ${batched16.toFixed(0)} calls/s (target >= 100)`);

    let lost = 0;
    let duplicated = 0;
    for (const [operator, receipts] of receiptsByExecutor) {
      const mine = settled.filter((l) => l.args.executor === operator).map((l) => l.args.receiptId!);
      const unique = new Set(mine);
      duplicated += mine.length - unique.size;
      for (const id of receipts) if (!unique.has(id)) lost++;
      console.log(`${operator === batched.operator ? "batched" : "immediate"} executor: ${receipts.size} receipts returned, ${unique.size} settled on-chain`);
    }
    console.log(`settlements lost: ${lost}, duplicated: ${duplicated}, skipped on-chain: ${skipped.length}; batches sent: ${batched.settler.stats.batches}`);
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
