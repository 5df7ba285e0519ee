import type { Command } from "commander";
import { parsePackageRef } from "../../sdk/ids.ts";
import { receiptToJson } from "../../sdk/receipt.ts";
import { parseCallArgs } from "../call-args.ts";
import { connect, outputFor } from "../context.ts";
import { bold, CliError, cyan, dim, ExitCode, green, red, write } from "../ui.ts";
import { formatUsdc } from "../../sdk/units.ts";

/** A WIT result's answer ({"ok": ...} or {"error": ...}) as its case and value; undefined for any other type. */
function resultCase(result: unknown, witResultType: string | null | undefined): { ok: boolean; value: unknown } | undefined {
  if (!witResultType?.startsWith("result") || typeof result !== "object" || result === null) return undefined;
  const entries = Object.entries(result);
  const [key, value] = entries[0] ?? [];
  return entries.length === 1 && (key === "ok" || key === "error") ? { ok: key === "ok", value } : undefined;
}

function show(value: unknown): string {
  return typeof value === "string" ? value.trimEnd() : JSON.stringify(value, null, 2);
}

export async function call(ref: string, functionName: string, tokens: string[], opts: { maxPrice?: string }, command: Command): Promise<void> {
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
  const outcome = await out.step(`Calling ${name}@${version.version} ${functionName}${version.accessMode === "free" ? "" : " (paying over x402)"}`, () =>
    glassbox.call(`${name}@${version.version}`, functionName, args, opts.maxPrice ? { maxPayment: BigInt(opts.maxPrice) } : {}),
  );
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
    payment: outcome.paymentResponse ?? null,
  };
  out.result(() => {
    // A result's ok value is the answer a person wants; its error goes to stderr below.
    const lines = [...(failed ? [] : [show(answer ? answer.value : outcome.result), ""]), dim(`fuel ${outcome.fuelUsed} · executor ${outcome.executor}`)];
    if (outcome.receipt) {
      const r = outcome.receipt;
      lines.push(
        `${green("✔ receipt verified")} ${dim(outcome.receiptId ?? "")}`,
        `  paid ${bold(formatUsdc(r.royalty + r.executorFee))} = royalty ${formatUsdc(r.royalty)} + executor fee ${formatUsdc(r.executorFee)}`,
        `  signed by executor ${cyan(r.executor)} for payer ${r.payer}`,
      );
    }
    return lines.join("\n");
  }, machine);
  if (failed) {
    // An answer, not a failure: the capability ran, so the call stays paid (a sandbox failure never is).
    if (!out.json) {
      const detail = show(answer.value);
      write(process.stderr, `${red(bold("Error:"))} ${name}@${version.version} ${functionName} returned an error: ${detail}\n${dim(`→ The capability ran${outcome.paid ? " and the call was paid" : ""}: this is its answer (a WIT result::err), exit code ${ExitCode.capabilityError}.`)}\n`);
    }
    process.exitCode = ExitCode.capabilityError;
  }
}
