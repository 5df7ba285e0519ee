/**
 * Pool worker: runs one call at a time. The pool decides which components a worker holds (it
 * ships their compiled modules once and names the ones to evict), so both sides agree without
 * round trips. After replying, the worker resets the instance it used (instance.ts), off the
 * caller's path. Loaded with Node's type stripping (no TS-only syntax here).
 */
import { parentPort, workerData } from "node:worker_threads";
import { ComponentRuntimeError, InvalidComponentError, TrapError, errorToWire, type WireError } from "../errors.ts";
import { callComposed, type DependencyLink, type DependencyUsage } from "./composition.ts";
import { LoadedComponent, type CallLimits } from "./instance.ts";
import type { PreparedComponent } from "./prepare.ts";
import type { JsonValue } from "./values.ts";

export interface WorkerSetup {
  /** Bytes of ready instances (memories and snapshots) kept across calls; beyond, the least recently used are dropped. */
  maxRetainedBytes: number;
}

interface ComponentMessage {
  id: number;
  /** The component (its prepared.dir). */
  dir: string;
  /** The artefact and its compiled core modules, when this worker does not hold the component yet. */
  load?: { prepared: PreparedComponent; modules: Map<string, WebAssembly.Module> };
  /** Components to drop first. */
  evict: string[];
  /** Compiled core modules of linked dependencies this worker does not hold yet, by prepared.dir. */
  dependencyLoads?: { dir: string; modules: Map<string, WebAssembly.Module> }[];
}

export interface CallMessage extends ComponentMessage {
  type: "call";
  function: string;
  args: JsonValue[] | Record<string, JsonValue>;
  limits: CallLimits;
  /** Dependencies to link (composition); absent or empty for a plain call. */
  dependencies?: DependencyLink[];
}

export interface WarmMessage extends ComponentMessage {
  type: "warm";
  limits: CallLimits;
}

export type WorkerReply =
  | { type: "result"; id: number; value: JsonValue; fuelUsed: number; dependencyUsage?: DependencyUsage[] }
  | { type: "error"; id: number; error: WireError }
  /** The component is loaded and the call starts (sent only when the call came with a load). */
  | { type: "started"; id: number };

const setup: WorkerSetup = workerData;
/** Loaded components, least recently used first. */
const loaded = new Map<string, Promise<LoadedComponent>>();

function component(message: ComponentMessage): Promise<LoadedComponent> {
  let entry = loaded.get(message.dir);
  if (entry) loaded.delete(message.dir);
  else if (message.load) entry = LoadedComponent.load(message.load.prepared, message.load.modules);
  else entry = Promise.reject(new Error("the pool sent a call for a component this worker does not hold"));
  loaded.set(message.dir, entry);
  return entry;
}

/** A linked dependency's loaded component: held already, or loaded from the modules the pool sent with this call. */
function dependencyComponent(message: ComponentMessage, prepared: PreparedComponent): Promise<LoadedComponent> {
  let entry = loaded.get(prepared.dir);
  if (entry) loaded.delete(prepared.dir);
  else {
    const sent = message.dependencyLoads?.find((l) => l.dir === prepared.dir);
    entry = sent ? LoadedComponent.load(prepared, sent.modules) : Promise.reject(new Error(`the pool sent a composed call without the dependency ${prepared.componentHash}`));
  }
  loaded.set(prepared.dir, entry);
  return entry;
}

/** Drops ready instances of the least recently used components until the retained bytes fit. */
async function trim(): Promise<void> {
  const components = await Promise.all([...loaded.values()].map((entry) => entry.catch(() => undefined)));
  let retained = components.reduce((n, c) => n + (c?.retainedBytes() ?? 0), 0);
  for (const c of components) {
    if (retained <= setup.maxRetainedBytes) return;
    if (!c) continue;
    retained -= c.retainedBytes();
    c.release();
  }
}

parentPort!.on("message", async (message: CallMessage | WarmMessage) => {
  for (const dir of message.evict) loaded.delete(dir);
  let runner: LoadedComponent;
  try {
    runner = await component(message);
  } catch (error) {
    loaded.delete(message.dir);
    const failure =
      error instanceof ComponentRuntimeError
        ? error
        : new InvalidComponentError(`The prepared artefact in ${message.dir} could not be loaded (${error instanceof Error ? error.message : String(error)}): prepare the component again.`, error);
    const failed: WorkerReply = { type: "error", id: message.id, error: errorToWire(failure) };
    parentPort!.postMessage(failed);
    return;
  }
  if (message.load || (message.dependencyLoads && message.dependencyLoads.length > 0)) {
    const started: WorkerReply = { type: "started", id: message.id };
    parentPort!.postMessage(started);
  }
  let reply: WorkerReply;
  try {
    if (message.type === "warm") {
      await runner.check(message.limits);
      reply = { type: "result", id: message.id, value: null, fuelUsed: 0 };
    } else if (message.dependencies && message.dependencies.length > 0) {
      const outcome = await callComposed(runner, message.dependencies, (prepared) => dependencyComponent(message, prepared), message.function, message.args, message.limits);
      reply = { type: "result", id: message.id, value: outcome.value, fuelUsed: outcome.fuelUsed, dependencyUsage: outcome.dependencyUsage };
    } else {
      const outcome = await runner.call(message.function, message.args, message.limits);
      reply = { type: "result", id: message.id, value: outcome.value, fuelUsed: outcome.fuelUsed };
    }
  } catch (error) {
    const typed = error instanceof ComponentRuntimeError ? error : new TrapError(error instanceof Error ? error.message : String(error), message.type === "call" ? message.function : "(warm-up)", error);
    reply = { type: "error", id: message.id, error: errorToWire(typed) };
  }
  parentPort!.postMessage(reply);
  // Off the caller's path: reset the instance for the next call, then keep memory within bounds.
  runner.tidy();
  await trim();
});
