import type { Hex } from "viem";
import type { AccessMode } from "../sdk/manifest.ts";
import type { FunctionSignature } from "../sdk/wit.ts";
import type { VersionRecord } from "./chain.ts";

/**
 * What the executor needs from the component runtime (runtime/sandbox), kept narrow so the HTTP
 * layer does not depend on how components are compiled, metered or pooled. engine.ts adapts the
 * runtime library to it.
 */
/**
 * A component as verified against one WIT: the same bytes may be published under several versions
 * with different WITs, and each pairing is verified on its own.
 */
export interface ComponentRef {
  componentHash: Hex;
  witHash: Hex;
  /** The calling version's manifest, when known: it names the package (the sandbox's fair-queueing key). */
  manifestHash?: Hex;
}

export function refKey(ref: ComponentRef): string {
  return `${ref.componentHash.toLowerCase()}:${ref.witHash.toLowerCase()}`;
}

/**
 * A declared dependency resolved to the version this executor links (executor/dependencies.ts):
 * what the call path needs to price it and what the runtime needs to link it.
 */
export interface ResolvedDependency {
  versionId: Hex;
  name: string;
  version: string;
  accessMode: AccessMode;
  /** Royalty per call (per-call), or base price per call (per-fuel), in USDC base units. */
  price: bigint;
  fuelPricePerMillion: bigint;
  /** The most royalty per call the dependent accepts for it (its manifest). */
  maxRoyaltyPerCall: bigint;
  /** The qualified WIT interface it provides, e.g. `acme:slug/slug@1.0.0`. */
  interfaceName: string;
  hashes: ComponentRef;
  /** Its own dependencies, resolved the same way. */
  dependencies: ResolvedDependency[];
}

/** What one dependency version cost within one run: what its royalty is computed from. */
export interface DependencyUsage {
  versionId: Hex;
  /** Calls made to it during the run (by the dependent or by another dependency). */
  calls: number;
  /** Fuel its own code burned (its dependencies' fuel is theirs). */
  fuel: bigint;
}

export interface RunResult {
  result: unknown;
  /** Fuel of the whole composition: the component's own plus every dependency's. */
  fuelUsed: bigint;
  /** Dependencies that were called, depth-first (empty for a component without dependencies). */
  dependencyUsage: DependencyUsage[];
}

export interface ComponentHost {
  /**
   * Verifies an uploaded component (hash, WIT conformance, imports within the manifest's
   * capabilities and the operator's allow-list) and prepares it for calls. Throws the runtime's
   * typed errors on refusal.
   */
  prepare(input: PrepareInput): Promise<PreparedInfo>;
  /** Is this component prepared here against this WIT (after an upload, or reloaded at start)? */
  isReady(ref: ComponentRef): boolean;
  /** The exported functions of a prepared component, or undefined. */
  functions(ref: ComponentRef): FunctionSignature[] | undefined;
  /**
   * Checks call arguments against the signature without running anything (so bad arguments are
   * refused before payment is asked for). Returns a problem, or undefined when they are fine.
   */
  checkArguments(ref: ComponentRef, functionName: string, args: unknown): ArgumentProblem | undefined;
  /**
   * Resolves a version's declared dependencies to the versions this executor links (newest
   * non-yanked in range that it holds), recursively. Throws ApiErrors DEPENDENCY_* naming the problem.
   */
  resolveDependencies(version: VersionRecord): Promise<ResolvedDependency[]>;
  /**
   * Runs one call with `dependencies` linked (a fresh metered instance of each, one fuel budget);
   * without them, resolves the calling version's (by `ref.manifestHash`) itself. Throws the
   * runtime's typed errors (out of fuel, trap, timeout, memory...), each logged, or DEPENDENCY_*.
   */
  run(ref: ComponentRef, functionName: string, args: unknown, dependencies?: ResolvedDependency[]): Promise<RunResult>;
  /**
   * `run` with the calling version's dependencies resolved here. It prices nothing: the call path
   * resolves the dependencies itself, quotes them and passes the same ones to `run`.
   */
  call(ref: ComponentRef, functionName: string, args: unknown): Promise<RunResult>;
  close(): Promise<void>;
}

export interface PrepareInput {
  componentHash: Hex;
  witHash: Hex;
  component: Uint8Array;
  witSource: string;
  world: string;
  interfaceName: string;
  /** Manifest capabilities (requested WASI imports). The host intersects them with the operator's allow-list. */
  capabilities: string[];
  /** The published test vectors, when uploaded: they must all pass. */
  testsJson?: string;
  /** The version's resolved dependencies: their interfaces may be imported, and the tests run with them linked. */
  dependencies?: ResolvedDependency[];
}

export interface PreparedInfo {
  functions: FunctionSignature[];
  imports: string[];
  tests?: { total: number; passed: number; failed: number };
}

export interface ArgumentProblem {
  kind: "unknown_function" | "invalid_arguments";
  parameter: string | null;
  message: string;
}
