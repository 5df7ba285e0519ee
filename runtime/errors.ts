/**
 * Typed errors of the component runtime, one hierarchy for the builder and the sandbox. Every
 * error has a stable `code` (one per failure class: the executor maps each to its own API code,
 * the CLI to an exit code), a message naming the problem, a `hint` saying what to do about it,
 * `details` for programs, and the underlying `cause` when there is one. Errors cross the worker
 * boundary as `{ code, message, hint, details, fuelUsed }` and are rebuilt with `errorFromWire`.
 *
 * No parameter properties here: worker threads load this file with Node's type stripping.
 */

/** Refusals at build or upload time: the capability (source, WIT, blob) is at fault. */
export type BuildOrUploadErrorCode = "build_failed" | "hash_mismatch" | "wit_mismatch" | "undeclared_import" | "invalid_component" | "tests_failed";

/** Failures of one call. Nothing is charged for any of them. */
export type CallErrorCode =
  | "invalid_arguments"
  | "unknown_function"
  | "out_of_fuel"
  | "trap"
  | "stack_overflow"
  | "memory_limit"
  | "output_too_large"
  | "invalid_result"
  | "capability_denied"
  | "timeout"
  | "overloaded"
  | "worker_crashed"
  | "pool_closed";

export type RuntimeErrorCode = BuildOrUploadErrorCode | CallErrorCode;

export type ErrorDetails = Record<string, string | number | boolean | null | string[]>;

export interface RuntimeErrorOptions {
  details?: ErrorDetails;
  hint?: string;
  cause?: unknown;
}

export class ComponentRuntimeError extends Error {
  override name = "ComponentRuntimeError";
  code: RuntimeErrorCode;
  details: ErrorDetails;
  /** What the caller (or the maintainer) can do about it. */
  hint: string | undefined;
  /** Fuel consumed before the failure, when the call got that far. */
  fuelUsed: number | undefined;
  constructor(code: RuntimeErrorCode, message: string, options: RuntimeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
    this.hint = options.hint;
    this.fuelUsed = undefined;
  }
}

export class BuildError extends ComponentRuntimeError {
  override name = "BuildError";
  constructor(message: string, cause?: unknown) {
    super("build_failed", message, { cause });
  }
}

export class HashMismatchError extends ComponentRuntimeError {
  override name = "HashMismatchError";
  constructor(expected: string, actual: string) {
    super("hash_mismatch", `Component bytes hash to ${actual} but the registered componentHash is ${expected}.`, {
      details: { expected, actual },
      hint: "Upload the exact bytes that were published.",
    });
  }
}

export class WitMismatchError extends ComponentRuntimeError {
  override name = "WitMismatchError";
  constructor(message: string, details: ErrorDetails = {}) {
    super("wit_mismatch", message, { details, hint: "Rebuild the component against the published WIT." });
  }
}

export class UndeclaredImportError extends ComponentRuntimeError {
  override name = "UndeclaredImportError";
  constructor(imports: string[], requested: string[], allowed: string[], dependencyInterfaces: string[] = []) {
    const wasi = imports.every((i) => i.startsWith("wasi:"));
    super(
      "undeclared_import",
      `Component imports ${imports.map((i) => `"${i}"`).join(", ")}, which ${imports.length === 1 ? "is" : "are"} not both requested in the manifest ` +
        `(requested: ${requested.join(", ") || "none"}) and allowed by this executor (allowed: ${allowed.join(", ") || "none"}), ` +
        `nor the interface of a declared dependency (dependencies provide: ${dependencyInterfaces.join(", ") || "none"}): ` +
        (wasi ? "declare the capability in the manifest or rebuild without it." : 'declare the package that exports it in the manifest\'s "dependencies", or rebuild without it.'),
      {
        details: { imports, requested, allowed, dependencyInterfaces },
        hint: wasi ? "Declare the capability in the manifest's capabilities, or rebuild without the import." : 'Add the package whose interface this is to "dependencies" in glassbox.json (and publish a new version).',
      },
    );
  }
}

export class InvalidComponentError extends ComponentRuntimeError {
  override name = "InvalidComponentError";
  constructor(message: string, cause?: unknown) {
    super("invalid_component", message, { cause });
  }
}

export class TestsFailedError extends ComponentRuntimeError {
  override name = "TestsFailedError";
  constructor(failed: number, total: number, report: string) {
    super("tests_failed", `The component fails ${failed} of its ${total} published test vectors:\n${report}`, {
      details: { failed, total },
      hint: "Fix the implementation (or the vectors) and publish a new version.",
    });
  }
}

export class OutOfFuelError extends ComponentRuntimeError {
  override name = "OutOfFuelError";
  constructor(fuelBudget: number) {
    super("out_of_fuel", `The call ran out of fuel after ${fuelBudget} units.`, { details: { fuelBudget }, hint: "Raise the fuel budget or send a smaller input." });
    this.fuelUsed = fuelBudget;
  }
}

export class TrapError extends ComponentRuntimeError {
  override name = "TrapError";
  constructor(trap: string, functionName: string, cause?: unknown) {
    super("trap", `Function "${functionName}" trapped: ${trap}.`, {
      details: { trap, function: functionName },
      hint: "This is a bug in the component, or an input it does not handle.",
      cause,
    });
  }
}

export class StackOverflowError extends ComponentRuntimeError {
  override name = "StackOverflowError";
  constructor(functionName: string, cause?: unknown) {
    super("stack_overflow", `Function "${functionName}" overflowed the call stack (recursion too deep).`, {
      details: { function: functionName },
      hint: "Send a less deeply nested input; recursion depth is bounded.",
      cause,
    });
  }
}

export class MemoryLimitError extends ComponentRuntimeError {
  override name = "MemoryLimitError";
  constructor(limitBytes: number, functionName: string) {
    super("memory_limit", `Function "${functionName}" needed more than the ${limitBytes} bytes of linear memory allowed per instance.`, {
      details: { limitBytes, function: functionName },
      hint: "Send a smaller input.",
    });
  }
}

export class OutputTooLargeError extends ComponentRuntimeError {
  override name = "OutputTooLargeError";
  /** `sizeBytes` is the JSON size, or (`lowerBound`) the size of the strings alone, counted before converting them. */
  constructor(sizeBytes: number, limitBytes: number, lowerBound = false) {
    super("output_too_large", `The result is ${lowerBound ? "at least " : ""}${sizeBytes} bytes of JSON, above the ${limitBytes}-byte output cap.`, {
      details: { sizeBytes, limitBytes },
      hint: "Ask for less output per call.",
    });
  }
}

/** Which canonical ABI lifting rule a component's result broke. */
export type LiftingRule = "utf8" | "char" | "discriminant" | "alignment" | "bounds" | "length";

/**
 * The component returned a value that breaks the canonical ABI (invalid UTF-8, a char outside
 * Unicode, an unknown variant case, a list or string outside its memory...): the spec traps, so
 * the call fails and nothing of the value is returned.
 */
export class InvalidResultError extends ComponentRuntimeError {
  override name = "InvalidResultError";
  constructor(functionName: string, rule: LiftingRule, path: string, problem: string) {
    super("invalid_result", `Function "${functionName}" returned an invalid value at ${path}: ${problem}.`, {
      details: { function: functionName, rule, path },
      hint: "This is a bug in the component: the canonical ABI forbids such a value.",
    });
  }
}

export class TimeoutError extends ComponentRuntimeError {
  override name = "TimeoutError";
  /** `queuedMs`: how long the call waited for a worker; it never ran when `ranMs` is 0. */
  constructor(timeoutMs: number, queuedMs: number, ranMs: number) {
    super(
      "timeout",
      ranMs === 0
        ? `The call waited ${Math.round(queuedMs)} ms for a free sandbox and reached its ${timeoutMs} ms deadline before it could start.`
        : `The call did not finish within its ${timeoutMs} ms deadline (${Math.round(queuedMs)} ms queued, ${Math.round(ranMs)} ms running) and was stopped.`,
      { details: { timeoutMs, queuedMs: Math.round(queuedMs), ranMs: Math.round(ranMs) }, hint: ranMs === 0 ? "The executor is busy: retry later or elsewhere." : "Send a smaller input." },
    );
  }
}

export class CapabilityDeniedError extends ComponentRuntimeError {
  override name = "CapabilityDeniedError";
  constructor(capability: string, fn: string) {
    super("capability_denied", `The component called ${fn} of "${capability}", which is not granted to it here.`, {
      details: { capability, function: fn },
      hint: `The executor denies ${capability} unless the manifest requests it and the operator allows it.`,
    });
  }
}

export class InvalidArgumentsError extends ComponentRuntimeError {
  override name = "InvalidArgumentsError";
  constructor(functionName: string, parameter: string | null, problem: string) {
    super("invalid_arguments", parameter === null ? `Invalid arguments for "${functionName}": ${problem}` : `Invalid argument "${parameter}" for "${functionName}": ${problem}`, {
      details: { function: functionName, parameter },
    });
  }
}

export class UnknownFunctionError extends ComponentRuntimeError {
  override name = "UnknownFunctionError";
  constructor(functionName: string, known: string[]) {
    super("unknown_function", `The interface has no function "${functionName}" (functions: ${known.join(", ") || "none"}).`, { details: { function: functionName, known } });
  }
}

/** The pool refused the call up front: this package already has too many calls waiting. */
export class OverloadedError extends ComponentRuntimeError {
  override name = "OverloadedError";
  constructor(key: string, queued: number) {
    super("overloaded", `${queued} calls of ${key} are already waiting for a sandbox.`, { details: { key, queued }, hint: "Retry later, or call another executor." });
  }
}

export class WorkerCrashedError extends ComponentRuntimeError {
  override name = "WorkerCrashedError";
  constructor(reason: string) {
    super("worker_crashed", `The sandbox worker stopped unexpectedly (${reason}); it has been replaced.`, { details: { reason }, hint: "Retry the call." });
  }
}

export class PoolClosedError extends ComponentRuntimeError {
  override name = "PoolClosedError";
  constructor() {
    super("pool_closed", "The component pool is closed.", { hint: "The executor is shutting down: retry elsewhere." });
  }
}

export interface WireError {
  code: RuntimeErrorCode;
  name: string;
  message: string;
  hint?: string;
  details: ErrorDetails;
  fuelUsed?: number;
}

export function errorToWire(error: ComponentRuntimeError): WireError {
  return { code: error.code, name: error.name, message: error.message, hint: error.hint, details: error.details, fuelUsed: error.fuelUsed };
}

const ERROR_CLASSES: Record<RuntimeErrorCode, { prototype: ComponentRuntimeError }> = {
  build_failed: BuildError,
  hash_mismatch: HashMismatchError,
  wit_mismatch: WitMismatchError,
  undeclared_import: UndeclaredImportError,
  invalid_component: InvalidComponentError,
  tests_failed: TestsFailedError,
  invalid_arguments: InvalidArgumentsError,
  unknown_function: UnknownFunctionError,
  out_of_fuel: OutOfFuelError,
  trap: TrapError,
  stack_overflow: StackOverflowError,
  memory_limit: MemoryLimitError,
  output_too_large: OutputTooLargeError,
  invalid_result: InvalidResultError,
  capability_denied: CapabilityDeniedError,
  timeout: TimeoutError,
  overloaded: OverloadedError,
  worker_crashed: WorkerCrashedError,
  pool_closed: PoolClosedError,
};

/** Rebuilds the typed error (so `instanceof OutOfFuelError` works on the caller's side). */
export function errorFromWire(wire: WireError): ComponentRuntimeError {
  const cls = ERROR_CLASSES[wire.code] ?? ComponentRuntimeError;
  const error: ComponentRuntimeError = Object.create(cls.prototype);
  Object.assign(error, { message: wire.message, code: wire.code, hint: wire.hint, details: wire.details, fuelUsed: wire.fuelUsed, name: wire.name });
  Object.defineProperty(error, "stack", { value: `${wire.name}: ${wire.message}`, writable: true, configurable: true });
  return error;
}
