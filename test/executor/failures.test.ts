/**
 * Every class of failed call reaches the caller with its own top-level code (never a generic one
 * with the class hidden in details), costs nothing, and leaves one log line without the arguments.
 * A real chain, a real executor (PGlite journal, with a small per-instance memory cap: the cap no
 * longer limits anything else in the process) and real WAT components.
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExecutor, type RunningExecutor } from "../../executor/service.ts";
import { runtimeToApiError } from "../../executor/runtime-errors.ts";
import {
  CapabilityDeniedError,
  InvalidResultError,
  MemoryLimitError,
  OutOfFuelError,
  OutputTooLargeError,
  OverloadedError,
  PoolClosedError,
  StackOverflowError,
  TimeoutError,
  TrapError,
  WorkerCrashedError,
} from "../../runtime/errors.ts";
import { LIFTING_WIT, TINY_WIT, buildLiftingComponent, buildTinyComponent } from "../fixtures/components/fixtures.ts";
import { TestStack, type CalcArtifacts } from "./helpers/stack.ts";

let stack: TestStack;
let executor: RunningExecutor;
const logLines: Record<string, unknown>[] = [];

function vectors(world: string, iface: string, fn: string, args: unknown[], expected: unknown): string {
  return JSON.stringify({ world, interface: iface, cases: [{ name: "works", function: fn, args, expect: { ok: expected } }] });
}

async function post(path: string, args: unknown[]): Promise<{ status: number; body: { result?: unknown; error?: { code: string; message: string; hint?: string; details?: Record<string, unknown> } } }> {
  const response = await fetch(`${executor.url}${path}`, { method: "POST", body: JSON.stringify(args), headers: { "content-type": "application/json" } });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  const tiny: CalcArtifacts = { wit: TINY_WIT, component: await buildTinyComponent(), tests: vectors("tiny", "calc", "add", [2, 3], 5) };
  const lifting: CalcArtifacts = { wit: LIFTING_WIT, component: await buildLiftingComponent(), tests: vectors("lifting", "probe", "truth", [1], true) };
  stack = await TestStack.start();
  await stack.publish({ name: "acme/tiny", version: "1.0.0", mode: "free", artifacts: tiny, world: "tiny", interfaceName: "calc" });
  await stack.publish({ name: "acme/lifting", version: "1.0.0", mode: "free", artifacts: lifting, world: "lifting", interfaceName: "probe" });
  const capture = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });
  executor = await startExecutor({
    rpcUrl: stack.chain.rpcUrl,
    deployment: stack.deployment,
    operatorKey: stack.operatorKey,
    dataDir: await stack.tempDir(),
    port: 0,
    logger: pino({ level: "info" }, capture),
    // 16 MiB per instance, with the embedded PGlite journal in the same process.
    limits: { fuel: 50_000_000, memoryLimitBytes: 16 * 1024 * 1024 },
  });
  await stack.uploadAll(executor.url, executor.operator, tiny);
  await stack.uploadAll(executor.url, executor.operator, lifting);
});

afterAll(async () => {
  await executor?.close();
  await stack?.close();
});

describe("each failure class has its own top-level code", () => {
  it("out of fuel, memory limit, stack overflow, output too large", async () => {
    const cases = [
      ["spin", [], "OUT_OF_FUEL"],
      ["grow-memory", [], "OUT_OF_MEMORY"],
      ["recurse", [100_000_000], "STACK_OVERFLOW"],
      ["huge-output", [2_000_000], "OUTPUT_TOO_LARGE"],
    ] as const;
    for (const [fn, args, code] of cases) {
      const { status, body } = await post(`/v1/call/acme/tiny@1.0.0/${fn}`, [...args]);
      expect({ fn, status, code: body.error?.code }).toEqual({ fn, status: 422, code });
      expect(body.error!.hint).toMatch(/Nothing was charged/);
    }
    expect((await post("/v1/call/acme/tiny@1.0.0/add", [40, 2])).body).toMatchObject({ result: 42 });
  });

  it("invalid results: invalid UTF-8 and an unknown enum case are errors naming the rule and the place, never results", async () => {
    const utf8 = await post("/v1/call/acme/lifting@1.0.0/text", [[0x6f, 0xff]]);
    expect(utf8).toMatchObject({ status: 422, body: { error: { code: "INVALID_RESULT", details: { runtimeCode: "invalid_result", rule: "utf8", path: "result" } } } });
    expect(utf8.body.result).toBeUndefined();
    const nested = await post("/v1/call/acme/lifting@1.0.0/words", [[0xc3, 0x28]]);
    expect(nested.body.error).toMatchObject({ code: "INVALID_RESULT", details: { rule: "utf8", path: "result[0]" } });
    const enumCase = await post("/v1/call/acme/lifting@1.0.0/paint", [9]);
    expect(enumCase.body.error).toMatchObject({ code: "INVALID_RESULT", details: { rule: "discriminant" } });
    expect((await post("/v1/call/acme/lifting@1.0.0/text", [[0x6f, 0x6b]])).body).toMatchObject({ result: "ok" });
  });

  it("maps every runtime class the pool can raise to its own API code", () => {
    const mapped = [
      new OutOfFuelError(10),
      new TrapError("unreachable", "f"),
      new StackOverflowError("f"),
      new MemoryLimitError(1, "f"),
      new OutputTooLargeError(2, 1),
      new InvalidResultError("f", "utf8", "result", "bad"),
      new CapabilityDeniedError("wasi:cli/environment", "getArguments"),
      new TimeoutError(10, 10, 0),
      new OverloadedError("acme/x", 3),
      new WorkerCrashedError("exit code 1"),
      new PoolClosedError(),
    ].map((error) => [error.code, runtimeToApiError(error).code, runtimeToApiError(error).status]);
    expect(mapped).toEqual([
      ["out_of_fuel", "OUT_OF_FUEL", 422],
      ["trap", "COMPONENT_TRAP", 422],
      ["stack_overflow", "STACK_OVERFLOW", 422],
      ["memory_limit", "OUT_OF_MEMORY", 422],
      ["output_too_large", "OUTPUT_TOO_LARGE", 422],
      ["invalid_result", "INVALID_RESULT", 422],
      ["capability_denied", "CAPABILITY_DENIED", 422],
      ["timeout", "TIMEOUT", 422],
      ["overloaded", "EXECUTOR_BUSY", 503],
      ["worker_crashed", "WORKER_CRASHED", 503],
      ["pool_closed", "SHUTTING_DOWN", 503],
    ]);
  });
});

describe("failed calls are logged", () => {
  it("one line per failed call: component, function, class, fuel, ms, and never the arguments", async () => {
    const marker = 987_654_321;
    await post("/v1/call/acme/lifting@1.0.0/text-at", [marker, 5]);
    const line = logLines.findLast((l) => l.msg === "call failed");
    expect(line).toMatchObject({ package: "acme/lifting", function: "text-at", class: "invalid_result", fuel: expect.any(Number), ms: expect.any(Number), component: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    const failed = logLines.filter((l) => l.msg === "call failed");
    expect(failed.map((l) => l.class)).toEqual(expect.arrayContaining(["out_of_fuel", "memory_limit", "stack_overflow", "output_too_large", "invalid_result"]));
    expect(failed.length).toBeGreaterThanOrEqual(8);
    for (const entry of failed) expect(JSON.stringify(entry)).not.toContain(String(marker));
    expect(logLines.filter((l) => l.msg === "call failed" && l.function === "add")).toEqual([]);
  });
});
