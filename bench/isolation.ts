/**
 * npm run bench:isolation: good calls beside hostile ones, through a real executor.
 *
 * The executor runs as its own process (default limits: 10 s deadline, 1e9 fuel, 256 MiB per
 * instance, one worker per core plus extra ones while heavy calls hold them all), so its memory is
 * its own. In one run:
 * 1. unloaded baseline: 50 concurrent clients call a good QuickJS function (`add` of calc);
 * 2. the same good load while a hostile package runs a mix of endless loops, memory bombs (1 GB of
 *    allocations) and deep recursion from 6 more clients;
 * 3. the same again with the hostile calls spread over three packages.
 * It prints good-call p50/p99 in each phase (targets: p99 within the call's own 10 s limit and
 * within 5x the unloaded p99), what the hostile calls ended as, and the executor's RSS (after
 * start-up, peak) against the bound the pool's caps give.
 */
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { freePort } from "../cli/dev/ports.ts";
import { waitFor } from "../cli/dev/wait.ts";
import { buildComponent } from "../runtime/builder/index.ts";
import { DEFAULT_LIMITS } from "../runtime/sandbox/index.ts";
import { FIXTURES_DIR, TEXT_JS, TEXT_WIT, TEST_BUILD_CACHE } from "../test/fixtures/components/fixtures.ts";
import { buildCalc, TestStack, type CalcArtifacts } from "../test/executor/helpers/stack.ts";

const GOOD_CLIENTS = 50;
const GOOD_REQUESTS = 1_000;
const HOSTILE_CLIENTS = 6;
const HOSTILE_CALLS = [
  { fn: "loop-forever", args: [] },
  { fn: "allocate", args: [1000] },
  { fn: "recurse", args: [10_000_000] },
];

interface LoadOutcome {
  latencies: number[];
  statuses: number[];
  bodies: string[];
  elapsedMs: number;
}

/** Requests from a worker thread (clients must not share the measuring thread's event loop). */
function load(requests: { url: string; body: string }[], concurrency: number): Promise<LoadOutcome> {
  const worker = new Worker(new URL("./executor-loadgen.ts", import.meta.url), { workerData: { requests: requests.map((r) => ({ ...r, headers: {} })), concurrency } });
  return new Promise<LoadOutcome>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  }).finally(() => void worker.terminate());
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface ExecutorProcess {
  url: string;
  pid: number;
  failedCallLines(): number;
  stop(): Promise<void>;
}

async function startExecutorProcess(stack: TestStack): Promise<ExecutorProcess> {
  const dataDir = await stack.tempDir("glassbox-isolation-");
  const deployments = path.join(dataDir, "deployments.json");
  await writeFile(deployments, JSON.stringify(stack.deployment));
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "executor/main.ts", "--rpc", stack.chain.rpcUrl, "--deployments", deployments, "--data-dir", dataDir, "--port", String(port)], {
    env: { ...process.env, GLASSBOX_OPERATOR_KEY: stack.operatorKey, LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let failed = 0;
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (failed += (String(chunk).match(/"call failed"/g) ?? []).length));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(() => fetch(`${url}/v1/health`).then((r) => r.ok || undefined, () => (child.exitCode !== null ? Promise.reject(new Error(stderr)) : undefined)), { timeoutMs: 60_000, what: "executor" });
  return {
    url,
    pid: child.pid!,
    failedCallLines: () => failed,
    stop: async () => {
      child.kill("SIGTERM");
      if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

/** Resident and peak resident memory of a process, in MiB (Linux /proc). */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

/** The hostile component: the text fixture, made distinct per package so each has its own bytes. */
async function hostileArtifacts(label: string): Promise<CalcArtifacts> {
  const source = `${TEXT_JS}\nglobalThis.glassboxVariant = ${JSON.stringify(label)};\n`;
  const built = await buildComponent({ witSource: TEXT_WIT, world: "text-tools", source, sourcePath: path.join(FIXTURES_DIR, "text.js"), backend: "qjs", cacheDir: TEST_BUILD_CACHE });
  return { wit: TEXT_WIT, component: built.bytes, tests: await readFile(path.join(FIXTURES_DIR, "text.tests.json"), "utf8") };
}

interface Phase {
  name: string;
  p50: number;
  p99: number;
  failed: number;
  hostile: Record<string, number>;
}

async function main(): Promise<void> {
  const stack = await TestStack.start();
  let executor: ExecutorProcess | undefined;
  try {
    const calc = await buildCalc();
    await stack.publish({ name: "good/calc", version: "1.0.0", mode: "free", artifacts: calc });
    const hostilePackages = ["evil/one", "evil/two", "evil/three"];
    const hostile: CalcArtifacts[] = [];
    for (const name of hostilePackages) {
      const artifacts = await hostileArtifacts(name);
      hostile.push(artifacts);
      await stack.publish({ name, version: "1.0.0", mode: "free", artifacts, world: "text-tools", interfaceName: "text" });
    }
    executor = await startExecutorProcess(stack);
    const afterStart = await memoryOf(executor.pid);
    await stack.uploadAll(executor.url, stack.operator.address, calc);
    for (const artifacts of hostile) await stack.uploadAll(executor.url, stack.operator.address, artifacts);
    const afterUploads = await memoryOf(executor.pid);

    const goodUrl = `${executor.url}/v1/call/good/calc@1.0.0/add`;
    const good = () => load(Array.from({ length: GOOD_REQUESTS }, (_, i) => ({ url: goodUrl, body: `[${i}, 1]` })), GOOD_CLIENTS);
    await load(Array.from({ length: 200 }, () => ({ url: goodUrl, body: "[1, 2]" })), 8); // warm-up

    const phases: Phase[] = [];
    const measure = async (name: string, packages: string[]): Promise<void> => {
      let stopHostile = () => {};
      if (packages.length > 0) {
        // Enough hostile calls to outlast the good load; the worker is stopped once it is measured.
        const requests = Array.from({ length: 600 }, (_, i) => {
          const call = HOSTILE_CALLS[i % HOSTILE_CALLS.length]!;
          return { url: `${executor!.url}/v1/call/${packages[i % packages.length]}@1.0.0/${call.fn}`, body: JSON.stringify(call.args) };
        });
        const worker = new Worker(new URL("./executor-loadgen.ts", import.meta.url), { workerData: { requests: requests.map((r) => ({ ...r, headers: {} })), concurrency: HOSTILE_CLIENTS } });
        stopHostile = () => void worker.terminate();
        await new Promise((resolve) => setTimeout(resolve, 1_500)); // let the hostile calls occupy their workers
      }
      const outcome = await good();
      stopHostile();
      const latencies = outcome.latencies.sort((a, b) => a - b);
      phases.push({ name, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failed: outcome.statuses.filter((s) => s !== 200).length, hostile: {} });
      // Let stopped clients' calls drain before the next phase (they end by fuel, memory cap or deadline).
      await waitFor(async () => ((await fetch(`${executor!.url}/v1/health`)).ok ? true : undefined), { timeoutMs: 30_000, what: "executor" });
      await new Promise((resolve) => setTimeout(resolve, 11_000));
    };

    let peak = 0;
    const sampler = setInterval(() => void memoryOf(executor!.pid).then((m) => (peak = Math.max(peak, m.rss)), () => {}), 100);
    await measure("unloaded", []);
    await measure("hostile mix, one package", [hostilePackages[0]!]);
    await measure("hostile mix, three packages", hostilePackages);
    clearInterval(sampler);
    const final = await memoryOf(executor.pid);

    // What hostile calls end as, one of each.
    const kinds: string[] = [];
    for (const call of HOSTILE_CALLS) {
      const response = await fetch(`${executor.url}/v1/call/evil/one@1.0.0/${call.fn}`, { method: "POST", body: JSON.stringify(call.args), headers: { "content-type": "application/json" } });
      const body = (await response.json()) as { error?: { code: string } };
      kinds.push(`${call.fn}: ${response.status} ${body.error?.code ?? "ok"}`);
    }

    // The pool's defaults (pool.ts): one worker per core, up to twice that many with extra workers.
    const workers = availableParallelism();
    const perWorker = DEFAULT_LIMITS.memoryLimitBytes / 2 ** 20 + 64 + 256;
    const baseline = phases[0]!;
    console.log(`\nGlassbox isolation benchmark (executor process with ${workers} sandbox workers, default limits; ${GOOD_CLIENTS} good clients x ${GOOD_REQUESTS} calls; ${HOSTILE_CLIENTS} hostile clients)\n`);
    console.log("| phase | good p50 ms | good p99 ms | p99 / unloaded p99 | good calls failed |");
    console.log("|---|---:|---:|---:|---:|");
    for (const phase of phases) console.log(`| ${phase.name} | ${phase.p50.toFixed(1)} | ${phase.p99.toFixed(1)} | ${(phase.p99 / baseline.p99).toFixed(2)}x | ${phase.failed} |`);
    const worst = Math.max(...phases.map((p) => p.p99));
    console.log(`\ngood-call p99 under the hostile mixes: at most ${worst.toFixed(1)} ms = ${(worst / baseline.p99).toFixed(2)}x unloaded (target <= 5x, and within the call's own ${10_000} ms limit)`);
    console.log(`hostile calls end as: ${kinds.join("; ")}; failed calls logged by the executor: ${executor.failedCallLines()}`);
    console.log(
      `executor RSS: ${afterStart.rss.toFixed(0)} MiB after start-up, ${afterUploads.rss.toFixed(0)} MiB after preparing 4 components, peak ${Math.max(peak, final.peak).toFixed(0)} MiB, ${final.rss.toFixed(0)} MiB at the end; ` +
        `bound from the pool's caps: ${2 * workers} workers at most x (256 MiB instance + 64 MiB ready instances + 256 MiB JS heap) = ${2 * workers * perWorker} MiB + fixed overhead`,
    );
  } finally {
    await executor?.stop();
    await stack.close();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
