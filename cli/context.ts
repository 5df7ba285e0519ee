import type { Command } from "commander";
import type { LocalAccount } from "viem";
import { DeploymentError, parseDeployment, type Deployment } from "../sdk/deployment.ts";
import { Glassbox } from "../sdk/glassbox.ts";
import { readFile } from "node:fs/promises";
import { FileClientChannelStorage } from "@x402/evm/batch-settlement/client/file-storage";
import { FileReceiptStore } from "../sdk/client/receipt-file-store.ts";
import { channelStorageDir, receiptStoreDir, resolveConnection, type Connection } from "./config.ts";
import { CliError, ExitCode, Output } from "./ui.ts";
import { loadAccount } from "./wallet.ts";

/** Global flags every command shares (declared once on the root program). */
export interface GlobalOptions {
  json?: boolean;
  rpc?: string;
  deployments?: string;
  indexer?: string;
  executor?: string;
  keystore?: string;
  devAccount?: string;
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

export function outputFor(command: Command): Output {
  return new Output(Boolean(globalOptions(command).json));
}

export async function loadDeploymentFile(file: string): Promise<Deployment> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new CliError(`Cannot read the deployments file ${file}.`, ExitCode.unavailable, "Is the local stack running (`npm start`)? Or pass --deployments FILE.");
  }
  try {
    return parseDeployment(JSON.parse(text), file);
  } catch (error) {
    if (error instanceof DeploymentError || error instanceof SyntaxError) throw new CliError(error.message, ExitCode.usage);
    throw error;
  }
}

/** A Glassbox client for this command: connection from flags/env/dev stack, wallet if asked for. */
export async function connect(command: Command, opts: { wallet: "required" | "optional" | "none" }): Promise<{ glassbox: Glassbox; connection: Connection; account?: LocalAccount }> {
  const flags = globalOptions(command);
  const connection = resolveConnection(flags);
  const deployment = await loadDeploymentFile(connection.deploymentsFile);
  let account: LocalAccount | undefined;
  if (opts.wallet === "required") account = await loadAccount(flags, deployment.chainId);
  else if (opts.wallet === "optional") account = await loadAccount(flags, deployment.chainId).catch(() => undefined);
  const glassbox = new Glassbox({
    rpcUrl: connection.rpcUrl,
    deployment,
    ...(account ? { account } : {}),
    ...(connection.indexerUrl ? { indexerUrl: connection.indexerUrl } : {}),
    ...(connection.executorUrl ? { executorUrl: connection.executorUrl } : {}),
    // Channels and receipts live in the config dir, per chain and payer, so they survive across runs.
    ...(account ? { channelStorage: new FileClientChannelStorage({ directory: channelStorageDir(deployment.chainId, account.address) }) } : {}),
    receiptStore: new FileReceiptStore(receiptStoreDir(deployment.chainId)),
  });
  return account ? { glassbox, connection, account } : { glassbox, connection };
}
