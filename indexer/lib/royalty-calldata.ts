import { decodeFunctionData, encodeAbiParameters, keccak256, type Hex } from "viem";
import { settlementAbi } from "./abis.ts";
import { decodeRoyaltyLine } from "../../sdk/royalty-batch.ts";

/** What one settled batch paid one version. */
export interface VersionLines {
  versionId: Hex;
  lines: bigint;
  amount: bigint;
}

/**
 * RoyaltiesSettled names only the executor, the line count and the total; which versions the lines pay is in the
 * settleRoyalties calldata (public, and what slash proofs replay). Reads it from the transaction when the
 * transaction is a direct settleRoyalties call to Settlement whose arguments hash to the event's batchHash, so the
 * breakdown is exactly what was settled. Anything else (a call through a contract wallet or multicall) gives
 * undefined: the batch then counts in the executor's totals only.
 */
export function itemizeRoyaltyBatch(
  transaction: { to: Hex | null; input: Hex },
  settlement: Hex,
  batchHash: Hex,
): VersionLines[] | undefined {
  if (transaction.to === null || transaction.to.toLowerCase() !== settlement.toLowerCase()) return undefined;
  let call;
  try {
    call = decodeFunctionData({ abi: settlementAbi, data: transaction.input });
  } catch {
    return undefined;
  }
  if (call.functionName !== "settleRoyalties") return undefined;
  const [versionIds, lines] = call.args;
  const hash = keccak256(encodeAbiParameters([{ type: "bytes32[]" }, { type: "uint256[]" }], [versionIds, lines]));
  if (hash !== batchHash.toLowerCase()) return undefined;

  // Keyed by version: nothing stops a batch from listing one version twice.
  const totals = new Map<string, VersionLines>();
  for (const line of lines) {
    const { versionIndex, royalty } = decodeRoyaltyLine(line);
    const versionId = versionIds[versionIndex];
    // Settlement reverts on an out-of-range index, so a settled batch has none.
    if (versionId === undefined) return undefined;
    const key = versionId.toLowerCase();
    const entry = totals.get(key) ?? { versionId, lines: 0n, amount: 0n };
    entry.lines += 1n;
    entry.amount += royalty;
    totals.set(key, entry);
  }
  return [...totals.values()];
}
