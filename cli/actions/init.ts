import path from "node:path";
import type { Command } from "commander";
import { globalOptions, outputFor } from "../context.ts";
import { PLACEHOLDER_RECIPIENT, scaffoldFiles, writeScaffold } from "../scaffold.ts";
import { cyan, dim, green, yellow } from "../ui.ts";
import { checkName, resolveAddress } from "../validate.ts";
import { loadAccount, walletFlag, walletGiven } from "../wallet.ts";

export interface InitOptions {
  dir?: string;
  owner?: string;
}

export async function init(name: string, opts: InitOptions, command: Command): Promise<void> {
  const out = outputFor(command);
  const flags = globalOptions(command);
  checkName(name);
  const dir = path.resolve(opts.dir ?? name.split("/")[1]!);
  // The splits pay the wallet that will publish (whichever wallet option names it), or --owner.
  const recipient = opts.owner ? resolveAddress(opts.owner) : walletGiven(flags) ? (await loadAccount(flags, undefined)).address : undefined;
  const files = await writeScaffold(dir, scaffoldFiles(name, recipient ?? PLACEHOLDER_RECIPIENT));
  const cd = path.relative(process.cwd(), dir) || ".";
  out.result(
    [
      `${green("Created")} ${name} in ${dir}`,
      ...files.map((f) => `  ${f}`),
      "",
      recipient
        ? `Revenue goes to ${recipient} ${dim('("splits" in glassbox.json)')}`
        : yellow(`Revenue goes to a placeholder address: publish refuses it until "splits" in glassbox.json names yours (or run init with your wallet: --dev-account N, --keystore FILE or GLASSBOX_PRIVATE_KEY).`),
      `Next: edit ${cyan("wit/world.wit")} and ${cyan("src/index.ts")}, add cases to ${cyan("tests.json")}, set the price in ${cyan("glassbox.json")},`,
      `then ${cyan(`cd ${cd} && glassbox build && glassbox test && glassbox publish${walletFlag(flags)}`)}`,
    ].join("\n"),
    { name, dir, files, recipient: recipient ?? null },
  );
}
