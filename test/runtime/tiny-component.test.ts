/**
 * The tiny WAT component end to end: real build (wasm-tools via jco), verification, jco transpile,
 * binaryen fuel instrumentation, real worker pool. Includes the hostile suite.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../sdk/ids.ts";
import {
  CapabilityDeniedError,
  ComponentPool,
  HashMismatchError,
  InvalidArgumentsError,
  InvalidComponentError,
  LoadedComponent,
  MemoryLimitError,
  OutOfFuelError,
  OutputTooLargeError,
  StackOverflowError,
  TimeoutError,
  UndeclaredImportError,
  UnknownFunctionError,
  WitMismatchError,
  loadPreparedComponent,
  prepareComponent,
  verifyComponent,
  type PreparedComponent,
} from "../../runtime/sandbox/index.ts";
import { buildWatComponent } from "../../runtime/builder/index.ts";
import { TINY_WIT, buildTinyComponent } from "../fixtures/components/fixtures.ts";

const MEMORY_LIMIT = 32 * 1024 * 1024;
let cacheDir: string;
let tiny: Uint8Array;
let withImports: Uint8Array;
let prepared: PreparedComponent;
let preparedWithImports: PreparedComponent;
let pool: ComponentPool;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "glassbox-runtime-tiny-"));
  tiny = await buildTinyComponent();
  withImports = await buildTinyComponent({ withImports: true });
  prepared = await prepareComponent(tiny, { witSource: TINY_WIT, world: "tiny", cacheDir });
  preparedWithImports = await prepareComponent(withImports, { witSource: TINY_WIT, world: "tiny", cacheDir });
  pool = new ComponentPool({ size: 2, memoryLimitBytes: MEMORY_LIMIT, timeoutMs: 5_000, maxOutputBytes: 100_000 });
});

afterAll(async () => {
  await pool?.close();
  await rm(cacheDir, { recursive: true, force: true });
});

/** After every hostile call the pool must still serve a normal one. */
async function expectPoolHealthy(): Promise<void> {
  const result = await pool.call(prepared, { function: "add", args: [40, 2] });
  expect(result.value).toBe(42);
}

describe("verification at upload", () => {
  it("accepts the exact blob for its registered hash and published WIT", async () => {
    const verified = await verifyComponent({ bytes: tiny, expectedHash: sha256Hex(tiny), witSource: TINY_WIT, world: "tiny" });
    expect(verified.interface.qualifiedName).toBe("glassbox:tiny/calc@0.1.0");
    expect(verified.imports).toEqual([]);
  });

  it("rejects a blob whose sha256 differs from the registered componentHash", async () => {
    const other = sha256Hex(withImports);
    const attempt = verifyComponent({ bytes: tiny, expectedHash: other, witSource: TINY_WIT, world: "tiny" });
    await expect(attempt).rejects.toBeInstanceOf(HashMismatchError);
    await expect(attempt).rejects.toThrow(other);
  });

  it("rejects a blob that does not match the published function types, naming the function and types", async () => {
    const published = TINY_WIT.replace("add: func(a: s32, b: s32) -> s32;", "add: func(a: s32, b: u32) -> s32;");
    const attempt = verifyComponent({ bytes: tiny, expectedHash: sha256Hex(tiny), witSource: published, world: "tiny" });
    await expect(attempt).rejects.toBeInstanceOf(WitMismatchError);
    await expect(attempt).rejects.toThrow(/Function "add".*func\(a: s32, b: u32\) -> s32.*parameter `b`/);
  });

  it("rejects a blob missing a published function, and one exporting another interface version", async () => {
    const extra = TINY_WIT.replace("spin: func() -> u32;", "spin: func() -> u32;\n  triple: func(a: s32) -> s32;");
    await expect(verifyComponent({ bytes: tiny, expectedHash: sha256Hex(tiny), witSource: extra, world: "tiny" })).rejects.toThrow(/no function "triple"/);
    const bumped = TINY_WIT.replace("package glassbox:tiny@0.1.0;", "package glassbox:tiny@0.2.0;");
    await expect(verifyComponent({ bytes: tiny, expectedHash: sha256Hex(tiny), witSource: bumped, world: "tiny" })).rejects.toThrow(/exports "glassbox:tiny\/calc@0.1.0".*glassbox:tiny\/calc@0.2.0/);
  });

  it("allows extra exports beyond the published interface", async () => {
    const subset = TINY_WIT.replace("  /// Never returns (infinite loop).\n  spin: func() -> u32;\n", "");
    await expect(verifyComponent({ bytes: tiny, expectedHash: sha256Hex(tiny), witSource: subset, world: "tiny" })).resolves.toBeDefined();
  });

  it("rejects imports that are not both requested by the manifest and allowed by the operator", async () => {
    const base = { bytes: withImports, expectedHash: sha256Hex(withImports), witSource: TINY_WIT, world: "tiny" };
    const undeclared = verifyComponent({ ...base, requestedCapabilities: ["wasi:random/random"], allowedCapabilities: ["wasi:*"] });
    await expect(undeclared).rejects.toBeInstanceOf(UndeclaredImportError);
    await expect(undeclared).rejects.toThrow(/"wasi:cli\/environment@0.2.3"/);
    const notAllowed = verifyComponent({ ...base, requestedCapabilities: ["wasi:random/random", "wasi:cli/environment"], allowedCapabilities: ["wasi:random/*"] });
    await expect(notAllowed).rejects.toThrow(/wasi:cli\/environment@0.2.3.*allowed: wasi:random\/\*/);
    const ok = await verifyComponent({ ...base, requestedCapabilities: ["wasi:random/random", "wasi:cli/environment", "wasi:clocks/wall-clock"], allowedCapabilities: ["wasi:random/*", "wasi:cli/*", "wasi:clocks/*"] });
    expect(ok.imports).toEqual(["wasi:random/random@0.2.3", "wasi:cli/environment@0.2.3", "wasi:clocks/wall-clock@0.2.3"]);
  });
});

describe("running through the pool", () => {
  it("runs calls on fresh instances and reports fuel", async () => {
    const sum = await pool.call(prepared, { function: "add", args: [2, 3] });
    expect(sum).toMatchObject({ value: 5, fuelUsed: expect.any(Number) });
    expect(sum.fuelUsed).toBeGreaterThan(0);
    const byName = await pool.call(prepared, { function: "add", args: { a: -7, b: 3 } });
    expect(byName.value).toBe(-4);
    // u64: accepted as a decimal string (or a safe JSON integer), returned as a decimal string.
    expect((await pool.call(prepared, { function: "twice", args: ["9007199254740993"] })).value).toBe("18014398509481986");
    expect((await pool.call(prepared, { function: "twice", args: [21] })).value).toBe("42");
    expect((await pool.call(prepared, { function: "huge-output", args: [5] })).value).toBe("aaaaa");
  });

  it("rejects wrong arity, wrong types and unknown functions before execution, naming the parameter", async () => {
    await expect(pool.call(prepared, { function: "add", args: [1] })).rejects.toThrow(/expected 2 argument\(s\) \(a, b\), got 1/);
    const wrongType = pool.call(prepared, { function: "add", args: [1, "two"] });
    await expect(wrongType).rejects.toBeInstanceOf(InvalidArgumentsError);
    await expect(wrongType).rejects.toThrow(/Invalid argument "b" for "add"/);
    await expect(pool.call(prepared, { function: "add", args: [1, 2 ** 31] })).rejects.toThrow(/argument "b".*-2147483648\.\.2147483647/);
    await expect(pool.call(prepared, { function: "twice", args: ["18446744073709551616"] })).rejects.toThrow(/argument "a"/);
    await expect(pool.call(prepared, { function: "add", args: { a: 1, c: 2 } })).rejects.toThrow(/argument "c".*no such parameter/);
    await expect(pool.call(prepared, { function: "mul", args: [] })).rejects.toBeInstanceOf(UnknownFunctionError);
  });

  it("fuel is deterministic across fresh instances and grows with the work done", async () => {
    const runs = await Promise.all([1, 2, 3, 4].map(() => pool.call(prepared, { function: "recurse", args: [500] })));
    expect(new Set(runs.map((r) => r.fuelUsed)).size).toBe(1);
    const small = await pool.call(prepared, { function: "recurse", args: [10] });
    expect(small.fuelUsed).toBeLessThan(runs[0]!.fuelUsed);
    const inProcess = await (await LoadedComponent.load(prepared)).call("recurse", [500]);
    expect(inProcess.fuelUsed).toBe(runs[0]!.fuelUsed);
  });

  it("reuses the on-disk artefact after a restart, with identical fuel counts", async () => {
    const before = await pool.call(prepared, { function: "recurse", args: [123] });
    const reloaded = await loadPreparedComponent(prepared.componentHash, { cacheDir });
    expect(reloaded).toBeDefined();
    expect(reloaded!.prepareMs).toBe(prepared.prepareMs); // not re-prepared
    const again = await prepareComponent(tiny, { witSource: TINY_WIT, world: "tiny", cacheDir });
    expect(again.prepareMs).toBe(prepared.prepareMs);
    // Instrumenting again from scratch (another cache) yields the same counts.
    const otherCache = await mkdtemp(join(tmpdir(), "glassbox-runtime-tiny-again-"));
    try {
      const reprepared = await prepareComponent(tiny, { witSource: TINY_WIT, world: "tiny", cacheDir: otherCache });
      expect((await pool.call(reprepared, { function: "recurse", args: [123] })).fuelUsed).toBe(before.fuelUsed);
    } finally {
      await rm(otherCache, { recursive: true, force: true });
    }
    const restarted = new ComponentPool({ size: 1 });
    try {
      const after = await restarted.call(reloaded!, { function: "recurse", args: [123] });
      expect(after).toMatchObject({ value: 123, fuelUsed: before.fuelUsed });
    } finally {
      await restarted.close();
    }
  });
});

describe("fresh-instance semantics: no state shared between callers", () => {
  it("every call starts from the instance's initial globals and memory, through the pool and in-process", async () => {
    expect(prepared.snapshot).toEqual({ safe: true }); // instances are reset and reused
    const sequential: unknown[] = [];
    for (let i = 0; i < 10; i++) sequential.push((await pool.call(prepared, { function: "counter", args: [] })).value);
    const concurrent = await Promise.all(Array.from({ length: 10 }, () => pool.call(prepared, { function: "counter", args: [] })));
    expect(new Set([...sequential, ...concurrent.map((r) => r.value)])).toEqual(new Set([1001]));
    const local = await LoadedComponent.load(prepared);
    for (let i = 0; i < 5; i++) expect((await local.call("counter", [])).value).toBe(1001);
  });

  it("an instance whose memory grew is never reused", async () => {
    for (let i = 0; i < 4; i++) expect((await pool.call(prepared, { function: "grow-once", args: [] })).value).toBe(2);
    expect((await pool.call(prepared, { function: "counter", args: [] })).value).toBe(1001);
  });

  it("an instance that called a host import, or failed, is never reused", async () => {
    const rolls = [];
    for (let i = 0; i < 3; i++) rolls.push((await pool.call(preparedWithImports, { function: "roll", args: [] })).value);
    expect(new Set(rolls).size).toBe(1); // the deterministic stream starts over every time
    await expect(pool.call(prepared, { function: "spin", args: [], fuel: 1000 })).rejects.toBeInstanceOf(OutOfFuelError);
    expect((await pool.call(prepared, { function: "counter", args: [] })).value).toBe(1001);
  });

  it("a component whose code could change state a snapshot misses (a table write) gets a new instance per call", async () => {
    const wit = "package glassbox:tables@0.1.0;\n\ninterface swap {\n  next: func() -> u32;\n}\n\nworld tables {\n  export swap;\n}\n";
    // next() calls table slot 0, then points slot 0 at the other function: a reused instance would alternate.
    const wat = `(module
      (memory (export "memory") 1)
      (table $t 2 funcref)
      (elem (i32.const 0) $one $two)
      (type $f (func (result i32)))
      (func $one (result i32) (i32.const 1))
      (func $two (result i32) (i32.const 2))
      (func (export "glassbox:tables/swap@0.1.0#next") (result i32)
        (local $r i32)
        (local.set $r (call_indirect (type $f) (i32.const 0)))
        (table.set $t (i32.const 0) (table.get $t (i32.const 1)))
        (local.get $r)))`;
    const bytes = await buildWatComponent({ wat, witSource: wit, world: "tables" });
    const tables = await prepareComponent(bytes, { witSource: wit, world: "tables", cacheDir });
    expect(tables.snapshot).toEqual({ safe: false, reason: expect.stringMatching(/table\.set/) });
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await pool.call(tables, { function: "next", args: [] })).value);
    expect(results).toEqual([1, 1, 1, 1]);
    const session = await (await LoadedComponent.load(tables)).instantiate();
    expect([(await session.call("next", [])).value, (await session.call("next", [])).value]).toEqual([1, 2]); // what reuse would have shown
  });
});

describe("capabilities: nothing ambient", () => {
  it("randomness is a deterministic stub unless granted", async () => {
    const first = await pool.call(preparedWithImports, { function: "roll", args: [] });
    const second = await pool.call(preparedWithImports, { function: "roll", args: [] });
    expect(first.value).toBe(second.value);
    const granted = await Promise.all([1, 2].map(() => pool.call(preparedWithImports, { function: "roll", args: [], grants: ["wasi:random/random"] })));
    expect(granted[0]!.value).not.toBe(granted[1]!.value);
  });

  it("the wall clock is a deterministic stub unless granted", async () => {
    expect((await pool.call(preparedWithImports, { function: "clock-seconds", args: [] })).value).toBe("0");
    const granted = await pool.call(preparedWithImports, { function: "clock-seconds", args: [], grants: ["wasi:clocks/*"] });
    expect(Number(granted.value)).toBeGreaterThan(1_700_000_000);
  });

  it("instantiation takes host-provided interfaces (composition links a dependency this way) and a shared fuel counter", async () => {
    const loaded = await LoadedComponent.load(preparedWithImports);
    const fuel = new WebAssembly.Global({ value: "i64", mutable: true }, 0n);
    const session = await loaded.instantiate(undefined, { linked: { "wasi:random/random": { getRandomU64: () => 7n } }, fuel });
    const outcome = await session.call("roll", []);
    expect(outcome.value).toBe("7");
    expect(fuel.value).toBe(BigInt(1_000_000_000 - outcome.fuelUsed)); // the caller's counter paid for it
  });

  it("a denied capability surfaces as CapabilityDeniedError naming it", async () => {
    const denied = pool.call(preparedWithImports, { function: "peek-env", args: [] });
    await expect(denied).rejects.toBeInstanceOf(CapabilityDeniedError);
    await expect(denied).rejects.toThrow(/getArguments of "wasi:cli\/environment"/);
    await expectPoolHealthy();
  });
});

describe("hostile component suite", () => {
  it("infinite loop: out of fuel, then the pool serves", async () => {
    const attempt = pool.call(prepared, { function: "spin", args: [], fuel: 5_000_000 });
    await expect(attempt).rejects.toBeInstanceOf(OutOfFuelError);
    await expect(attempt).rejects.toMatchObject({ code: "out_of_fuel", fuelUsed: 5_000_000 });
    await expectPoolHealthy();
  });

  it("infinite loop with a huge fuel budget: wall-clock timeout, worker replaced, pool serves", async () => {
    const replacedBefore = pool.replacedWorkers;
    const attempt = pool.call(prepared, { function: "spin", args: [], fuel: 1e15, timeoutMs: 300 });
    await expect(attempt).rejects.toBeInstanceOf(TimeoutError);
    expect(pool.replacedWorkers).toBe(replacedBefore + 1);
    await expectPoolHealthy();
  });

  it("memory bomb: memory limit, then the pool serves", async () => {
    const attempt = pool.call(prepared, { function: "grow-memory", args: [] });
    await expect(attempt).rejects.toBeInstanceOf(MemoryLimitError);
    await expect(attempt).rejects.toThrow(/33554432 bytes/);
    await expectPoolHealthy();
  });

  it("deep recursion: stack overflow, then the pool serves", async () => {
    const attempt = pool.call(prepared, { function: "recurse", args: [100_000_000] });
    await expect(attempt).rejects.toBeInstanceOf(StackOverflowError);
    await expect(attempt).rejects.toMatchObject({ code: "stack_overflow", message: expect.stringMatching(/overflowed the call stack/) });
    await expectPoolHealthy();
  });

  it("huge output: output too large, then the pool serves", async () => {
    const attempt = pool.call(prepared, { function: "huge-output", args: [500_000] });
    await expect(attempt).rejects.toBeInstanceOf(OutputTooLargeError);
    await expect(attempt).rejects.toThrow(/500002 bytes of JSON, above the 100000-byte output cap/);
    await expectPoolHealthy();
  });

  it("undeclared import, hash mismatch, WIT mismatch: rejected before anything runs, each with its own error", async () => {
    const errors = await Promise.all([
      verifyComponent({ bytes: withImports, expectedHash: sha256Hex(withImports), witSource: TINY_WIT, world: "tiny" }).catch((e: Error) => e),
      verifyComponent({ bytes: tiny, expectedHash: `0x${"00".repeat(32)}`, witSource: TINY_WIT, world: "tiny" }).catch((e: Error) => e),
      verifyComponent({ bytes: tiny, expectedHash: sha256Hex(tiny), witSource: TINY_WIT.replace("twice: func(a: u64) -> u64", "twice: func(a: u64) -> s64"), world: "tiny" }).catch((e: Error) => e),
    ]);
    expect(errors.map((e) => e.constructor)).toEqual([UndeclaredImportError, HashMismatchError, WitMismatchError]);
    expect((errors[2] as Error).message).toMatch(/Function "twice".*-> s64/);
    await expectPoolHealthy();
  });
});

describe("malformed input", () => {
  it("rejects bytes that are not a component, and a prepared artefact that disappeared", async () => {
    const core = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    await expect(verifyComponent({ bytes: core, expectedHash: sha256Hex(core), witSource: TINY_WIT, world: "tiny" })).rejects.toBeInstanceOf(InvalidComponentError);
    const truncated = tiny.slice(0, tiny.length - 10);
    await expect(verifyComponent({ bytes: truncated, expectedHash: sha256Hex(truncated), witSource: TINY_WIT, world: "tiny" })).rejects.toBeInstanceOf(InvalidComponentError);
    const gone = { ...prepared, dir: join(cacheDir, "missing") };
    await expect(pool.call(gone, { function: "add", args: [1, 2] })).rejects.toBeInstanceOf(InvalidComponentError);
    await expectPoolHealthy();
  });
});
