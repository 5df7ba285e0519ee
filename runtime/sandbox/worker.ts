/**
 * Pool worker: runs one call at a time on a fresh instance. Compiled modules are cached per
 * prepared artefact. Loaded with Node's type stripping (no TS-only syntax here).
 */
import { parentPort, workerData } from "node:worker_threads";
import { setFlagsFromString } from "node:v8";
import { ComponentRuntimeError, InvalidComponentError, TrapError, errorToWire } from "../errors.ts";
import { LoadedComponent, type CallLimits } from "./instance.ts";
import type { PreparedComponent } from "./prepare.ts";
import type { JsonValue } from "./values.ts";

export interface WorkerSetup {
  memoryLimitBytes: number;
  maxCachedComponents: number;
}

export interface CallMessage {
  type: "call";
  id: number;
  prepared: PreparedComponent;
  function: string;
  args: JsonValue[] | Record<string, JsonValue>;
  limits: CallLimits;
}

export interface WarmMessage {
  type: "warm";
  id: number;
  prepared: PreparedComponent;
}

export type WorkerReply =
  | { type: "result"; id: number; value: JsonValue; fuelUsed: number }
  | { type: "error"; id: number; error: ReturnType<typeof errorToWire> };

const setup = workerData as WorkerSetup;
// resourceLimits does not cap Wasm memory; this V8 flag does (memory.grow fails beyond it).
setFlagsFromString(`--wasm-max-mem-pages=${Math.max(1, Math.floor(setup.memoryLimitBytes / 65536))}`);

const loaded = new Map<string, Promise<LoadedComponent>>();

function component(prepared: PreparedComponent): Promise<LoadedComponent> {
  let entry = loaded.get(prepared.dir);
  if (!entry) {
    entry = LoadedComponent.load(prepared);
    entry.catch(() => loaded.delete(prepared.dir));
    loaded.set(prepared.dir, entry);
    if (loaded.size > setup.maxCachedComponents) loaded.delete(loaded.keys().next().value!);
  } else {
    // Refresh LRU position.
    loaded.delete(prepared.dir);
    loaded.set(prepared.dir, entry);
  }
  return entry;
}

parentPort!.on("message", async (message: CallMessage | WarmMessage) => {
  let reply: WorkerReply;
  let runner: LoadedComponent;
  try {
    runner = await component(message.prepared);
  } catch (error) {
    const failure = new InvalidComponentError(
      `The prepared artefact in ${message.prepared.dir} could not be loaded (${error instanceof Error ? error.message : String(error)}): prepare the component again.`,
    );
    const failed: WorkerReply = { type: "error", id: message.id, error: errorToWire(failure) };
    parentPort!.postMessage(failed);
    return;
  }
  try {
    if (message.type === "warm") {
      reply = { type: "result", id: message.id, value: null, fuelUsed: 0 };
    } else {
      const outcome = await runner.call(message.function, message.args, message.limits);
      reply = { type: "result", id: message.id, value: outcome.value, fuelUsed: outcome.fuelUsed };
    }
  } catch (error) {
    const typed = error instanceof ComponentRuntimeError ? error : new TrapError(error instanceof Error ? error.message : String(error), message.type === "call" ? message.function : "(warm-up)");
    reply = { type: "error", id: message.id, error: errorToWire(typed) };
  }
  parentPort!.postMessage(reply);
});
