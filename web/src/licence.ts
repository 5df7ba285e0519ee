/**
 * Buying a licence to run a version locally from the connected wallet, through the SDK's Licences (an approve of
 * Settlement for the price when the allowance is short, then Settlement.buyLicence for the wallet's own address
 * with the price shown as maxPrice, so an owner repricing in between makes it revert instead of charging more).
 * Both transactions are sent by the wallet, as every transaction of the catalog is.
 */
import type { Address, Hex } from "viem";
import { Licences } from "../../sdk/client/licences.ts";
import type { App } from "./app.ts";

/** Whether `holder` may run `versionId` locally (Settlement.hasLicence, over the catalog's RPC). */
export function holdsLicence(app: App, versionId: Hex, holder: Address): Promise<boolean> {
  return app.reader.licences.holds(versionId, holder);
}

/**
 * Buys the connected wallet a licence to `version` at `price` (what the page showed). `onStep` words each
 * wallet prompt before it opens.
 */
export async function buyLicence(
  app: App,
  version: { versionId: Hex; name: string; version: string; yanked: boolean },
  price: bigint,
  onStep: (text: string) => void,
): Promise<{ holder: Address; price: bigint; transaction: Hex; approval?: Hex }> {
  const connection = app.wallet.ready();
  const licences = new Licences(app.wallet.clients(connection), app.config.deployment, app.reader.registry);
  return licences.buy(connection.address, version, { maxPrice: price, onStep: (text) => onStep(`Confirm in your wallet: ${text.charAt(0).toLowerCase()}${text.slice(1)}…`) });
}
