import { ComponentRuntimeError, type CallErrorCode } from "../runtime/errors.ts";
import { ApiError, type ErrorCode } from "./errors.ts";

interface CallFailure {
  status: 400 | 404 | 422 | 503;
  code: ErrorCode;
  hint: string;
}

/**
 * How each class of call failure reaches the caller: its own stable API code (listed in
 * executor/README.md). Nothing is charged for any of them. A new runtime code fails the typecheck
 * here until it is given one.
 */
const CALL_FAILURES: Record<CallErrorCode, CallFailure> = {
  invalid_arguments: { status: 400, code: "INVALID_ARGUMENTS", hint: "Send arguments that match the function's WIT signature." },
  unknown_function: { status: 404, code: "UNKNOWN_FUNCTION", hint: "Call one of the functions the component exports." },
  out_of_fuel: { status: 422, code: "OUT_OF_FUEL", hint: "Nothing was charged. Send a smaller input." },
  trap: { status: 422, code: "COMPONENT_TRAP", hint: "Nothing was charged. The component failed on this input." },
  stack_overflow: { status: 422, code: "STACK_OVERFLOW", hint: "Nothing was charged. Send a less deeply nested input." },
  memory_limit: { status: 422, code: "OUT_OF_MEMORY", hint: "Nothing was charged. Send a smaller input." },
  output_too_large: { status: 422, code: "OUTPUT_TOO_LARGE", hint: "Nothing was charged. Ask for less output per call." },
  invalid_result: { status: 422, code: "INVALID_RESULT", hint: "Nothing was charged. The component returned a value the canonical ABI forbids: report it to its maintainer." },
  capability_denied: { status: 422, code: "CAPABILITY_DENIED", hint: "Nothing was charged. The component needs a capability this executor does not grant it." },
  timeout: { status: 422, code: "TIMEOUT", hint: "Nothing was charged." },
  overloaded: { status: 503, code: "EXECUTOR_BUSY", hint: "Nothing was charged. Retry later, or call another executor." },
  worker_crashed: { status: 503, code: "WORKER_CRASHED", hint: "Nothing was charged; retry the call." },
  pool_closed: { status: 503, code: "SHUTTING_DOWN", hint: "Nothing was charged. The executor is shutting down; retry elsewhere." },
};

function isCallFailure(code: string): code is CallErrorCode {
  return Object.hasOwn(CALL_FAILURES, code);
}

/** Maps the runtime's typed errors (by their stable `code`) to HTTP errors. */
export function runtimeToApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ComponentRuntimeError && isCallFailure(error.code)) {
    const failure = CALL_FAILURES[error.code];
    return new ApiError(failure.status, failure.code, error.message, failure.hint, { runtimeCode: error.code, ...error.details });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(500, "EXECUTION_FAILED", `The call failed unexpectedly: ${message}`, "Nothing was charged.");
}

/** An uploaded component refused (verification, instantiation, test vectors): the runtime's class, when it has one, is in details.runtimeCode. */
export function uploadRefusal(error: unknown, version: string): ApiError {
  const message = `The component of ${version} was rejected: ${error instanceof Error ? error.message : String(error)}`;
  if (error instanceof ComponentRuntimeError) return new ApiError(422, "COMPONENT_REJECTED", message, error.hint, { runtimeCode: error.code });
  return new ApiError(422, "COMPONENT_REJECTED", message);
}
