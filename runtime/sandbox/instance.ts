/**
 * Runs calls against a prepared component. Used inside pool workers and, for tests, the CLI and
 * benchmarks, in-process.
 *
 * Fresh-instance semantics, without paying for a fresh instance: right after instantiation every
 * memory and mutable global of the instance is snapshotted; after a call the instance is reset to
 * that snapshot and serves the next caller. A reset restores all the state a call can change, or
 * the instance is dropped instead: it is reused only when the call succeeded, grew no memory,
 * called no JavaScript import (the glue's and the host's state is not in the snapshot), and the
 * component's code cannot change state outside memories and globals (snapshot-safety.ts, checked
 * at prepare time). Otherwise the next call gets a new instance.
 *
 * Loaded by worker threads through Node's type stripping: no TypeScript-only syntax here.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { unalias, type FunctionSignature } from "../../sdk/wit.ts";
import { InvalidArgumentsError, InvalidComponentError, MemoryLimitError, OutputTooLargeError, UnknownFunctionError, type CapabilityDeniedError } from "../errors.ts";
import { classify } from "./failures.ts";
import { ResultChecker } from "./lifting.ts";
import { LiveInstance, PAGE, type InterfaceExports } from "./live-instance.ts";
import { hostImports, type HostInterface } from "./policy.ts";
import type { PreparedComponent } from "./prepare.ts";
import { FUEL_IMPORT_NAME, MEMORY_IMPORT_NAME, SANDBOX_IMPORT_MODULE, STACK_POINTER_NAMES } from "./sandbox-abi.ts";
import { argumentsToGuest, camelCase, guestToJson, type JsonValue } from "./values.ts";

export interface CallLimits {
  /** Fuel budget for this call (units of the metering hook). */
  fuel: number;
  /** Cap on the JSON-serialized result, in bytes. */
  maxOutputBytes: number;
  /** Linear-memory cap per instance (all its memories together), in bytes. */
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

export interface InstanceOptions {
  /**
   * Interfaces the host links in, keyed by unversioned name, taking precedence over the capability
   * policy's bindings (composition: a dependency's instance provides an interface the component
   * imports).
   */
  linked?: Record<string, HostInterface>;
  /** The fuel counter to draw from (composition: a dependency shares its caller's budget). */
  fuel?: WebAssembly.Global;
  /** The memory-page budget to draw from (composition: the memory cap holds for the whole composition). */
  pages?: WebAssembly.Global;
  /** Snapshot the instance for reuse (default true; composition's one-call instances skip the copy). */
  snapshot?: boolean;
}

/** What a composed call's run needs beyond its root instance (composition.ts). */
export interface RunContext {
  /** Pages in use at the start of the call across every instance of the composition. */
  basePages: bigint;
  /** A capability denial any instance of the composition saw during the call. */
  denied(): CapabilityDeniedError | undefined;
}

type CoreExports = Record<string, unknown>;
type InstantiateCore = (module: WebAssembly.Module, imports?: WebAssembly.Imports) => { exports: CoreExports };
type GlueInstantiate = (getCoreModule: (name: string) => WebAssembly.Module, imports: Record<string, HostInterface>, instantiateCore: InstantiateCore) => Record<string, InterfaceExports>;

function isGlue(value: unknown): value is GlueInstantiate {
  return typeof value === "function";
}

/** Fuel budgets are whole units in 0..2^53-1 (the counter is an i64 global). */
export function fuelBudget(fuel: number): bigint {
  return BigInt(Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(Number.isFinite(fuel) ? fuel : Number.MAX_SAFE_INTEGER))));
}

function limitPages(limits: CallLimits): bigint {
  return BigInt(Math.floor(limits.memoryLimitBytes / PAGE));
}

/** Most instances kept ready per component and grants (a worker runs one call at a time). */
const MAX_IDLE_INSTANCES = 2;

export class LoadedComponent {
  readonly prepared: PreparedComponent;
  private readonly glue: GlueInstantiate;
  private readonly modules: Map<string, WebAssembly.Module>;
  private readonly functions: Map<string, FunctionSignature>;
  private readonly idle: LiveInstance[] = [];

  private constructor(prepared: PreparedComponent, glue: GlueInstantiate, modules: Map<string, WebAssembly.Module>) {
    this.prepared = prepared;
    this.glue = glue;
    this.modules = modules;
    this.functions = new Map(prepared.interface.functions.map((fn) => [fn.name, fn]));
  }

  /**
   * Evaluates the glue and compiles every core module once (or takes modules compiled elsewhere:
   * a pool compiles once and shares them with its workers). The glue is a script, not an imported
   * module, so it is garbage-collected with the component.
   */
  static async load(prepared: PreparedComponent, compiled?: Map<string, WebAssembly.Module>): Promise<LoadedComponent> {
    const glue: unknown = new Function(await readFile(join(prepared.dir, "glue.js"), "utf8"))();
    if (!isGlue(glue)) throw new InvalidComponentError(`The glue in ${prepared.dir} does not define an instantiate function: prepare the component again.`);
    return new LoadedComponent(prepared, glue, compiled ?? (await compileModules(prepared)));
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

  /** One call with fresh-instance semantics: a reset instance when one is ready, else a new one. */
  async call(functionName: string, args: JsonValue[] | Record<string, JsonValue>, limits: CallLimits = DEFAULT_LIMITS): Promise<CallOutcome> {
    const fn = this.signature(functionName);
    const guestArgs = this.convertArguments(functionName, args); // typed errors before instantiating anything
    const instance = this.takeIdle(limits.grants) ?? (await this.createInstance(limits));
    const outcome = this.run(instance, fn, guestArgs, limits);
    if (this.prepared.snapshot.safe && instance.resettable() && this.idle.length < MAX_IDLE_INSTANCES) this.idle.push(instance);
    return outcome;
  }

  /** Resets the instances used since the last tidy (a worker does this after it has replied). */
  tidy(): void {
    for (let i = this.idle.length - 1; i >= 0; i--) if (this.idle[i]!.dirty && !this.idle[i]!.reset()) this.idle.splice(i, 1);
  }

  /** Drops the ready instances (to free their memory). */
  release(): void {
    this.idle.length = 0;
  }

  /** Bytes held by the ready instances (memories and snapshots). */
  retainedBytes(): number {
    return this.idle.reduce((n, instance) => n + instance.retainedBytes(), 0);
  }

  /** Instantiates once (instantiation errors surface at upload instead of at the first call). */
  async check(limits: CallLimits = DEFAULT_LIMITS): Promise<void> {
    const instance = await this.createInstance(limits);
    if (this.prepared.snapshot.safe && this.idle.length < MAX_IDLE_INSTANCES) this.idle.push(instance);
  }

  /**
   * A live instance the caller keeps: calls on it share state and are never reset. The pool never
   * uses one; benchmarks and trusted local tooling may, to measure pure call cost. Once a call
   * fails the instance is broken: instantiate a new one.
   */
  async instantiate(limits: CallLimits = DEFAULT_LIMITS, options: InstanceOptions = {}): Promise<InstanceSession> {
    const instance = await this.createInstance(limits, options);
    return {
      call: async (functionName, args, fuel = limits.fuel) => {
        const fn = this.signature(functionName);
        return this.run(instance, fn, this.convertArguments(functionName, args), { ...limits, fuel });
      },
    };
  }

  private takeIdle(grants: string[]): LiveInstance | undefined {
    const key = grants.join(",");
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const instance = this.idle[i]!;
      if (instance.grantsKey !== key) continue;
      this.idle.splice(i, 1);
      if (!instance.dirty || instance.reset()) return instance;
    }
    return undefined;
  }

  /**
   * A new live instance (never reused). Composition (composition.ts) links instances this way and
   * runs the root with `runOn`.
   */
  async newInstance(limits: CallLimits, options: InstanceOptions = {}): Promise<LiveInstance> {
    return this.createInstance(limits, options);
  }

  /** Runs one function on a live instance of this component, as `call` does (composition.ts). */
  runOn(instance: LiveInstance, functionName: string, args: JsonValue[] | Record<string, JsonValue>, limits: CallLimits, context: RunContext): CallOutcome {
    const fn = this.signature(functionName);
    return this.run(instance, fn, this.convertArguments(functionName, args), limits, context);
  }

  private async createInstance(limits: CallLimits, options: InstanceOptions = {}): Promise<LiveInstance> {
    const fuel = options.fuel ?? new WebAssembly.Global({ value: "i64", mutable: true }, fuelBudget(limits.fuel));
    const pages = options.pages ?? new WebAssembly.Global({ value: "i64", mutable: true }, limitPages(limits));
    const memories = new Set<WebAssembly.Memory>();
    const globals = new Set<WebAssembly.Global>();
    const stackPointers: WebAssembly.Global[] = [];
    const wasmFunctions = new WeakSet<object>();
    const iface = this.prepared.interface;
    const coreNames = new Map(iface.functions.map((fn) => [`${iface.qualifiedName}#${fn.name}`, fn]));
    const checked = new Set<string>();
    // The instance is created below; the import wrappers and the export checks refer to it through `state`.
    const state: { instance: LiveInstance | undefined; denied: CapabilityDeniedError | undefined } = { instance: undefined, denied: undefined };
    const host = await hostImports(this.prepared.imports, limits.grants, (error) => {
      state.denied ??= error;
      if (state.instance) state.instance.denied ??= error;
    });
    const sandbox = { [FUEL_IMPORT_NAME]: fuel, [MEMORY_IMPORT_NAME]: pages };

    const instantiateCore: InstantiateCore = (module, importObject) => {
      const imports: WebAssembly.Imports = { [SANDBOX_IMPORT_MODULE]: sandbox };
      const importedMemories: WebAssembly.Memory[] = [];
      for (const [namespace, fields] of Object.entries(importObject ?? {})) {
        const wrapped: Record<string, WebAssembly.ImportValue> = {};
        for (const [name, value] of Object.entries(fields)) {
          if (value instanceof WebAssembly.Memory) {
            memories.add(value);
            importedMemories.push(value);
          } else if (value instanceof WebAssembly.Global) globals.add(value);
          // Any JavaScript called from Wasm may change state a snapshot does not hold: count it.
          wrapped[name] =
            typeof value === "function" && !wasmFunctions.has(value)
              ? (...args: unknown[]) => {
                  if (state.instance) state.instance.hostCalls++;
                  return value(...args);
                }
              : value;
        }
        imports[namespace] = wrapped;
      }
      const instance = new WebAssembly.Instance(module, imports);
      const exports: CoreExports = { ...instance.exports };
      for (const [name, value] of Object.entries(instance.exports)) {
        if (typeof value === "function") wasmFunctions.add(value);
        else if (value instanceof WebAssembly.Memory) memories.add(value);
        else if (value instanceof WebAssembly.Global) {
          globals.add(value);
          if (STACK_POINTER_NAMES.includes(name)) stackPointers.push(value);
        }
      }
      // The canonical ABI's export names: strict lifting checks each result before the glue lifts it.
      const memory = instance.exports.memory instanceof WebAssembly.Memory ? instance.exports.memory : importedMemories.length === 1 ? importedMemories[0] : undefined;
      for (const [coreName, fn] of coreNames) {
        const core = instance.exports[coreName];
        if (typeof core !== "function") continue;
        checked.add(fn.name);
        exports[coreName] = (...args: unknown[]) => {
          const raw = core(...args);
          return (state.instance?.checker ?? new ResultChecker(fn.name, DEFAULT_LIMITS.maxOutputBytes)).check(fn, raw, memory);
        };
      }
      return { exports };
    };

    let api: Record<string, InterfaceExports>;
    try {
      api = this.glue((name) => {
        const module = this.modules.get(name);
        if (!module) throw new InvalidComponentError(`The glue asked for a core module "${name}" that the artefact does not have.`);
        return module;
      }, { ...host, ...options.linked }, instantiateCore);
    } catch (error) {
      throw classify(state.denied ?? error, "(instantiation)", limits, { fuelLeft: fuel.value, pagesLeft: pages.value, stackOverflowed: false, used: 0 });
    }
    const exports = api[iface.qualifiedName] ?? api[camelCase(iface.name)];
    if (!exports) throw new InvalidComponentError(`The component does not export "${iface.qualifiedName}" once instantiated.`);
    // Fail closed: a result strict lifting could not check is never returned.
    const unchecked = iface.functions.filter((fn) => !checked.has(fn.name)).map((fn) => fn.name);
    if (unchecked.length > 0) {
      throw new InvalidComponentError(
        `No core module exports ${unchecked.map((name) => `"${iface.qualifiedName}#${name}"`).join(", ")} (the canonical ABI's names, which wit-component uses): ` +
          "the runtime cannot check those results, so it does not run the component.",
      );
    }
    const instance = new LiveInstance({ exports, fuel, pages, grantsKey: limits.grants.join(","), memories, globals, stackPointers });
    state.instance = instance;
    if (BigInt(instance.memoryBytes() / PAGE) > limitPages(limits)) throw new MemoryLimitError(limits.memoryLimitBytes, "(instantiation)");
    // Host calls during instantiation belong to every fresh instance's initial state alike.
    if (this.prepared.snapshot.safe && !state.denied && options.snapshot !== false) instance.takeSnapshot();
    return instance;
  }

  /** Runs one function on an instance (which is dirty afterwards). Throws the typed error. */
  private run(instance: LiveInstance, fn: FunctionSignature, guestArgs: unknown[], limits: CallLimits, context?: RunContext): CallOutcome {
    const budget = fuelBudget(limits.fuel);
    instance.fuel.value = budget;
    instance.pages.value = limitPages(limits) - (context?.basePages ?? instance.basePages());
    const deniedAnywhere = (): CapabilityDeniedError | undefined => instance.deniedCapability() ?? context?.denied();
    instance.denied = undefined;
    instance.dirty = true;
    const fuelUsed = (): number => Number(budget - BigInt(instance.fuel.value));
    instance.checker = new ResultChecker(fn.name, limits.maxOutputBytes);
    let raw: unknown;
    let isError = false;
    try {
      if (BigInt(instance.pages.value) < 0n) throw new MemoryLimitError(limits.memoryLimitBytes, fn.name);
      const target = instance.exports[camelCase(fn.name)];
      if (typeof target !== "function") throw new UnknownFunctionError(fn.name, [...this.functions.keys()]);
      raw = target(...guestArgs);
    } catch (error) {
      const payload = componentErrorPayload(error);
      if (payload.isComponentError && fn.result && unalias(fn.result).kind === "result") {
        raw = payload.value;
        isError = true;
      } else {
        // A failed instance is broken (jco marks it trapped): the caller drops it.
        throw classify(deniedAnywhere() ?? error, fn.name, limits, {
          fuelLeft: instance.fuel.value,
          pagesLeft: instance.pages.value,
          stackOverflowed: instance.shadowStackOverflowed(),
          used: fuelUsed(),
        });
      }
    } finally {
      instance.checker = undefined;
    }
    const denied = deniedAnywhere();
    if (denied) {
      // The guest swallowed the denial; the call still fails so callers see why it misbehaved.
      denied.fuelUsed = fuelUsed();
      throw denied;
    }
    let value: JsonValue;
    if (fn.result === null) value = null;
    else if (unalias(fn.result).kind === "result") value = guestToJson(fn.result, isError ? { tag: "err", val: raw } : { tag: "ok", val: raw });
    else value = guestToJson(fn.result, raw);
    const size = Buffer.byteLength(JSON.stringify(value));
    if (size > limits.maxOutputBytes) {
      const error = new OutputTooLargeError(size, limits.maxOutputBytes);
      error.fuelUsed = fuelUsed();
      throw error;
    }
    return { value, fuelUsed: fuelUsed() };
  }
}

async function compileModules(prepared: PreparedComponent): Promise<Map<string, WebAssembly.Module>> {
  const modules = new Map<string, WebAssembly.Module>();
  for (const name of prepared.coreModules) modules.set(name, await WebAssembly.compile(await readFile(join(prepared.dir, name))));
  return modules;
}

/** jco throws `ComponentError` (with `.payload`) when an export returns `result::err`. */
function componentErrorPayload(error: unknown): { isComponentError: boolean; value?: unknown } {
  if (error instanceof Error && error.constructor.name === "ComponentError" && "payload" in error) {
    return { isComponentError: true, value: error.payload };
  }
  return { isComponentError: false };
}
