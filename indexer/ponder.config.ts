import path from "node:path";
import { fileURLToPath } from "node:url";
import { createConfig } from "ponder";
import { createPublicClient, http } from "viem";
import { batchSettlementAbi, capabilityRegistryAbi, eip3009TokenAbi, settlementAbi } from "./lib/abis.ts";
import { loadSettings } from "./lib/settings.ts";

// Relative paths in the environment (GLASSBOX_DEPLOYMENTS, GLASSBOX_INDEXER_DIR) are relative to the repository root.
const settings = loadSettings(process.env, path.resolve(path.dirname(fileURLToPath(import.meta.url)), ".."));

// Started from addresses alone (no deployments file, no GLASSBOX_USDC): the token is the one Settlement pays in.
const usdc =
  settings.usdc ??
  (await createPublicClient({ transport: http(settings.rpcUrl) }).readContract({
    address: settings.settlement,
    abi: settlementAbi,
    functionName: "usdc",
  }));

export default createConfig({
  database: settings.database,
  ordering: "omnichain",
  chains: {
    glassbox: {
      id: settings.chainId,
      rpc: settings.rpcUrl,
      pollingInterval: settings.pollingIntervalMs,
      // A local dev chain is reset often: a cached RPC response from a previous chain would be wrong.
      disableCache: settings.chainId === 31337,
    },
  },
  contracts: {
    CapabilityRegistry: {
      chain: "glassbox",
      abi: capabilityRegistryAbi,
      address: settings.registry,
      startBlock: settings.startBlock,
    },
    Settlement: {
      chain: "glassbox",
      abi: settlementAbi,
      address: settings.settlement,
      startBlock: settings.startBlock,
    },
    // The x402 batch-settlement channel contract (canonical address): every channel, whatever its receiver;
    // the API shows those of registered executors and their payers.
    Channels: {
      chain: "glassbox",
      abi: batchSettlementAbi,
      address: settings.batchSettlement,
      startBlock: settings.startBlock,
    },
    // Only AuthorizationUsed has a handler: an `exact` payment is an EIP-3009 authorization whose transfer
    // pays a registered executor (the handler reads that transfer from the transaction's logs).
    Usdc: {
      chain: "glassbox",
      abi: eip3009TokenAbi,
      address: usdc,
      startBlock: settings.startBlock,
    },
  },
});
