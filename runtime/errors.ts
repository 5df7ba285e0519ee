/**
 * Typed errors of the component runtime. Every error has a stable `code` (used on the wire and by
 * the HTTP layer) and a message that names the problem and what to do about it. Errors cross the
 * worker boundary as `{ code, message, details }` and are rebuilt with `errorFromWire`.
 *
 * No parameter properties here: worker threads load this file with Node's type stripping.
 */

export type RuntimeErrorCode =
  | "hash_mismatch"
  | "wit_mismatch"
  | "undeclared_import"
  | "invalid_component"
  | "build_failed"
  | "out_of_fuel"
  | "trap"
  | "memory_limit"
  | "output_too_large"
  | "timeout"
  | "capability_denied"
  | "invalid_arguments"
  | "unknown_function"
  | "worker_crashed"
  | "pool_closed";

export type ErrorDetails = Record<string, string | number | boolean | null | string[]>;

export class ComponentRuntimeError extends Error {
  override name = "ComponentRuntimeError";
  code: RuntimeErrorCode;
  details: ErrorDetails;
  /** Fuel consumed before the failure, when the call got that far. */
  fuelUsed: number | undefined;
  constructor(code: RuntimeErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.code = code;
    this.details = details;
    this.fuelUsed = undefined;
  }
}

export class HashMismatchError extends ComponentRuntimeError {
  override name = "HashMismatchError";
  constructor(expected: string, actual: string) {
    super("hash_mismatch", `Component bytes hash to ${actual} but the registered componentHash is ${expected}: upload the exact bytes that were published.`, { expected, actual });
  }
}

export class WitMismatchError extends ComponentRuntimeError {
  override name = "WitMismatchError";
  constructor(message: string, details: ErrorDetails = {}) {
    super("wit_mismatch", message, details);
  }
}

export class UndeclaredImportError extends ComponentRuntimeError {
  override name = "UndeclaredImportError";
  constructor(imports: string[], requested: string[], allowed: string[]) {
    super(
      "undeclared_import",
      `Component imports ${imports.map((i) => `"${i}"`).join(", ")}, which ${imports.length === 1 ? "is" : "are"} not both requested in the manifest ` +
        `(requested: ${requested.join(", ") || "none"}) and allowed by this executor (allowed: ${allowed.join(", ") || "none"}): ` +
        `declare the capability in the manifest or rebuild without it.`,
      { imports, requested, allowed },
    );
  }
}

export class InvalidComponentError extends ComponentRuntimeError {
  override name = "InvalidComponentError";
  constructor(message: string) {
    super("invalid_component", message);
  }
}

export class BuildError extends ComponentRuntimeError {
  override name = "BuildError";
  constructor(message: string) {
    super("build_failed", message);
  }
}

export class OutOfFuelError extends ComponentRuntimeError {
  override name = "OutOfFuelError";
  constructor(fuelBudget: number) {
    super("out_of_fuel", `The call ran out of fuel after ${fuelBudget} units: raise the fuel budget or send a smaller input.`, { fuelBudget });
    this.fuelUsed = fuelBudget;
  }
}

export class TrapError extends ComponentRuntimeError {
  override name = "TrapError";
  constructor(trap: string, functionName: string) {
    super("trap", `Function "${functionName}" trapped: ${trap}. This is a bug in the component (or an input it does not handle).`, { trap, function: functionName });
  }
}

export class MemoryLimitError extends ComponentRuntimeError {
  override name = "MemoryLimitError";
  constructor(limitBytes: number, functionName: string) {
    super("memory_limit", `Function "${functionName}" needed more than the ${limitBytes} bytes of linear memory allowed per instance: send a smaller input.`, { limitBytes, function: functionName });
  }
}

export class OutputTooLargeError extends ComponentRuntimeError {
  override name = "OutputTooLargeError";
  constructor(sizeBytes: number, limitBytes: number) {
    super("output_too_large", `The result is ${sizeBytes} bytes of JSON, above the ${limitBytes}-byte output cap.`, { sizeBytes, limitBytes });
  }
}

export class TimeoutError extends ComponentRuntimeError {
  override name = "TimeoutError";
  constructor(timeoutMs: number) {
    super("timeout", `The call did not finish within ${timeoutMs} ms of wall-clock time and was stopped.`, { timeoutMs });
  }
}

export class CapabilityDeniedError extends ComponentRuntimeError {
  override name = "CapabilityDeniedError";
  constructor(capability: string, fn: string) {
    super("capability_denied", `The component called ${fn} of "${capability}", which is not granted to it here: the executor denies ${capability} unless the operator grants it.`, { capability, function: fn });
  }
}

export class InvalidArgumentsError extends ComponentRuntimeError {
  override name = "InvalidArgumentsError";
  constructor(functionName: string, parameter: string | null, problem: string) {
    super(
      "invalid_arguments",
      parameter === null ? `Invalid arguments for "${functionName}": ${problem}` : `Invalid argument "${parameter}" for "${functionName}": ${problem}`,
      { function: functionName, parameter },
    );
  }
}

export class UnknownFunctionError extends ComponentRuntimeError {
  override name = "UnknownFunctionError";
  constructor(functionName: string, known: string[]) {
    super("unknown_function", `The interface has no function "${functionName}" (functions: ${known.join(", ") || "none"}).`, { function: functionName, known });
  }
}

export class WorkerCrashedError extends ComponentRuntimeError {
  override name = "WorkerCrashedError";
  constructor(reason: string) {
    super("worker_crashed", `The sandbox worker stopped unexpectedly (${reason}); it has been replaced, retry the call.`, { reason });
  }
}

export class PoolClosedError extends ComponentRuntimeError {
  override name = "PoolClosedError";
  constructor() {
    super("pool_closed", "The component pool is closed.");
  }
}

export interface WireError {
  code: RuntimeErrorCode;
  name: string;
  message: string;
  details: ErrorDetails;
  fuelUsed?: number;
}

export function errorToWire(error: ComponentRuntimeError): WireError {
  return { code: error.code, name: error.name, message: error.message, details: error.details, fuelUsed: error.fuelUsed };
}

const ERROR_NAMES: Record<string, string> = {
  hash_mismatch: "HashMismatchError",
  wit_mismatch: "WitMismatchError",
  undeclared_import: "UndeclaredImportError",
  invalid_component: "InvalidComponentError",
  build_failed: "BuildError",
  out_of_fuel: "OutOfFuelError",
  trap: "TrapError",
  memory_limit: "MemoryLimitError",
  output_too_large: "OutputTooLargeError",
  timeout: "TimeoutError",
  capability_denied: "CapabilityDeniedError",
  invalid_arguments: "InvalidArgumentsError",
  unknown_function: "UnknownFunctionError",
  worker_crashed: "WorkerCrashedError",
  pool_closed: "PoolClosedError",
};

const ERROR_CLASSES: Record<string, { prototype: ComponentRuntimeError }> = {
  HashMismatchError,
  WitMismatchError,
  UndeclaredImportError,
  InvalidComponentError,
  BuildError,
  OutOfFuelError,
  TrapError,
  MemoryLimitError,
  OutputTooLargeError,
  TimeoutError,
  CapabilityDeniedError,
  InvalidArgumentsError,
  UnknownFunctionError,
  WorkerCrashedError,
  PoolClosedError,
};

/** Rebuilds the typed error (so `instanceof OutOfFuelError` works on the caller's side). */
export function errorFromWire(wire: WireError): ComponentRuntimeError {
  const cls = ERROR_CLASSES[ERROR_NAMES[wire.code] ?? ""];
  const error: ComponentRuntimeError = Object.create(cls ? cls.prototype : ComponentRuntimeError.prototype);
  Object.assign(error, { message: wire.message, code: wire.code, details: wire.details, fuelUsed: wire.fuelUsed, name: ERROR_NAMES[wire.code] ?? "ComponentRuntimeError" });
  Object.defineProperty(error, "stack", { value: `${error.name}: ${wire.message}`, writable: true, configurable: true });
  return error;
}
