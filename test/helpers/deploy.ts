import { deployGlassbox } from "../../contracts/scripts/deploy.ts";
import type { Deployment } from "../../sdk/deployment.ts";
import { devPrivateKey } from "./chain.ts";

/**
 * Deploys LocalUSDC, CapabilityRegistry and Settlement with the real deploy script, without writing
 * deployments/<chainId>.json (parallel tests share chain id 31337): pass the result around instead.
 */
export async function deployForTest(rpcUrl: string, deployerIndex = 0): Promise<Deployment> {
  const { chainId, startBlock, contracts } = await deployGlassbox({ rpcUrl, deployerKey: devPrivateKey(deployerIndex), write: false });
  return { chainId, startBlock, contracts };
}
