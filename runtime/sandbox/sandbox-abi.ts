/**
 * Names shared by prepare-time instrumentation (instrument.ts) and the instances that satisfy it
 * (instance.ts). Loaded by worker threads through Node's type stripping.
 */

/** Bump when the artefact layout or the instrumentation changes: old cache entries are then ignored. */
export const ARTEFACT_VERSION = 3;

/** Instrumented core modules import their counters from this module. */
export const SANDBOX_IMPORT_MODULE = "glassbox";
/** Fuel left for the call: a mutable i64 global, decremented at every function entry and loop header; below 0 traps. */
export const FUEL_IMPORT_NAME = "fuel";
/** Linear-memory pages the instance may still grow by: a mutable i64 global, charged by every memory.grow; below 0 traps. */
export const MEMORY_IMPORT_NAME = "memory_pages_left";
/** Prefix of the exports added for a module's internal mutable globals (then their binaryen name), so an instance snapshot can restore them. */
export const GLOBAL_EXPORT_PREFIX = "glassbox:global:";
/** LLVM's shadow-stack pointer: when it has gone below zero, an out-of-bounds trap is a stack overflow. */
export const STACK_POINTER_NAMES = ["__stack_pointer", `${GLOBAL_EXPORT_PREFIX}__stack_pointer`];
