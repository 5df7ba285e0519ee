// The sample capabilities, end to end through the real toolchain: each manifest validates, each
// component builds from its WIT + TypeScript source (componentize, QuickJS), passes the upload
// verification (exports its published interface exactly, imports nothing), and passes every one
// of its public test vectors under fuel metering. The fork is checked against its upstream.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateManifest, type Manifest } from "../../sdk/manifest.ts";
import { parsePackageRef } from "../../sdk/ids.ts";
import { parseTestVectors } from "../../sdk/test-vectors.ts";
import { describeInterface } from "../../sdk/wit.ts";
import { buildComponent } from "../../runtime/builder/index.ts";
import {
  formatTestReport,
  prepareComponent,
  runTestVectors,
  verifyComponent,
  type PreparedComponent,
  type TestReport,
} from "../../runtime/sandbox/index.ts";

const CAPABILITIES_DIR = resolve(import.meta.dirname, "../../capabilities");
const SAMPLES = ["markdown", "semver", "text-stats", "csv", "markdown-plus"] as const;
type Sample = (typeof SAMPLES)[number];

interface Capability {
  dir: string;
  manifest: Manifest;
  witSource: string;
  testsJson: string;
}

async function loadCapability(name: Sample): Promise<Capability> {
  const dir = join(CAPABILITIES_DIR, name);
  const manifest = validateManifest(JSON.parse(await readFile(join(dir, "glassbox.json"), "utf8")), `capabilities/${name}/glassbox.json`);
  return {
    dir,
    manifest,
    witSource: await readFile(join(dir, manifest.wit.file), "utf8"),
    testsJson: await readFile(join(dir, manifest.tests), "utf8"),
  };
}

let workDir: string;
const loaded = new Map<Sample, Capability>();
const prepared = new Map<Sample, PreparedComponent>();

/** Builds (no build cache: always from source), verifies and prepares one capability, once per run. */
async function preparedFor(name: Sample): Promise<PreparedComponent> {
  const existing = prepared.get(name);
  if (existing) return existing;
  const cap = loaded.get(name)!;
  const entry = join(cap.dir, cap.manifest.source!.entry);
  const build = await buildComponent({
    witSource: cap.witSource,
    world: cap.manifest.wit.world,
    source: await readFile(entry, "utf8"),
    sourcePath: entry,
    backend: cap.manifest.source!.backend,
    cacheDir: null,
  });
  await verifyComponent({
    bytes: build.bytes,
    expectedHash: build.componentHash,
    witSource: cap.witSource,
    world: cap.manifest.wit.world,
    interfaceName: cap.manifest.wit.interface,
    requestedCapabilities: cap.manifest.capabilities,
    allowedCapabilities: [],
  });
  const ready = await prepareComponent(build.bytes, {
    witSource: cap.witSource,
    world: cap.manifest.wit.world,
    interfaceName: cap.manifest.wit.interface,
    cacheDir: join(workDir, "prepared"),
  });
  prepared.set(name, ready);
  return ready;
}

function expectAllPassed(report: TestReport): void {
  // The formatted report names every failing case and why.
  expect(report.failed, formatTestReport(report)).toBe(0);
  expect(report.passed).toBe(report.total);
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "glassbox-capabilities-"));
  for (const name of SAMPLES) loaded.set(name, await loadCapability(name));
});

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe.each(SAMPLES)("capability %s", (name) => {
  it("has a valid manifest, a parsable WIT interface and well-formed test vectors", () => {
    const cap = loaded.get(name)!;
    const iface = describeInterface(cap.witSource, cap.manifest.wit.world, cap.manifest.wit.interface);
    expect(iface.functions.length).toBeGreaterThan(1);
    expect(cap.manifest.source?.backend).toBe("qjs");
    expect(cap.manifest.capabilities).toEqual([]); // pure functions: no WASI imports requested

    const vectors = parseTestVectors(cap.testsJson);
    expect(vectors.world).toBe(cap.manifest.wit.world);
    expect(vectors.interface).toBe(cap.manifest.wit.interface);
    expect(vectors.cases.length).toBeGreaterThanOrEqual(6);
    // Every function is exercised, and the vectors include expected errors.
    const tested = new Set(vectors.cases.map((c) => c.function));
    expect(iface.functions.map((f) => f.name).filter((f) => !tested.has(f))).toEqual([]);
    expect(vectors.cases.some((c) => "error" in c.expect)).toBe(true);
  });

  it("builds from source, imports nothing, and passes all of its test vectors", async () => {
    const component = await preparedFor(name);
    expect(component.imports).toEqual([]);
    const report = await runTestVectors(component, loaded.get(name)!.testsJson);
    expectAllPassed(report);
    expect(report.total).toBeGreaterThanOrEqual(6);
  });
});

describe("the fork forker/markdown-plus", () => {
  it("points at acme/markdown@1.0.0 with at least the upstream's minimum share, from another scope, at a higher price", () => {
    const upstream = loaded.get("markdown")!.manifest;
    const fork = loaded.get("markdown-plus")!.manifest;
    expect(fork.fork?.parent).toBe(`${upstream.name}@${upstream.version}`);
    const parent = parsePackageRef(fork.fork!.parent);
    expect(parent.name).toBe("acme/markdown");
    expect(fork.fork!.upstreamShareBps).toBe(2000);
    expect(fork.fork!.upstreamShareBps).toBeGreaterThanOrEqual(upstream.minForkShareBps);
    expect(fork.name.split("/")[0]).not.toBe(upstream.name.split("/")[0]);
    expect(BigInt(fork.access.price)).toBeGreaterThan(BigInt(upstream.access.price));
  });

  it("keeps every function of the upstream interface with the same name and types", () => {
    const upstream = loaded.get("markdown")!;
    const fork = loaded.get("markdown-plus")!;
    const upstreamIface = describeInterface(upstream.witSource, upstream.manifest.wit.world, upstream.manifest.wit.interface);
    const forkIface = describeInterface(fork.witSource, fork.manifest.wit.world, fork.manifest.wit.interface);
    expect(forkIface.name).toBe(upstreamIface.name);
    for (const fn of upstreamIface.functions) {
      const kept = forkIface.functions.find((f) => f.name === fn.name);
      expect(kept, `fork lacks upstream function ${fn.name}`).toBeDefined();
      expect(isDeepStrictEqual(kept!.params, fn.params), `${fn.name}: parameters differ`).toBe(true);
      expect(isDeepStrictEqual(kept!.result, fn.result), `${fn.name}: result type differs`).toBe(true);
    }
    expect(forkIface.functions.length).toBeGreaterThan(upstreamIface.functions.length);
  });

  it("passes the upstream's own test vectors: callers of acme/markdown can switch unchanged", async () => {
    const forkComponent = await preparedFor("markdown-plus");
    const report = await runTestVectors(forkComponent, loaded.get("markdown")!.testsJson);
    expectAllPassed(report);
  });

  it("a wrong expectation fails the run (the vectors are not vacuous)", async () => {
    const vectors = JSON.parse(loaded.get("markdown")!.testsJson) as { cases: { name: string; expect: { ok?: unknown } }[] };
    const tampered = vectors.cases.find((c) => c.name.startsWith("escapes raw HTML"))!;
    tampered.expect = { ok: "<p><script>alert(1)</script></p>\n<p>Hi <b>there</b></p>\n" };
    const report = await runTestVectors(await preparedFor("markdown"), vectors);
    expect(report.failed).toBe(1);
    expect(report.cases.find((c) => !c.passed)?.name).toBe(tampered.name);
  });
});
