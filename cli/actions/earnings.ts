import type { Command } from "commander";
import type { Address } from "viem";
import type { AccountResponse } from "../../sdk/catalog-api.ts";
import { connect, outputFor } from "../context.ts";
import { bold, dim, green } from "../ui.ts";
import { formatUsdc } from "../../sdk/units.ts";
import { resolveAddress } from "../validate.ts";

export async function earnings(address: string | undefined, command: Command): Promise<void> {
  const out = outputFor(command);
  const { glassbox, account } = await connect(command, { wallet: address ? "none" : "required" });
  const who = resolveAddress(address ?? account!.address);
  const { claimable, account: history } = await glassbox.earnings(who);
  out.result(() => formatEarnings(who, claimable, history), { address: who, claimable: claimable.toString(), account: history ?? null });
}

export async function claim(opts: { to?: string }, command: Command): Promise<void> {
  const out = outputFor(command);
  const { glassbox, account } = await connect(command, { wallet: "required" });
  const to = opts.to ? resolveAddress(opts.to) : undefined;
  const { amount, transaction } = await out.step(`Claiming earnings of ${account!.address}`, () => glassbox.claim(to));
  out.result(`${green("Claimed")} ${formatUsdc(amount)} to ${to ?? account!.address}\n${dim(`transaction ${transaction}`)}`, {
    claimed: amount.toString(),
    to: to ?? account!.address,
    transaction,
  });
}

function formatEarnings(address: Address, claimable: bigint, history: AccountResponse | undefined): string {
  const lines = [bold(address), `  claimable now: ${green(formatUsdc(claimable))}`];
  if (history) {
    lines.push(`  earned in total: ${formatUsdc(history.credited)} · claimed: ${formatUsdc(history.claimed)}`);
    for (const e of history.earnings) {
      const parts = [
        BigInt(e.royalty) > 0n ? `royalty ${formatUsdc(e.royalty)}` : "",
        BigInt(e.upstream) > 0n ? `from forks ${formatUsdc(e.upstream)}` : "",
        BigInt(e.executorFee) > 0n ? `executor fees ${formatUsdc(e.executorFee)}` : "",
      ].filter(Boolean);
      lines.push(`  ${(e.name ?? e.packageId).padEnd(28)} ${formatUsdc(e.total).padEnd(14)} ${dim(parts.join(" · "))}`);
    }
  } else {
    lines.push(dim("  (no catalog connected: per-package history needs --indexer)"));
  }
  if (claimable > 0n) lines.push("", dim("Withdraw with `glassbox claim`."));
  return lines.join("\n");
}
