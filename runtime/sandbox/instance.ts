/**
 * Runs calls against a prepared component: a fresh instance per call from compiled modules that
 * are cached per artefact. Used inside pool workers and, for tests/CLI/benchmarks, in-process.
 *
 * Loaded by worker threads through Node's type stripping: no TypeScript-only syntax here.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { FunctionSignature } from "../../sdk/wit.ts";
import { hostImports } from "./policy.ts";
import {
  CapabilityDeniedError,
  ComponentRuntimeError,
  InvalidArgumentsError,
  MemoryLimitError,
  OutOfFuelError,
  OutputTooLargeError,
  TrapError,
  UnknownFunctionError,
} from "../errors.ts";
import { FUEL_IMPORT_MODULE, FUEL_IMPORT_NAME } from "./fuel-abi.ts";
import type { PreparedComponent } from "./prepare.ts";
import { argumentsToGuest, camelCase, guestToJson, type JsonValue } from "./values.ts";

export interface CallLimits {
  /** Fuel budget for this call (units of the metering hook). */
  fuel: number;
  /** Cap on the JSON-serialized result, in bytes. */
  maxOutputBytes: number;
  /** Linear-memory cap per instance, used to classify memory failures (enforced by the pool's V8 flag). */
  memoryLimitBytes: number;
  /** Capabilities granted for real (default: none, i.e. deterministic stubs / denied). */
  grants: string[];
}

export const DEFAULT_LIMITS: CallLimits = {
  fuel: 1_000_000_000,
  maxOutputBytes: 1_048_576,
  memoryLimitBytes: 256 * 1024 * 1024,
  grants: [],
};

export interface CallOutcome {
  value: JsonValue;
  fuelUsed: number;
}

export interface InstanceSession {
  /** Calls a function on this instance with a fresh fuel budget (default: the session's). */
  call(functionName: string, args: JsonValue[] | Record<string, JsonValue>, fuel?: number): Promise<CallOutcome>;
}

type Glue = {
  instantiate(
    getCoreModule: (name: string) => WebAssembly.Module,
    imports: Record<string, unknown>,
    instantiateCore?: (module: WebAssembly.Module, imports: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
  ): Promise<Record<string, Record<string, (...args: unknown[]) => unknown>>>;
};

const MEMORY_SLACK_BYTES = 4 * 1024 * 1024;

/** Fuel budgets are whole units in 0..2^53-1 (the counter is an i64 global). */
function fuelBudget(fuel: number): bigint {
  return BigInt(Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(Number.isFinite(fuel) ? fuel : Number.MAX_SAFE_INTEGER))));
}

export class LoadedComponent {
  readonly prepared: PreparedComponent;
  private glue: Glue;
  private modules: Map<string, WebAssembly.Module>;
  private functions: Map<string, FunctionSignature>;

  private constructor(prepared: PreparedComponent, glue: Glue, modules: Map<string, WebAssembly.Module>) {
    this.prepared = prepared;
    this.glue = glue;
    this.modules = modules;
    this.functions = new Map(prepared.interface.functions.map((fn) => [fn.name, fn]));
  }

  /** Imports the glue and compiles every core module once. */
  static async load(prepared: PreparedComponent): Promise<LoadedComponent> {
    const glue = (await import(pathToFileURL(join(prepared.dir, "component.mjs")).href)) as Glue;
    const modules = new Map<string, WebAssembly.Module>();
    for (const name of prepared.coreModules) {
      const bytes = await readFile(join(prepared.dir, name));
      modules.set(name, await WebAssembly.compile(bytes));
    }
    return new LoadedComponent(prepared, glue, modules);
  }

  signature(functionName: string): FunctionSignature {
    const fn = this.functions.get(functionName);
    if (!fn) throw new UnknownFunctionError(functionName, [...this.functions.keys()]);
    return fn;
  }

  /** Checks the function and arguments without running anything (throws the typed error). */
  convertArguments(functionName: string, args: JsonValue[] | Record<string, JsonValue>): unknown[] {
    const fn = this.signature(functionName);
    const converted = argumentsToGuest(fn, args);
    if (converted.problem) throw new InvalidArgumentsError(functionName, converted.problem.parameter, converted.problem.message);
    return converted.values;
  }

  /** One call on a fresh instance; the instance is dropped afterwards whatever happens. */
  async call(functionName: string, args: JsonValue[] | Record<string, JsonValue>, limits: CallLimits = DEFAULT_LIMITS): Promise<CallOutcome> {
    this.convertArguments(functionName, args); // typed errors before instantiating anything
    const session = await this.instantiate(limits);
    return session.call(functionName, args, limits.fuel);
  }

  /**
   * A live instance. The pool never reuses one across calls (no state may leak between callers);
   * benchmarks and trusted local tooling may, to measure pure call cost. Once a call fails the
   * instance is broken: instantiate a new one.
   */
  async instantiate(limits: CallLimits = DEFAULT_LIMITS): Promise<InstanceSession> {
    const counter = new WebAssembly.Global({ value: "i64", mutable: true }, fuelBudget(limits.fuel));
    const memories: WebAssembly.Memory[] = [];
    const state: { denied: CapabilityDeniedError | undefined } = { denied: undefined };
    const imports = await hostImports(this.prepared.imports, limits.grants, (error) => (state.denied ??= error));
    const instantiateCore = async (module: WebAssembly.Module, importObject: WebAssembly.Imports): Promise<WebAssembly.Instance> => {
      const instance = await WebAssembly.instantiate(module, { ...importObject, [FUEL_IMPORT_MODULE]: { [FUEL_IMPORT_NAME]: counter } });
      for (const exported of Object.values(instance.exports)) if (exported instanceof WebAssembly.Memory) memories.push(exported);
      return instance;
    };
    let exported: Record<string, (...args: unknown[]) => unknown> | undefined;
    try {
      const instance = await this.glue.instantiate((name) => this.modules.get(name)!, imports, instantiateCore);
      exported = instance[this.prepared.interface.qualifiedName] ?? instance[camelCase(this.prepared.interface.name)];
    } catch (error) {
      throw this.classify(state.denied ?? error, "(instantiation)", limits, memories, counter.value as bigint, 0);
    }
    const exports = exported ?? {};
    return {
      call: async (functionName, args, fuel = limits.fuel) => {
        const fn = this.signature(functionName);
        const guestArgs = this.convertArguments(functionName, args);
        const budget = fuelBudget(fuel);
        counter.value = budget;
        state.denied = undefined;
        const fuelUsed = (): number => Number(budget - (counter.value as bigint));
        const callLimits = { ...limits, fuel };
        let raw: unknown;
        let isError = false;
        try {
          const target = exports[camelCase(fn.name)];
          if (typeof target !== "function") throw new UnknownFunctionError(fn.name, [...this.functions.keys()]);
          raw = target(...guestArgs);
          if (raw instanceof Promise) raw = await raw;
        } catch (error) {
          const payload = componentErrorPayload(error);
          if (payload.isComponentError && fn.result && unaliasKind(fn.result) === "result") {
            raw = payload.value;
            isError = true;
          } else {
            throw this.classify(state.denied ?? error, fn.name, callLimits, memories, counter.value as bigint, fuelUsed());
          }
        }
        const denied = state.denied as CapabilityDeniedError | undefined; // set from host callbacks
        if (denied) {
          // The guest swallowed the denial; the call still fails so callers see why it misbehaved.
          denied.fuelUsed = fuelUsed();
          throw denied;
        }
        let value: JsonValue;
        if (fn.result === null) value = null;
        else if (unaliasKind(fn.result) === "result") value = guestToJson(fn.result, isError ? { tag: "err", val: raw } : { tag: "ok", val: raw });
        else value = guestToJson(fn.result, raw);
        const size = Buffer.byteLength(JSON.stringify(value));
        if (size > limits.maxOutputBytes) {
          const error = new OutputTooLargeError(size, limits.maxOutputBytes);
          error.fuelUsed = fuelUsed();
          throw error;
        }
        return { value, fuelUsed: fuelUsed() };
      },
    };
  }

  private classify(error: unknown, functionName: string, limits: CallLimits, memories: WebAssembly.Memory[], remaining: bigint, used: number): ComponentRuntimeError {
    let typed: ComponentRuntimeError;
    const message = error instanceof Error ? error.message : String(error);
    const largestMemory = Math.max(0, ...memories.map((m) => m.buffer.byteLength));
    if (error instanceof CapabilityDeniedError || error instanceof UnknownFunctionError || error instanceof InvalidArgumentsError) {
      typed = error;
    } else if (remaining < 0n) {
      typed = new OutOfFuelError(limits.fuel);
    } else if (error instanceof RangeError && /call stack/i.test(message)) {
      typed = new TrapError("stack overflow (recursion too deep)", functionName);
    } else if (
      (error instanceof RangeError && /memory|allocat/i.test(message)) ||
      (largestMemory > 0 && largestMemory + MEMORY_SLACK_BYTES >= limits.memoryLimitBytes)
    ) {
      typed = new MemoryLimitError(limits.memoryLimitBytes, functionName);
    } else if (error instanceof ComponentRuntimeError) {
      typed = error;
    } else {
      typed = new TrapError(message || "unknown trap", functionName);
    }
    if (typed.fuelUsed === undefined) typed.fuelUsed = Math.min(used, limits.fuel);
    return typed;
  }
}

function unaliasKind(type: FunctionSignature["result"]): string {
  let current = type;
  while (current && current.kind === "alias") current = current.target;
  return current ? current.kind : "none";
}

/** jco throws `ComponentError` (with `.payload`) when an export returns `result::err`. */
function componentErrorPayload(error: unknown): { isComponentError: boolean; value?: unknown } {
  if (error instanceof Error && error.constructor.name === "ComponentError" && "payload" in error) {
    return { isComponentError: true, value: (error as { payload: unknown }).payload };
  }
  return { isComponentError: false };
}
