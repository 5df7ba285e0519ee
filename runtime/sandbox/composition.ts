/**
 * Composition: a component whose world imports another published capability's interface runs with
 * a fresh, metered instance of that dependency's prepared component linked in (and the dependency's
 * own dependencies, recursively). The dependent never sees the dependency's bytes: it calls through
 * the interface, across two sandboxed glue layers that each lift and lower by their own types.
 *
 * One budget for the whole composition: every instance draws from the same fuel counter and the
 * same memory-page counter, so the call's limits hold for the composition as a whole. Fuel is also
 * attributed: each dependency's own fuel (excluding what its own dependencies burn) and its call
 * count are reported in `dependencyUsage`, which is what its royalty is computed from.
 *
 * A dependency call that fails (trap, out of fuel, memory) unwinds through the dependent as a trap
 * of the composed call, naming the dependency; a `result::err` it returns is an ordinary value the
 * dependent handles.
 *
 * Loaded by worker threads through Node's type stripping: no TypeScript-only syntax here.
 */
import { CapabilityDeniedError, ComponentRuntimeError, InvalidComponentError, MemoryLimitError } from "../errors.ts";
import { fuelBudget, type CallLimits, type CallOutcome, type LoadedComponent } from "./instance.ts";
import { PAGE, type LiveInstance } from "./live-instance.ts";
import { unversioned, type HostInterface } from "./policy.ts";
import type { PreparedComponent } from "./prepare.ts";
import type { JsonValue } from "./values.ts";

/** One dependency linked into a component (plain JSON: crosses thread boundaries). */
export interface DependencyLink {
  /** The interface it provides, as the dependent imports it (`acme:slug/slug@1.0.0`; matched unversioned). */
  importName: string;
  /** Who it is in usage reports (the executor passes the dependency's versionId). */
  ref: string;
  prepared: PreparedComponent;
  /** Capabilities granted to the dependency for real (its own manifest's, within the operator's allow-list). */
  grants: string[];
  /** Its own dependencies, linked the same way. */
  dependencies: DependencyLink[];
}

/** What one dependency cost within one composed call. */
export interface DependencyUsage {
  ref: string;
  /** Calls the composition made to it (from its dependent or from another dependency). */
  calls: number;
  /** Fuel its own code burned (its dependencies' fuel is theirs). */
  fuel: number;
}

export interface ComposedOutcome extends CallOutcome {
  /** Dependencies that were called, depth-first in link order; `fuelUsed` is the composition's total. */
  dependencyUsage: DependencyUsage[];
}

/** Deeper chains are refused: a chain this long is a cycle or a mistake, not a design. */
export const MAX_LINK_DEPTH = 8;

/** Every link of a tree, depth-first (a dependency may appear more than once). */
export function flattenLinks(links: DependencyLink[]): DependencyLink[] {
  return links.flatMap((link) => [link, ...flattenLinks(link.dependencies)]);
}

/** Attributes fuel to whichever component is running: a stack of dependency refs over the shared counter. */
class UsageMeter {
  fuel: WebAssembly.Global;
  mark: bigint;
  stack: string[] = [];
  usage: Map<string, { calls: number; fuel: bigint }> = new Map();
  /** The innermost dependency call that failed, for the error. */
  failure: { ref: string; function: string } | undefined;

  constructor(fuel: WebAssembly.Global, order: string[]) {
    this.fuel = fuel;
    this.mark = BigInt(fuel.value);
    for (const ref of order) if (!this.usage.has(ref)) this.usage.set(ref, { calls: 0, fuel: 0n });
  }

  /** Starts metering from the counter's current value (the run sets the budget right before calling). */
  start(): void {
    this.mark = BigInt(this.fuel.value);
    this.stack = [];
  }

  private settle(): void {
    const now = BigInt(this.fuel.value);
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined) this.usage.get(top)!.fuel += this.mark - now;
    this.mark = now;
  }

  enter(ref: string): void {
    this.settle();
    this.usage.get(ref)!.calls++;
    this.stack.push(ref);
  }

  exit(): void {
    this.settle();
    this.stack.pop();
  }

  report(): DependencyUsage[] {
    return [...this.usage].filter(([, u]) => u.calls > 0).map(([ref, u]) => ({ ref, calls: u.calls, fuel: Number(u.fuel) }));
  }
}

/** jco's error for a `result::err` crossing an export: a value, not a failure. */
function isErrorResult(error: unknown): boolean {
  return error instanceof Error && error.constructor.name === "ComponentError" && "payload" in error;
}

/** The dependency's exports, each call metered and attributed to it. */
function meteredInterface(exports: Record<string, unknown>, ref: string, meter: UsageMeter): HostInterface {
  const wrapped: HostInterface = {};
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value !== "function") continue;
    wrapped[name] = (...args: unknown[]) => {
      meter.enter(ref);
      try {
        return value(...args);
      } catch (error) {
        if (!isErrorResult(error)) meter.failure ??= { ref, function: name };
        throw error;
      } finally {
        meter.exit();
      }
    };
  }
  return wrapped;
}

/**
 * Runs one call of `root` with its dependencies linked: fresh instances for every component of the
 * composition, one fuel budget and one memory cap across them. `load` gives the loaded component of a
 * prepared artefact (a worker's cache, or a fresh load in-process). Throws the typed runtime errors;
 * a failure inside a dependency names it (`details.dependency`, `details.dependencyFunction`).
 */
export async function callComposed(
  root: LoadedComponent,
  links: DependencyLink[],
  load: (prepared: PreparedComponent) => Promise<LoadedComponent>,
  functionName: string,
  args: JsonValue[] | Record<string, JsonValue>,
  limits: CallLimits,
): Promise<ComposedOutcome> {
  root.convertArguments(functionName, args); // typed errors before instantiating anything
  // Instantiation (start functions) draws from it too; the run resets it to the budget.
  const fuel = new WebAssembly.Global({ value: "i64", mutable: true }, fuelBudget(limits.fuel));
  const pages = new WebAssembly.Global({ value: "i64", mutable: true }, BigInt(Math.floor(limits.memoryLimitBytes / PAGE)));
  const meter = new UsageMeter(fuel, flattenLinks(links).map((l) => l.ref));
  const instances: LiveInstance[] = [];

  const linkAll = async (list: DependencyLink[], depth: number): Promise<Record<string, HostInterface>> => {
    if (depth > MAX_LINK_DEPTH) throw new InvalidComponentError(`The dependency chain is deeper than ${MAX_LINK_DEPTH} links: refusing to run it.`);
    const linked: Record<string, HostInterface> = {};
    for (const link of list) {
      const component = await load(link.prepared);
      const instance = await component.newInstance({ ...limits, grants: link.grants }, { linked: await linkAll(link.dependencies, depth + 1), fuel, pages, snapshot: false });
      instances.push(instance);
      linked[unversioned(link.importName)] = meteredInterface(instance.exports, link.ref, meter);
    }
    return linked;
  };

  const linked = await linkAll(links, 1);
  const instance = await root.newInstance(limits, { linked, fuel, pages, snapshot: false });
  instances.push(instance);
  const basePages = instances.reduce((n, i) => n + i.basePages(), 0n);
  if (basePages * BigInt(PAGE) > BigInt(limits.memoryLimitBytes)) throw new MemoryLimitError(limits.memoryLimitBytes, "(instantiation)");
  const denied = (): CapabilityDeniedError | undefined => {
    for (const i of instances) if (i.deniedCapability()) return i.deniedCapability();
    return undefined;
  };

  // runOn sets the shared counter to this same budget before the first instruction runs.
  fuel.value = fuelBudget(limits.fuel);
  meter.start();
  let outcome: CallOutcome;
  try {
    outcome = root.runOn(instance, functionName, args, limits, { basePages, denied });
  } catch (error) {
    if (error instanceof ComponentRuntimeError && meter.failure) {
      error.details = { ...error.details, dependency: meter.failure.ref, dependencyFunction: meter.failure.function };
      error.message = `${error.message} (the failure was in dependency ${meter.failure.ref}, function ${meter.failure.function})`;
    }
    throw error;
  }
  return { ...outcome, dependencyUsage: meter.report() };
}
