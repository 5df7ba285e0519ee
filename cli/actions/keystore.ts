import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import type { Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { encryptKeystore } from "../../sdk/keystore.ts";
import { outputFor } from "../context.ts";
import { bold, CliError, dim, ExitCode, green } from "../ui.ts";

export async function keystore(file: string, command: Command): Promise<void> {
  const out = outputFor(command);
  const password = process.env.GLASSBOX_KEYSTORE_PASSWORD;
  if (!password) throw new CliError("Set GLASSBOX_KEYSTORE_PASSWORD to the password that will protect the file.", ExitCode.usage);
  const key = (process.env.GLASSBOX_PRIVATE_KEY as Hex | undefined) ?? generatePrivateKey();
  await writeFile(file, `${JSON.stringify(encryptKeystore(key, password), null, 2)}\n`, { mode: 0o600 });
  const address = privateKeyToAccount(key).address;
  out.result(`${green("Wrote")} ${file} for ${bold(address)} ${dim("(use it with --keystore)")}`, { file, address });
}
