import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hex,
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

/** A function of `abi` that a transaction can call (nonpayable or payable). */
export type WriteFunctionName<abi extends Abi> = ContractFunctionName<abi, "nonpayable" | "payable">;

/**
 * The args of `functionName` as viem types them. viem's type is a conditional that tsc cannot see is
 * always a tuple while `functionName` is still generic, hence the `readonly unknown[]`.
 */
export type WriteArgs<abi extends Abi, functionName extends WriteFunctionName<abi>> = ContractFunctionArgs<abi, "nonpayable" | "payable", functionName> &
  readonly unknown[];

/**
 * Simulates (so a revert surfaces as the contract's custom error, before any gas is spent),
 * sends, and waits for the receipt of one contract write. `functionName` and `args` are checked
 * against `abi` at the call site.
 */
export async function sendContractTx<const abi extends Abi, functionName extends WriteFunctionName<abi>, const args extends WriteArgs<abi, functionName>>(
  clients: ChainClients,
  action: string,
  request: { address: Address; abi: abi; functionName: functionName; args: args },
): Promise<Hex> {
  const wallet = clients.walletClient;
  if (!wallet) throw new GlassboxError("NO_WALLET", `${action} needs a wallet.`, "Pass an account (CLI: --keystore, GLASSBOX_PRIVATE_KEY or --dev-account).");
  try {
    // viem's parameter types hang on conditionals over `abi` that tsc cannot resolve while it is generic;
    // the signature has checked the request, so hand it on at the plain `Abi` width (a widening, not a cast).
    const checked: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] } = request;
    const { request: simulated } = await clients.publicClient.simulateContract({ ...checked, account: wallet.account });
    const hash = await wallet.writeContract(simulated);
    const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new GlassboxError("TX_REVERTED", `${action}: transaction ${hash} reverted.`);
    return hash;
  } catch (error) {
    throw explainRevert(error, action);
  }
}
