import { GlassboxError } from "../sdk/client/errors.ts";
import { ManifestError } from "../sdk/manifest.ts";
import { ComponentRuntimeError } from "../runtime/errors.ts";
import { RUNTIME_EXIT_CODES } from "./runtime-errors.ts";
import { bold, CliError, dim, ExitCode, jsonReplacer, red, write } from "./ui.ts";

const EXIT_BY_CODE: Record<string, ExitCode> = {
  UNREACHABLE: ExitCode.unavailable,
  INDEXER_UNREACHABLE: ExitCode.unavailable,
  CALL_FAILED: ExitCode.unavailable,
  CHAIN_ERROR: ExitCode.unavailable,
  NO_EXECUTOR: ExitCode.unavailable,
  NOT_FOUND: ExitCode.notFound,
  UNKNOWN_PACKAGE: ExitCode.notFound,
  UNKNOWN_VERSION: ExitCode.notFound,
  UNKNOWN_FUNCTION: ExitCode.notFound,
  VERSION_NOT_REGISTERED: ExitCode.notFound,
  NO_WALLET: ExitCode.usage,
  BAD_REQUEST: ExitCode.invalid,
  INVALID_ARGUMENTS: ExitCode.invalid,
  UNCLAIMABLE_RECIPIENT: ExitCode.invalid,
  EXECUTOR_UNREACHABLE: ExitCode.unavailable,
  RECEIPT_INVALID: ExitCode.failure,
};

const REFUSALS = new Set([
  "VERSION_YANKED",
  "VERSION_EXISTS",
  "NOT_PACKAGE_OWNER",
  "UPLOAD_UNAUTHORIZED",
  "COMPONENT_REJECTED",
  "DEPOSIT_REQUIRED",
  "DEPOSIT_DECLINED",
  "DEPOSIT_TOO_SMALL",
  "DEPOSIT_ABOVE_LIMIT",
  "CHANNELS_UNSUPPORTED",
  "WITHDRAWAL_PENDING",
  "WITHDRAWAL_NOT_READY",
  "NO_WITHDRAWAL",
  "NOTHING_TO_WITHDRAW",
  "DEPENDENCY_YANKED",
  "DEPENDENCY_MISSING",
  "DEPENDENCY_TOO_EXPENSIVE",
  "DEPENDENCY_UNKNOWN",
  "DEPENDENCY_UNRESOLVED",
  "LICENCE_REQUIRED",
  "LICENCE_NOT_OFFERED",
  "LICENCE_TOO_EXPENSIVE",
  "LICENCE_DECLINED",
  "ALREADY_LICENSED",
  "INSUFFICIENT_FUNDS",
  "DEPENDENCY_CYCLE",
]);

/** Prints an error the way a person (or, with --json, a program) wants it, and picks the exit code. */
export function reportError(error: unknown, json: boolean): ExitCode {
  let code = "ERROR";
  let message: string;
  let hint: string | undefined;
  let exit: ExitCode = ExitCode.failure;
  let details: unknown;
  if (error instanceof CliError) {
    ({ message, hint, code } = error);
    exit = error.exitCode;
  } else if (error instanceof GlassboxError) {
    ({ code, message, hint, details } = error);
    exit = EXIT_BY_CODE[code] ?? (code.startsWith("REVERT_") || code.startsWith("PAYMENT") || REFUSALS.has(code) ? ExitCode.refused : ExitCode.failure);
  } else if (error instanceof ManifestError) {
    code = "INVALID_MANIFEST";
    message = error.message;
    details = error.issues;
    exit = ExitCode.invalid;
  } else if (error instanceof ComponentRuntimeError) {
    // The component runtime's typed errors, each with its own exit code (cli/runtime-errors.ts).
    code = error.code.toUpperCase();
    ({ message, hint } = error);
    exit = RUNTIME_EXIT_CODES[error.code];
  } else {
    message = error instanceof Error ? error.message : String(error);
  }
  if (json) write(process.stdout, `${JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}), ...(details ? { details } : {}) } }, jsonReplacer, 2)}\n`);
  else write(process.stderr, `${red(bold("Error:"))} ${message}\n${hint ? `${dim("→")} ${hint}\n` : ""}`);
  return exit;
}
