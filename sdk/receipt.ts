import { concat, encodeAbiParameters, hashTypedData, keccak256, recoverTypedDataAddress, stringToHex, type Address, type Hex } from "viem";
import { canonicalJson } from "./canonical-json.ts";
import { sha256Hex } from "./ids.ts";
import { AbiWords, bytes32Of, keccakBytes, typedDataDigest } from "./abi-words.ts";

/**
 * Receipts v2 (payments v2). The executor is the x402 payee of every paid call; it signs one EIP-712
 * receipt per paid call, gives it to the payer, and later pays the royalties it names into Settlement
 * in aggregated batches (see royalty-batch.ts). A receipt is the payer's proof: if its royalties are not
 * settled by `deadline`, or are settled differently, anyone may submit it to Settlement and the
 * executor's bond pays.
 */

/** One dependency version used by a composed call: what the dependent's run paid it. */
export interface ReceiptDependency {
  versionId: Hex;
  calls: number;
  fuel: bigint;
  royalty: bigint;
}

/** EIP-712 receipt of one paid execution; the domain is the Settlement contract (version "2"). */
export interface Receipt {
  versionId: Hex;
  functionName: string;
  payer: Address;
  executor: Address;
  /**
   * The executor's royalty-line sequence number of this receipt's own royalty (from 1, consecutive over
   * every royalty line the executor settles); its dependencies take the next `dependencies.length`
   * numbers. 0 when the receipt owes no royalty at all (free version, fee only).
   */
  seq: bigint;
  /** Royalty owed to `versionId` (walked up its fork chain on-chain); the quoted amount. */
  royalty: bigint;
  executorFee: bigint;
  /** Fuel of the call as quoted (per-fuel royalties are fixed by the quote the payer accepted). */
  fuel: bigint;
  inputHash: Hex;
  outputHash: Hex;
  dependencies: readonly ReceiptDependency[];
  /**
   * What the payer paid with: for `batch-settlement`, keccak256(abi.encode(channelId, cumulative amount
   * after this call)); for `exact`, the settlement transaction hash.
   */
  paymentRef: Hex;
  issuedAt: bigint;
  /** The royalties must be settled on-chain by this time (unix seconds), or the bond pays. */
  deadline: bigint;
}

export const RECEIPT_TYPES = {
  Receipt: [
    { name: "versionId", type: "bytes32" },
    { name: "functionName", type: "string" },
    { name: "payer", type: "address" },
    { name: "executor", type: "address" },
    { name: "seq", type: "uint64" },
    { name: "royalty", type: "uint256" },
    { name: "executorFee", type: "uint256" },
    { name: "fuel", type: "uint64" },
    { name: "inputHash", type: "bytes32" },
    { name: "outputHash", type: "bytes32" },
    { name: "dependencies", type: "Dependency[]" },
    { name: "paymentRef", type: "bytes32" },
    { name: "issuedAt", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
  Dependency: [
    { name: "versionId", type: "bytes32" },
    { name: "calls", type: "uint32" },
    { name: "fuel", type: "uint64" },
    { name: "royalty", type: "uint256" },
  ],
} as const;

export const RECEIPT_DOMAIN_NAME = "Glassbox Settlement";
export const RECEIPT_DOMAIN_VERSION = "2";

export function receiptDomain(chainId: number, settlement: Address) {
  return { name: RECEIPT_DOMAIN_NAME, version: RECEIPT_DOMAIN_VERSION, chainId, verifyingContract: settlement } as const;
}

/** The receipt id: its EIP-712 digest (what Settlement computes and what royalty lines commit to). */
export function receiptId(receipt: Receipt, chainId: number, settlement: Address): Hex {
  return hashTypedData({
    domain: receiptDomain(chainId, settlement),
    types: RECEIPT_TYPES,
    primaryType: "Receipt",
    message: receipt,
  });
}

/** EIP-712 encodeType of one struct, from its field list. */
function encodeStructType(name: string, fields: readonly { name: string; type: string }[]): string {
  return `${name}(${fields.map((f) => `${f.type} ${f.name}`).join(",")})`;
}

const DOMAIN_TYPEHASH = keccak256(stringToHex("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"));
const DEPENDENCY_TYPEHASH = keccak256(stringToHex(encodeStructType("Dependency", RECEIPT_TYPES.Dependency)));
const RECEIPT_TYPEHASH = keccak256(stringToHex(encodeStructType("Receipt", RECEIPT_TYPES.Receipt) + encodeStructType("Dependency", RECEIPT_TYPES.Dependency)));
const NO_DEPENDENCIES = keccak256("0x");
const DEPENDENCY_ABI = [{ type: "bytes32" }, { type: "bytes32" }, { type: "uint32" }, { type: "uint64" }, { type: "uint256" }] as const;

/**
 * `receiptId` for one (chain, Settlement), with the domain separator and type hashes computed once: the
 * executor digests every receipt it signs, and viem's generic hashTypedData re-derives all of them per
 * call. Same digest as `receiptId` (tested against it); values out of their EIP-712 types' range throw.
 */
export function receiptDigester(chainId: number, settlement: Address): (receipt: Receipt) => Hex {
  const domainSeparator = keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }, { type: "address" }],
      [DOMAIN_TYPEHASH, keccak256(stringToHex(RECEIPT_DOMAIN_NAME)), keccak256(stringToHex(RECEIPT_DOMAIN_VERSION)), BigInt(chainId), settlement],
    ),
  );
  const domain = bytes32Of(domainSeparator);
  const receiptTypehash = bytes32Of(RECEIPT_TYPEHASH);
  // A handful of function names per executor: their hashes are kept, not recomputed per receipt.
  const functionNameHashes = new Map<string, Hex>();
  const functionNameHash = (name: string): Hex => {
    let hash = functionNameHashes.get(name);
    if (hash === undefined) {
      hash = keccak256(stringToHex(name));
      if (functionNameHashes.size >= 10_000) functionNameHashes.clear();
      functionNameHashes.set(name, hash);
    }
    return hash;
  };
  return (r) => {
    const dependencies =
      r.dependencies.length === 0
        ? NO_DEPENDENCIES
        : keccak256(concat(r.dependencies.map((d) => keccak256(encodeAbiParameters(DEPENDENCY_ABI, [DEPENDENCY_TYPEHASH, d.versionId, d.calls, d.fuel, d.royalty])))));
    const struct = new AbiWords(15)
      .raw(0, receiptTypehash)
      .bytes32(1, r.versionId)
      .bytes32(2, functionNameHash(r.functionName))
      .address(3, r.payer)
      .address(4, r.executor)
      .uint(5, r.seq, 64)
      .uint(6, r.royalty, 256)
      .uint(7, r.executorFee, 256)
      .uint(8, r.fuel, 64)
      .bytes32(9, r.inputHash)
      .bytes32(10, r.outputHash)
      .bytes32(11, dependencies)
      .bytes32(12, r.paymentRef)
      .uint(13, r.issuedAt, 64)
      .uint(14, r.deadline, 64);
    return typedDataDigest(domain, keccakBytes(struct));
  };
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

/** Every royalty a receipt owes, in royalty-line order: its own first (seq), then each dependency (seq + 1 + i). */
export function receiptRoyaltyLines(r: Receipt): { seq: bigint; versionId: Hex; royalty: bigint }[] {
  if (r.seq === 0n) return [];
  return [
    { seq: r.seq, versionId: r.versionId, royalty: r.royalty },
    ...r.dependencies.map((d, i) => ({ seq: r.seq + 1n + BigInt(i), versionId: d.versionId, royalty: d.royalty })),
  ];
}

/** Total royalty a receipt owes (own + dependencies). */
export function receiptRoyaltyTotal(r: Receipt): bigint {
  return r.dependencies.reduce((sum, d) => sum + d.royalty, r.royalty);
}

export interface ReceiptDependencyJson {
  versionId: Hex;
  calls: number;
  fuel: string;
  royalty: string;
}

/** JSON form of a receipt (bigints as decimal strings), stable for HTTP and journals. */
export interface ReceiptJson {
  versionId: Hex;
  functionName: string;
  payer: Address;
  executor: Address;
  seq: string;
  royalty: string;
  executorFee: string;
  fuel: string;
  inputHash: Hex;
  outputHash: Hex;
  dependencies: ReceiptDependencyJson[];
  paymentRef: Hex;
  issuedAt: string;
  deadline: string;
}

export function receiptToJson(r: Receipt): ReceiptJson {
  return {
    ...r,
    seq: r.seq.toString(),
    royalty: r.royalty.toString(),
    executorFee: r.executorFee.toString(),
    fuel: r.fuel.toString(),
    dependencies: r.dependencies.map((d) => ({ ...d, fuel: d.fuel.toString(), royalty: d.royalty.toString() })),
    issuedAt: r.issuedAt.toString(),
    deadline: r.deadline.toString(),
  };
}

export function receiptFromJson(j: ReceiptJson): Receipt {
  return {
    ...j,
    seq: BigInt(j.seq),
    royalty: BigInt(j.royalty),
    executorFee: BigInt(j.executorFee),
    fuel: BigInt(j.fuel),
    dependencies: j.dependencies.map((d) => ({ ...d, fuel: BigInt(d.fuel), royalty: BigInt(d.royalty) })),
    issuedAt: BigInt(j.issuedAt),
    deadline: BigInt(j.deadline),
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

/**
 * A batch-settlement receipt's paymentRef: keccak256(abi.encode(channelId, cumulative amount charged in the
 * channel after this call)), so the payer can tie a receipt to the voucher it signed.
 */
export function channelPaymentRef(channelId: Hex, chargedCumulativeAmount: bigint): Hex {
  return new AbiWords(2).bytes32(0, channelId).uint(1, chargedCumulativeAmount, 256).keccak();
}
