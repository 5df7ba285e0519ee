import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { getAddress, isAddress, type Address } from "viem";
import { PACKAGE_ROOT } from "./package-root.ts";

/** Where the contracts of one chain live: deployments/<chainId>.json. */
export interface Deployment {
  chainId: number;
  /** First block to index (the earliest deployment transaction of this set). */
  startBlock: number;
  contracts: {
    registry: Address;
    settlement: Address;
    usdc: Address;
  };
}

export class DeploymentError extends Error {
  override name = "DeploymentError";
}

/** deployments/ at the repository root, unless GLASSBOX_DEPLOYMENTS_DIR says otherwise. */
export function defaultDeploymentsDir(): string {
  return process.env.GLASSBOX_DEPLOYMENTS_DIR ?? path.join(PACKAGE_ROOT, "deployments");
}

export function deploymentPath(chainId: number, dir: string = defaultDeploymentsDir()): string {
  return path.join(dir, `${chainId}.json`);
}

/** Validates parsed JSON as a Deployment; errors name the field. */
export function parseDeployment(value: unknown, source = "deployment"): Deployment {
  const fail = (field: string, expected: string): never => {
    throw new DeploymentError(`Invalid ${source}: "${field}" must be ${expected}.`);
  };
  if (typeof value !== "object" || value === null) return fail("(root)", "an object");
  const record = value as Record<string, unknown>;
  const { chainId, startBlock, contracts } = record;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) {
    fail("chainId", "a positive integer");
  }
  if (typeof startBlock !== "number" || !Number.isSafeInteger(startBlock) || startBlock < 0) {
    fail("startBlock", "a non-negative integer");
  }
  if (typeof contracts !== "object" || contracts === null) return fail("contracts", "an object");
  const addresses = contracts as Record<string, unknown>;
  const address = (name: "registry" | "settlement" | "usdc"): Address => {
    const raw = addresses[name];
    if (typeof raw !== "string" || !isAddress(raw, { strict: false })) {
      return fail(`contracts.${name}`, "a 0x-prefixed 20-byte address");
    }
    return getAddress(raw);
  };
  return {
    chainId: chainId as number,
    startBlock: startBlock as number,
    contracts: { registry: address("registry"), settlement: address("settlement"), usdc: address("usdc") },
  };
}

/** Loads deployments/<chainId>.json; a missing file says how to create it. */
export async function loadDeployment(chainId: number, dir: string = defaultDeploymentsDir()): Promise<Deployment> {
  const file = deploymentPath(chainId, dir);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new DeploymentError(
        `No Glassbox deployment for chain ${chainId} (${file} is missing): ` +
          `deploy with \`tsx contracts/scripts/deploy.ts --rpc <url>\` first.`,
      );
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DeploymentError(`${file} is not valid JSON: redeploy or fix the file.`);
  }
  const deployment = parseDeployment(json, file);
  if (deployment.chainId !== chainId) {
    throw new DeploymentError(`${file} is for chain ${deployment.chainId}, not ${chainId}.`);
  }
  return deployment;
}

export async function writeDeployment(deployment: Deployment, dir: string = defaultDeploymentsDir()): Promise<string> {
  const file = deploymentPath(deployment.chainId, dir);
  await mkdir(dir, { recursive: true });
  await writeFile(file, `${JSON.stringify(parseDeployment(deployment), null, 2)}\n`);
  return file;
}
