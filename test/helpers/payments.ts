import type { Address, Hex, LocalAccount } from "viem";
import { RECEIPT_TYPES, receiptDomain, type Receipt } from "../../sdk/receipt.ts";

export { randomNonce, signTransferAuthorization, type TransferAuthorization } from "../../sdk/eip3009.ts";

/** Signs a receipt v2 with the executor's key (EIP-712, domain = the Settlement contract). */
export function signReceipt(executor: LocalAccount, receipt: Receipt, chainId: number, settlement: Address): Promise<Hex> {
  return executor.signTypedData({ domain: receiptDomain(chainId, settlement), types: RECEIPT_TYPES, primaryType: "Receipt", message: receipt });
}
