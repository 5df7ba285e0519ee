/**
 * Deterministic fuel metering for core Wasm modules, with binaryen: the `log-execution` pass puts
 * a hook call at every function entry, loop header and return; the hook is then replaced by a
 * decrement of an imported mutable i64 global (`glassbox.fuel`) that traps when it goes
 * negative, and inlined. One unit = one hook. Counts depend only on the code path taken, so the
 * same component and input always use the same fuel.
 */
import binaryen from "binaryen";
import { FUEL_IMPORT_MODULE, FUEL_IMPORT_NAME } from "./fuel-abi.ts";

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

function functionNames(module: binaryen.Module): string[] {
  const names: string[] = [];
  for (let i = 0; i < module.getNumFunctions(); i++) names.push(binaryen.getFunctionInfo(module.getFunctionByIndex(i)).name);
  return names;
}

/** Returns the instrumented module bytes. Throws if the module cannot be read or validated. */
export function instrumentFuel(coreModule: Uint8Array): Uint8Array {
  const module = binaryen.readBinary(coreModule);
  try {
    module.setFeatures(features());
    const before = new Set(functionNames(module));
    module.runPasses(["log-execution"]);
    // The pass adds one function import (its module name varies with the binaryen version).
    const hookName = functionNames(module).find((name) => !before.has(name) && binaryen.getFunctionInfo(module.getFunction(name)).base === "log_execution");
    if (!hookName) return module.emitBinary(); // nothing to meter (no functions)
    const fuelGlobal = "glassbox$fuel";
    module.addGlobalImport(fuelGlobal, FUEL_IMPORT_MODULE, FUEL_IMPORT_NAME, binaryen.i64, true);
    module.removeFunction(hookName);
    const remaining = () => module.global.get(fuelGlobal, binaryen.i64);
    module.addFunction(
      hookName,
      binaryen.createType([binaryen.i32]),
      binaryen.none,
      [],
      module.block(null, [
        module.global.set(fuelGlobal, module.i64.sub(remaining(), module.i64.const(1n))),
        module.if(module.i64.lt_s(remaining(), module.i64.const(0n)), module.unreachable()),
      ]),
    );
    const previous = binaryen.getAlwaysInlineMaxSize();
    binaryen.setAlwaysInlineMaxSize(16);
    try {
      module.runPasses(["inlining"]);
    } finally {
      binaryen.setAlwaysInlineMaxSize(previous);
    }
    if (!module.validate()) throw new Error("binaryen validation failed after fuel instrumentation");
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}
