import { hashTypedData, recoverTypedDataAddress, type Address, type Hex } from "viem";
import { canonicalJson } from "./canonical-json.ts";
import { sha256Hex } from "./ids.ts";

/** EIP-712 receipt of one paid execution; the domain is the Settlement contract. */
export interface Receipt {
  versionId: Hex;
  functionName: string;
  payer: Address;
  executor: Address;
  royalty: bigint;
  executorFee: bigint;
  inputHash: Hex;
  outputHash: Hex;
  fuelUsed: bigint;
  paymentNonce: Hex;
  timestamp: bigint;
}

export const RECEIPT_TYPES = {
  Receipt: [
    { name: "versionId", type: "bytes32" },
    { name: "functionName", type: "string" },
    { name: "payer", type: "address" },
    { name: "executor", type: "address" },
    { name: "royalty", type: "uint256" },
    { name: "executorFee", type: "uint256" },
    { name: "inputHash", type: "bytes32" },
    { name: "outputHash", type: "bytes32" },
    { name: "fuelUsed", type: "uint64" },
    { name: "paymentNonce", type: "bytes32" },
    { name: "timestamp", type: "uint64" },
  ],
} as const;

export function receiptDomain(chainId: number, settlement: Address) {
  return { name: "Glassbox Settlement", version: "1", chainId, verifyingContract: settlement } as const;
}

/** The receipt id: its EIP-712 digest (what Settlement emits as receiptId). */
export function receiptId(receipt: Receipt, chainId: number, settlement: Address): Hex {
  return hashTypedData({
    domain: receiptDomain(chainId, settlement),
    types: RECEIPT_TYPES,
    primaryType: "Receipt",
    message: receipt,
  });
}

export async function recoverReceiptSigner(
  receipt: Receipt,
  signature: Hex,
  chainId: number,
  settlement: Address,
): Promise<Address> {
  return recoverTypedDataAddress({
    domain: receiptDomain(chainId, settlement),
    types: RECEIPT_TYPES,
    primaryType: "Receipt",
    message: receipt,
    signature,
  });
}

/** JSON form of a receipt (bigints as decimal strings), stable for HTTP and journals. */
export type ReceiptJson = { [K in keyof Receipt]: Receipt[K] extends bigint ? string : Receipt[K] };

export function receiptToJson(r: Receipt): ReceiptJson {
  return {
    ...r,
    royalty: r.royalty.toString(),
    executorFee: r.executorFee.toString(),
    fuelUsed: r.fuelUsed.toString(),
    timestamp: r.timestamp.toString(),
  };
}

export function receiptFromJson(j: ReceiptJson): Receipt {
  return {
    ...j,
    royalty: BigInt(j.royalty),
    executorFee: BigInt(j.executorFee),
    fuelUsed: BigInt(j.fuelUsed),
    timestamp: BigInt(j.timestamp),
  };
}

/**
 * inputHash of a receipt: sha256 of the canonical JSON of the call's arguments as an array in
 * WIT parameter order (object arguments are first put in parameter order by the executor).
 */
export function inputHashOf(args: readonly unknown[]): Hex {
  return sha256Hex(canonicalJson(args));
}

/** outputHash of a receipt: sha256 of the canonical JSON of the result value returned to the caller. */
export function outputHashOf(result: unknown): Hex {
  return sha256Hex(canonicalJson(result === undefined ? null : result));
}
