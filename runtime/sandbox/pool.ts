/**
 * Worker-thread pool that runs component calls in isolation, fairly:
 * - one call per worker at a time, with fresh-instance semantics (instance.ts);
 * - a call's deadline counts from its arrival: time spent waiting for a worker counts, and a call
 *   still waiting at its deadline fails with TimeoutError without running;
 * - calls are queued per key (the executor uses the package name) and dispatched round-robin
 *   across keys, and one key never runs on more than `maxConcurrentPerKey` workers, so one
 *   package's calls cannot take over the pool; a key with `maxQueuedPerKey` calls waiting is
 *   refused at once (OverloadedError);
 * - a key whose call runs longer than `heavyAfterMs` is "heavy" for `heavyForMs`: all heavy keys
 *   together run on at most `maxHeavyWorkers` workers, so several packages of endless loops
 *   cannot take over the pool either; and when every worker is busy with a heavy call while
 *   other calls wait, extra workers are started (up to `maxWorkers`; the OS shares the cores
 *   between them) and stopped again once idle;
 * - a wall-clock backstop terminates and replaces a worker whose call passes its deadline;
 * - memory is capped per instance by the instrumentation (instrument.ts), not by a V8 flag, so
 *   nothing else in the process is limited by it.
 * Core modules are compiled once, on this thread, and shared with the workers (V8 shares the
 * compiled code between threads). Arguments are checked against the WIT before any worker is
 * involved.
 *
 * Memory bound: maxWorkers x (memoryLimitBytes for the running instance + maxRetainedBytesPerWorker
 * for ready instances and their snapshots + workerHeapMb of JS heap) + the compiled code of at
 * most maxCachedComponents components + the process's own overhead.
 */
import { availableParallelism } from "node:os";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PACKAGE_ROOT } from "../../sdk/package-root.ts";
import { Worker } from "node:worker_threads";
import {
  ComponentRuntimeError,
  InvalidArgumentsError,
  InvalidComponentError,
  OverloadedError,
  PoolClosedError,
  TimeoutError,
  UnknownFunctionError,
  WorkerCrashedError,
  errorFromWire,
} from "../errors.ts";
import { flattenLinks, type DependencyLink, type DependencyUsage } from "./composition.ts";
import { DEFAULT_LIMITS, type CallLimits } from "./instance.ts";
import type { PreparedComponent } from "./prepare.ts";
import { argumentsToGuest, type JsonValue } from "./values.ts";
import type { CallMessage, WarmMessage, WorkerReply, WorkerSetup } from "./worker.ts";

export interface PoolOptions {
  /** Worker count. Default: os.availableParallelism(). */
  size?: number;
  /** Default fuel budget per call. */
  fuel?: number;
  /** Default deadline per call, from its arrival (ms). */
  timeoutMs?: number;
  /** Default cap on the JSON result size (bytes). */
  maxOutputBytes?: number;
  /** Linear-memory cap per instance (bytes). */
  memoryLimitBytes?: number;
  /** Capabilities granted for real by default (otherwise deterministic stubs / denied). */
  grants?: string[];
  /** Most workers one key's calls may occupy at once. Default: half the pool, at least 1. */
  maxConcurrentPerKey?: number;
  /** Most calls of one key waiting for a worker; beyond, calls are refused. Default 256. */
  maxQueuedPerKey?: number;
  /** A call running longer than this (ms) makes its key heavy. Default 250. */
  heavyAfterMs?: number;
  /** How long a key stays heavy after its last long call started (ms). Default 30 s. */
  heavyForMs?: number;
  /** Most workers all heavy keys together may occupy. Default: half the pool, at least 1. */
  maxHeavyWorkers?: number;
  /** Most workers, extra ones included (started when heavy calls hold every worker). Default: twice `size`. */
  maxWorkers?: number;
  /** Compiled components kept (shared by the workers). Default 64. */
  maxCachedComponents?: number;
  /** Ready instances and snapshots each worker keeps across calls (bytes). Default 64 MiB. */
  maxRetainedBytesPerWorker?: number;
  /** JS heap cap per worker (MiB): a backstop for huge results being converted; the worker is replaced if hit. */
  workerHeapMb?: number;
}

export interface CallRequest {
  /** WIT function name (kebab-case, as in the published interface). */
  function: string;
  /** Positional JSON array or object keyed by parameter name. */
  args: JsonValue[] | Record<string, JsonValue>;
  fuel?: number;
  /** Deadline from arrival (ms). */
  timeoutMs?: number;
  maxOutputBytes?: number;
  grants?: string[];
  /** Fair-queueing key (the executor passes the package name). Default: the componentHash. */
  key?: string;
  /**
   * Dependencies to link (composition.ts): fresh metered instances of their prepared components,
   * one fuel budget and one memory cap for the whole composition.
   */
  dependencies?: DependencyLink[];
}

export interface CallResult {
  value: JsonValue;
  /** Fuel of the whole composition (the component's own plus its dependencies'). */
  fuelUsed: number;
  /** Per dependency called: calls and its own fuel (empty for a component without dependencies). */
  dependencyUsage: DependencyUsage[];
  /** Wall-clock time in the pool, including queueing (ms). */
  durationMs: number;
}

type JobMessage = Omit<CallMessage, "id" | "dir" | "load" | "evict"> | Omit<WarmMessage, "id" | "dir" | "load" | "evict">;

interface Job {
  key: string;
  prepared: PreparedComponent;
  message: JobMessage;
  arrivedAt: number;
  deadline: number;
  timeoutMs: number;
  startedAt: number;
  queuedTimer: NodeJS.Timeout | undefined;
  resolve(reply: { value: JsonValue; fuelUsed: number; dependencyUsage?: DependencyUsage[] }): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  jobId: number;
  timer: NodeJS.Timeout | undefined;
  /** Marks the running call's key heavy when it runs too long. */
  heavyTimer: NodeJS.Timeout | undefined;
  /** Started beyond `size` for a while; stopped once idle. */
  extra: boolean;
  idleTimer: NodeJS.Timeout | undefined;
  /** Components this worker holds (prepared.dir), least recently used first. */
  holds: Set<string>;
  /** Jobs for this worker only (warm-ups), served before the shared queues. */
  own: Job[];
}

/** Every component directory a job needs in its worker: its own and its linked dependencies'. */
function jobDirs(job: Job): string[] {
  const links = job.message.type === "call" ? flattenLinks(job.message.dependencies ?? []) : [];
  return [job.prepared.dir, ...links.map((l) => l.prepared.dir)];
}

// From the package root, not from this module: the executor also runs compiled to dist/, while the
// worker always runs from its TypeScript source (Node strips its types).
const WORKER_URL = pathToFileURL(join(PACKAGE_ROOT, "runtime", "sandbox", "worker.ts"));
/** An extra worker idle this long is stopped. */
const EXTRA_IDLE_MS = 10_000;

export class ComponentPool {
  readonly size: number;
  private options: Required<Omit<PoolOptions, "size">>;
  private slots: Slot[] = [];
  /** Waiting calls per key, and the keys in round-robin order. */
  private queues = new Map<string, Job[]>();
  private running = new Map<string, number>();
  /** Heavy keys, until when (performance.now() ms). */
  private heavy = new Map<string, number>();
  private nextId = 1;
  private closed = false;
  private compiled = new Map<string, Promise<Map<string, WebAssembly.Module>>>();
  /** Workers replaced after a timeout or crash (observability, tests). */
  replacedWorkers = 0;

  constructor(options: PoolOptions = {}) {
    this.size = Math.max(1, options.size ?? availableParallelism());
    this.options = {
      fuel: options.fuel ?? DEFAULT_LIMITS.fuel,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxOutputBytes: options.maxOutputBytes ?? DEFAULT_LIMITS.maxOutputBytes,
      memoryLimitBytes: options.memoryLimitBytes ?? DEFAULT_LIMITS.memoryLimitBytes,
      grants: options.grants ?? [],
      maxConcurrentPerKey: Math.max(1, options.maxConcurrentPerKey ?? Math.ceil(this.size / 2)),
      maxQueuedPerKey: options.maxQueuedPerKey ?? 256,
      heavyAfterMs: options.heavyAfterMs ?? 250,
      heavyForMs: options.heavyForMs ?? 30_000,
      maxHeavyWorkers: Math.max(1, options.maxHeavyWorkers ?? Math.floor(this.size / 2)),
      maxWorkers: Math.max(this.size, options.maxWorkers ?? 2 * this.size),
      maxCachedComponents: options.maxCachedComponents ?? 64,
      maxRetainedBytesPerWorker: options.maxRetainedBytesPerWorker ?? 64 * 1024 * 1024,
      workerHeapMb: options.workerHeapMb ?? 256,
    };
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn(false));
  }

  private spawn(extra: boolean): Slot {
    const setup: WorkerSetup = { maxRetainedBytes: this.options.maxRetainedBytesPerWorker };
    // Node's own type stripping loads the worker: no loader (tsx, vitest) inherited from this thread.
    const worker = new Worker(WORKER_URL, { workerData: setup, execArgv: [], resourceLimits: { maxOldGenerationSizeMb: this.options.workerHeapMb } });
    const slot: Slot = { worker, job: undefined, jobId: 0, timer: undefined, heavyTimer: undefined, extra, idleTimer: undefined, holds: new Set(), own: [] };
    worker.unref();
    worker.on("message", (reply: WorkerReply) => this.onReply(slot, reply));
    worker.on("error", (error) => this.onCrash(slot, error.message));
    worker.on("exit", (code) => this.onCrash(slot, `exit code ${code}`));
    return slot;
  }

  /** A call running longer than heavyAfterMs makes its key heavy. */
  private startHeavyClock(slot: Slot, job: Job): void {
    slot.heavyTimer = setTimeout(() => {
      this.heavy.set(job.key, performance.now() + this.options.heavyForMs);
      this.pump();
    }, this.options.heavyAfterMs);
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    const job = slot.job;
    if (!job || reply.id !== slot.jobId) return;
    if (reply.type === "started") {
      this.startHeavyClock(slot, job);
      return;
    }
    this.finish(slot);
    if (reply.type === "result") {
      job.resolve({ value: reply.value, fuelUsed: reply.fuelUsed, ...(reply.dependencyUsage ? { dependencyUsage: reply.dependencyUsage } : {}) });
    } else {
      // The worker could not load the component (it dropped it): send it again next time.
      if (reply.error.code === "invalid_component") for (const dir of jobDirs(job)) slot.holds.delete(dir);
      job.reject(errorFromWire(reply.error));
    }
    this.pump();
  }

  /** A worker died (or was terminated): fail its job, replace it, keep serving. */
  private onCrash(slot: Slot, reason: string, error?: ComponentRuntimeError): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return; // already replaced
    const job = slot.job;
    this.finish(slot);
    this.slots.splice(index, 1);
    slot.worker.removeAllListeners();
    slot.worker.on("error", () => {});
    void slot.worker.terminate();
    if (!this.closed && !slot.extra) {
      const replacement = this.spawn(false);
      replacement.own = slot.own;
      this.slots.push(replacement);
      this.replacedWorkers++;
    }
    job?.reject(error ?? new WorkerCrashedError(reason));
    this.pump();
  }

  private finish(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    if (slot.heavyTimer) clearTimeout(slot.heavyTimer);
    slot.timer = undefined;
    slot.heavyTimer = undefined;
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      const running = (this.running.get(job.key) ?? 1) - 1;
      if (running > 0) this.running.set(job.key, running);
      else this.running.delete(job.key);
    }
  }

  private isHeavy(key: string): boolean {
    const until = this.heavy.get(key);
    if (until === undefined) return false;
    if (until > performance.now()) return true;
    this.heavy.delete(key);
    return false;
  }

  private busyWithHeavy(slot: Slot): boolean {
    return slot.job !== undefined && this.isHeavy(slot.job.key);
  }

  /**
   * The next waiting call: round-robin over keys, skipping keys at their concurrency limit and
   * heavy keys once heavy calls hold `maxHeavyWorkers` workers.
   */
  private nextJob(): Job | undefined {
    let heavyRunning: number | undefined;
    for (const [key, queue] of this.queues) {
      if ((this.running.get(key) ?? 0) >= this.options.maxConcurrentPerKey) continue;
      if (this.isHeavy(key)) {
        heavyRunning ??= this.slots.filter((slot) => this.busyWithHeavy(slot)).length;
        if (heavyRunning >= this.options.maxHeavyWorkers) continue;
      }
      const job = queue.shift()!;
      // Move the key to the back of the rotation (or drop it once empty).
      this.queues.delete(key);
      if (queue.length > 0) this.queues.set(key, queue);
      return job;
    }
    return undefined;
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job) continue;
      const job = this.takeLive(() => slot.own.shift() ?? this.nextJob());
      if (!job) continue;
      void this.dispatch(slot, job);
    }
    // Calls wait while heavy calls hold every worker: start extra workers for them.
    while (this.slots.length < this.options.maxWorkers && this.slots.every((slot) => this.busyWithHeavy(slot))) {
      const job = this.takeLive(() => this.nextJob());
      if (!job) break;
      const slot = this.spawn(true);
      this.slots.push(slot);
      void this.dispatch(slot, job);
    }
    for (const slot of this.slots) {
      if (slot.job) continue;
      // Idle workers must not keep the process alive; idle extra workers stop after a while.
      slot.worker.unref();
      if (slot.extra && !slot.idleTimer) slot.idleTimer = setTimeout(() => this.retire(slot), EXTRA_IDLE_MS).unref();
    }
  }

  /** The next job whose deadline has not passed; the others fail without running. */
  private takeLive(next: () => Job | undefined): Job | undefined {
    let job = next();
    while (job && job.deadline <= performance.now()) {
      job.reject(new TimeoutError(job.timeoutMs, performance.now() - job.arrivedAt, 0));
      job = next();
    }
    return job;
  }

  private retire(slot: Slot): void {
    slot.idleTimer = undefined;
    const index = this.slots.indexOf(slot);
    if (slot.job || index < 0) return;
    this.slots.splice(index, 1);
    slot.worker.removeAllListeners();
    slot.worker.on("error", () => {});
    void slot.worker.terminate();
  }

  private async dispatch(slot: Slot, job: Job): Promise<void> {
    if (job.queuedTimer) clearTimeout(job.queuedTimer);
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    slot.job = job;
    slot.jobId = this.nextId++;
    this.running.set(job.key, (this.running.get(job.key) ?? 0) + 1);
    job.startedAt = performance.now();
    slot.worker.ref();
    slot.timer = setTimeout(() => this.onCrash(slot, "timeout", new TimeoutError(job.timeoutMs, job.startedAt - job.arrivedAt, performance.now() - job.startedAt)), Math.max(0, job.deadline - job.startedAt));
    const id = slot.jobId;
    const dir = job.prepared.dir;
    let load: CallMessage["load"];
    const dependencyLoads: NonNullable<CallMessage["dependencyLoads"]> = [];
    const evict: string[] = [];
    // A composed call needs its dependencies' components in the same worker too.
    const needed = new Map<string, PreparedComponent>([[dir, job.prepared]]);
    if (job.message.type === "call") for (const link of flattenLinks(job.message.dependencies ?? [])) needed.set(link.prepared.dir, link.prepared);
    const missing = [...needed.values()].filter((prepared) => !slot.holds.has(prepared.dir));
    for (const prepared of needed.values()) slot.holds.delete(prepared.dir); // re-added below as most recently used
    try {
      for (const prepared of missing) {
        const modules = await this.compile(prepared);
        if (prepared.dir === dir) load = { prepared, modules };
        else dependencyLoads.push({ dir: prepared.dir, modules });
      }
    } catch (error) {
      if (slot.job === job && slot.jobId === id) {
        this.finish(slot);
        job.reject(error instanceof ComponentRuntimeError ? error : new InvalidComponentError(`The core modules of a component in ${[...needed.keys()].join(", ")} do not compile: ${(error as Error).message}. Prepare the component again.`, error));
        this.pump();
      }
      return;
    }
    if (slot.job !== job || slot.jobId !== id) return; // timed out or crashed while compiling
    while (missing.length > 0 && slot.holds.size + needed.size > this.options.maxCachedComponents && slot.holds.size > 0) {
      const oldest = slot.holds.values().next().value!;
      slot.holds.delete(oldest);
      evict.push(oldest);
    }
    for (const held of needed.keys()) slot.holds.add(held);
    // Loading (a new worker, a component new to it) is not running time: when the worker loads,
    // the clock starts when it says the call started.
    if (missing.length === 0) this.startHeavyClock(slot, job);
    // The artefact crosses the thread boundary once per worker, not with every call.
    slot.worker.postMessage({ ...job.message, id, dir, load, evict, dependencyLoads });
  }

  /** Compiles a component's core modules once, shared by every worker (least recently used dropped beyond the cache size). */
  private compile(prepared: PreparedComponent): Promise<Map<string, WebAssembly.Module>> {
    let entry = this.compiled.get(prepared.dir);
    if (entry) {
      this.compiled.delete(prepared.dir);
    } else {
      entry = (async () => {
        const modules = new Map<string, WebAssembly.Module>();
        for (const name of prepared.coreModules) modules.set(name, await WebAssembly.compile(await readFile(join(prepared.dir, name))));
        return modules;
      })();
      entry.catch(() => this.compiled.delete(prepared.dir));
    }
    this.compiled.set(prepared.dir, entry);
    if (this.compiled.size > this.options.maxCachedComponents) this.compiled.delete(this.compiled.keys().next().value!);
    return entry;
  }

  private submit(key: string, prepared: PreparedComponent, message: JobMessage, timeoutMs: number, slot?: Slot): Promise<{ value: JsonValue; fuelUsed: number; dependencyUsage?: DependencyUsage[] }> {
    if (this.closed) return Promise.reject(new PoolClosedError());
    const queue = this.queues.get(key) ?? [];
    if (!slot && queue.length >= this.options.maxQueuedPerKey) return Promise.reject(new OverloadedError(key, queue.length));
    return new Promise((resolve, reject) => {
      const arrivedAt = performance.now();
      const job: Job = { key, prepared, message, arrivedAt, deadline: arrivedAt + timeoutMs, timeoutMs, startedAt: 0, queuedTimer: undefined, resolve, reject };
      if (slot) {
        slot.own.push(job);
      } else {
        queue.push(job);
        this.queues.set(key, queue);
        // Still waiting at the deadline: fail without running.
        job.queuedTimer = setTimeout(() => {
          const waiting = this.queues.get(key);
          const at = waiting?.indexOf(job) ?? -1;
          if (at < 0) return;
          waiting!.splice(at, 1);
          if (waiting!.length === 0) this.queues.delete(key);
          reject(new TimeoutError(timeoutMs, performance.now() - arrivedAt, 0));
        }, timeoutMs);
      }
      this.pump();
    });
  }

  private limits(request: Partial<Pick<CallRequest, "fuel" | "maxOutputBytes" | "grants">>): CallLimits {
    return {
      fuel: request.fuel ?? this.options.fuel,
      maxOutputBytes: request.maxOutputBytes ?? this.options.maxOutputBytes,
      memoryLimitBytes: this.options.memoryLimitBytes,
      grants: request.grants ?? this.options.grants,
    };
  }

  /** Runs one call with fresh-instance semantics. Rejects with a typed ComponentRuntimeError. */
  async call(prepared: PreparedComponent, request: CallRequest): Promise<CallResult> {
    const started = performance.now();
    const fn = prepared.interface.functions.find((f) => f.name === request.function);
    if (!fn) throw new UnknownFunctionError(request.function, prepared.interface.functions.map((f) => f.name));
    const converted = argumentsToGuest(fn, request.args);
    if (converted.problem) throw new InvalidArgumentsError(fn.name, converted.problem.parameter, converted.problem.message);
    const message = { type: "call" as const, function: request.function, args: request.args, limits: this.limits(request), ...(request.dependencies?.length ? { dependencies: request.dependencies } : {}) };
    const outcome = await this.submit(request.key ?? prepared.componentHash, prepared, message, request.timeoutMs ?? this.options.timeoutMs);
    return { value: outcome.value, fuelUsed: outcome.fuelUsed, dependencyUsage: outcome.dependencyUsage ?? [], durationMs: performance.now() - started };
  }

  /** Loads a component in every worker and instantiates it once (after upload or restart): instantiation errors surface here. */
  async warm(prepared: PreparedComponent): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.submit(prepared.componentHash, prepared, { type: "warm", limits: this.limits({}) }, 60_000, slot)));
  }

  /** Calls waiting and running, per key (observability, benchmarks). */
  load(): { queued: number; running: number; keys: Record<string, { queued: number; running: number }> } {
    const keys: Record<string, { queued: number; running: number }> = {};
    for (const [key, count] of this.running) if (count > 0) keys[key] = { queued: 0, running: count };
    for (const [key, queue] of this.queues) keys[key] = { queued: queue.length, running: this.running.get(key) ?? 0 };
    const values = Object.values(keys);
    return { queued: values.reduce((n, k) => n + k.queued, 0), running: values.reduce((n, k) => n + k.running, 0), keys };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const queue of this.queues.values()) {
      for (const job of queue) {
        if (job.queuedTimer) clearTimeout(job.queuedTimer);
        job.reject(new PoolClosedError());
      }
    }
    this.queues.clear();
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(async (slot) => {
        const job = slot.job;
        this.finish(slot);
        if (slot.idleTimer) clearTimeout(slot.idleTimer);
        slot.worker.removeAllListeners();
        slot.worker.on("error", () => {});
        await slot.worker.terminate();
        job?.reject(new PoolClosedError());
        for (const own of slot.own.splice(0)) own.reject(new PoolClosedError());
      }),
    );
  }
}
