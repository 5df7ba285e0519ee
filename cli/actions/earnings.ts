import type { Command } from "commander";
import type { Address } from "viem";
import type { AccountResponse } from "../../sdk/catalog-api.ts";
import { connect, outputFor } from "../context.ts";
import { bold, dim, green } from "../ui.ts";
import { formatUsdc } from "../../sdk/units.ts";
import { resolveAddress } from "../validate.ts";

/** Royalties an executor owes and has not settled yet, for the packages `who` owns. */
interface PendingRoyalties {
  executorUrl: string;
  versions: { name: string; version: string; versionId: string; receipts: number; amount: string }[];
}

/** As an executor operator: its registered fee, bond and royalty sequence. */
interface ExecutorFacts {
  fee: string;
  bond: string;
  exitAt: number;
  nextSeq: string;
  active: boolean;
}

export async function earnings(address: string | undefined, command: Command): Promise<void> {
  const out = outputFor(command);
  const { glassbox, account, connection } = await connect(command, { wallet: address ? "none" : "required" });
  const who = resolveAddress(address ?? account!.address);
  const { claimable, account: history } = await glassbox.earnings(who);
  const standing = await glassbox.executorStanding(who);
  const executor: ExecutorFacts | null =
    standing.active || standing.retired || standing.bond > 0n
      ? { fee: standing.fee.toString(), bond: standing.bond.toString(), exitAt: Number(standing.exitAt), nextSeq: standing.nextSeq.toString(), active: standing.active }
      : null;
  let pending: PendingRoyalties | null = null;
  const info = connection.executorUrl ? await glassbox.executorInfo(connection.executorUrl) : undefined;
  if (info && connection.executorUrl) {
    const owned = [];
    for (const v of info.unsettledRoyalties.versions) {
      const pkg = await glassbox.registry.getPackage(v.name).catch(() => undefined);
      if (pkg?.owner.toLowerCase() === who.toLowerCase()) owned.push({ name: v.name, version: v.version, versionId: v.versionId, receipts: v.receipts, amount: v.amount });
    }
    pending = { executorUrl: connection.executorUrl, versions: owned };
  }
  out.result(() => formatEarnings(who, claimable, history, executor, pending), {
    address: who,
    claimable: claimable.toString(),
    account: history ?? null,
    executor,
    pendingRoyalties: pending,
  });
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

function formatEarnings(address: Address, claimable: bigint, history: AccountResponse | undefined, executor: ExecutorFacts | null, pending: PendingRoyalties | null): string {
  const lines = [bold(address), `  claimable now: ${green(formatUsdc(claimable))}`];
  if (pending && pending.versions.length > 0) {
    const total = pending.versions.reduce((sum, v) => sum + BigInt(v.amount), 0n);
    lines.push(`  pending royalties: ${formatUsdc(total)} ${dim(`(owed by ${pending.executorUrl}, not settled yet: they become claimable when it settles)`)}`);
    for (const v of pending.versions) lines.push(`    ${`${v.name}@${v.version}`.padEnd(26)} ${formatUsdc(v.amount).padEnd(14)} ${dim(`${v.receipts} receipts`)}`);
  }
  if (executor) {
    lines.push(`  as an executor: fee ${formatUsdc(executor.fee)} per call · bond ${formatUsdc(executor.bond)}${executor.exitAt ? ` · exit from ${new Date(executor.exitAt * 1000).toISOString()}` : ""} · ${BigInt(executor.nextSeq) - 1n} royalty lines settled${executor.active ? "" : " · retired"}`);
  }
  if (history) {
    lines.push(`  earned in total: ${formatUsdc(history.credited)} · claimed: ${formatUsdc(history.claimed)}`);
    for (const e of history.earnings) {
      const parts = [
        BigInt(e.royalty) > 0n ? `royalty ${formatUsdc(e.royalty)}` : "",
        BigInt(e.upstream) > 0n ? `from forks ${formatUsdc(e.upstream)}` : "",
        BigInt(e.bounty) > 0n ? `bounties ${formatUsdc(e.bounty)}` : "",
        BigInt(e.refund) > 0n ? `refunds ${formatUsdc(e.refund)}` : "",
      ].filter(Boolean);
      lines.push(`  ${(e.name ?? e.packageId).padEnd(28)} ${formatUsdc(e.total).padEnd(14)} ${dim(parts.join(" · "))}`);
    }
  } else {
    lines.push(dim("  (no catalog connected: per-package history needs --indexer)"));
  }
  if (claimable > 0n) lines.push("", dim("Withdraw with `glassbox claim`."));
  return lines.join("\n");
}
