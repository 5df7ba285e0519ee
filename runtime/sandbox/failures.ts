/**
 * Which failure class a failed call belongs to: from the instance's counters first (they are
 * exact), then from the error itself.
 *
 * Loaded by worker threads through Node's type stripping: no TypeScript-only syntax here.
 */
import {
  CapabilityDeniedError,
  ComponentRuntimeError,
  InvalidArgumentsError,
  MemoryLimitError,
  OutOfFuelError,
  StackOverflowError,
  TrapError,
  UnknownFunctionError,
} from "../errors.ts";
import type { CallLimits } from "./instance.ts";

/** The instance's state when a call failed. */
export interface FailureState {
  fuelLeft: unknown;
  pagesLeft: unknown;
  stackOverflowed: boolean;
  used: number;
}

/** The failure class, from the instance's counters first (they are exact), then the error itself. */
export function classify(error: unknown, functionName: string, limits: CallLimits, state: FailureState): ComponentRuntimeError {
  let typed: ComponentRuntimeError;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof CapabilityDeniedError || error instanceof UnknownFunctionError || error instanceof InvalidArgumentsError) {
    typed = error;
  } else if (typeof state.fuelLeft === "bigint" && state.fuelLeft < 0n) {
    typed = new OutOfFuelError(limits.fuel);
  } else if ((typeof state.pagesLeft === "bigint" && state.pagesLeft < 0n) || (error instanceof RangeError && /could not allocate|out of memory/i.test(message))) {
    typed = new MemoryLimitError(limits.memoryLimitBytes, functionName);
  } else if ((error instanceof RangeError && /call stack/i.test(message)) || (error instanceof WebAssembly.RuntimeError && /out of bounds memory access/.test(message) && state.stackOverflowed)) {
    typed = new StackOverflowError(functionName, error);
  } else if (error instanceof ComponentRuntimeError) {
    typed = error;
  } else {
    typed = new TrapError(message || "unknown trap", functionName, error);
  }
  if (typed.fuelUsed === undefined) typed.fuelUsed = Math.min(state.used, limits.fuel);
  return typed;
}
