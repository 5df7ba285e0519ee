import { readFile } from "node:fs/promises";
import { stdin, stderr } from "node:process";
import { createInterface } from "node:readline";
import type { Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { devPrivateKey, LOCAL_CHAIN_ID } from "../sdk/dev-accounts.ts";
import { decryptKeystore, KeystoreError } from "../sdk/keystore.ts";
import { CliError, ExitCode } from "./ui.ts";

export interface WalletOptions {
  keystore?: string;
  devAccount?: string;
}

const WALLET_HINT = "Pass --keystore FILE (encrypted, Web3 Secret Storage v3), set GLASSBOX_PRIVATE_KEY, or on the local dev chain use --dev-account N.";

/** True when one of the wallet options is given (flag or environment). */
export function walletGiven(opts: WalletOptions): boolean {
  return Boolean(opts.keystore || process.env.GLASSBOX_KEYSTORE || process.env.GLASSBOX_PRIVATE_KEY) || opts.devAccount !== undefined;
}

/**
 * Resolves the signing key without ever printing it: --keystore FILE (password from
 * GLASSBOX_KEYSTORE_PASSWORD or a hidden prompt), else GLASSBOX_PRIVATE_KEY, else --dev-account N
 * (a Hardhat dev key, refused on any chain but the local one). `chainId` is undefined when no chain
 * is involved yet: `init` only reads the wallet's address.
 */
export async function loadAccount(opts: WalletOptions, chainId: number | undefined): Promise<PrivateKeyAccount> {
  const keystorePath = opts.keystore || process.env.GLASSBOX_KEYSTORE;
  if (keystorePath) {
    let file: unknown;
    try {
      file = JSON.parse(await readFile(keystorePath, "utf8"));
    } catch (error) {
      throw new CliError(`Cannot read keystore ${keystorePath}: ${(error as Error).message}`, ExitCode.usage);
    }
    const password = process.env.GLASSBOX_KEYSTORE_PASSWORD ?? (await promptHidden(`Password for ${keystorePath}: `));
    try {
      return privateKeyToAccount(decryptKeystore(file, password));
    } catch (error) {
      if (error instanceof KeystoreError) throw new CliError(error.message, ExitCode.usage, "Check GLASSBOX_KEYSTORE_PASSWORD or the file.");
      throw error;
    }
  }
  const envKey = process.env.GLASSBOX_PRIVATE_KEY;
  if (envKey) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(envKey)) {
      throw new CliError("GLASSBOX_PRIVATE_KEY is not a 32-byte 0x-prefixed hex key.", ExitCode.usage);
    }
    return privateKeyToAccount(envKey as Hex);
  }
  if (opts.devAccount !== undefined) {
    const index = Number(opts.devAccount);
    if (!Number.isInteger(index) || index < 0 || index > 19) {
      throw new CliError("--dev-account must be a Hardhat dev account index from 0 to 19", ExitCode.usage);
    }
    if (chainId !== undefined && chainId !== LOCAL_CHAIN_ID) {
      throw new CliError(`--dev-account uses a public Hardhat key: refused on chain ${chainId}.`, ExitCode.usage, "Use --keystore or GLASSBOX_PRIVATE_KEY.");
    }
    return privateKeyToAccount(devPrivateKey(index));
  }
  throw new CliError("No wallet: this command signs a transaction or a payment.", ExitCode.usage, WALLET_HINT);
}

/**
 * The wallet flag to repeat in a suggested command line: the one given (the environment carries
 * over by itself), else a placeholder the reader fills in.
 */
export function walletFlag(opts: WalletOptions): string {
  const keystore = opts.keystore || process.env.GLASSBOX_KEYSTORE;
  if (keystore) return opts.keystore ? ` --keystore ${opts.keystore}` : "";
  if (process.env.GLASSBOX_PRIVATE_KEY) return "";
  if (opts.devAccount !== undefined) return ` --dev-account ${opts.devAccount}`;
  return " --keystore <file>";
}

async function promptHidden(question: string): Promise<string> {
  if (!stdin.isTTY) {
    throw new CliError("The keystore needs a password and there is no terminal to ask.", ExitCode.usage, "Set GLASSBOX_KEYSTORE_PASSWORD.");
  }
  const rl = createInterface({ input: stdin, output: stderr, terminal: true });
  const output = rl as unknown as { _writeToOutput: (s: string) => void };
  stderr.write(question);
  output._writeToOutput = () => {};
  const answer = await new Promise<string>((resolve) => rl.question("", resolve));
  rl.close();
  stderr.write("\n");
  return answer;
}
