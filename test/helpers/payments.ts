import { bytesToHex, keccak256, stringToBytes, type Address, type Hex, type LocalAccount } from "viem";
import { signTransferAuthorization, type TransferAuthorization } from "../../sdk/eip3009.ts";
import { RECEIPT_TYPES, receiptDomain, type Receipt } from "../../sdk/receipt.ts";

export { randomNonce, signTransferAuthorization, type TransferAuthorization } from "../../sdk/eip3009.ts";

/** Signs a receipt with the executor's key (EIP-712, domain = the Settlement contract). */
export function signReceipt(executor: LocalAccount, receipt: Receipt, chainId: number, settlement: Address): Promise<Hex> {
  return executor.signTypedData({ domain: receiptDomain(chainId, settlement), types: RECEIPT_TYPES, primaryType: "Receipt", message: receipt });
}

/** One argument of Settlement.settle / one element of settleBatch. */
export interface SettlementItem {
  receipt: Receipt;
  receiptSignature: Hex;
  authorization: TransferAuthorization;
  paymentSignature: Hex;
}

/**
 * A complete, valid paid call ready to settle: the payer's authorization of royalty + fee to Settlement
 * and the executor's signed receipt sharing the same nonce.
 */
export async function paidCall(params: {
  payer: LocalAccount;
  executor: LocalAccount;
  versionId: Hex;
  royalty: bigint;
  executorFee: bigint;
  usdc: Address;
  settlement: Address;
  chainId: number;
  functionName?: string;
  fuelUsed?: bigint;
  input?: string;
}): Promise<SettlementItem> {
  const { authorization, signature: paymentSignature } = await signTransferAuthorization(params.payer, {
    usdc: params.usdc,
    chainId: params.chainId,
    to: params.settlement,
    value: params.royalty + params.executorFee,
  });
  const input = params.input ?? bytesToHex(stringToBytes(authorization.nonce));
  const receipt: Receipt = {
    versionId: params.versionId,
    functionName: params.functionName ?? "run",
    payer: params.payer.address,
    executor: params.executor.address,
    royalty: params.royalty,
    executorFee: params.executorFee,
    inputHash: keccak256(stringToBytes(input)),
    outputHash: keccak256(stringToBytes(`out:${input}`)),
    fuelUsed: params.fuelUsed ?? 1_000n,
    paymentNonce: authorization.nonce,
    timestamp: BigInt(Math.floor(Date.now() / 1000)),
  };
  const receiptSignature = await signReceipt(params.executor, receipt, params.chainId, params.settlement);
  return { receipt, receiptSignature, authorization, paymentSignature };
}
