import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { DeploymentError, parseDeployment, type Deployment } from "./deployment.ts";
import { PACKAGE_ROOT } from "./package-root.ts";

/** Node only: deployments/<chainId>.json files. The shape and its validation are in deployment.ts (isomorphic). */

/** deployments/ at the repository root, unless GLASSBOX_DEPLOYMENTS_DIR says otherwise. */
export function defaultDeploymentsDir(): string {
  return process.env.GLASSBOX_DEPLOYMENTS_DIR ?? path.join(PACKAGE_ROOT, "deployments");
}

export function deploymentPath(chainId: number, dir: string = defaultDeploymentsDir()): string {
  return path.join(dir, `${chainId}.json`);
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
