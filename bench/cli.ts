/**
 * CLI benchmark (`npm run bench:cli`). In one run, side by side:
 * - start-up: `glassbox --version` (the compiled bin, as installed) beside `node -e 0`, interleaved,
 *   p50 and p90 of each and their ratio (target: at most 6x);
 * - `npm start` until "Glassbox is running", with warm caches (a first start warms them and is
 *   reported apart), with the per-stage timings it prints (target: at most 15 s).
 * Flags: --quick (fewer start-up samples, one warm start).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../cli/config.ts";

const quick = process.argv.includes("--quick");
const STARTUP_SAMPLES = quick ? 10 : 30;
const WARM_STARTS = quick ? 1 : 3;
const BIN = path.join(REPO_ROOT, "cli", "glassbox.mjs");

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function timeRun(args: string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { stdio: "ignore" });
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited ${result.status}`);
  return performance.now() - started;
}

function startup(): void {
  const baseline: number[] = [];
  const cli: number[] = [];
  timeRun([BIN, "--version"]); // fills V8's compile cache, as any earlier run would have
  for (let i = 0; i < STARTUP_SAMPLES; i++) {
    baseline.push(timeRun(["-e", "0"]));
    cli.push(timeRun([BIN, "--version"]));
  }
  baseline.sort((a, b) => a - b);
  cli.sort((a, b) => a - b);
  const ratio = percentile(cli, 50) / percentile(baseline, 50);
  console.log(`\nStart-up (${STARTUP_SAMPLES} runs each, interleaved)`);
  console.log(`  ${"node -e 0 (baseline)".padEnd(28)} p50 ${percentile(baseline, 50).toFixed(1).padStart(6)} ms   p90 ${percentile(baseline, 90).toFixed(1).padStart(6)} ms`);
  console.log(`  ${"glassbox --version".padEnd(28)} p50 ${percentile(cli, 50).toFixed(1).padStart(6)} ms   p90 ${percentile(cli, 90).toFixed(1).padStart(6)} ms`);
  console.log(`  ratio (p50) ${ratio.toFixed(2)}x ${ratio <= 6 ? "(target <= 6x: met)" : "(target <= 6x: MISSED)"}`);
}

/** Runs `npm start` until it is ready, then Ctrl-C; returns the seconds to ready and the stage lines. */
async function npmStart(stateDir: string, home: string): Promise<{ seconds: number; stages: string[] }> {
  const started = performance.now();
  // Its own process group: the SIGINT reaches npm, the shell and the CLI, as a terminal's Ctrl-C does.
  const child = spawn("npm", ["start", "--", "--state-dir", stateDir], {
    cwd: REPO_ROOT,
    env: { ...process.env, GLASSBOX_HOME: home, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const ready = await new Promise<boolean>((resolve) => {
    child.stdout.on("data", (d) => {
      stdout += d;
      if (stdout.includes("Glassbox is running")) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  const seconds = (performance.now() - started) / 1000;
  process.kill(-child.pid!, "SIGINT");
  await exited;
  if (!ready) throw new Error(`npm start did not get ready:\n${stderr}\n${stdout}`);
  return { seconds, stages: stderr.split("\n").filter((line) => line.startsWith("✔")) };
}

async function devStart(): Promise<void> {
  const home = await mkdtemp(path.join(tmpdir(), "glassbox-bench-cli-"));
  try {
    const first = await npmStart(path.join(home, "state"), home);
    const warm: number[] = [];
    let stages: string[] = [];
    for (let i = 0; i < WARM_STARTS; i++) {
      const run = await npmStart(path.join(home, "state"), home);
      warm.push(run.seconds);
      stages = run.stages;
    }
    warm.sort((a, b) => a - b);
    const p50 = percentile(warm, 50);
    console.log(`\nnpm start to ready (wall clock from the spawn of npm)`);
    console.log(`  ${"first start (warms caches)".padEnd(28)} ${first.seconds.toFixed(1).padStart(6)} s`);
    console.log(`  ${`warm caches (${WARM_STARTS} runs)`.padEnd(28)} ${p50.toFixed(1).padStart(6)} s p50 (${warm.map((s) => s.toFixed(1)).join(", ")}) ${p50 <= 15 ? "(target <= 15 s: met)" : "(target <= 15 s: MISSED)"}`);
    console.log("  stages of the last warm start:");
    for (const line of stages) console.log(`    ${line}`);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

console.log(`CLI benchmark · ${cpus().length} cores · load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
startup();
await devStart();
