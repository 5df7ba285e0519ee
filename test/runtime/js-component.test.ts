/**
 * JS/TS components built for real with componentize (QuickJS backend, npm imports bundled),
 * verified, prepared and run through a real pool; test vectors; hostile JS.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../sdk/ids.ts";
import { BuildError, buildComponent, type BuildResult } from "../../runtime/builder/index.ts";
import {
  ComponentPool,
  UndeclaredImportError,
  MemoryLimitError,
  OutOfFuelError,
  OutputTooLargeError,
  StackOverflowError,
  formatTestReport,
  prepareComponent,
  runTestVectors,
  verifyComponent,
  type PreparedComponent,
} from "../../runtime/sandbox/index.ts";
import { CLOCK_WIT, FIXTURES_DIR, GREET_WIT, TEXT_WIT, buildClockComponent, buildGreetComponent, buildTextComponent } from "../fixtures/components/fixtures.ts";

let cacheDir: string;
let text: BuildResult;
let prepared: PreparedComponent;
let pool: ComponentPool;
let vectorsJson: string;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "glassbox-runtime-js-"));
  text = await buildTextComponent();
  prepared = await prepareComponent(text.bytes, { witSource: TEXT_WIT, world: "text-tools", cacheDir });
  pool = new ComponentPool({ size: 2, memoryLimitBytes: 64 * 1024 * 1024, maxOutputBytes: 200_000 });
  vectorsJson = await readFile(join(FIXTURES_DIR, "text.tests.json"), "utf8");
});

afterAll(async () => {
  await pool?.close();
  await rm(cacheDir, { recursive: true, force: true });
});

async function expectPoolHealthy(): Promise<void> {
  expect((await pool.call(prepared, { function: "shout", args: ["ok"] })).value).toBe("OK!");
}

describe("building JS and TS components", () => {
  it("bundles npm and relative imports into one module and caches the build by input hash", async () => {
    expect(text.bundledSource).toContain("longestOf");
    expect(text.bundledSource).not.toMatch(/from\s+["']semver/);
    const again = await buildTextComponent();
    expect(again.cached).toBe(true);
    expect(again.componentHash).toBe(text.componentHash);
  });

  it("builds a TypeScript source (types stripped) that verifies against its WIT", async () => {
    const greet = await buildGreetComponent();
    await verifyComponent({ bytes: greet.bytes, expectedHash: greet.componentHash, witSource: GREET_WIT, world: "greet" });
    const greetPrepared = await prepareComponent(greet.bytes, { witSource: GREET_WIT, world: "greet", cacheDir });
    expect((await pool.call(greetPrepared, { function: "greet", args: ["Ada", 2] })).value).toBe("Hello, Ada! Hello, Ada!");
  });

  it("reports an unresolvable import as a BuildError naming it", async () => {
    const attempt = buildComponent({ witSource: GREET_WIT, world: "greet", source: 'import x from "no-such-package-here";\nexport const greeter = { greet: () => x };', cacheDir: null });
    await expect(attempt).rejects.toBeInstanceOf(BuildError);
    await expect(attempt).rejects.toThrow(/no-such-package-here/);
  });

  it("the built component exports exactly the published WIT (no WASI imports)", async () => {
    const verified = await verifyComponent({ bytes: text.bytes, expectedHash: sha256Hex(text.bytes), witSource: TEXT_WIT, world: "text-tools" });
    expect(verified.imports).toEqual([]);
  });
});

describe("a JS component importing WASI", () => {
  it("must declare its imports and reads a deterministic clock unless granted", async () => {
    const clock = await buildClockComponent();
    const base = { bytes: clock.bytes, expectedHash: clock.componentHash, witSource: CLOCK_WIT, world: "clock" };
    await expect(verifyComponent({ ...base, requestedCapabilities: ["wasi:clocks/wall-clock"], allowedCapabilities: ["wasi:*"] })).rejects.toBeInstanceOf(UndeclaredImportError);
    const verified = await verifyComponent({ ...base, requestedCapabilities: ["wasi:*"], allowedCapabilities: ["wasi:*"] });
    expect(verified.imports.map((name) => name.replace(/@.*$/, ""))).toContain("wasi:clocks/wall-clock");
    const clockPrepared = await prepareComponent(clock.bytes, { witSource: CLOCK_WIT, world: "clock", cacheDir });
    expect((await pool.call(clockPrepared, { function: "seconds", args: [] })).value).toBe("0");
    const granted = await pool.call(clockPrepared, { function: "seconds", args: [], grants: ["wasi:clocks/wall-clock"] });
    expect(Number(granted.value)).toBeGreaterThan(1_700_000_000);
  });
});

describe("JSON <-> WIT values through a real JS component", () => {
  it("converts records, options, variants, enums, flags, results, tuples and chars", async () => {
    const call = async (fn: string, args: unknown[]) => (await pool.call(prepared, { function: fn, args: args as never })).value;
    expect(await call("analyze", [["a", "abc", "ab"]])).toEqual({ words: 3, longest: "abc", "total-chars": 6 });
    expect(await call("analyze", [[]])).toEqual({ words: 0, longest: null, "total-chars": 0 });
    expect(await call("classify", ["one two three"])).toEqual({ tag: "sentence", val: 3 });
    expect(await call("classify", ["solo"])).toEqual({ tag: "word", val: "solo" });
    expect(await call("classify", [""])).toEqual({ tag: "empty" });
    expect(await call("tone-of", ["HEY"])).toBe("loud");
    expect(await call("styles", [["bold", "under-line"]])).toEqual(["bold", "underLine"]);
    expect(await call("parse-number", ["1.5"])).toEqual({ ok: 1.5 });
    expect(await call("parse-number", ["nope"])).toEqual({ error: "not a number: nope" });
    expect(await call("pair", [[200, "😀"]])).toEqual(["😀", 200]);
    expect(await call("satisfies", ["2.0.0", "^1.0.0"])).toBe(false);
  });

  it("rejects bad values naming the parameter and the offending part", async () => {
    await expect(pool.call(prepared, { function: "styles", args: [["bold", "blink"]] })).rejects.toThrow(/argument "f".*f\[1\].*no flag "blink"/);
    await expect(pool.call(prepared, { function: "pair", args: [[1, "ab"]] })).rejects.toThrow(/argument "t".*t\[1\].*single character/);
    await expect(pool.call(prepared, { function: "pair", args: [[256, "a"]] })).rejects.toThrow(/t\[0\].*0\.\.255/);
    await expect(pool.call(prepared, { function: "analyze", args: [[1]] })).rejects.toThrow(/words\[0\].*expected a string/);
  });
});

describe("fresh-instance semantics", () => {
  it("module-level JavaScript state never carries over from one caller to the next", async () => {
    expect(prepared.snapshot).toEqual({ safe: true });
    const results = [];
    for (const word of ["a", "b", "c"]) results.push((await pool.call(prepared, { function: "remember", args: [word] })).value);
    expect(results).toEqual([["a"], ["b"], ["c"]]);
    const concurrent = await Promise.all(["x", "y", "z", "w"].map((word) => pool.call(prepared, { function: "remember", args: [word] })));
    expect(concurrent.map((r) => r.value)).toEqual([["x"], ["y"], ["z"], ["w"]]);
  });
});

describe("test vectors", () => {
  it("runs the published vectors in-process and through the pool with the same fuel", async () => {
    const local = await runTestVectors(prepared, vectorsJson);
    expect(local.failed).toBe(0);
    expect(local.passed).toBe(12);
    const pooled = await runTestVectors(prepared, vectorsJson, { pool });
    expect(pooled.cases.map((c) => c.fuelUsed)).toEqual(local.cases.map((c) => c.fuelUsed));
    expect(formatTestReport(pooled)).toMatch(/12\/12 passed/);
  });

  it("reports failing cases readably", async () => {
    const vectors = JSON.parse(vectorsJson) as { cases: { expect: unknown }[] };
    vectors.cases[0]!.expect = { ok: "hello!" };
    vectors.cases[7]!.expect = { ok: 1 };
    const report = await runTestVectors(prepared, vectors);
    expect(report.failed).toBe(2);
    const text = formatTestReport(report);
    expect(text).toContain('FAIL  shout (shout)');
    expect(text).toContain('expected "hello!" but got "HELLO!"');
    expect(text).toContain('expected ok 1 but got error "not a number: abc"');
    expect(text).toMatch(/10\/12 passed, 2 failed/);
  });
});

describe("hostile JS", () => {
  it("infinite loop: out of fuel", async () => {
    await expect(pool.call(prepared, { function: "loop-forever", args: [], fuel: 2_000_000 })).rejects.toBeInstanceOf(OutOfFuelError);
    await expectPoolHealthy();
  });

  it("memory bomb: memory limit", async () => {
    await expect(pool.call(prepared, { function: "allocate", args: [1000] })).rejects.toBeInstanceOf(MemoryLimitError);
    await expectPoolHealthy();
  });

  it("deep recursion: stack overflow", async () => {
    await expect(pool.call(prepared, { function: "recurse", args: [10_000_000] })).rejects.toBeInstanceOf(StackOverflowError);
    await expectPoolHealthy();
  });

  it("huge output: output too large", async () => {
    await expect(pool.call(prepared, { function: "big-output", args: [1_000_000] })).rejects.toBeInstanceOf(OutputTooLargeError);
    await expectPoolHealthy();
  });
});
