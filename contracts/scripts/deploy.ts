/**
 * Deploys Glassbox (LocalUSDC unless a USDC address is given, CapabilityRegistry, Settlement) with viem, wires
 * the registry to Settlement (one-time setSettlement, so splits refuse recipients that can never claim), installs
 * the x402 batch-settlement contracts on dev chains (contracts/scripts/x402.ts; elsewhere they must exist at their
 * canonical addresses) and writes deployments/<chainId>.json.
 *   GLASSBOX_DEPLOYER_KEY=0x... tsx contracts/scripts/deploy.ts --rpc http://127.0.0.1:8545 [--usdc 0x...]
 *     [--surplus-recipient 0x...] [--out DIR]
 * Settlement's surplusRecipient (where stray USDC can be swept, immutable) is the deployer unless given.
 * Without GLASSBOX_DEPLOYER_KEY the Hardhat dev account #0 is used, on chain 31337 only.
 */
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { createPublicClient, createWalletClient, getAddress, http, isAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  capabilityRegistryAbi,
  capabilityRegistryBytecode,
  localUsdcAbi,
  localUsdcBytecode,
  settlementAbi,
  settlementBytecode,
} from "../../sdk/abi.ts";
import type { Deployment } from "../../sdk/deployment.ts";
import { writeDeployment } from "../../sdk/deployments.ts";
import { devPrivateKey } from "../../sdk/dev-accounts.ts";
import { ensureX402Contracts } from "./x402.ts";

/** Hardhat's well-known dev account #0: only ever used on chain 31337. */
export const HARDHAT_DEV_KEY_0: Hex = devPrivateKey(0);

export interface DeployOptions {
  rpcUrl: string;
  deployerKey: Hex;
  /** An existing EIP-3009 USDC (e.g. Circle's on Base); LocalUSDC is deployed when absent. */
  usdc?: Address;
  /** Where Settlement.sweepSurplus sends stray funds (immutable); the deployer when absent. */
  surplusRecipient?: Address;
  /** Directory for <chainId>.json (default: deployments/ at the repository root). */
  deploymentsDir?: string;
  /** Set false to skip writing the deployments file. */
  write?: boolean;
}

export async function deployGlassbox(options: DeployOptions): Promise<Deployment & { file?: string }> {
  const account = privateKeyToAccount(options.deployerKey);
  const transport = http(options.rpcUrl);
  const publicClient = createPublicClient({ transport });
  const chainId = await publicClient.getChainId();
  const chain = {
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [options.rpcUrl] } },
  } as const;
  const wallet = createWalletClient({ account, chain, transport });

  // One transaction at a time, each waited for: a plain sequence needs no nonce manager.
  const deployed = async (hash: Hex, what: string): Promise<{ address: Address; block: number }> => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success" || !receipt.contractAddress) {
      throw new Error(`Deploying ${what} failed (transaction ${hash}, status ${receipt.status}).`);
    }
    return { address: getAddress(receipt.contractAddress), block: Number(receipt.blockNumber) };
  };

  const blocks: number[] = [];
  let usdc: Address;
  if (options.usdc) {
    usdc = getAddress(options.usdc);
  } else {
    const local = await deployed(
      await wallet.deployContract({ abi: localUsdcAbi, bytecode: localUsdcBytecode, args: [] }),
      "LocalUSDC",
    );
    usdc = local.address;
    blocks.push(local.block);
  }
  const registry = await deployed(
    await wallet.deployContract({ abi: capabilityRegistryAbi, bytecode: capabilityRegistryBytecode, args: [] }),
    "CapabilityRegistry",
  );
  const settlement = await deployed(
    await wallet.deployContract({
      abi: settlementAbi,
      bytecode: settlementBytecode,
      args: [registry.address, usdc, getAddress(options.surplusRecipient ?? account.address)],
    }),
    "Settlement",
  );
  blocks.push(registry.block, settlement.block);
  const wiring = await publicClient.waitForTransactionReceipt({
    hash: await wallet.writeContract({
      address: registry.address,
      abi: capabilityRegistryAbi,
      functionName: "setSettlement",
      args: [settlement.address],
    }),
  });
  if (wiring.status !== "success") {
    throw new Error(`Wiring the registry to Settlement failed (transaction ${wiring.transactionHash}).`);
  }
  const x402 = await ensureX402Contracts(options.rpcUrl);

  const deployment: Deployment = {
    chainId,
    startBlock: Math.min(...blocks),
    contracts: {
      registry: registry.address,
      settlement: settlement.address,
      usdc,
      batchSettlement: x402.batchSettlement,
      erc3009DepositCollector: x402.erc3009DepositCollector,
    },
  };
  if (options.write === false) return deployment;
  const file = await writeDeployment(deployment, options.deploymentsDir);
  return { ...deployment, file };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rpc: { type: "string" },
      usdc: { type: "string" },
      "surplus-recipient": { type: "string" },
      out: { type: "string" },
    },
  });
  const rpcUrl = values.rpc ?? process.env.GLASSBOX_RPC_URL;
  if (!rpcUrl) throw new Error("Missing --rpc <url> (or GLASSBOX_RPC_URL): the JSON-RPC endpoint to deploy to.");
  if (values.usdc !== undefined && !isAddress(values.usdc)) {
    throw new Error(`--usdc ${values.usdc} is not an address: pass the EIP-3009 USDC contract address.`);
  }
  const surplus = values["surplus-recipient"];
  if (surplus !== undefined && !isAddress(surplus)) {
    throw new Error(`--surplus-recipient ${surplus} is not an address: pass where stray USDC may be swept to.`);
  }
  let deployerKey = process.env.GLASSBOX_DEPLOYER_KEY as Hex | undefined;
  if (!deployerKey) {
    const chainId = await createPublicClient({ transport: http(rpcUrl) }).getChainId();
    if (chainId !== 31337) {
      throw new Error(`GLASSBOX_DEPLOYER_KEY is not set: it is required on chain ${chainId} (only 31337 has a default).`);
    }
    deployerKey = HARDHAT_DEV_KEY_0;
  }
  const result = await deployGlassbox({
    rpcUrl,
    deployerKey,
    ...(values.usdc ? { usdc: values.usdc as Address } : {}),
    ...(surplus ? { surplusRecipient: surplus } : {}),
    ...(values.out ? { deploymentsDir: values.out } : {}),
  });
  console.log(JSON.stringify(result, null, 2));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
