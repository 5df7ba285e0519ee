import type { Command } from "commander";
import { parsePackageRef } from "../../sdk/ids.ts";
import { receiptToJson } from "../../sdk/receipt.ts";
import { parseCallArgs } from "../call-args.ts";
import { connect, outputFor } from "../context.ts";
import { bold, CliError, cyan, dim, ExitCode, formatUsdc, green, red, write } from "../ui.ts";

/** The `error` value of a WIT result's err case ({"error": ...}), or undefined for any other answer. */
function resultError(result: unknown, witResultType: string | null | undefined): { error: unknown } | undefined {
  if (!witResultType?.startsWith("result")) return undefined;
  if (typeof result !== "object" || result === null || Array.isArray(result)) return undefined;
  const keys = Object.keys(result);
  return keys.length === 1 && keys[0] === "error" ? (result as { error: unknown }) : undefined;
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
  const failed = resultError(outcome.result, fn?.result);
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
    const value = failed ? undefined : typeof outcome.result === "string" ? outcome.result.trimEnd() : JSON.stringify(outcome.result, null, 2);
    const lines = [...(value === undefined ? [] : [value, ""]), dim(`fuel ${outcome.fuelUsed} · executor ${outcome.executor}`)];
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
      const detail = typeof failed.error === "string" ? failed.error : JSON.stringify(failed.error);
      write(process.stderr, `${red(bold("Error:"))} ${name}@${version.version} ${functionName} returned an error: ${detail}\n${dim(`→ The capability ran${outcome.paid ? " and the call was paid" : ""}: this is its answer (a WIT result::err), exit code ${ExitCode.capabilityError}.`)}\n`);
    }
    process.exitCode = ExitCode.capabilityError;
  }
}
