import type { Command } from "commander";
import { parsePackageRef } from "../../sdk/ids.ts";
import { receiptToJson } from "../../sdk/receipt.ts";
import { parseCallArgs, resultCase, showValue } from "../call-args.ts";
import { connect, outputFor } from "../context.ts";
import { bold, CliError, cyan, dim, ExitCode, green, red, write } from "../ui.ts";
import { formatUsdc } from "../../sdk/units.ts";
import type { CallOutcome, PayScheme } from "../../sdk/client/call.ts";
import { depositOptions } from "../deposit-confirm.ts";
import { parseBaseUnits } from "../validate.ts";

export interface CallFlags {
  maxPrice?: string;
  scheme?: string;
  deposit?: string;
  yes?: boolean;
}

function payScheme(text: string | undefined): PayScheme {
  if (text === undefined || text === "channel" || text === "batch-settlement") return "channel";
  if (text === "exact") return "exact";
  throw new CliError(`--scheme must be channel or exact, not "${text}".`, ExitCode.usage);
}

/** How the call was paid, in a person's words. */
function paymentLines(outcome: CallOutcome): string[] {
  const p = outcome.payment;
  if (!p) return [];
  if (p.scheme === "exact") return [`  paid with exact: transfer ${p.transaction ?? dim("(no transaction reported)")}`];
  const lines = [`  paid through channel ${p.channelId ?? "?"}: ${formatUsdc(p.chargedCumulativeAmount ?? "0")} charged in it so far (no transaction for this call)`];
  if (outcome.deposit) lines.push(`  deposited ${formatUsdc(outcome.deposit.amount)} into the channel${p.transaction ? ` in ${p.transaction}` : ""}`);
  return lines;
}

export async function call(ref: string, functionName: string, tokens: string[], opts: CallFlags, command: Command): Promise<void> {
  const out = outputFor(command);
  const { glassbox } = await connect(command, { wallet: "optional" });
  const { name, version: requested } = parsePackageRef(ref);
  const version = await glassbox.registry.resolveVersion(name, requested);
  const { manifest } = await glassbox.registry.getManifest(version.versionId);
  const fn = manifest.functions?.find((f) => f.name === functionName);
  if (manifest.functions && !fn) {
    throw new CliError(`${name}@${version.version} has no function "${functionName}".`, ExitCode.notFound, `Its functions: ${manifest.functions.map((f) => f.name).join(", ")}.`);
  }
  const args = parseCallArgs(tokens, fn);
  const scheme = payScheme(opts.scheme);
  const deposit = opts.deposit !== undefined ? parseBaseUnits(opts.deposit, "--deposit") : undefined;
  const payment = {
    scheme,
    ...(opts.maxPrice ? { maxPayment: parseBaseUnits(opts.maxPrice, "--max-price") } : {}),
    ...depositOptions({ ...(deposit !== undefined ? { deposit } : {}), ...(opts.yes ? { yes: true } : {}) }, out.json),
  };
  // No spinner while a deposit question may be on the terminal.
  const paying = version.accessMode === "free" ? "" : scheme === "exact" ? " (paying with exact)" : " (paying through a channel)";
  const run = () => glassbox.call(`${name}@${version.version}`, functionName, args, payment);
  const outcome = payment.onDeposit && !opts.yes ? (out.info(`Calling ${name}@${version.version} ${functionName}${paying}`), await run()) : await out.step(`Calling ${name}@${version.version} ${functionName}${paying}`, run);
  const answer = resultCase(outcome.result, fn?.result);
  const failed = answer && !answer.ok;
  const machine = {
    package: name,
    version: version.version,
    function: functionName,
    outcome: failed ? "error" : "ok",
    result: outcome.result,
    fuelUsed: outcome.fuelUsed.toString(),
    paid: outcome.paid,
    executor: outcome.executor,
    receipt: outcome.receipt ? receiptToJson(outcome.receipt) : null,
    receiptId: outcome.receiptId ?? null,
    signature: outcome.signature ?? null,
    payment: outcome.payment ?? null,
    deposit: outcome.deposit ? { channelId: outcome.deposit.channelId, amount: outcome.deposit.amount.toString() } : null,
    paymentResponse: outcome.paymentResponse ?? null,
  };
  out.result(() => {
    // A result's ok value is the answer a person wants; its error goes to stderr below.
    const lines = [...(failed ? [] : [showValue(answer ? answer.value : outcome.result), ""]), dim(`fuel ${outcome.fuelUsed} · executor ${outcome.executor}`)];
    if (outcome.receipt) {
      const r = outcome.receipt;
      lines.push(
        `${green("✔ receipt verified")} ${dim(outcome.receiptId ?? "")}`,
        `  paid ${bold(formatUsdc(r.royalty + r.executorFee))} = royalty ${formatUsdc(r.royalty)} + executor fee ${formatUsdc(r.executorFee)}`,
        `  signed by executor ${cyan(r.executor)} for payer ${r.payer}`,
        ...paymentLines(outcome),
        r.seq > 0n ? dim(`  royalties due on-chain by ${new Date(Number(r.deadline) * 1000).toISOString()} (seq ${r.seq}); \`glassbox receipts\` checks it`) : dim("  no royalty owed"),
      );
    }
    return lines.join("\n");
  }, machine);
  if (failed) {
    // An answer, not a failure: the capability ran, so the call stays paid (a sandbox failure never is).
    if (!out.json) {
      const detail = showValue(answer.value);
      write(process.stderr, `${red(bold("Error:"))} ${name}@${version.version} ${functionName} returned an error: ${detail}\n${dim(`→ The capability ran${outcome.paid ? " and the call was paid" : ""}: this is its answer (a WIT result::err), exit code ${ExitCode.capabilityError}.`)}\n`);
    }
    process.exitCode = ExitCode.capabilityError;
  }
}
