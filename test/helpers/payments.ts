import { bytesToHex, keccak256, stringToBytes, type Address, type Hex, type LocalAccount } from "viem";
import { generatePrivateKey } from "viem/accounts";
import { RECEIPT_TYPES, receiptDomain, type Receipt } from "../../sdk/receipt.ts";

/** EIP-3009 TransferWithAuthorization, exactly the fields x402 v2 `exact` carries. */
export interface TransferAuthorization {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
}

const TRANSFER_WITH_AUTHORIZATION_TYPES = {
  TransferWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

/** A fresh random 32-byte nonce (EIP-3009 nonces are random, not sequential). */
export function randomNonce(): Hex {
  return keccak256(generatePrivateKey());
}

/** Signs an EIP-3009 authorization for LocalUSDC (EIP-712 domain "USD Coin", version "2"). */
export async function signTransferAuthorization(
  payer: LocalAccount,
  params: { usdc: Address; chainId: number; to: Address; value: bigint; nonce?: Hex; validAfter?: bigint; validBefore?: bigint },
): Promise<{ authorization: TransferAuthorization; signature: Hex }> {
  const authorization: TransferAuthorization = {
    from: payer.address,
    to: params.to,
    value: params.value,
    validAfter: params.validAfter ?? 0n,
    // A day ahead: the local chain clock can run ahead of wall time under load.
    validBefore: params.validBefore ?? BigInt(Math.floor(Date.now() / 1000) + 86_400),
    nonce: params.nonce ?? randomNonce(),
  };
  const signature = await payer.signTypedData({
    domain: { name: "USD Coin", version: "2", chainId: params.chainId, verifyingContract: params.usdc },
    types: TRANSFER_WITH_AUTHORIZATION_TYPES,
    primaryType: "TransferWithAuthorization",
    message: authorization,
  });
  return { authorization, signature };
}

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
