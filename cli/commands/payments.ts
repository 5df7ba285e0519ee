import type { Command } from "commander";
import { WALLET_HELP } from "../ui.ts";

// Definitions only: each action imports its implementation when the command runs.

const CHANNEL_HELP = `
A payment channel (x402 batch-settlement) holds USDC you deposit for one executor. Each call then signs a
voucher for the running total: no transaction per call. The executor claims what your vouchers cover; the
rest stays yours. \`glassbox call\` opens one on first use (with the deposit you agree to); these commands
manage it directly. The executor is --executor URL (else the local stack's).

  open --deposit N     deposit N USDC base units (opens the channel, or adds to it)
  top-up --deposit N   add N to it
  status               on-chain balance, claimed by the executor, charged by your vouchers, available,
                       and any withdrawal in progress
  close                start withdrawing what is not charged; the executor has the channel's withdraw
                       delay to claim what it is owed. Run close again after the delay to get the USDC back.

Needs the paying wallet.\n${WALLET_HELP}`;

const RECEIPTS_HELP = `
Every paid call returns a receipt signed by the executor, and \`glassbox call\` keeps each one it verified
(in the config dir, GLASSBOX_HOME or ~/.glassbox). The executor owes the royalties a receipt names and must pay
them into Settlement by the receipt's deadline, exactly as signed. This command checks each receipt against
the chain:

  settled      the executor's settleRoyalties batch paid it exactly as signed
  pending      not settled yet, before the deadline
  overdue      not settled, deadline passed: the executor's bond pays it
  mismatched   settled differently from what was signed: the executor's bond pays it
  overcharged  the fee is above the executor's registered fee: the excess is refunded from the bond
  slashed      a proof was already paid out

--submit sends the proof for each overdue, mismatched or overcharged receipt (slashOverdue, slashMismatch,
slashOvercharge): the royalties go to the maintainers, and a bounty goes to you, the payer.

Needs the paying wallet (its address picks the receipts; --submit sends from it).\n${WALLET_HELP}`;

export function registerPaymentCommands(program: Command): void {
  const channel = program
    .command("channel")
    .description("Manage your payment channel to an executor: open, top-up, status, close")
    .addHelpText("after", CHANNEL_HELP);
  channel
    .command("open")
    .description("Deposit USDC into your channel to the executor (opens it)")
    .requiredOption("--deposit <units>", "USDC base units to deposit")
    .action(async (opts, command: Command) => (await import("../actions/channel.ts")).deposit("open", opts, command));
  channel
    .command("top-up")
    .description("Add USDC to your channel to the executor")
    .requiredOption("--deposit <units>", "USDC base units to add")
    .action(async (opts, command: Command) => (await import("../actions/channel.ts")).deposit("top-up", opts, command));
  channel
    .command("status")
    .description("Show the channel's balance, claimed, charged, available and withdrawal state (read on-chain)")
    .action(async (_opts, command: Command) => (await import("../actions/channel.ts")).status(command));
  channel
    .command("close")
    .description("Start withdrawing what is not charged; after the withdraw delay, run it again to finalize")
    .action(async (_opts, command: Command) => (await import("../actions/channel.ts")).close(command));

  program
    .command("receipts")
    .description("List your receipts and check each against the chain (settled as signed, pending, overdue)")
    .option("--submit", "send the bond-payout proof for every overdue, mismatched or overcharged receipt")
    .addHelpText("after", RECEIPTS_HELP)
    .action(async (opts, command: Command) => (await import("../actions/receipts.ts")).receipts(opts, command));
}
