import { createConfig } from "ponder";
import { capabilityRegistryAbi, settlementAbi } from "./src/abis.ts";
import { loadSettings } from "./src/settings.ts";

const settings = loadSettings();

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
