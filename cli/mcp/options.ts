/**
 * `glassbox mcp`'s settings: flags over a config file (`--config mcp.json`) over defaults. The
 * config file holds what an agent's MCP configuration would otherwise repeat on the command line:
 *
 * {
 *   "tools": ["acme/markdown@^1", "acme/text-stats"],
 *   "policy": { "maxPerCall": "10000", "maxPerDay": "500000", "allowedPackages": ["acme/*"] },
 *   "stateFile": "spend.json",
 *   "wallet": { "keystore": "agent.json" },          // or { "devAccount": 3 } on the local chain
 *   "connection": { "rpc": "...", "deployments": "...", "indexer": "...", "executor": "..." },
 *   "http": { "port": 3333, "host": "127.0.0.1" },
 *   "payment": { "deposit": "1000000" }               // pay through channels, depositing this when one needs funds
 * }
 *
 * Amounts are USDC base units (6 decimals) as decimal strings or integers. Relative paths are
 * relative to the config file.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import type { SpendPolicyConfig } from "../../sdk/spend-policy.ts";
import { packageGlob } from "../../sdk/spend-policy.ts";
import type { GlobalOptions } from "../context.ts";
import { CliError, ExitCode } from "../ui.ts";

/** Without a configured limit, an agent spends at most 0.10 USDC a call and 1 USDC a day. */
export const DEFAULT_MAX_PER_CALL = 100_000n;
export const DEFAULT_MAX_PER_DAY = 1_000_000n;

export interface McpFlags {
  config?: string;
  tool?: string[];
  maxPerCall?: string;
  maxPerDay?: string;
  allow?: string[];
  stateFile?: string;
  http?: string;
  host?: string;
  deposit?: string;
}

export interface McpSettings {
  tools: string[];
  policy: SpendPolicyConfig;
  /** Where the day's spending is kept; undefined: derived from the wallet and chain. */
  stateFile?: string;
  /** Wallet and connection: the CLI's global options, flags first. */
  globals: GlobalOptions;
  http?: { port: number; host: string };
  /**
   * How paid calls pay: through a channel (x402 batch-settlement) depositing `deposit` whenever one
   * needs funds, or, without a deposit, `exact` per call (a server cannot ask anyone to agree to one).
   */
  payment: { scheme: "channel"; deposit: bigint } | { scheme: "exact" };
}

interface ConfigFile {
  tools?: unknown;
  policy?: { maxPerCall?: unknown; maxPerDay?: unknown; allowedPackages?: unknown };
  stateFile?: unknown;
  wallet?: { keystore?: unknown; devAccount?: unknown };
  connection?: { rpc?: unknown; deployments?: unknown; indexer?: unknown; executor?: unknown };
  http?: { port?: unknown; host?: unknown };
  payment?: { deposit?: unknown };
}

const KNOWN_KEYS: Record<string, string[]> = {
  "": ["tools", "policy", "stateFile", "wallet", "connection", "http", "payment"],
  policy: ["maxPerCall", "maxPerDay", "allowedPackages"],
  wallet: ["keystore", "devAccount"],
  connection: ["rpc", "deployments", "indexer", "executor"],
  http: ["port", "host"],
  payment: ["deposit"],
};

function invalid(where: string, problem: string): never {
  throw new CliError(`${where}: ${problem}`, ExitCode.usage);
}

function amount(value: unknown, field: string): bigint | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== "string" || !/^\d{1,30}$/.test(text)) invalid(field, `expected USDC base units as a whole number (e.g. "10000" for 0.01 USDC), got ${JSON.stringify(value)}`);
  return BigInt(text);
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) invalid(field, "expected an array of strings");
  return value as string[];
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0) invalid(field, "expected a non-empty string");
  return value;
}

function port(value: unknown, field: string): number {
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65535) invalid(field, `expected a TCP port (0 picks a free one), got ${JSON.stringify(value)}`);
  return n;
}

async function readConfig(file: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(`Cannot read the MCP config ${file}: ${(error as Error).message}`, ExitCode.usage);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new CliError(`The MCP config ${file} is not JSON: ${(error as Error).message}`, ExitCode.usage);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) invalid(file, "expected a JSON object");
  for (const [section, keys] of Object.entries(KNOWN_KEYS)) {
    const object = section ? (data as Record<string, unknown>)[section] : data;
    if (object === undefined) continue;
    if (typeof object !== "object" || object === null || Array.isArray(object)) invalid(`${file}: ${section}`, "expected an object");
    for (const key of Object.keys(object)) if (!keys.includes(key)) invalid(`${file}: ${section ? `${section}.` : ""}${key}`, `unknown setting (known: ${keys.join(", ")})`);
  }
  return data as ConfigFile;
}

/** Flags over the config file over defaults; every problem names the flag or the setting. */
export async function resolveMcpSettings(flags: McpFlags, globals: GlobalOptions): Promise<McpSettings> {
  const file = flags.config ? path.resolve(flags.config) : undefined;
  const config: ConfigFile = file ? await readConfig(file) : {};
  const at = (field: string) => (file ? `${file}: ${field}` : field);
  const relative = (p: string | undefined) => (p && file ? path.resolve(path.dirname(file), p) : p);

  const tools = [...(stringList(config.tools, at("tools")) ?? []), ...(flags.tool ?? [])];
  const allowed = flags.allow?.length ? flags.allow : stringList(config.policy?.allowedPackages, at("policy.allowedPackages"));
  for (const glob of allowed ?? []) {
    try {
      packageGlob(glob);
    } catch (error) {
      invalid(flags.allow?.length ? "--allow" : at("policy.allowedPackages"), (error as Error).message);
    }
  }
  const policy: SpendPolicyConfig = {
    maxPerCall: amount(flags.maxPerCall, "--max-per-call") ?? amount(config.policy?.maxPerCall, at("policy.maxPerCall")) ?? DEFAULT_MAX_PER_CALL,
    maxPerDay: amount(flags.maxPerDay, "--max-per-day") ?? amount(config.policy?.maxPerDay, at("policy.maxPerDay")) ?? DEFAULT_MAX_PER_DAY,
    ...(allowed ? { allowedPackages: allowed } : {}),
  };

  const devAccount = config.wallet?.devAccount;
  if (devAccount !== undefined && !(typeof devAccount === "number" || typeof devAccount === "string")) invalid(at("wallet.devAccount"), "expected a dev account index");
  const connection = config.connection ?? {};
  const globalsMerged: GlobalOptions = { ...globals };
  const fill = (key: keyof GlobalOptions, value: string | undefined) => {
    if (value !== undefined && globalsMerged[key] === undefined) (globalsMerged as Record<string, unknown>)[key] = value;
  };
  // A wallet given on the command line or in the environment wins over the config file's.
  const walletFromEnvironment = Boolean(process.env.GLASSBOX_PRIVATE_KEY || process.env.GLASSBOX_KEYSTORE);
  if (!walletFromEnvironment && globals.keystore === undefined && globals.devAccount === undefined) {
    fill("keystore", relative(optionalString(config.wallet?.keystore, at("wallet.keystore"))));
    if (devAccount !== undefined) fill("devAccount", String(devAccount));
  }
  fill("rpc", optionalString(connection.rpc, at("connection.rpc")));
  fill("deployments", relative(optionalString(connection.deployments, at("connection.deployments"))));
  fill("indexer", optionalString(connection.indexer, at("connection.indexer")));
  fill("executor", optionalString(connection.executor, at("connection.executor")));

  const deposit = amount(flags.deposit, "--deposit") ?? amount(config.payment?.deposit, at("payment.deposit"));
  if (deposit === 0n) invalid(flags.deposit !== undefined ? "--deposit" : at("payment.deposit"), "a channel deposit must be more than 0 (leave it out to pay with exact)");
  const payment: McpSettings["payment"] = deposit !== undefined ? { scheme: "channel", deposit } : { scheme: "exact" };
  const settings: McpSettings = { tools, policy, globals: globalsMerged, payment };
  const stateFile = flags.stateFile ? path.resolve(flags.stateFile) : relative(optionalString(config.stateFile, at("stateFile")));
  if (stateFile) settings.stateFile = stateFile;
  if (flags.http !== undefined || config.http?.port !== undefined) {
    settings.http = {
      port: flags.http !== undefined ? port(flags.http, "--http") : port(config.http?.port, at("http.port")),
      host: flags.host ?? optionalString(config.http?.host, at("http.host")) ?? "127.0.0.1",
    };
  }
  return settings;
}

/** The default spend state file: one per wallet and chain, beside the CLI's other state. */
export function defaultStateFile(address: string, chainId: number): string {
  const home = process.env.GLASSBOX_HOME ?? path.join(homedir(), ".glassbox");
  return path.join(home, "spend", `${chainId}-${address.toLowerCase()}.json`);
}
