/**
 * The StarlingMonkey backend on a real npm-bundling capability: SpiderMonkey there is built
 * without ICU, so the build lowers Unicode property escapes (marked uses them) and refuses
 * sources that call String.prototype.normalize. One real StarlingMonkey build (cached in the
 * shared test build cache), prepared under fuel metering and run against its public test vectors.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateManifest, type Manifest } from "../../sdk/manifest.ts";
import { BuildError, adaptSourceForStarlingMonkey, buildComponent, type BuildResult } from "../../runtime/builder/index.ts";
import {
  ComponentPool,
  formatTestReport,
  prepareComponent,
  runTestVectors,
  type PreparedComponent,
} from "../../runtime/sandbox/index.ts";
import { REPO_ROOT, TEST_BUILD_CACHE } from "../fixtures/components/fixtures.ts";

interface Capability {
  manifest: Manifest;
  witSource: string;
  entry: string;
  source: string;
  testsJson: string;
}

async function loadCapability(name: string): Promise<Capability> {
  const dir = join(REPO_ROOT, "capabilities", name);
  const manifest = validateManifest(JSON.parse(await readFile(join(dir, "glassbox.json"), "utf8")), `capabilities/${name}/glassbox.json`);
  const entry = join(dir, manifest.source!.entry);
  return {
    manifest,
    witSource: await readFile(join(dir, manifest.wit.file), "utf8"),
    entry,
    source: await readFile(entry, "utf8"),
    testsJson: await readFile(join(dir, manifest.tests), "utf8"),
  };
}

function buildOnStarlingMonkey(cap: Capability, cacheDir: string | null = TEST_BUILD_CACHE): Promise<BuildResult> {
  return buildComponent({ witSource: cap.witSource, world: cap.manifest.wit.world, source: cap.source, sourcePath: cap.entry, backend: "starlingmonkey", cacheDir });
}

/** Evaluates `export const name = <regex>` from adapted source, to compare the lowered regex with the original. */
function evalRegex(adapted: string): RegExp {
  return new Function(`return ${adapted.replace(/^export const \w+ = /, "").replace(/;\s*$/, "")}`)() as RegExp;
}

describe("adapting source to StarlingMonkey (no ICU)", () => {
  it("lowers Unicode property escapes in regex literals to equivalent classes", () => {
    const original = /^[\p{L}\p{N}]+(?:-\P{White_Space}+)*$/u;
    const adapted = adaptSourceForStarlingMonkey(`export const word = ${original.toString()};`);
    expect(adapted).not.toMatch(/\\[pP]\{/);
    const lowered = evalRegex(adapted);
    for (const sample of ["héllo", "日本語", "𝒜𝒷1", "a-b!", "a b", "-", "Ωmega-ß"]) expect(lowered.test(sample), sample).toBe(original.test(sample));
  });

  it("lowers RegExp(\"...\", \"v\") calls with literal strings (esbuild emits v-flag literals that way) and drops the v flag", () => {
    const adapted = adaptSourceForStarlingMonkey('export const lower = new RegExp("^[\\\\p{L}--\\\\p{Lu}]$", "v");');
    const call = /new RegExp\(("[^"]*"), ("[^"]*")\)/.exec(adapted);
    expect(call).not.toBeNull();
    expect(JSON.parse(call![2]!)).toBe("u");
    const lowered = new RegExp(JSON.parse(call![1]!) as string, JSON.parse(call![2]!) as string);
    expect([lowered.test("a"), lowered.test("é"), lowered.test("A"), lowered.test("1")]).toEqual([true, true, false, false]);
  });

  it("leaves strings, comments, templates, non-Unicode regexes and patterns built at run time untouched", () => {
    const source = [
      'export const text = "/\\\\p{L}/u";',
      "// a comment mentioning /\\p{N}/u",
      "export const template = `\\\\p{L}`;",
      "export const plain = /\\p{L}/;",
      'export const dynamic = (flags) => new RegExp("\\\\p{L}", flags);',
    ].join("\n");
    expect(adaptSourceForStarlingMonkey(source)).toBe(source);
  });

  it("rejects an invalid property escape with its location instead of a late engine error", () => {
    expect(() => adaptSourceForStarlingMonkey("// lib/broken.js\nexport const r = /\\p{NoSuchProperty}/u;")).toThrow(BuildError);
    expect(() => adaptSourceForStarlingMonkey("// lib/broken.js\nexport const r = /\\p{NoSuchProperty}/u;")).toThrow(/lib\/broken\.js \(bundled line 2\)/);
    expect(() => adaptSourceForStarlingMonkey('export const r = new RegExp("\\\\p{NoSuchProperty}", "u");')).toThrow(/Unknown property: NoSuchProperty/);
  });

  it("rejects a String.prototype.normalize call, which would trap on every call reaching it", () => {
    expect(() => adaptSourceForStarlingMonkey('// src/slug.ts\nexport const fold = (s) => s.normalize("NFKD");')).toThrow(/no String\.prototype\.normalize.*"NFKD".*src\/slug\.ts.*backend "qjs"/s);
  });

  it("accepts normalize behind a feature check and unrelated normalize() methods", () => {
    const guarded = 'export const fold = (s) => (typeof s.normalize === "function" ? s.normalize("NFC") : s);';
    const inChecked = 'export const fold = (s) => ("normalize" in String.prototype ? s.normalize("NFD") : s);';
    const vector = "export const unit = (v) => v.normalize();";
    for (const source of [guarded, inChecked, vector]) expect(adaptSourceForStarlingMonkey(source)).toBe(source);
  });
});

describe("capability text-stats on StarlingMonkey", () => {
  it("fails the build up front, naming normalize and the fix, instead of trapping at call time", async () => {
    const textStats = await loadCapability("text-stats");
    const attempt = buildOnStarlingMonkey(textStats, null);
    await expect(attempt).rejects.toBeInstanceOf(BuildError);
    await expect(attempt).rejects.toThrow(/normalize\("NFKD"\) in capabilities\/text-stats\/src\/index\.ts .*backend "qjs"/);
  });
});

describe("capability markdown (npm marked) on StarlingMonkey", () => {
  let markdown: Capability;
  let build: BuildResult;
  let preparedDir: string;
  let prepared: PreparedComponent;
  let pool: ComponentPool;

  beforeAll(async () => {
    markdown = await loadCapability("markdown");
    build = await buildOnStarlingMonkey(markdown);
    preparedDir = await mkdtemp(join(tmpdir(), "glassbox-runtime-sm-"));
    prepared = await prepareComponent(build.bytes, {
      witSource: markdown.witSource,
      world: markdown.manifest.wit.world,
      interfaceName: markdown.manifest.wit.interface,
      cacheDir: preparedDir,
    });
    pool = new ComponentPool({ size: 1, memoryLimitBytes: 256 * 1024 * 1024, maxOutputBytes: 200_000 });
  });

  afterAll(async () => {
    await pool?.close();
    if (preparedDir) await rm(preparedDir, { recursive: true, force: true });
  });

  it("builds with every property escape lowered, and the rebuild comes from the cache", async () => {
    expect(build.backend).toBe("starlingmonkey");
    expect(build.bundledSource).not.toMatch(/\\[pP]\{/);
    const again = await buildOnStarlingMonkey(markdown);
    expect(again.cached).toBe(true);
    expect(again.componentHash).toBe(build.componentHash);
  });

  it("passes every public test vector under fuel metering", async () => {
    const report = await runTestVectors(prepared, markdown.testsJson, { pool });
    expect(report.failed, formatTestReport(report)).toBe(0);
    expect(report.passed).toBe(report.total);
    expect(report.total).toBeGreaterThan(0);
  });
});
