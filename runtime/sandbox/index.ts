/**
 * The executor's side of the runtime: verify, prepare and run Wasm components in a metered
 * sandbox. No HTTP here (the executor service builds on this); no build toolchain either (that is
 * runtime/builder, the maintainer's side).
 *
 * Typical executor flow:
 *   const verified = await verifyComponent({ bytes, expectedHash, witSource, world, requestedCapabilities, allowedCapabilities });
 *   const prepared = await prepareComponent(bytes, { witSource, world, cacheDir });   // once, cached by componentHash
 *   const pool = new ComponentPool({ memoryLimitBytes, timeoutMs });                   // one per process
 *   await pool.warm(prepared);                                                         // instantiates once per worker
 *   const report = await runTestVectors(prepared, testsJson, { pool });                // optional upload check
 *   const { value, fuelUsed } = await pool.call(prepared, { function: "to-html", args: ["# hi"], key: "acme/markdown" });
 * After a restart: `await loadPreparedComponent(componentHash, { cacheDir })` returns the artefact
 * without re-transpiling.
 *
 * Errors are ComponentRuntimeError subclasses with a stable `code` (see ../errors.ts). JSON encoding
 * of WIT values: see values.ts (u64/s64 results are decimal strings).
 */
export { verifyComponent } from "./toolchain.ts";
export type { VerifyOptions, VerifiedComponent } from "./verify.ts";

export { capabilityCovers, checkImports, grantedCapabilities, unversioned } from "./policy.ts";

export { prepareComponent, loadPreparedComponent, listPreparedComponents, defaultPreparedCacheDir } from "./prepare.ts";
export type { PreparedComponent, PrepareOptions } from "./prepare.ts";

export { ComponentPool } from "./pool.ts";
export type { PoolOptions, CallRequest, CallResult } from "./pool.ts";

export { LoadedComponent, DEFAULT_LIMITS } from "./instance.ts";
export type { CallLimits, CallOutcome, InstanceOptions, InstanceSession } from "./instance.ts";

export { callComposed, flattenLinks, MAX_LINK_DEPTH } from "./composition.ts";
export type { DependencyLink, DependencyUsage, ComposedOutcome } from "./composition.ts";

export { runTestVectors, formatTestReport } from "./test-runner.ts";
export type { TestReport, TestCaseReport, CaseOutcome, RunTestOptions } from "./test-runner.ts";

export { jsonToGuest, guestToJson, argumentsToGuest, ValueConversionError } from "./values.ts";
export type { JsonValue } from "./values.ts";

export type { SnapshotSafety } from "./snapshot-safety.ts";

export * from "../errors.ts";

export { describeInterface, describeWorld, formatSignature, formatWitType } from "../../sdk/wit.ts";
export type { FunctionSignature, InterfaceDescription, WorldDescription, WitType } from "../../sdk/wit.ts";
export { parseTestVectors, TestVectorFormatError } from "../../sdk/test-vectors.ts";
export type { TestVectors, TestCase } from "../../sdk/test-vectors.ts";
