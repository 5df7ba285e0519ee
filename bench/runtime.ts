/**
 * Component runtime benchmark (`npm run bench:runtime`). In one run, side by side:
 * - the same function as plain JavaScript in-process (baseline),
 * - the component in-process on a warm instance (state kept between calls: pure call cost),
 * - in-process with fresh-instance semantics (an instance reset to its snapshot per call),
 * - in-process on a new instance per call (what fresh-instance semantics cost without snapshots),
 * - through the worker pool with fresh-instance semantics (what the executor does),
 * for the tiny WAT component and the JS-built (QuickJS) component; metered vs unmetered; the time
 * to prepare a new blob; and the QuickJS vs StarlingMonkey backends (size, build, prepare, call).
 * Flags: --quick (fewer iterations, no StarlingMonkey build).
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildComponent } from "../runtime/builder/index.ts";
import { ComponentPool, LoadedComponent, prepareComponent, type JsonValue, type PreparedComponent } from "../runtime/sandbox/index.ts";
import { GREET_TS_PATH, GREET_WIT, TEXT_WIT, TINY_WIT, buildGreetComponent, buildTextComponent, buildTinyComponent } from "../test/fixtures/components/fixtures.ts";

const quick = process.argv.includes("--quick");
const ITERATIONS = quick ? 200 : 1000;
const FRESH_ITERATIONS = quick ? 100 : 1000;
const NEW_INSTANCE_ITERATIONS = quick ? 30 : 200;

interface Row {
  component: string;
  mode: string;
  p50: number;
  p99: number;
  note?: string;
}
const rows: Row[] = [];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `fn` sequentially; returns p50 in microseconds. */
async function measure(component: string, mode: string, iterations: number, fn: () => unknown, note?: string): Promise<number> {
  for (let i = 0; i < Math.min(50, iterations); i++) await fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await fn();
    samples.push((performance.now() - start) * 1000);
  }
  samples.sort((a, b) => a - b);
  const row: Row = { component, mode, p50: percentile(samples, 50), p99: percentile(samples, 99) };
  if (note) row.note = note;
  rows.push(row);
  return row.p50;
}

function us(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} ms` : `${value.toFixed(1)} us`;
}

interface Call {
  fn: string;
  args: JsonValue[];
}

async function benchComponent(label: string, metered: PreparedComponent, unmetered: PreparedComponent, pool: ComponentPool, call: Call, heavy: Call, baseline: () => unknown) {
  const loadedMetered = await LoadedComponent.load(metered);
  const loadedUnmetered = await LoadedComponent.load(unmetered);
  const warm = await loadedMetered.instantiate();
  const warmUnmetered = await loadedUnmetered.instantiate();
  await measure(label, "plain JS in-process (baseline)", ITERATIONS * 10, baseline);
  await measure(label, "in-process, warm instance (state kept)", ITERATIONS, () => warm.call(call.fn, call.args));
  const inProcess = await measure(label, "in-process, fresh (snapshot reset)", FRESH_ITERATIONS, () => loadedMetered.call(call.fn, call.args));
  const newInstance = await measure(label, "in-process, new instance per call", NEW_INSTANCE_ITERATIONS, async () => (await loadedMetered.instantiate()).call(call.fn, call.args));
  await pool.warm(metered);
  const poolP50 = await measure(label, "pool, fresh (snapshot reset)", FRESH_ITERATIONS, () => pool.call(metered, { function: call.fn, args: call.args }));
  const { fuelUsed } = await warm.call(heavy.fn, heavy.args);
  const meteredP50 = await measure(label, `${heavy.fn} warm, metered`, ITERATIONS / 4, () => warm.call(heavy.fn, heavy.args), `fuel ${fuelUsed}`);
  const unmeteredP50 = await measure(label, `${heavy.fn} warm, unmetered`, ITERATIONS / 4, () => warmUnmetered.call(heavy.fn, heavy.args));
  return { overhead: meteredP50 / unmeteredP50, poolP50, inProcess, newInstance, snapshot: metered.snapshot.safe };
}

async function main(): Promise<void> {
  const cacheDir = await mkdtemp(join(tmpdir(), "glassbox-bench-runtime-"));
  const prepareDir = await mkdtemp(join(tmpdir(), "glassbox-bench-prepare-"));
  const summary: string[] = [];
  const backendRuns: { backend: string; prepared: PreparedComponent; line: string }[] = [];
  if (!quick) {
    const source = readFileSync(GREET_TS_PATH, "utf8");
    for (const backend of ["qjs", "starlingmonkey"] as const) {
      let started = performance.now();
      const built = await buildComponent({ witSource: GREET_WIT, world: "greet", source, sourcePath: GREET_TS_PATH, backend, cacheDir: null });
      const buildMs = performance.now() - started;
      started = performance.now();
      const prepared = await prepareComponent(built.bytes, { witSource: GREET_WIT, world: "greet", cacheDir });
      const prepareMs = performance.now() - started;
      backendRuns.push({
        backend,
        prepared,
        line: `backend ${backend}: ${(built.bytes.length / 1e6).toFixed(2)} MB, build ${(buildMs / 1000).toFixed(1)} s, prepare ${(prepareMs / 1000).toFixed(1)} s, snapshot reuse ${prepared.snapshot.safe ? "yes" : `no (${prepared.snapshot.reason})`}`,
      });
    }
  }
  const pool = new ComponentPool();
  try {
    // Prepare cost for a new blob (a fresh cache dir: nothing reused), then for a second QuickJS
    // component, whose engine module comes from the instrumented-module cache.
    const tiny = await buildTinyComponent();
    const text = await buildTextComponent();
    const greet = await buildGreetComponent();
    const tinyMetered = await prepareComponent(tiny, { witSource: TINY_WIT, world: "tiny", cacheDir: prepareDir });
    const tinyUnmetered = await prepareComponent(tiny, { witSource: TINY_WIT, world: "tiny", cacheDir: prepareDir, metering: false });
    const greetFirst = await prepareComponent(greet.bytes, { witSource: GREET_WIT, world: "greet", cacheDir: prepareDir });
    const textMetered = await prepareComponent(text.bytes, { witSource: TEXT_WIT, world: "text-tools", cacheDir: prepareDir });
    const textUnmetered = await prepareComponent(text.bytes, { witSource: TEXT_WIT, world: "text-tools", cacheDir: prepareDir, metering: false });
    summary.push(
      `prepare a new blob (transpile + instrument + compile, in the toolchain worker): tiny WAT ${tinyMetered.prepareMs} ms (${tiny.length} B); ` +
        `QuickJS ${greetFirst.prepareMs} ms for the first component (${(greet.bytes.length / 1e6).toFixed(2)} MB), ${textMetered.prepareMs} ms for another (its engine module already instrumented); ` +
        `unmetered: ${tinyUnmetered.prepareMs} ms / ${textUnmetered.prepareMs} ms`,
    );

    const add = (a: number, b: number): number => a + b;
    const recurse = (n: number): number => (n === 0 ? 0 : 1 + recurse(n - 1));
    const tinyResult = await benchComponent("tiny WAT", tinyMetered, tinyUnmetered, pool, { fn: "add", args: [2, 3] }, { fn: "recurse", args: [5000] }, () => add(2, 3) + recurse(0));
    const shout = (s: string): string => `${s.toUpperCase()}!`;
    const textResult = await benchComponent("QuickJS text", textMetered, textUnmetered, pool, { fn: "shout", args: ["hello"] }, { fn: "satisfies", args: ["1.4.0", "^1.2.0 || ~0.9"] }, () => shout("hello"));
    summary.push(`metering overhead (warm, metered/unmetered p50): tiny recurse(5000) x${tinyResult.overhead.toFixed(2)}, QuickJS satisfies x${textResult.overhead.toFixed(2)} (target < 1.5x)`);
    summary.push(
      `fresh-instance call p50 through the pool: tiny WAT ${us(tinyResult.poolP50)} (target <= 0.2 ms), QuickJS ${us(textResult.poolP50)} (target <= 0.3 ms); ` +
        `in-process ${us(tinyResult.inProcess)} / ${us(textResult.inProcess)}, against a new instance per call ${us(tinyResult.newInstance)} / ${us(textResult.newInstance)}`,
    );
    for (const run of backendRuns) {
      await pool.warm(run.prepared);
      const p50 = await measure(`greet (${run.backend})`, "pool, fresh (snapshot reset)", 300, () => pool.call(run.prepared, { function: "greet", args: ["Ada", 3] }));
      summary.push(`${run.line}, pool fresh-instance call p50 ${us(p50)}`);
    }
  } finally {
    await pool.close();
    await rm(cacheDir, { recursive: true, force: true });
    await rm(prepareDir, { recursive: true, force: true });
  }

  const widths = [22, 40, 11, 11];
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ");
  console.log(`\nComponent runtime benchmark (pool size ${pool.size}, ${ITERATIONS} warm / ${FRESH_ITERATIONS} fresh iterations)\n`);
  console.log(line(["component", "mode", "p50", "p99"]) + " | note");
  console.log(widths.map((w) => "-".repeat(w)).join("-|-") + "-|------");
  for (const row of rows) console.log(line([row.component, row.mode, us(row.p50), us(row.p99)]) + ` | ${row.note ?? ""}`);
  console.log("");
  for (const s of summary) console.log(`- ${s}`);
}

await main();
