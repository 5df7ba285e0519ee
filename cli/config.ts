import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { PACKAGE_ROOT } from "../sdk/package-root.ts";
import { CliError, ExitCode } from "./ui.ts";

/** The clone the CLI runs from (also when installed with `npm link`: the link points here). */
export const REPO_ROOT = PACKAGE_ROOT;

/** The CLI's config dir: GLASSBOX_HOME, else ~/.glassbox. */
export function glassboxHome(): string {
  return process.env.GLASSBOX_HOME || path.join(homedir(), ".glassbox");
}

/** Where `glassbox dev` records the running local stack, so every other command finds it. */
export function devStatePath(): string {
  return path.join(glassboxHome(), "dev.json");
}

/** The stock x402 client's channel records of one payer on one chain (they survive across runs). */
export function channelStorageDir(chainId: number, payer: string): string {
  return path.join(glassboxHome(), "channels", String(chainId), payer.toLowerCase());
}

/** Licensed components downloaded for `glassbox run` (by componentHash, checked again on every read), and their prepared artefacts. */
export function licensedComponentsDir(): string {
  return path.join(glassboxHome(), "components");
}

/** The payer's verified receipts on one chain (one JSON Lines file per payer). */
export function receiptStoreDir(chainId: number): string {
  return path.join(glassboxHome(), "receipts", String(chainId));
}

export interface DevState {
  pid: number;
  rpcUrl: string;
  chainId: number;
  deploymentsFile: string;
  indexerUrl: string;
  executorUrl: string;
  /** Every executor of the stack (`npm start -- --executors N`), the first one first. */
  executorUrls?: string[];
  startedAt: string;
}

export function readDevState(): DevState | undefined {
  const file = devStatePath();
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, "utf8")) as DevState;
    // A state file left by a stack that is gone must not send commands to dead ports.
    process.kill(state.pid, 0);
    return state;
  } catch {
    return undefined;
  }
}

export interface ConnectionOptions {
  rpc?: string;
  deployments?: string;
  indexer?: string;
  executor?: string;
}

export interface Connection {
  rpcUrl: string;
  deploymentsFile: string;
  indexerUrl?: string;
  executorUrl?: string;
}

/** Flags, then GLASSBOX_* env, then the running `glassbox dev` stack; an empty value counts as unset. */
export function resolveConnection(opts: ConnectionOptions): Connection {
  const dev = readDevState();
  const rpcUrl = opts.rpc || process.env.GLASSBOX_RPC_URL || dev?.rpcUrl;
  const deploymentsFile = opts.deployments || process.env.GLASSBOX_DEPLOYMENTS || dev?.deploymentsFile;
  if (!rpcUrl || !deploymentsFile) {
    throw new CliError(
      "No chain to talk to: no --rpc/--deployments, no GLASSBOX_RPC_URL/GLASSBOX_DEPLOYMENTS, and no running local stack.",
      ExitCode.unavailable,
      "Start the local stack with `npm start` (or `glassbox dev`) in another terminal, or pass --rpc URL --deployments FILE.",
    );
  }
  const connection: Connection = { rpcUrl, deploymentsFile };
  const indexerUrl = opts.indexer || process.env.GLASSBOX_INDEXER_URL || dev?.indexerUrl;
  const executorUrl = opts.executor || process.env.GLASSBOX_EXECUTOR_URL || dev?.executorUrl;
  if (indexerUrl) connection.indexerUrl = indexerUrl;
  if (executorUrl) connection.executorUrl = executorUrl;
  return connection;
}
