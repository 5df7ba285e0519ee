import { network } from "hardhat";
import type { NetworkConfigOverride } from "hardhat/types/config";
import { createPublicClient, createTestClient, http, type Hex, type LocalAccount } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";

/** Hardhat's default development mnemonic: its accounts are funded with 10,000 ETH on every local chain. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
export const LOCAL_CHAIN_ID = 31337;

/** Development account `index` of the default mnemonic (0 is the usual deployer). */
export function devAccount(index: number): LocalAccount {
  return mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index });
}

/** The private key of development account `index`, for APIs that take a key (deploy scripts, CLIs). */
export function devPrivateKey(index: number): Hex {
  const key = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }).getHdKey().privateKey;
  if (!key) throw new Error(`could not derive the private key of development account ${index}`);
  return `0x${Buffer.from(key).toString("hex")}`;
}

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
