import type { Command } from "commander";
import type { ChannelStatus } from "../../sdk/client/channels.ts";
import { formatUsdc } from "../../sdk/units.ts";
import { connect, outputFor } from "../context.ts";
import { bold, CliError, dim, ExitCode, green, yellow } from "../ui.ts";
import { parseBaseUnits } from "../validate.ts";

/** The stable --json form of a channel's state. */
export function channelJson(s: ChannelStatus) {
  return {
    channelId: s.channelId,
    payer: s.config.payer,
    executor: s.executor,
    executorUrl: s.executorUrl,
    balance: s.balance.toString(),
    totalClaimed: s.totalClaimed.toString(),
    charged: s.charged.toString(),
    available: s.available.toString(),
    withdrawDelaySeconds: s.withdrawDelaySeconds,
    withdrawal: s.withdrawal ? { amount: s.withdrawal.amount.toString(), finalizeAfter: Number(s.withdrawal.finalizeAfter), ready: s.withdrawal.ready } : null,
  };
}

function when(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString();
}

export function formatChannel(s: ChannelStatus): string {
  const lines = [
    `${bold("Channel")} ${s.channelId}`,
    `  payer ${s.config.payer} → executor ${s.executor} ${dim(`(${s.executorUrl})`)}`,
    `  balance     ${formatUsdc(s.balance)}`,
    `  charged     ${formatUsdc(s.charged)} ${dim("(your vouchers so far)")}`,
    `  claimed     ${formatUsdc(s.totalClaimed)} ${dim("(taken by the executor on-chain)")}`,
    `  available   ${green(formatUsdc(s.available))}`,
  ];
  if (s.withdrawal) {
    lines.push(
      s.withdrawal.ready
        ? `  withdrawal  ${formatUsdc(s.withdrawal.amount)} ${green("ready")}: run \`glassbox channel close\` to get it back`
        : `  withdrawal  ${formatUsdc(s.withdrawal.amount)} ${yellow("pending")} until ${when(s.withdrawal.finalizeAfter)}; then run \`glassbox channel close\` again`,
    );
  } else {
    lines.push(dim(`  withdraw delay ${s.withdrawDelaySeconds}s (close starts it)`));
  }
  return lines.join("\n");
}

async function channelContext(command: Command) {
  const { glassbox, connection, account } = await connect(command, { wallet: "required" });
  if (!connection.executorUrl) throw new CliError("Which executor? No --executor URL and no running local stack.", ExitCode.usage, "Pass --executor URL.");
  return { glassbox, executorUrl: connection.executorUrl, account: account! };
}

export async function deposit(kind: "open" | "top-up", opts: { deposit: string }, command: Command): Promise<void> {
  const out = outputFor(command);
  const amount = parseBaseUnits(opts.deposit, "--deposit");
  if (amount === 0n) throw new CliError("--deposit must be more than 0.", ExitCode.usage);
  const { glassbox, executorUrl, account } = await channelContext(command);
  const { status, transaction } = await out.step(`${kind === "open" ? "Opening" : "Topping up"} the channel to ${executorUrl} with ${formatUsdc(amount)}`, () =>
    glassbox.channels.deposit(account, executorUrl, amount),
  );
  out.result(`${green(kind === "open" ? "Deposited" : "Topped up")} ${formatUsdc(amount)} ${dim(`transaction ${transaction}`)}\n${formatChannel(status)}`, {
    action: kind,
    deposited: amount.toString(),
    transaction,
    channel: channelJson(status),
  });
}

export async function status(command: Command): Promise<void> {
  const out = outputFor(command);
  const { glassbox, executorUrl, account } = await channelContext(command);
  const s = await glassbox.channels.status(account.address, executorUrl);
  out.result(() => (s.balance === 0n && !s.withdrawal ? `${formatChannel(s)}\n${dim("No deposit yet: `glassbox channel open --deposit N` or a first `glassbox call` opens it.")}` : formatChannel(s)), channelJson(s));
}

export async function close(command: Command): Promise<void> {
  const out = outputFor(command);
  const { glassbox, executorUrl, account } = await channelContext(command);
  const current = await glassbox.channels.status(account.address, executorUrl);
  if (current.withdrawal?.ready) {
    const { status, transaction, amount } = await out.step("Finalizing the withdrawal", () => glassbox.channels.finalize(account, executorUrl));
    out.result(`${green("Withdrawn")} ${formatUsdc(amount)} back to ${account.address} ${dim(`transaction ${transaction}`)}\n${formatChannel(status)}`, {
      action: "finalize",
      withdrawn: amount.toString(),
      transaction,
      channel: channelJson(status),
    });
    return;
  }
  if (current.withdrawal) {
    out.result(`${yellow("Withdrawal pending")}: ${formatUsdc(current.withdrawal.amount)} can be finalized from ${when(current.withdrawal.finalizeAfter)}.\nRun \`glassbox channel close\` again after that time.`, {
      action: "wait",
      finalizeAfter: Number(current.withdrawal.finalizeAfter),
      channel: channelJson(current),
    });
    return;
  }
  const { status, transaction, amount } = await out.step("Starting the withdrawal", () => glassbox.channels.close(account, executorUrl));
  const finalizeAfter = status.withdrawal?.finalizeAfter ?? 0n;
  out.result(
    `${green("Withdrawal started")}: ${formatUsdc(amount)} ${dim(`transaction ${transaction}`)}\n` +
      `The executor may claim what your vouchers cover until ${when(finalizeAfter)}; then run \`glassbox channel close\` again to get the rest back.\n${formatChannel(status)}`,
    { action: "initiate", amount: amount.toString(), transaction, finalizeAfter: Number(finalizeAfter), channel: channelJson(status) },
  );
}
