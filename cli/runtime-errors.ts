import type { RuntimeErrorCode } from "../runtime/errors.ts";
import { ExitCode } from "./ui.ts";

/**
 * Exit code of each runtime error class: the capability (source, WIT, blob, test vectors, input)
 * at fault is "invalid input" (3); the sandbox being busy or closing is "unavailable" (4). A new
 * runtime code fails the typecheck here until it is given one.
 */
export const RUNTIME_EXIT_CODES: Record<RuntimeErrorCode, ExitCode> = {
  build_failed: ExitCode.invalid,
  hash_mismatch: ExitCode.invalid,
  wit_mismatch: ExitCode.invalid,
  undeclared_import: ExitCode.invalid,
  invalid_component: ExitCode.invalid,
  tests_failed: ExitCode.invalid,
  invalid_arguments: ExitCode.invalid,
  unknown_function: ExitCode.invalid,
  out_of_fuel: ExitCode.invalid,
  trap: ExitCode.invalid,
  stack_overflow: ExitCode.invalid,
  memory_limit: ExitCode.invalid,
  output_too_large: ExitCode.invalid,
  invalid_result: ExitCode.invalid,
  capability_denied: ExitCode.invalid,
  timeout: ExitCode.invalid,
  overloaded: ExitCode.unavailable,
  worker_crashed: ExitCode.unavailable,
  pool_closed: ExitCode.unavailable,
};
