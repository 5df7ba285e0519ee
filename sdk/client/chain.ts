import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Abi,
  type Account,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { explainRevert, GlassboxError } from "./errors.ts";

export function chainFor(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: chainId === 31337 ? "Glassbox local" : `eip155:${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

export interface ChainClients {
  chain: Chain;
  publicClient: PublicClient<Transport, Chain>;
  walletClient?: WalletClient<Transport, Chain, Account>;
}

export function createChainClients(rpcUrl: string, chainId: number, account?: Account): ChainClients {
  const chain = chainFor(chainId, rpcUrl);
  const transport = http(rpcUrl, { retryCount: 1, timeout: 20_000 });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 100 });
  if (!account) return { chain, publicClient };
  return { chain, publicClient, walletClient: createWalletClient({ chain, transport, account }) };
}

/**
 * Simulates (so a revert surfaces as the contract's custom error, before any gas is spent),
 * sends, and waits for the receipt of one contract write.
 */
export async function sendContractTx(
  clients: ChainClients,
  action: string,
  request: { address: `0x${string}`; abi: Abi; functionName: string; args: readonly unknown[] },
): Promise<`0x${string}`> {
  const wallet = clients.walletClient;
  if (!wallet) throw new GlassboxError("NO_WALLET", `${action} needs a wallet.`, "Pass an account (CLI: --keystore, GLASSBOX_PRIVATE_KEY or --dev-account).");
  try {
    const { request: simulated } = await clients.publicClient.simulateContract({ ...request, account: wallet.account });
    const hash = await wallet.writeContract(simulated);
    const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new GlassboxError("TX_REVERTED", `${action}: transaction ${hash} reverted.`);
    return hash;
  } catch (error) {
    throw explainRevert(error, action);
  }
}
