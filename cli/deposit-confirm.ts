import { createInterface } from "node:readline/promises";
import type { DepositDecision, DepositOffer } from "../sdk/client/call.ts";
import { formatUsdc } from "../sdk/units.ts";
import { CliError, ExitCode } from "./ui.ts";

export interface DepositFlags {
  deposit?: bigint;
  yes?: boolean;
}

/**
 * How the CLI agrees to a channel deposit: --deposit AMOUNT, or --yes (the stock client's suggestion), or a
 * question on the terminal. Without a terminal and without either flag, nothing is deposited: a script must
 * say how much it locks.
 */
export function depositOptions(flags: DepositFlags, json: boolean): { deposit?: bigint; onDeposit?: (offer: DepositOffer) => Promise<DepositDecision> } {
  if (flags.deposit !== undefined) return { deposit: flags.deposit };
  if (flags.yes) return { onDeposit: async (offer) => offer.suggested };
  if (!process.stdin.isTTY || json) return {};
  return { onDeposit: ask };
}

async function ask(offer: DepositOffer): Promise<DepositDecision> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const what = offer.topUp
      ? `The channel to executor ${offer.executor} needs at least ${formatUsdc(offer.minimum)} more for this call (${formatUsdc(offer.price)}).`
      : `Paying executor ${offer.executor} through a payment channel: a deposit once, then no transaction per call (${formatUsdc(offer.price)} this call).`;
    process.stderr.write(`${what}\nUSDC stays yours until spent; \`glassbox channel close\` withdraws the rest.\n`);
    const answer = (await rl.question(`Deposit ${formatUsdc(offer.suggested)} (${offer.suggested} base units)? [Y/n/amount in base units] `)).trim();
    if (answer === "" || /^y(es)?$/i.test(answer)) return offer.suggested;
    if (/^no?$/i.test(answer)) return false;
    if (/^\d+$/.test(answer)) return BigInt(answer);
    throw new CliError(`"${answer}" is neither yes, no nor an amount in base units.`, ExitCode.usage);
  } finally {
    rl.close();
  }
}
