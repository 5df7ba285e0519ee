import type { Command } from "commander";
import { WALLET_HELP } from "../ui.ts";

// Definitions only: each action imports its implementation when the command runs.

export function registerCatalogCommands(program: Command): void {
  program
    .command("search")
    .description("Search the catalog by name, description, keywords and function names")
    .argument("[query...]", "words to search for (empty: everything, by usage)")
    .option("--access <mode>", "only free | per-call | per-fuel")
    .option("--max-price <units>", "only versions costing at most this (USDC base units)")
    .option("--license <id>", "only this license, e.g. MIT")
    .option("--has-forks", "only packages that have forks")
    .option("--limit <n>", "results per page", "20")
    .option("--offset <n>", "skip this many results", "0")
    .action(async (words: string[], opts, command: Command) => (await import("../actions/catalog.ts")).search(words, opts, command));

  program
    .command("info")
    .description("Show a package: spec, test vectors, versions, prices, forks, executors")
    .argument("<scope/name>", "package name")
    .action(async (name: string, _opts, command: Command) => (await import("../actions/catalog.ts")).info(name, command));

  program
    .command("earnings")
    .description("Show what an address earned per package and what it can claim")
    .argument("[address]", "account (default: your wallet)")
    .addHelpText("after", `\nWithout an address, your wallet's.\n${WALLET_HELP}`)
    .action(async (address: string | undefined, _opts, command: Command) => (await import("../actions/earnings.ts")).earnings(address, command));

  program
    .command("claim")
    .description("Withdraw your whole earned balance from Settlement in USDC")
    .option("--to <address>", "pay out to another address")
    .addHelpText("after", `\nNeeds the earning wallet.\n${WALLET_HELP}`)
    .action(async (opts, command: Command) => (await import("../actions/earnings.ts")).claim(opts, command));
}
