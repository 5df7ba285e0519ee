import { createStore, type EIP6963ProviderDetail } from "mipd";
import {
  createPublicClient,
  createWalletClient,
  custom,
  getAddress,
  http,
  numberToHex,
  getTypesForEIP712Domain,
  serializeTypedData,
  validateTypedData,
  type Address,
  type EIP1193Provider,
  type Hex,
  type TypedData,
  type TypedDataDefinition,
  type LocalAccount,
} from "viem";
import { toAccount } from "viem/accounts";
import { chainFor, type ChainClients } from "../../sdk/client/chain.ts";
import { GlassboxError } from "../../sdk/client/errors.ts";
import type { WebConfig } from "./config.ts";

export interface Connection {
  wallet: EIP6963ProviderDetail;
  address: Address;
  chainId: number;
}

export interface WalletState {
  /** Injected wallets that announced themselves (EIP-6963). */
  available: readonly EIP6963ProviderDetail[];
  connection?: Connection;
}

const REMEMBERED = "glassbox.wallet";

/**
 * The browser wallet: EIP-6963 discovery (mipd), connection, and the chain check. Transactions are
 * sent by the wallet (a viem wallet client over its EIP-1193 provider); reads go to the catalog's RPC.
 */
export class Wallet {
  private state: WalletState = { available: [] };
  private readonly listeners = new Set<(state: WalletState) => void>();
  private readonly store = createStore();
  private detach?: () => void;

  constructor(private readonly config: WebConfig) {
    this.store.subscribe((available) => {
      this.set({ ...this.state, available });
      void this.reconnect();
    }, { emitImmediately: true });
  }

  get current(): WalletState {
    return this.state;
  }

  get chainId(): number {
    return this.config.deployment.chainId;
  }

  subscribe(listener: (state: WalletState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(state: WalletState): void {
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }

  /** Asks the wallet for an account (the wallet shows its prompt). */
  async connect(wallet: EIP6963ProviderDetail): Promise<Connection> {
    const accounts = await wallet.provider.request({ method: "eth_requestAccounts" });
    return this.attach(wallet, accounts);
  }

  disconnect(): void {
    this.detach?.();
    localStorage.removeItem(REMEMBERED);
    this.set({ available: this.state.available });
  }

  /** Reconnects silently (no prompt) to the wallet used last time, if it still grants an account. */
  private async reconnect(): Promise<void> {
    const rdns = localStorage.getItem(REMEMBERED);
    if (this.state.connection || !rdns) return;
    const wallet = this.state.available.find((w) => w.info.rdns === rdns);
    if (!wallet) return;
    const accounts = await wallet.provider.request({ method: "eth_accounts" }).catch(() => []);
    if (accounts.length > 0 && !this.state.connection) await this.attach(wallet, accounts);
  }

  private async attach(wallet: EIP6963ProviderDetail, accounts: readonly Address[]): Promise<Connection> {
    const first = accounts[0];
    if (!first) throw new GlassboxError("WALLET_NO_ACCOUNT", `${wallet.info.name} gave no account.`, "Unlock the wallet or create an account in it, then connect again.");
    const chainId = Number(await wallet.provider.request({ method: "eth_chainId" }));
    this.detach?.();
    const provider = wallet.provider;
    const onAccounts = (next: readonly Address[]) => {
      const address = next[0];
      if (!address) return this.disconnect();
      if (this.state.connection) this.set({ ...this.state, connection: { ...this.state.connection, address: getAddress(address) } });
    };
    const onChain = (id: string) => {
      if (this.state.connection) this.set({ ...this.state, connection: { ...this.state.connection, chainId: Number(id) } });
    };
    const onDisconnect = () => this.disconnect();
    provider.on("accountsChanged", onAccounts);
    provider.on("chainChanged", onChain);
    provider.on("disconnect", onDisconnect);
    this.detach = () => {
      provider.removeListener("accountsChanged", onAccounts);
      provider.removeListener("chainChanged", onChain);
      provider.removeListener("disconnect", onDisconnect);
      this.detach = undefined;
    };
    localStorage.setItem(REMEMBERED, wallet.info.rdns);
    const connection = { wallet, address: getAddress(first), chainId };
    this.set({ ...this.state, connection });
    return connection;
  }

  /** Asks the wallet to switch to the catalog's chain, adding it first if the wallet does not know it. */
  async switchChain(): Promise<void> {
    const provider = this.requireConnection().wallet.provider;
    const chainId = numberToHex(this.chainId);
    try {
      await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
    } catch (error) {
      if ((error as { code?: unknown }).code !== 4902) throw error;
      await provider.request({
        method: "wallet_addEthereumChain",
        params: [{ chainId, chainName: this.config.chainName, rpcUrls: [this.config.rpcUrl], nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 } }],
      });
    }
    // Some wallets switch without a chainChanged event: read it back.
    const now = Number(await provider.request({ method: "eth_chainId" }));
    const connection = this.state.connection;
    if (connection) this.set({ ...this.state, connection: { ...connection, chainId: now } });
  }

  private requireConnection(): Connection {
    const connection = this.state.connection;
    if (!connection) throw new GlassboxError("WALLET_NOT_CONNECTED", "Connect a wallet first.", "Use “Connect wallet” at the top of the page.");
    return connection;
  }

  /** The connection, on the catalog's chain: what every signing flow starts with. */
  ready(): Connection {
    const connection = this.requireConnection();
    if (connection.chainId !== this.chainId) {
      throw new GlassboxError(
        "WRONG_CHAIN",
        `Your wallet is on chain ${connection.chainId}; this catalog runs on chain ${this.chainId} (${this.config.chainName}).`,
        "Use “Switch network” at the top of the page, then try again.",
      );
    }
    return connection;
  }

  /** Reads over the catalog's RPC; transactions through the wallet. */
  clients(connection: Connection): ChainClients {
    const chain = chainFor(this.chainId, this.config.rpcUrl);
    const publicClient = createPublicClient({ chain, transport: http(this.config.rpcUrl, { retryCount: 1 }), pollingInterval: 250 });
    const provider: EIP1193Provider = connection.wallet.provider;
    const walletClient = createWalletClient({ chain, transport: custom(provider), account: connection.address });
    return { chain, publicClient, walletClient };
  }

  /**
   * The connected account as a viem LocalAccount whose signatures come from the wallet (EIP-712 and
   * EIP-191 requests): what the x402 client and the SDK's signers take. Transactions never go through it.
   */
  signer(connection: Connection): LocalAccount {
    const walletClient = this.clients(connection).walletClient!;
    // What viem's own signTypedData sends for a JSON-RPC account (its generics do not pass through
    // toAccount's): the domain's type must be listed too, or wallets sign over an empty domain.
    const signTypedData = <const typedData extends TypedData | Record<string, unknown>, primaryType extends keyof typedData | "EIP712Domain" = keyof typedData>(
      parameters: TypedDataDefinition<typedData, primaryType>,
    ): Promise<Hex> => {
      // Widened to viem's default TypedDataDefinition (its generic domain type does not narrow here; viem's own signTypedData does the same).
      const { domain = {}, message, primaryType, types } = parameters as TypedDataDefinition;
      const typedData = { domain, message, primaryType, types: { EIP712Domain: getTypesForEIP712Domain({ domain }), ...types } };
      validateTypedData(typedData);
      return walletClient.request({ method: "eth_signTypedData_v4", params: [connection.address, serializeTypedData(typedData)] });
    };
    return toAccount({
      address: connection.address,
      signMessage: ({ message }) => walletClient.signMessage({ message }),
      signTypedData,
      signTransaction: () => {
        throw new GlassboxError("NOT_SUPPORTED", "Transactions are sent by the wallet, not signed here.");
      },
    });
  }
}
