import type { Command } from "commander";
import { parsePackageRef } from "../../sdk/ids.ts";
import type { PublishedFunction } from "../../sdk/manifest.ts";
import { receiptToJson } from "../../sdk/receipt.ts";
import { connect, outputFor } from "../context.ts";
import { bold, CliError, cyan, dim, ExitCode, green } from "../ui.ts";
import { formatUsdc } from "../../sdk/units.ts";

/**
 * Command-line arguments to WIT values: each is JSON when it parses as JSON, else a plain string;
 * a string parameter always takes the raw text, so `glassbox call x/y greet 42` passes "42".
 */
export function parseCallArgs(tokens: string[], fn: PublishedFunction | undefined): unknown[] {
  return tokens.map((token, i) => {
    if (fn?.params[i]?.type === "string") return token;
    try {
      return JSON.parse(token) as unknown;
    } catch {
      return token;
    }
  });
}

export function registerCallCommand(program: Command): void {
  program
    .command("call")
    .description("Call a capability through an executor, paying per call in USDC over x402")
    .argument("<scope/name[@version]>", "package, optionally @version (default: latest)")
    .argument("<function>", "function name from the WIT, e.g. to-html")
    .argument("[args...]", "arguments: JSON values, or plain text for strings")
    .option("--max-price <units>", "refuse to pay more than this per call (USDC base units)")
    .addHelpText(
      "after",
      `\nExamples:\n  glassbox call acme/markdown to-html "# Hello" --dev-account 3\n  glassbox call acme/semver@1.0.0 max-satisfying '["1.2.0","1.4.1"]' '^1.0.0' --json`,
    )
    .action(async (ref: string, functionName: string, tokens: string[], opts, command: Command) => {
      const out = outputFor(command);
      const { glassbox } = await connect(command, { wallet: "optional" });
      const { name, version: requested } = parsePackageRef(ref);
      const version = await glassbox.registry.resolveVersion(name, requested);
      const { manifest } = await glassbox.registry.getManifest(version.versionId);
      const fn = manifest.functions?.find((f) => f.name === functionName);
      if (manifest.functions && !fn) {
        throw new CliError(
          `${name}@${version.version} has no function "${functionName}".`,
          ExitCode.notFound,
          `Its functions: ${manifest.functions.map((f) => f.name).join(", ")}.`,
        );
      }
      const args = parseCallArgs(tokens, fn);
      const outcome = await out.step(
        `Calling ${name}@${version.version} ${functionName}${version.accessMode === "free" ? "" : " (paying over x402)"}`,
        () => glassbox.call(`${name}@${version.version}`, functionName, args, opts.maxPrice ? { maxPayment: BigInt(opts.maxPrice) } : {}),
      );
      const machine = {
        package: name,
        version: version.version,
        function: functionName,
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
        const value = typeof outcome.result === "string" ? outcome.result.trimEnd() : JSON.stringify(outcome.result, null, 2);
        const lines = [value, "", dim(`fuel ${outcome.fuelUsed} · executor ${outcome.executor}`)];
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
    });
}
