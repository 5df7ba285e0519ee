import path from "node:path";
import type { Command } from "commander";
import { REPO_ROOT } from "../config.ts";

// Definition only: the action imports the dev stack (Hardhat, Ponder launcher, runtime) when it runs.

export function registerDevCommand(program: Command): void {
  program
    .command("dev")
    .description("Start the whole local stack: chain, contracts, funded wallets, indexer, executor, sample capabilities")
    .option("--state-dir <dir>", "where logs and databases go (wiped at start)", path.join(REPO_ROOT, ".glassbox", "dev"))
    .option("--no-samples", "do not publish the sample capabilities")
    .option("--executors <n>", "how many independent executors to run (each its own key, fee, bond and journal)", "1")
    .option("--bond <units>", "USDC each executor bonds in Settlement (base units)", "100000000")
    .option("--settle-window <seconds>", "time the executor has to settle each receipt's royalties", "3600")
    .action(async (opts, command: Command) => (await import("../actions/dev.ts")).dev(opts, command));
}
