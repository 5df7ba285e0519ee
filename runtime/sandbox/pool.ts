/**
 * Worker-thread pool that runs component calls in isolation: one call per worker at a time, a
 * fresh instance per call, a wall-clock backstop (the worker is terminated and replaced), and
 * typed errors. Arguments are checked against the WIT before any worker is involved.
 *
 * Memory cap: worker `resourceLimits` do not cap Wasm memory, the V8 flag --wasm-max-mem-pages
 * does, and V8 flags are process-wide. Workers set it when they start, so it also applies to Wasm
 * run on the main thread afterwards (jco transpile at prepare time, componentize builds). Keep
 * memoryLimitBytes >= 256 MiB in a process that also prepares components, or build large
 * (StarlingMonkey) components before creating the pool / in another process. A call that traps
 * while its memory is within 4 MiB of the cap is reported as MemoryLimitError.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import {
  ComponentRuntimeError,
  InvalidArgumentsError,
  PoolClosedError,
  TimeoutError,
  UnknownFunctionError,
  WorkerCrashedError,
  errorFromWire,
} from "../errors.ts";
import { DEFAULT_LIMITS, type CallLimits } from "./instance.ts";
import type { PreparedComponent } from "./prepare.ts";
import { argumentsToGuest, type JsonValue } from "./values.ts";
import type { CallMessage, WarmMessage, WorkerReply, WorkerSetup } from "./worker.ts";

export interface PoolOptions {
  /** Worker count. Default: os.availableParallelism(). */
  size?: number;
  /** Default fuel budget per call. */
  fuel?: number;
  /** Default wall-clock limit per call (ms). */
  timeoutMs?: number;
  /** Default cap on the JSON result size (bytes). */
  maxOutputBytes?: number;
  /** Linear-memory cap per instance (bytes); process-wide V8 flag, so one value per pool. */
  memoryLimitBytes?: number;
  /** Capabilities granted for real by default (otherwise deterministic stubs / denied). */
  grants?: string[];
  /** Compiled components kept per worker. */
  maxCachedComponents?: number;
  /** JS heap cap per worker (MiB): a backstop for huge results being converted; the worker is replaced if hit. */
  workerHeapMb?: number;
}

export interface CallRequest {
  /** WIT function name (kebab-case, as in the published interface). */
  function: string;
  /** Positional JSON array or object keyed by parameter name. */
  args: JsonValue[] | Record<string, JsonValue>;
  fuel?: number;
  timeoutMs?: number;
  maxOutputBytes?: number;
  grants?: string[];
}

export interface CallResult {
  value: JsonValue;
  fuelUsed: number;
  /** Wall-clock time in the pool, including queueing (ms). */
  durationMs: number;
}

interface Job {
  message: Omit<CallMessage, "id"> | Omit<WarmMessage, "id">;
  timeoutMs: number;
  resolve(reply: { value: JsonValue; fuelUsed: number }): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  jobId: number;
  timer: NodeJS.Timeout | undefined;
}

const WORKER_URL = new URL("./worker.ts", import.meta.url);

export class ComponentPool {
  readonly size: number;
  private options: Required<Omit<PoolOptions, "size">>;
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 1;
  private closed = false;
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
      maxCachedComponents: options.maxCachedComponents ?? 64,
      workerHeapMb: options.workerHeapMb ?? 1024,
    };
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const setup: WorkerSetup = { memoryLimitBytes: this.options.memoryLimitBytes, maxCachedComponents: this.options.maxCachedComponents };
    const worker = new Worker(WORKER_URL, { workerData: setup, resourceLimits: { maxOldGenerationSizeMb: this.options.workerHeapMb } });
    const slot: Slot = { worker, job: undefined, jobId: 0, timer: undefined };
    worker.unref();
    worker.on("message", (reply: WorkerReply) => this.onReply(slot, reply));
    worker.on("error", (error) => this.onCrash(slot, error.message));
    worker.on("exit", (code) => this.onCrash(slot, `exit code ${code}`));
    return slot;
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    const job = slot.job;
    if (!job || reply.id !== slot.jobId) return;
    this.finish(slot);
    if (reply.type === "result") job.resolve({ value: reply.value, fuelUsed: reply.fuelUsed });
    else job.reject(errorFromWire(reply.error));
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
    if (!this.closed) {
      this.slots.push(this.spawn());
      this.replacedWorkers++;
    }
    job?.reject(error ?? new WorkerCrashedError(reason));
    this.pump();
  }

  private finish(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.jobId = this.nextId++;
      slot.worker.ref();
      slot.timer = setTimeout(() => this.onCrash(slot, "timeout", new TimeoutError(job.timeoutMs)), job.timeoutMs);
      slot.worker.postMessage({ ...job.message, id: slot.jobId });
    }
    // Idle workers must not keep the process alive.
    for (const slot of this.slots) if (!slot.job) slot.worker.unref();
  }

  private submit(message: Job["message"], timeoutMs: number): Promise<{ value: JsonValue; fuelUsed: number }> {
    if (this.closed) return Promise.reject(new PoolClosedError());
    return new Promise((resolve, reject) => {
      this.queue.push({ message, timeoutMs, resolve, reject });
      this.pump();
    });
  }

  /** Runs one call on a fresh instance. Rejects with a typed ComponentRuntimeError. */
  async call(prepared: PreparedComponent, request: CallRequest): Promise<CallResult> {
    const started = performance.now();
    const fn = prepared.interface.functions.find((f) => f.name === request.function);
    if (!fn) throw new UnknownFunctionError(request.function, prepared.interface.functions.map((f) => f.name));
    const converted = argumentsToGuest(fn, request.args);
    if (converted.problem) throw new InvalidArgumentsError(fn.name, converted.problem.parameter, converted.problem.message);
    const limits: CallLimits = {
      fuel: request.fuel ?? this.options.fuel,
      maxOutputBytes: request.maxOutputBytes ?? this.options.maxOutputBytes,
      memoryLimitBytes: this.options.memoryLimitBytes,
      grants: request.grants ?? this.options.grants,
    };
    const outcome = await this.submit({ type: "call", prepared, function: request.function, args: request.args, limits }, request.timeoutMs ?? this.options.timeoutMs);
    return { ...outcome, durationMs: performance.now() - started };
  }

  /** Loads and compiles a component in every worker (after upload or restart). */
  async warm(prepared: PreparedComponent): Promise<void> {
    await Promise.all(this.slots.map(() => this.submit({ type: "warm", prepared }, 60_000)));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new PoolClosedError());
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(async (slot) => {
        const job = slot.job;
        this.finish(slot);
        slot.worker.removeAllListeners();
        slot.worker.on("error", () => {});
        await slot.worker.terminate();
        job?.reject(new PoolClosedError());
      }),
    );
  }
}
