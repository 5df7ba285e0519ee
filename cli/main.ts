import { Command, CommanderError, Option } from "commander";
import { PACKAGE_VERSION } from "../sdk/package-root.ts";
import { registerCallCommand } from "./commands/call.ts";
import { registerCatalogCommands } from "./commands/catalog.ts";
import { registerDevCommand } from "./commands/dev.ts";
import { registerMaintainerCommands } from "./commands/maintainer.ts";
import { registerPaymentCommands } from "./commands/payments.ts";
import { registerLicenceCommands } from "./commands/licence.ts";
import { registerMcpCommand } from "./commands/mcp.ts";
import { EXIT_CODES_HELP, ExitCode, flushOutput, WALLET_HELP } from "./ui.ts";

// Only commander and the command definitions load at start-up: each command imports its
// implementation (viem, the SDK, the runtime, jco, binaryen, the dev stack) when it runs.

export function buildProgram(): Command {
  const program = new Command("glassbox")
    .description("Publish capabilities (public WIT spec and tests, metered Wasm component), find them, and call them paying per call in USDC over x402. Knowledge is free, utility is paid.")
    .version(PACKAGE_VERSION)
    // Every subcommand's --help lists these too (set before the subcommands are created: they copy it).
    .configureHelp({ showGlobalOptions: true })
    .addOption(new Option("--json", "machine-readable JSON output (stable shapes)"))
    .addOption(new Option("--keystore <file>", "wallet: encrypted key file (password from GLASSBOX_KEYSTORE_PASSWORD or a prompt)").env("GLASSBOX_KEYSTORE"))
    .addOption(new Option("--dev-account <n>", "wallet: Hardhat dev account N (local chain only); or set GLASSBOX_PRIVATE_KEY"))
    .addOption(new Option("--rpc <url>", "connection: chain JSON-RPC URL").env("GLASSBOX_RPC_URL"))
    .addOption(new Option("--deployments <file>", "connection: deployments JSON (chainId, contracts)").env("GLASSBOX_DEPLOYMENTS"))
    .addOption(new Option("--indexer <url>", "connection: catalog (indexer) URL").env("GLASSBOX_INDEXER_URL"))
    .addOption(new Option("--executor <url>", "connection: executor URL").env("GLASSBOX_EXECUTOR_URL"))
    .addHelpText("after", `\n${WALLET_HELP}\nConnection: flags, else GLASSBOX_* env, else the running local stack (\`npm start\`).\n${EXIT_CODES_HELP}`)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerMaintainerCommands(program);
  registerCatalogCommands(program);
  registerCallCommand(program);
  registerPaymentCommands(program);
  registerLicenceCommands(program);
  registerMcpCommand(program);
  registerDevCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  let exit: number;
  try {
    await program.parseAsync(argv);
    // A command may finish its output and still report failure (e.g. failing test vectors).
    exit = (process.exitCode as ExitCode | undefined) ?? ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) exit = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    else exit = (await import("./report-error.ts")).reportError(error, argv.includes("--json"));
  }
  await flushOutput();
  return exit;
}
