/**
 * `glassbox fork --wrap`: the scaffold of a wrapping fork of the real acme/semver sample builds with
 * the real toolchain, and its tests (the parent's vectors plus its own) pass with the parent linked
 * (a local copy next to it); one function overridden, the rest delegated. Without a local parent the
 * cases that reach it are deferred to the executor's upload check, never failed or skipped silently.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProject, loadProject, testProject } from "../../cli/project.ts";
import { wrapForkScaffoldFiles, writeScaffold } from "../../cli/scaffold.ts";
import { publishedManifest } from "../../sdk/client/publish.ts";
import { devAccount } from "../helpers/chain.ts";

const REPO = path.join(import.meta.dirname, "..", "..");
let root: string;
let parentTestCount: number;
let files: Record<string, string>;

beforeAll(async () => {
  // Inside the repository: the semver sample's npm import resolves from its node_modules.
  await mkdir(path.join(REPO, ".glassbox"), { recursive: true });
  root = await mkdtemp(path.join(REPO, ".glassbox", "wrap-"));
  await cp(path.join(REPO, "capabilities", "semver"), path.join(root, "semver"), { recursive: true, filter: (src) => !/[\\/](dist|\.glassbox|node_modules)$/.test(src) });
  const parent = await loadProject(path.join(root, "semver"));
  const wit = parent.witSource;
  const tests = await readFile(parent.path(parent.manifest.tests), "utf8");
  parentTestCount = (JSON.parse(tests) as { cases: unknown[] }).cases.length;
  // What `glassbox fork --wrap` reads from the chain and the executor: the published manifest, WIT and tests.
  const { manifest } = publishedManifest({ manifest: parent.manifest, wit: new TextEncoder().encode(wit), tests: new TextEncoder().encode(tests), component: new Uint8Array() });
  files = wrapForkScaffoldFiles({ parentRef: "acme/semver@1.0.0", parent: manifest, wit, tests, name: "forker/semver-strict", owner: devAccount(2).address, upstreamShareBps: 2000, minForkShareBps: 1000 });
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("glassbox fork --wrap", () => {
  it("scaffolds a fork that imports its parent's interface and exports the same one, declaring the parent as a dependency", () => {
    expect(files["wit/world.wit"]).toMatch(/world semver-strict \{\n {2}import glassbox:semver\/ranges@1\.0\.0;\n {2}export ranges;\n\}/);
    expect(files["src/index.ts"]).toContain('import * as parent from "glassbox:semver/ranges@1.0.0";');
    expect(files["src/index.ts"]).toContain("maxSatisfying: parent.maxSatisfying,");
    expect(files["src/parent.d.ts"]).toContain("export function satisfies(version: string, range: string): boolean;");
    const manifest = JSON.parse(files["glassbox.json"]!) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      name: "forker/semver-strict",
      fork: { parent: "acme/semver@1.0.0", upstreamShareBps: 2000 },
      dependencies: [{ package: "acme/semver", version: "1.0.0", maxRoyaltyPerCall: "500" }],
      wit: { file: "wit/world.wit", world: "semver-strict", interface: "ranges" },
    });
    expect(JSON.parse(files["tests.json"]!).cases).toHaveLength(parentTestCount);
  });

  it("builds, and passes the parent's vectors plus its own with one function overridden and the parent linked", async () => {
    const dir = path.join(root, "semver-strict");
    await writeScaffold(dir, files);
    // The fork's change: `valid` refuses a leading "v"; everything else is delegated.
    const source = files["src/index.ts"]!.replace("  valid: parent.valid,", '  valid: (version: string) => (version.startsWith("v") ? undefined : parent.valid(version)),');
    await writeFile(path.join(dir, "src/index.ts"), source);
    const tests = JSON.parse(files["tests.json"]!) as { cases: { name: string; function: string; args: unknown[]; expect: unknown }[] };
    const parentValidV = tests.cases.find((c) => c.function === "valid" && String(c.args[0]).startsWith("v"));
    if (parentValidV) parentValidV.expect = { ok: null }; // the one behaviour the fork changes on purpose
    tests.cases.push({ name: "fork: refuses a leading v", function: "valid", args: ["v1.2.3"], expect: { ok: null } });
    tests.cases.push({ name: "fork: delegates satisfies", function: "satisfies", args: ["1.2.3", "^1.0.0"], expect: { ok: true } });
    await writeFile(path.join(dir, "tests.json"), JSON.stringify(tests, null, 2));

    const project = await loadProject(dir);
    const built = await buildProject(project);
    expect(built.bytes.length).toBeGreaterThan(100_000);
    const report = await testProject(project, built.bytes);
    expect(report.deferred).toEqual([]);
    expect({ total: report.total, failed: report.failed }).toEqual({ total: parentTestCount + 2, failed: 0 });
  }, 240_000);

  it("without a local copy of the parent, the cases that reach it are deferred to the executor, not failed", async () => {
    const alone = path.join(root, "alone", "semver-strict");
    await cp(path.join(root, "semver-strict"), alone, { recursive: true, filter: (src) => !/[\\/]\.glassbox$/.test(src) });
    const project = await loadProject(alone);
    const built = await buildProject(project);
    const report = await testProject(project, built.bytes);
    expect(report.failed).toBe(0);
    // Only the overridden `valid` case on a leading "v" never reaches the parent.
    expect(report.passed).toBeGreaterThanOrEqual(1);
    expect(report.deferred.length).toBe(parentTestCount + 2 - report.passed);
    expect(report.deferred.every((d) => d.dependency === "acme/semver")).toBe(true);
  }, 240_000);
});
