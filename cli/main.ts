import { Command, CommanderError, Option } from "commander";
import { GlassboxError } from "../sdk/client/errors.ts";
import { ManifestError } from "../sdk/manifest.ts";
import { ComponentRuntimeError } from "../runtime/errors.ts";
import { registerCallCommand } from "./commands/call.ts";
import { registerCatalogCommands } from "./commands/catalog.ts";
import { registerMaintainerCommands } from "./commands/maintainer.ts";
import { registerDevCommand } from "./commands/dev.ts";
import { RUNTIME_EXIT_CODES } from "./runtime-errors.ts";
import { bold, CliError, dim, ExitCode, red } from "./ui.ts";

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
  NO_WALLET: ExitCode.usage,
  BAD_REQUEST: ExitCode.invalid,
  INVALID_ARGUMENTS: ExitCode.invalid,
};

export function buildProgram(): Command {
  const program = new Command("glassbox")
    .description("Publish capabilities (public WIT spec and tests, metered Wasm component), find them, and call them paying per call in USDC over x402. Knowledge is free, utility is paid.")
    .version("0.1.0")
    .addOption(new Option("--json", "machine-readable JSON output (stable shapes)"))
    .addOption(new Option("--rpc <url>", "chain JSON-RPC URL").env("GLASSBOX_RPC_URL"))
    .addOption(new Option("--deployments <file>", "deployments JSON (chainId, contracts)").env("GLASSBOX_DEPLOYMENTS"))
    .addOption(new Option("--indexer <url>", "catalog (indexer) URL").env("GLASSBOX_INDEXER_URL"))
    .addOption(new Option("--executor <url>", "executor URL").env("GLASSBOX_EXECUTOR_URL"))
    .addOption(new Option("--keystore <file>", "encrypted key file (password from GLASSBOX_KEYSTORE_PASSWORD or a prompt)").env("GLASSBOX_KEYSTORE"))
    .addOption(new Option("--dev-account <n>", "use Hardhat dev account N (local chain only)"))
    .addHelpText(
      "after",
      `\nWallet: --keystore FILE, or GLASSBOX_PRIVATE_KEY, or --dev-account N on the local chain. Keys are never printed.\n` +
        `Connection: flags, else GLASSBOX_* env, else the running local stack (\`npm start\`).\n` +
        `Exit codes: 0 ok, 1 failure, 2 usage, 3 invalid input or failing tests, 4 service unavailable, 5 refused, 6 not found.`,
    )
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerMaintainerCommands(program);
  registerCatalogCommands(program);
  registerCallCommand(program);
  registerDevCommand(program);
  return program;
}

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
    exit = EXIT_BY_CODE[code] ?? (code.startsWith("REVERT_") || code.startsWith("PAYMENT") || code === "VERSION_YANKED" || code === "VERSION_EXISTS" || code === "NOT_PACKAGE_OWNER" ? ExitCode.refused : ExitCode.failure);
  } else if (error instanceof ManifestError) {
    code = "INVALID_MANIFEST";
    message = error.message;
    details = error.issues;
    exit = ExitCode.invalid;
  } else if (error instanceof ComponentRuntimeError) {
    code = error.code.toUpperCase();
    ({ message, hint } = error);
    exit = RUNTIME_EXIT_CODES[error.code];
  } else {
    message = error instanceof Error ? error.message : String(error);
  }
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}), ...(details ? { details } : {}) } }, null, 2)}\n`);
  else process.stderr.write(`${red(bold("Error:"))} ${message}\n${hint ? `${dim("→")} ${hint}\n` : ""}`);
  return exit;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    // A command may finish its output and still report failure (e.g. failing test vectors).
    return (process.exitCode as ExitCode | undefined) ?? ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    return reportError(error, argv.includes("--json"));
  }
}
