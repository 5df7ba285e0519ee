/**
 * The pool under contention, with real workers and the tiny WAT component: deadlines count from
 * arrival, one key (package) cannot take over the workers, a flooded key is refused up front, and
 * the memory cap is per instance (nothing process-wide).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ComponentPool, MemoryLimitError, OverloadedError, TimeoutError, prepareComponent, type PreparedComponent } from "../../runtime/sandbox/index.ts";
import { TINY_WIT, buildTinyComponent } from "../fixtures/components/fixtures.ts";

let cacheDir: string;
let prepared: PreparedComponent;
const pools: ComponentPool[] = [];

function newPool(...args: ConstructorParameters<typeof ComponentPool>): ComponentPool {
  const pool = new ComponentPool(...args);
  pools.push(pool);
  return pool;
}

/** A call that never finishes by itself (an infinite loop with unlimited fuel). */
const endless = (key: string, timeoutMs: number) => ({ function: "spin", args: [], fuel: 1e15, timeoutMs, key });

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "glassbox-runtime-pool-"));
  prepared = await prepareComponent(await buildTinyComponent(), { witSource: TINY_WIT, world: "tiny", cacheDir });
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
  await rm(cacheDir, { recursive: true, force: true });
});

describe("deadlines count from arrival", () => {
  it("a call still waiting for a worker at its deadline fails without running; a running one is stopped", async () => {
    const pool = newPool({ size: 1, heavyAfterMs: 60_000 }); // no extra worker for the waiting call
    await pool.warm(prepared);
    const blocker = pool.call(prepared, endless("a", 1_000)).catch((error: unknown) => error);
    const waiting = pool.call(prepared, { function: "add", args: [1, 2], timeoutMs: 200, key: "b" }).catch((error: unknown) => error);
    const queued = await waiting;
    expect(queued).toBeInstanceOf(TimeoutError);
    expect(queued).toMatchObject({ code: "timeout", details: { ranMs: 0, timeoutMs: 200 }, message: expect.stringMatching(/waited \d+ ms for a free sandbox/) });
    const stopped = await blocker;
    expect(stopped).toBeInstanceOf(TimeoutError);
    expect((stopped as TimeoutError).details.ranMs).toBeGreaterThan(0);
    expect((await pool.call(prepared, { function: "add", args: [40, 2] })).value).toBe(42);
  });
});

describe("fair sharing between keys", () => {
  it("one key's endless calls never occupy more than its share: another key's calls keep running", async () => {
    const pool = newPool({ size: 2, maxConcurrentPerKey: 1 });
    await pool.warm(prepared);
    const finished: string[] = [];
    const hostile = Array.from({ length: 3 }, () => pool.call(prepared, endless("hostile", 1_500)).catch(() => finished.push("hostile")));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pool.load().keys.hostile).toEqual({ running: 1, queued: 2 });
    const good = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.call(prepared, { function: "add", args: [i, 1], key: "good" })));
    finished.push("good");
    expect(good.map((r) => r.value)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await Promise.all(hostile);
    // Every good call finished before the first hostile call was even stopped.
    expect(finished[0]).toBe("good");
  });

  it("several keys of endless calls cannot take over the pool either: heavy keys share half of it, and extra workers serve the others", async () => {
    const pool = newPool({ size: 2, heavyAfterMs: 100 });
    await pool.warm(prepared);
    const finished: string[] = [];
    const hostile = ["h1", "h2", "h3"].flatMap((key) => [0, 1].map(() => pool.call(prepared, endless(key, 2_000)).catch(() => finished.push("hostile"))));
    await new Promise((resolve) => setTimeout(resolve, 300)); // every hostile key is heavy by now
    const good = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.call(prepared, { function: "add", args: [i, 1], key: "good" })));
    finished.push("good");
    expect(good.map((r) => r.value)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await Promise.all(hostile);
    expect(finished[0]).toBe("good");
  });

  it("refuses a key's call at once when too many of its calls are waiting", async () => {
    const pool = newPool({ size: 1, maxQueuedPerKey: 2 });
    await pool.warm(prepared);
    const running = pool.call(prepared, endless("flood", 500)).catch(() => undefined);
    const queued = [pool.call(prepared, endless("flood", 500)).catch(() => undefined), pool.call(prepared, endless("flood", 500)).catch(() => undefined)];
    const refused = pool.call(prepared, endless("flood", 500));
    await expect(refused).rejects.toBeInstanceOf(OverloadedError);
    await expect(refused).rejects.toMatchObject({ code: "overloaded", details: { key: "flood", queued: 2 } });
    // Another key is still accepted (and waits its turn).
    const other = pool.call(prepared, { function: "add", args: [1, 1], key: "calm", timeoutMs: 5_000 });
    await Promise.all([running, ...queued]);
    expect((await other).value).toBe(2);
  });
});

describe("memory cap per instance", () => {
  it("stops a memory bomb at the cap, while the rest of the process can use more", async () => {
    const pool = newPool({ size: 1, memoryLimitBytes: 8 * 1024 * 1024 });
    await expect(pool.call(prepared, { function: "grow-memory", args: [] })).rejects.toBeInstanceOf(MemoryLimitError);
    const mine = new WebAssembly.Memory({ initial: 1 });
    expect(mine.grow(1024)).toBe(1); // 64 MiB more here: no process-wide V8 flag
    expect((await pool.call(prepared, { function: "add", args: [2, 2] })).value).toBe(4);
  });
});
