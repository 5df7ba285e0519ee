/**
 * Installs Glassbox's own x402 batch-settlement contracts on a dev chain at the canonical addresses the stock
 * @x402/evm client and facilitator hard-code: the channel contract, the ERC-3009 deposit collector, and Multicall3
 * (the stock facilitator reads channel state through its `tryAggregate`). Nothing is compiled at run time: the
 * runtime bytecode comes from sdk/abi.ts and is written with `hardhat_setCode` (the contracts keep no state in a
 * constructor, so the runtime code alone is the whole contract).
 *   tsx contracts/scripts/x402.ts --rpc http://127.0.0.1:8545
 */
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { createPublicClient, http, type Address, type Hex } from "viem";
import {
  batchSettlementDeployedBytecode,
  erc3009DepositCollectorDeployedBytecode,
  multicall3DeployedBytecode,
} from "../../sdk/abi.ts";
import {
  BATCH_SETTLEMENT_ADDRESS,
  ERC3009_DEPOSIT_COLLECTOR_ADDRESS,
  MULTICALL3_ADDRESS,
} from "../../sdk/x402-contracts.ts";

/** Chains whose node accepts `hardhat_setCode` and where installing our own code is legitimate. */
export const DEV_CHAIN_IDS: readonly number[] = [31337, 1337];

export interface X402Contracts {
  batchSettlement: Address;
  erc3009DepositCollector: Address;
  multicall3: Address;
}

const CANONICAL_X402_CONTRACTS: X402Contracts = {
  batchSettlement: BATCH_SETTLEMENT_ADDRESS,
  erc3009DepositCollector: ERC3009_DEPOSIT_COLLECTOR_ADDRESS,
  multicall3: MULTICALL3_ADDRESS,
};

/** What gets installed where: runtime code from sdk/abi.ts at each canonical address. */
export const X402_INSTALLS: readonly { name: keyof X402Contracts; address: Address; code: Hex }[] = [
  { name: "batchSettlement", address: BATCH_SETTLEMENT_ADDRESS, code: batchSettlementDeployedBytecode },
  { name: "erc3009DepositCollector", address: ERC3009_DEPOSIT_COLLECTOR_ADDRESS, code: erc3009DepositCollectorDeployedBytecode },
  { name: "multicall3", address: MULTICALL3_ADDRESS, code: multicall3DeployedBytecode },
];

/**
 * Writes the x402 contracts' runtime code at their canonical addresses on the dev chain at `rpcUrl` and checks it
 * landed. Idempotent (re-installing replaces the code and keeps the storage, i.e. open channels).
 * Refuses any chain but a dev chain: on public chains the canonical deployments are used.
 */
export async function installX402Contracts(rpcUrl: string): Promise<X402Contracts> {
  const client = createPublicClient({ transport: http(rpcUrl) });
  const chainId = await client.getChainId();
  if (!DEV_CHAIN_IDS.includes(chainId)) {
    throw new Error(
      `Refusing to install the x402 contracts with hardhat_setCode on chain ${chainId}: only dev chains ` +
        `(${DEV_CHAIN_IDS.join(", ")}) get Glassbox's own implementation; other chains use the canonical deployments.`,
    );
  }
  for (const { name, address, code } of X402_INSTALLS) {
    await client.request<{ Method: "hardhat_setCode"; Parameters: [Address, Hex]; ReturnType: null }>({
      method: "hardhat_setCode",
      params: [address, code],
    });
    const installed = await client.getCode({ address });
    if (installed?.toLowerCase() !== code.toLowerCase()) {
      throw new Error(`Installing ${name} at ${address} failed: the node returned different code afterwards.`);
    }
  }
  return { ...CANONICAL_X402_CONTRACTS };
}

/**
 * The x402 contract addresses for a Glassbox deployment on `rpcUrl`: installed on dev chains, required to exist
 * already (the canonical CREATE2 deployments) elsewhere.
 */
export async function ensureX402Contracts(rpcUrl: string): Promise<X402Contracts> {
  const client = createPublicClient({ transport: http(rpcUrl) });
  const chainId = await client.getChainId();
  if (DEV_CHAIN_IDS.includes(chainId)) return installX402Contracts(rpcUrl);
  for (const { name, address } of X402_INSTALLS) {
    const code = await client.getCode({ address });
    if (!code || code === "0x") {
      throw new Error(
        `No ${name} contract at its canonical address ${address} on chain ${chainId}: x402 batch settlement ` +
          `is not deployed on this chain.`,
      );
    }
  }
  return { ...CANONICAL_X402_CONTRACTS };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rpc: { type: "string" } } });
  const rpcUrl = values.rpc ?? process.env.GLASSBOX_RPC_URL;
  if (!rpcUrl) throw new Error("Missing --rpc <url> (or GLASSBOX_RPC_URL): the dev chain's JSON-RPC endpoint.");
  console.log(JSON.stringify(await installX402Contracts(rpcUrl), null, 2));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
