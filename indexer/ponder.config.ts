import path from "node:path";
import { fileURLToPath } from "node:url";
import { createConfig } from "ponder";
import { capabilityRegistryAbi, settlementAbi } from "./lib/abis.ts";
import { loadSettings } from "./lib/settings.ts";

// Relative paths in the environment (GLASSBOX_DEPLOYMENTS, GLASSBOX_INDEXER_DIR) are relative to the repository root.
const settings = loadSettings(process.env, path.resolve(path.dirname(fileURLToPath(import.meta.url)), ".."));

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
  },
});
