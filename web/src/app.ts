import type { LocalAccount } from "viem";
import { CatalogClient } from "../../sdk/client/catalog.ts";
import { Glassbox } from "../../sdk/glassbox.ts";
import type { WebConfig } from "./config.ts";
import { LocalChannelStorage, LocalReceiptStore, storagePrefix } from "./stores.ts";
import { Wallet, type Connection } from "./wallet.ts";

/** What every page reads from and acts through. */
export class App {
  readonly catalog: CatalogClient;
  readonly wallet: Wallet;
  /** Read-only: the chain over the catalog's RPC, the catalog, no account. */
  readonly reader: Glassbox;
  /** The stock x402 client's channel records and the verified receipts, kept in this browser. */
  readonly channelStorage: LocalChannelStorage;
  readonly receiptStore: LocalReceiptStore;

  constructor(readonly config: WebConfig) {
    this.catalog = new CatalogClient(config.indexerUrl);
    this.wallet = new Wallet(config);
    const prefix = storagePrefix(config.deployment.chainId, config.deployment.contracts.settlement);
    this.channelStorage = new LocalChannelStorage(prefix);
    this.receiptStore = new LocalReceiptStore(prefix);
    this.reader = new Glassbox({ ...this.options(), channelStorage: this.channelStorage, receiptStore: this.receiptStore });
  }

  /** No default executor: every page names the executor it calls or uploads to (a publish uploads as its own, resumable step). */
  private options() {
    const { rpcUrl, deployment, indexerUrl } = this.config;
    return { rpcUrl, deployment, indexerUrl };
  }

  /** Glassbox acting as the connected wallet, on the catalog's chain; a clear error otherwise. */
  signed(): { glassbox: Glassbox; connection: Connection; account: LocalAccount } {
    const connection = this.wallet.ready();
    const account = this.wallet.signer(connection);
    const glassbox = new Glassbox({ ...this.options(), account, clients: this.wallet.clients(connection), channelStorage: this.channelStorage, receiptStore: this.receiptStore });
    return { glassbox, connection, account };
  }
}
