import type { Hex } from "viem";
import type { FunctionSignature } from "../sdk/wit.ts";

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
  /** Runs one call; throws the runtime's typed errors (out of fuel, trap, timeout, memory...), each logged. */
  call(ref: ComponentRef, functionName: string, args: unknown): Promise<{ result: unknown; fuelUsed: bigint }>;
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
