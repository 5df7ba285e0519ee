/**
 * Buying a licence to run a version locally from the connected wallet: an ERC-20 approve of Settlement for the
 * price (skipped when the allowance already covers it), then Settlement.buyLicence for the wallet's own address
 * with the price shown as maxPrice, so an owner repricing in between makes it revert instead of charging more.
 * Both are sent by the wallet, as every transaction of the catalog is.
 */
import { erc20Abi, type Address, type Hex } from "viem";
import { settlementAbi } from "../../sdk/abi.ts";
import { sendContractTx } from "../../sdk/client/chain.ts";
import { GlassboxError } from "../../sdk/client/errors.ts";
import type { App } from "./app.ts";
import { formatUsdc } from "./format.ts";

/** What to do about each refusal buyLicence can meet (the contract names it; the hint is ours). */
const LICENCE_HINTS: Record<string, string> = {
  LicencePriceAboveMax: "The owner raised the licence price after this page loaded: reload it to see the new price. Nothing was charged.",
  LicenceNotOffered: "The owner withdrew the licence offer: reload the page. Nothing was charged.",
  LicenceVersionYanked: "This version was yanked: it sells no new licence. Nothing was charged.",
  AlreadyLicensed: "Your wallet holds this licence already: nothing was charged twice.",
};

function withLicenceHint(error: unknown): unknown {
  if (!(error instanceof GlassboxError)) return error;
  const name = (error.details as { errorName?: unknown } | undefined)?.errorName;
  const hint = typeof name === "string" ? LICENCE_HINTS[name] : undefined;
  return hint ? new GlassboxError(error.code, error.message, hint, error.details) : error;
}

/** Whether `holder` may run `versionId` locally (Settlement.hasLicence, over the catalog's RPC). */
export function holdsLicence(app: App, versionId: Hex, holder: Address): Promise<boolean> {
  const { settlement } = app.config.deployment.contracts;
  return app.reader.chain.publicClient.readContract({ address: settlement, abi: settlementAbi, functionName: "hasLicence", args: [versionId, holder] });
}

export interface LicencePurchase {
  holder: Address;
  price: bigint;
  approval: Hex | null;
  transaction: Hex;
}

/**
 * Buys the connected wallet a licence to `versionId` at `price` (what the page showed). `onStep` words each
 * wallet prompt before it opens.
 */
export async function buyLicence(app: App, versionId: Hex, price: bigint, onStep: (text: string) => void): Promise<LicencePurchase> {
  const connection = app.wallet.ready();
  const clients = app.wallet.clients(connection);
  const holder = connection.address;
  const { settlement, usdc } = app.config.deployment.contracts;
  if (await holdsLicence(app, versionId, holder)) {
    throw new GlassboxError("ALREADY_LICENSED", "Your wallet holds this licence already.", "Nothing was charged: run it with `glassbox run`.");
  }
  const [balance, allowance] = await Promise.all([
    clients.publicClient.readContract({ address: usdc, abi: erc20Abi, functionName: "balanceOf", args: [holder] }),
    clients.publicClient.readContract({ address: usdc, abi: erc20Abi, functionName: "allowance", args: [holder, settlement] }),
  ]);
  if (balance < price) {
    throw new GlassboxError("INSUFFICIENT_USDC", `Too little USDC: your wallet holds ${formatUsdc(balance)} and the licence costs ${formatUsdc(price)}.`, "Add USDC to this wallet. Nothing was signed or charged.");
  }
  let approval: Hex | null = null;
  if (allowance < price) {
    onStep(`Confirm in your wallet: let Settlement take ${formatUsdc(price)} of your USDC (1 of 2)…`);
    approval = await sendContractTx(clients, "Approving the licence payment", { address: usdc, abi: erc20Abi, functionName: "approve", args: [settlement, price] });
  }
  onStep(`Confirm in your wallet: buy the licence for ${formatUsdc(price)}${approval ? " (2 of 2)" : ""}…`);
  try {
    const transaction = await sendContractTx(clients, "Buying the licence", { address: settlement, abi: settlementAbi, functionName: "buyLicence", args: [versionId, holder, price] });
    return { holder, price, approval, transaction };
  } catch (error) {
    throw withLicenceHint(error);
  }
}
