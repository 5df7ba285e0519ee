import { parseDeployment, type Deployment } from "../../sdk/deployment.ts";

/**
 * Where a catalog build reads from and pays on: served as `config.json` next to index.html (written
 * by `npm run build:web -- --indexer ... --rpc ... --deployments ...`, or by `npm start`), so one
 * static build serves any deployment.
 */
export interface WebConfig {
  indexerUrl: string;
  rpcUrl: string;
  deployment: Deployment;
  /** Shown by wallets when they add the chain. */
  chainName: string;
  /** An executor to try first; the others come from the catalog. */
  executorUrl?: string;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

function url(value: unknown, field: string): string {
  if (typeof value !== "string" || !/^https?:\/\/[^\s]+$/.test(value)) throw new ConfigError(`config.json: "${field}" must be an http(s) URL, got ${JSON.stringify(value)}.`);
  return value.replace(/\/+$/, "");
}

export function parseWebConfig(value: unknown): WebConfig {
  if (typeof value !== "object" || value === null) throw new ConfigError("config.json must be a JSON object.");
  const raw = value as Record<string, unknown>;
  const deployment = parseDeployment(raw.deployment, "config.json deployment");
  const config: WebConfig = {
    indexerUrl: url(raw.indexerUrl, "indexerUrl"),
    rpcUrl: url(raw.rpcUrl, "rpcUrl"),
    deployment,
    chainName: typeof raw.chainName === "string" && raw.chainName ? raw.chainName : deployment.chainId === 31337 ? "Glassbox local" : `Chain ${deployment.chainId}`,
  };
  if (raw.executorUrl !== undefined) config.executorUrl = url(raw.executorUrl, "executorUrl");
  return config;
}

export async function loadWebConfig(): Promise<WebConfig> {
  let response: Response;
  try {
    response = await fetch("config.json", { cache: "no-store" });
  } catch (error) {
    throw new ConfigError(`Cannot load config.json: ${(error as Error).message}`);
  }
  if (!response.ok) {
    throw new ConfigError(
      `This catalog has no config.json (${response.status}): build it with \`npm run build:web -- --indexer URL --rpc URL --deployments FILE\`, or put a config.json next to index.html.`,
    );
  }
  return parseWebConfig(await response.json().catch(() => {
    throw new ConfigError("config.json is not valid JSON.");
  }));
}
