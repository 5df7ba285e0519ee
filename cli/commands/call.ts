import type { Command } from "commander";
import { CALL_ARGS_HELP } from "../call-args.ts";
import { WALLET_HELP } from "../ui.ts";

// Definition only: the action imports its implementation (viem, x402) when the command runs.

export function registerCallCommand(program: Command): void {
  program
    .command("call")
    .description("Call a capability through an executor, paying per call in USDC over x402")
    .argument("<scope/name[@version]>", "package, optionally @version (default: latest)")
    .argument("<function>", "function name from the WIT, e.g. to-html")
    .argument("[args...]", "arguments: JSON values, or plain text (see below)")
    .option("--max-price <units>", "refuse to pay more than this per call (USDC base units)")
    .option("--scheme <scheme>", "how to pay: channel (a deposit once, then a signed voucher per call) or exact (one transfer per call)", "channel")
    .option("--deposit <units>", "when the channel needs funds (first use, or empty), deposit this much (USDC base units)")
    .option("--yes", "agree to the suggested channel deposit without asking")
    .addHelpText(
      "after",
      `\n${CALL_ARGS_HELP}\n\n` +
        `Outcome: the result on stdout (exit 0). A function returning a WIT result answers either {"ok": ...}\n` +
        `or {"error": ...}: an error answer is shown as an error and exits 7, and the call stays paid, since\n` +
        `the capability ran (a failure of the executor or the sandbox is never charged).\n\n` +
        `Paying: through a payment channel to the executor by default (x402 batch-settlement): the first call\n` +
        `deposits USDC into the channel (asked on a terminal, or --deposit AMOUNT / --yes; refused otherwise),\n` +
        `later calls sign a voucher and send no transaction. --scheme exact pays each call with its own transfer.\n` +
        "Every receipt is verified and kept: `glassbox receipts` checks that the executor settled what it signed.\n\n" +
        `Paid versions need a wallet.\n${WALLET_HELP}\n\n` +
        `Examples:\n  glassbox call acme/markdown to-html "# Hello" --dev-account 3 --deposit 100000\n  glassbox call acme/markdown to-html "# Hello" --dev-account 3 --scheme exact\n  glassbox call acme/semver@1.0.0 max-satisfying '["1.2.0","1.4.1"]' '^1.0.0' --json --dev-account 3`,
    )
    .action(async (ref: string, functionName: string, tokens: string[], opts, command: Command) =>
      (await import("../actions/call.ts")).call(ref, functionName, tokens, opts, command),
    );
}
