/**
 * Composition in the runtime: real QuickJS components (slug; anchors importing slug; toc importing
 * anchors, a chain of two), linked at run time with one fuel budget and one memory cap, in-process
 * and through the worker pool.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ComponentPool,
  DEFAULT_LIMITS,
  LoadedComponent,
  MemoryLimitError,
  OutOfFuelError,
  TrapError,
  callComposed,
  prepareComponent,
  runTestVectors,
  type DependencyLink,
  type PreparedComponent,
} from "../../runtime/sandbox/index.ts";
import { ANCHORS_WIT, SLUG_WIT, TOC_WIT, buildAnchorsComponent, buildSlugComponent, buildTocComponent } from "../fixtures/components/fixtures.ts";

let cacheDir: string;
let slug: PreparedComponent;
let anchors: PreparedComponent;
let toc: PreparedComponent;
let pool: ComponentPool;
const loaded = new Map<string, Promise<LoadedComponent>>();
const load = (prepared: PreparedComponent): Promise<LoadedComponent> => {
  let entry = loaded.get(prepared.dir);
  if (!entry) loaded.set(prepared.dir, (entry = LoadedComponent.load(prepared)));
  return entry;
};

const slugLink = (): DependencyLink => ({ importName: "fixture:slug/slug@1.0.0", ref: "slug", prepared: slug, grants: [], dependencies: [] });
const anchorsLink = (): DependencyLink => ({ importName: "fixture:anchors/anchors@1.0.0", ref: "anchors", prepared: anchors, grants: [], dependencies: [slugLink()] });

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "glassbox-composition-"));
  const [s, a, t] = await Promise.all([buildSlugComponent(), buildAnchorsComponent(), buildTocComponent()]);
  slug = await prepareComponent(s.bytes, { witSource: SLUG_WIT, world: "slug-world", cacheDir });
  anchors = await prepareComponent(a.bytes, { witSource: ANCHORS_WIT, world: "anchors-world", cacheDir });
  toc = await prepareComponent(t.bytes, { witSource: TOC_WIT, world: "toc-world", cacheDir });
  pool = new ComponentPool({ size: 2, timeoutMs: 20_000 });
}, 120_000);

afterAll(async () => {
  await pool?.close();
  await rm(cacheDir, { recursive: true, force: true });
});

describe("composition: linking a dependency's metered instance", () => {
  it("the dependent calls the dependency through its interface; usage counts calls and the dependency's own fuel", async () => {
    const alone = await (await load(slug)).call("slugify", ["Hello, World"]);
    const once = await callComposed(await load(anchors), [slugLink()], load, "anchor", ["Hello, World"], DEFAULT_LIMITS);
    expect(once.value).toBe("#hello-world");
    // Fuel is deterministic on fresh instances: the dependency's first call burns what the same call burns alone.
    expect(once.dependencyUsage).toEqual([{ ref: "slug", calls: 1, fuel: alone.fuelUsed }]);
    expect(once.fuelUsed).toBeGreaterThan(alone.fuelUsed); // the total includes the dependent's own fuel
    const twice = await callComposed(await load(anchors), [slugLink()], load, "anchors", [["Hello, World", "Hello, World"]], DEFAULT_LIMITS);
    expect(twice.value).toEqual(["#hello-world", "#hello-world"]);
    expect(twice.dependencyUsage).toEqual([{ ref: "slug", calls: 2, fuel: expect.any(Number) }]);
    // The same composed call on fresh instances costs exactly the same again (what a quote relies on).
    expect(await callComposed(await load(anchors), [slugLink()], load, "anchors", [["Hello, World", "Hello, World"]], DEFAULT_LIMITS)).toEqual(twice);
  });

  it("a chain of two: each dependency's fuel is its own, and they add up to the total with the root's", async () => {
    const alone = await callComposed(await load(anchors), [slugLink()], load, "anchor", ["Intro"], DEFAULT_LIMITS);
    const slugAlone = await (await load(slug)).call("slugify", ["Intro"]);
    const outcome = await callComposed(await load(toc), [anchorsLink()], load, "toc", [["Intro"]], DEFAULT_LIMITS);
    expect(outcome.value).toBe("- [Intro](#intro)");
    const anchorsOwn = alone.fuelUsed - slugAlone.fuelUsed;
    expect(outcome.dependencyUsage).toEqual([
      { ref: "anchors", calls: 1, fuel: anchorsOwn },
      { ref: "slug", calls: 1, fuel: slugAlone.fuelUsed },
    ]);
    const rootOwn = outcome.fuelUsed - outcome.dependencyUsage.reduce((n, u) => n + u.fuel, 0);
    expect(rootOwn).toBeGreaterThan(0);
  });

  it("a result::err of the dependency is a value the dependent handles", async () => {
    const ok = await callComposed(await load(anchors), [slugLink()], load, "checked", ["x"], DEFAULT_LIMITS);
    const err = await callComposed(await load(anchors), [slugLink()], load, "checked", [""], DEFAULT_LIMITS);
    expect([ok.value, err.value]).toEqual(["ok:x", "caught:empty text"]);
    expect(err.dependencyUsage).toEqual([expect.objectContaining({ ref: "slug", calls: 1 })]);
  });

  it("one fuel budget: a dependency's endless loop runs the composed call out of fuel, naming the dependency", async () => {
    const attempt = callComposed(await load(anchors), [slugLink()], load, "spin", [], { ...DEFAULT_LIMITS, fuel: 3_000_000 });
    await expect(attempt).rejects.toBeInstanceOf(OutOfFuelError);
    await expect(attempt).rejects.toMatchObject({ code: "out_of_fuel", fuelUsed: 3_000_000, details: { dependency: "slug", dependencyFunction: "spin" } });
  });

  it("a dependency that traps fails the composed call as a trap naming the dependency", async () => {
    const attempt = callComposed(await load(toc), [{ ...anchorsLink() }], load, "toc", [["ok"]], DEFAULT_LIMITS);
    await expect(attempt).resolves.toMatchObject({ value: "- [ok](#ok)" });
    const boom = callComposed(await load(anchors), [slugLink()], load, "boom", ["x"], DEFAULT_LIMITS);
    await expect(boom).rejects.toBeInstanceOf(TrapError);
    await expect(boom).rejects.toMatchObject({ code: "trap", details: { dependency: "slug", dependencyFunction: "boom" } });
  });

  it("an unlinked dependency is not ambient: calling it is denied", async () => {
    const attempt = (await load(anchors)).call("anchor", ["x"]);
    await expect(attempt).rejects.toMatchObject({ code: "capability_denied", details: { capability: "fixture:slug/slug" } });
  });

  it("the memory cap holds for the whole composition, not per instance", async () => {
    const root = await (await load(anchors)).newInstance(DEFAULT_LIMITS);
    const dependency = await (await load(slug)).newInstance(DEFAULT_LIMITS);
    const [rootBytes, dependencyBytes] = [root.memoryBytes(), dependency.memoryBytes()];
    // Room for either instance alone, not for both.
    const memoryLimitBytes = Math.max(rootBytes, dependencyBytes) + 65_536;
    expect(memoryLimitBytes).toBeLessThan(rootBytes + dependencyBytes);
    await expect((await load(slug)).call("slugify", ["a"], { ...DEFAULT_LIMITS, memoryLimitBytes })).resolves.toMatchObject({ value: "a" });
    const composed = callComposed(await load(anchors), [slugLink()], load, "anchor", ["a"], { ...DEFAULT_LIMITS, memoryLimitBytes });
    await expect(composed).rejects.toBeInstanceOf(MemoryLimitError);
  });
});

describe("composition through the worker pool", () => {
  it("gives the in-process result, fuel and usage; the pool keeps serving after a dependency's failure", async () => {
    const inProcess = await callComposed(await load(toc), [anchorsLink()], load, "toc", [["A b", "C"]], DEFAULT_LIMITS);
    const pooled = await pool.call(toc, { function: "toc", args: [["A b", "C"]], dependencies: [anchorsLink()] });
    expect({ value: pooled.value, fuelUsed: pooled.fuelUsed, dependencyUsage: pooled.dependencyUsage }).toEqual(inProcess);
    await expect(pool.call(anchors, { function: "spin", args: [], fuel: 2_000_000, dependencies: [slugLink()] })).rejects.toMatchObject({ code: "out_of_fuel", details: { dependency: "slug" } });
    const plain = await pool.call(slug, { function: "slugify", args: ["Still Serving"] });
    expect(plain).toMatchObject({ value: "still-serving", dependencyUsage: [] });
  });

  it("test vectors run with the dependencies linked, in the pool and in-process", async () => {
    const vectors = { world: "anchors-world", interface: "anchors", cases: [{ name: "anchor", function: "anchor", args: ["Hello There"], expect: { ok: "#hello-there" } }] };
    const pooled = await runTestVectors(anchors, vectors, { pool, dependencies: [slugLink()] });
    const local = await runTestVectors(anchors, vectors, { dependencies: [slugLink()] });
    expect([pooled.passed, local.passed]).toEqual([1, 1]);
  });
});
