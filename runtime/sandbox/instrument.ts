/**
 * Prepare-time instrumentation of every core module of a component, with binaryen:
 * - Fuel: the `log-execution` pass puts a hook call at every function entry, loop header and
 *   return; the hook is replaced by a decrement of an imported mutable i64 global (`glassbox.fuel`)
 *   that traps when it goes negative. One unit = one hook. Counts depend only on the code path
 *   taken, so the same component and input always use the same fuel.
 * - Memory cap: the `instrument-memory` pass, limited to memory.grow, puts a hook before every
 *   grow; the hook charges the pages to an imported mutable i64 global
 *   (`glassbox.memory_pages_left`, shared by all the modules of an instance) and traps the moment
 *   it goes negative. The cap is per instance and set per call, so it costs nothing else, and a
 *   memory bomb stops at its first grow past the cap instead of thrashing until a timeout.
 * - Snapshots: internal mutable globals get exports, so an instance's state can be snapshotted
 *   and restored (see snapshot-safety.ts for what else a restore must not miss).
 * Hooks are inlined. Loaded by worker-free code only (prepare), but kept free of TS-only syntax.
 */
import binaryen from "binaryen";
import { withoutLabelNames } from "./name-section.ts";
import { FUEL_IMPORT_NAME, GLOBAL_EXPORT_PREFIX, MEMORY_IMPORT_NAME, SANDBOX_IMPORT_MODULE } from "./sandbox-abi.ts";
import { snapshotSafety, type SnapshotSafety } from "./snapshot-safety.ts";

/** Explicit feature set: Features.All makes binaryen emit encodings V8 rejects. */
function features(): number {
  const f = binaryen.Features;
  return (
    f.MVP |
    f.MutableGlobals |
    f.SignExt |
    f.NontrappingFPToInt |
    f.BulkMemory |
    f.SIMD128 |
    f.ReferenceTypes |
    f.Multivalue |
    f.ExtendedConst |
    f.TailCall |
    f.MultiMemory |
    f.Memory64 |
    f.BulkMemoryOpt
  );
}

function functionNames(module: binaryen.Module): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < module.getNumFunctions(); i++) names.add(binaryen.getFunctionInfo(module.getFunctionByIndex(i)).name);
  return names;
}

/** Runs a pass and returns the function imports it added, by their base name. */
function addedImports(module: binaryen.Module, run: () => void): Map<string, string> {
  const before = functionNames(module);
  run();
  const added = new Map<string, string>();
  for (const name of functionNames(module)) {
    if (before.has(name)) continue;
    const info = binaryen.getFunctionInfo(module.getFunction(name));
    if (info.module) added.set(info.base!, name);
  }
  return added;
}

/** Replaces an imported hook with a body of our own, keeping its name and signature. */
function defineHook(module: binaryen.Module, name: string, body: (params: number[]) => binaryen.ExpressionRef): void {
  const info = binaryen.getFunctionInfo(module.getFunction(name));
  module.removeFunction(name);
  module.addFunction(name, info.params, info.results, [], body(binaryen.expandType(info.params)));
}

function meterFuel(module: binaryen.Module): void {
  const hooks = addedImports(module, () => module.runPasses(["log-execution"]));
  const hook = hooks.get("log_execution");
  if (!hook) return; // nothing to meter (no functions)
  const fuel = "glassbox$fuel";
  module.addGlobalImport(fuel, SANDBOX_IMPORT_MODULE, FUEL_IMPORT_NAME, binaryen.i64, true);
  const left = () => module.global.get(fuel, binaryen.i64);
  defineHook(module, hook, () =>
    module.block(null, [module.global.set(fuel, module.i64.sub(left(), module.i64.const(1n))), module.if(module.i64.lt_s(left(), module.i64.const(0n)), module.unreachable())]),
  );
}

function capMemory(module: binaryen.Module): void {
  binaryen.setPassArgument("instrument-memory", "memory.grow");
  let hooks: Map<string, string>;
  try {
    hooks = addedImports(module, () => module.runPasses(["instrument-memory"]));
  } finally {
    binaryen.setPassArgument("instrument-memory", null);
  }
  const pre = hooks.get("memory_grow_pre");
  const post = hooks.get("memory_grow_post");
  // The pass declares hooks for loads and stores too; the filter leaves them unused.
  for (const [base, name] of hooks) if (base !== "memory_grow_pre" && base !== "memory_grow_post") module.removeFunction(name);
  if (!pre || !post) throw new Error("binaryen's instrument-memory pass did not add its memory.grow hooks");
  const pages = "glassbox$memory_pages_left";
  module.addGlobalImport(pages, SANDBOX_IMPORT_MODULE, MEMORY_IMPORT_NAME, binaryen.i64, true);
  const left = () => module.global.get(pages, binaryen.i64);
  // pre(id, delta) -> delta: charge the pages first, trap once the budget is spent.
  defineHook(module, pre, ([, deltaType]) => {
    const delta = module.local.get(1, deltaType!);
    const charged = deltaType === binaryen.i64 ? delta : module.i64.extend_u(delta);
    return module.block(null, [module.global.set(pages, module.i64.sub(left(), charged)), module.if(module.i64.lt_s(left(), module.i64.const(0n)), module.unreachable()), module.local.get(1, deltaType!)], deltaType);
  });
  // post(id, result) -> result
  defineHook(module, post, ([, resultType]) => module.local.get(1, resultType!));
}

/** Exports every internal mutable global; returns why a snapshot cannot cover the module, if it cannot. */
function exposeState(module: binaryen.Module): string | undefined {
  const exported = new Set<string>();
  let exportsMemory = false;
  for (let i = 0; i < module.getNumExports(); i++) {
    const info = binaryen.getExportInfo(module.getExportByIndex(i));
    exported.add(info.value);
    if (info.kind === binaryen.ExternalMemory) exportsMemory = true;
  }
  if (module.hasMemory() && !module.getMemoryInfo().module && !exportsMemory) return "it has a memory it does not export";
  for (let i = 0; i < module.getNumGlobals(); i++) {
    const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
    if (info.module || !info.mutable || exported.has(info.name)) continue;
    if (info.type === binaryen.v128) return "it has a mutable v128 global, which JavaScript cannot read";
    module.addGlobalExport(info.name, `${GLOBAL_EXPORT_PREFIX}${info.name}`);
  }
  return undefined;
}

export interface InstrumentedModule {
  bytes: Uint8Array;
  /** Whether an instance can be reset to a snapshot instead of being instantiated anew. */
  snapshot: SnapshotSafety;
}

/** Returns the instrumented module. Throws if the module cannot be read or validated. */
export function instrumentModule(coreModule: Uint8Array, options: { metering: boolean }): InstrumentedModule {
  const module = binaryen.readBinary(withoutLabelNames(coreModule));
  try {
    module.setFeatures(features());
    if (options.metering) meterFuel(module);
    capMemory(module);
    const previous = binaryen.getAlwaysInlineMaxSize();
    binaryen.setAlwaysInlineMaxSize(16);
    try {
      module.runPasses(["inlining"]);
    } finally {
      binaryen.setAlwaysInlineMaxSize(previous);
    }
    const hidden = exposeState(module);
    if (!module.validate()) throw new Error("binaryen validation failed after instrumentation");
    const bytes = module.emitBinary();
    return { bytes, snapshot: hidden ? { safe: false, reason: hidden } : snapshotSafety(bytes) };
  } finally {
    module.dispose();
  }
}
