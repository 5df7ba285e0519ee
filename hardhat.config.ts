import { createRequire } from "node:module";
import path from "node:path";
import { defineConfig } from "hardhat/config";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import hardhatViemAssertions from "@nomicfoundation/hardhat-viem-assertions";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";

// The soliditylang binaries host is unreachable here: compile with the npm `solc` (pinned, 0.8.28).
const require = createRequire(import.meta.url);
const soljson = path.join(path.dirname(require.resolve("solc/package.json")), "soljson.js");

export default defineConfig({
  plugins: [hardhatViem, hardhatViemAssertions, hardhatNetworkHelpers],
  solidity: {
    version: "0.8.28",
    path: soljson,
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun" },
  },
  paths: {
    sources: "contracts/src",
    tests: { solidity: "contracts/test" },
    artifacts: "artifacts",
    cache: "cache",
  },
  networks: {
    default: {
      type: "edr-simulated",
      chainType: "l1",
      chainId: 31337,
      // Automine bumps timestamps >= 1 s per block; under load the chain clock runs ahead and
      // EIP-3009 authorizations expire. Same-timestamp blocks keep chain time near wall time.
      allowBlocksWithSameTimestamp: true,
    },
    localhost: {
      type: "http",
      chainType: "l1",
      url: process.env.GLASSBOX_RPC_URL ?? "http://127.0.0.1:8545",
    },
  },
});
