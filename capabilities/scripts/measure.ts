// Measures the sample capabilities on both componentize backends: build time and size, prepare
// (fuel instrumentation) time, test-vector results, fuel per call, and wall time per call on a
// fresh instance. Timings are for this machine only; they never appear in tests.
//
//   npx tsx capabilities/scripts/measure.ts [--backend qjs|starlingmonkey] [name ...]
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { validateManifest } from "../../sdk/manifest.ts";
import { parseTestVectors } from "../../sdk/test-vectors.ts";
import { buildComponent, type ComponentBackend } from "../../runtime/builder/index.ts";
import { LoadedComponent, prepareComponent, runTestVectors } from "../../runtime/sandbox/index.ts";

const ROOT = resolve(import.meta.dirname, "..");
const ALL = ["markdown", "semver", "text-stats", "csv", "markdown-plus"];
const CALL_REPEATS = 5;

const args = process.argv.slice(2);
const backendFlag = args.indexOf("--backend");
const backends: ComponentBackend[] = backendFlag >= 0 ? [args[backendFlag + 1] as ComponentBackend] : ["qjs", "starlingmonkey"];
const names = args.filter((a, i) => !a.startsWith("--") && i !== backendFlag + 1);
const selected = names.length > 0 ? names : ALL;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const work = await mkdtemp(join(tmpdir(), "glassbox-measure-"));
const rows: string[] = [];
try {
  for (const backend of backends) {
    for (const name of selected) {
      const dir = join(ROOT, name);
      const manifest = validateManifest(JSON.parse(await readFile(join(dir, "glassbox.json"), "utf8")));
      const witSource = await readFile(join(dir, manifest.wit.file), "utf8");
      const entry = join(dir, manifest.source!.entry);
      const testsJson = await readFile(join(dir, manifest.tests), "utf8");

      let started = performance.now();
      const build = await buildComponent({ witSource, world: manifest.wit.world, source: await readFile(entry, "utf8"), sourcePath: entry, backend, cacheDir: null }).catch(
        (error: Error) => error,
      );
      const buildMs = performance.now() - started;
      if (build instanceof Error) {
        // e.g. StarlingMonkey here has no Unicode property escapes (\p{L}) in regexes.
        rows.push(`${manifest.name} | ${backend} | build failed: ${build.message.split("\n").slice(-2).join(" ").slice(0, 160)}`);
        console.log(rows.at(-1));
        continue;
      }

      started = performance.now();
      const prepared = await prepareComponent(build.bytes, { witSource, world: manifest.wit.world, interfaceName: manifest.wit.interface, cacheDir: join(work, backend) });
      const prepareMs = performance.now() - started;

      const report = await runTestVectors(prepared, testsJson);
      const fuel = report.cases.filter((c) => c.passed && "ok" in c.actual && c.fuelUsed !== undefined).map((c) => c.fuelUsed!);

      // Wall time per call (fresh instance each time), over the successful cases.
      const loaded = await LoadedComponent.load(prepared);
      const okCases = parseTestVectors(testsJson).cases.filter((c) => "ok" in c.expect);
      const perCall: number[] = [];
      for (const testCase of okCases) {
        for (let i = 0; i < CALL_REPEATS; i++) {
          const t = performance.now();
          await loaded.call(testCase.function, testCase.args).catch(() => undefined);
          perCall.push(performance.now() - t);
        }
      }
      rows.push(
        [
          manifest.name,
          backend,
          `${(build.bytes.length / 1024 / 1024).toFixed(2)} MB`,
          `build ${(buildMs / 1000).toFixed(1)} s`,
          `prepare ${(prepareMs / 1000).toFixed(1)} s`,
          `tests ${report.passed}/${report.total}`,
          `fuel/call median ${median(fuel).toLocaleString("en")} max ${Math.max(0, ...fuel).toLocaleString("en")}`,
          `call median ${median(perCall).toFixed(2)} ms`,
        ].join(" | "),
      );
      console.log(rows.at(-1));
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
