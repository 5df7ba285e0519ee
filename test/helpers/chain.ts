import { network } from "hardhat";
import type { NetworkConfigOverride } from "hardhat/types/config";
import { createPublicClient, createTestClient, http } from "viem";
import { LOCAL_CHAIN_ID } from "../../sdk/dev-accounts.ts";
import { hardhat } from "viem/chains";

export { DEV_MNEMONIC, devAccount, devPrivateKey, LOCAL_CHAIN_ID } from "../../sdk/dev-accounts.ts";

export interface LocalChain {
  rpcUrl: string;
  port: number;
  chainId: number;
  /** Mines exactly one block (hardhat_mine with a count > 1 writes zero parentHashes that break Ponder). */
  mineBlock(): Promise<void>;
  blockNumber(): Promise<bigint>;
  close(): Promise<void>;
}

/**
 * Starts a Hardhat (EDR) JSON-RPC server in this process on 127.0.0.1 and a free port: the same chain
 * `hardhat node` runs (the `default` network of hardhat.config.ts: chain 31337, automine, same-timestamp
 * blocks allowed), reachable over HTTP by child processes such as Ponder. `override` changes the network
 * config for this chain only (e.g. `{ blockGasLimit, initialBaseFeePerGas }` for bulk seeding).
 */
export async function startLocalChain(override?: NetworkConfigOverride): Promise<LocalChain> {
  const server = await network.createServer(override ? { network: "default", override } : "default", "127.0.0.1", 0);
  const { port } = await server.listen();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const chain = { ...hardhat, rpcUrls: { default: { http: [rpcUrl] } } };
  const testClient = createTestClient({ chain, mode: "hardhat", transport: http(rpcUrl) });
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });
  return {
    rpcUrl,
    port,
    chainId: LOCAL_CHAIN_ID,
    mineBlock: () => testClient.mine({ blocks: 1 }),
    blockNumber: () => publicClient.getBlockNumber(),
    close: () => server.close(),
  };
}
