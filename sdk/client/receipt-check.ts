import { type Address, type Hex } from "viem";
import { capabilityRegistryAbi, settlementAbi } from "../abi.ts";
import type { Deployment } from "../deployment.ts";
import { inputHashOf, outputHashOf, receiptRoyaltyTotal, recoverReceiptSigner, type Receipt } from "../receipt.ts";
import type { ChainClients } from "./chain.ts";

/** What a paid call's receipt must match: what the caller asked for, got and paid. */
export interface ReceiptExpectation {
  versionId: Hex;
  functionName: string;
  payer: Address;
  args: readonly unknown[];
  result: unknown;
  /** The payee the payment went to (the 402 requirement's payTo): the receipt must be signed by it. */
  payee?: Address;
  /** USDC base units actually charged for this call; royalties + fee must equal it. */
  charged?: bigint;
  /** The receipt's paymentRef must be this (channel: keccak256(channelId, cumulative); exact: the tx hash). */
  paymentRef?: Hex;
}

/** The on-chain facts a receipt is judged against. */
export interface ReceiptChainFacts {
  /** The executor's registered fee (immutable per registration); undefined when it was never registered. */
  registeredFee: bigint | undefined;
  /** Settlement.minimumRoyalty for the own line and each dependency line, in line order. */
  minimums: bigint[];
  maxSettleWindow: bigint;
  /** The chain's latest block time. */
  now: bigint;
}

/** Reads what verifyReceiptAgainst needs from the chain. */
export async function readReceiptChainFacts(chain: ChainClients, deployment: Deployment, receipt: Receipt): Promise<ReceiptChainFacts> {
  const settlement = { address: deployment.contracts.settlement, abi: settlementAbi } as const;
  const read = chain.publicClient;
  const lines = [{ versionId: receipt.versionId, calls: 1n, fuel: receipt.fuel }, ...receipt.dependencies.map((d) => ({ versionId: d.versionId, calls: BigInt(d.calls), fuel: d.fuel }))];
  const [executor, maxSettleWindow, block, ...minimums] = await Promise.all([
    read.readContract({ address: deployment.contracts.registry, abi: capabilityRegistryAbi, functionName: "getExecutor", args: [receipt.executor] }),
    read.readContract({ ...settlement, functionName: "MAX_SETTLE_WINDOW" }),
    read.getBlock({ blockTag: "latest" }),
    ...lines.map((l) => read.readContract({ ...settlement, functionName: "minimumRoyalty", args: [l.versionId, l.calls, l.fuel] })),
  ]);
  const registered = executor.active || executor.retired;
  return { registeredFee: registered ? executor.feePerCall : undefined, minimums, maxSettleWindow: BigInt(maxSettleWindow), now: block.timestamp };
}

/**
 * Every reason a receipt v2 should not be trusted, empty when it verifies: signed by the executor it names
 * (the payee), for this version, function, payer, arguments and result; royalties at least the registered
 * minimum (per-fuel from the quoted fuel), each dependency too; a fee no higher than the executor's registered
 * fee; a deadline in the future and within Settlement's window; a sequence number whenever royalty is owed.
 */
export async function receiptProblems(receipt: Receipt, signature: Hex, expected: ReceiptExpectation, facts: ReceiptChainFacts, deployment: Deployment): Promise<string[]> {
  const problems: string[] = [];
  const signer = await recoverReceiptSigner(receipt, signature, deployment.chainId, deployment.contracts.settlement).catch(() => undefined);
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  if (!signer || !same(signer, receipt.executor)) problems.push(`signed by ${signer ?? "nobody (bad signature)"}, not by the executor ${receipt.executor} it names`);
  if (expected.payee && !same(expected.payee, receipt.executor)) problems.push(`names executor ${receipt.executor}, but the payment went to ${expected.payee}`);
  if (facts.registeredFee === undefined) problems.push(`executor ${receipt.executor} is not a registered executor`);
  if (!same(receipt.versionId, expected.versionId)) problems.push(`for version ${receipt.versionId}, not ${expected.versionId}`);
  if (receipt.functionName !== expected.functionName) problems.push(`for function ${receipt.functionName}, not ${expected.functionName}`);
  if (!same(receipt.payer, expected.payer)) problems.push(`payer ${receipt.payer} is not you (${expected.payer})`);
  if (receipt.inputHash !== inputHashOf(expected.args)) problems.push("inputHash does not match the arguments sent");
  if (receipt.outputHash !== outputHashOf(expected.result)) problems.push("outputHash does not match the result returned");
  if (receipt.royalty < (facts.minimums[0] ?? 0n)) problems.push(`royalty ${receipt.royalty} is below the registered minimum ${facts.minimums[0]} for fuel ${receipt.fuel}`);
  receipt.dependencies.forEach((d, i) => {
    const minimum = facts.minimums[i + 1] ?? 0n;
    if (d.royalty < minimum) problems.push(`dependency ${d.versionId} royalty ${d.royalty} is below its registered minimum ${minimum}`);
  });
  if (facts.registeredFee !== undefined && receipt.executorFee > facts.registeredFee) {
    problems.push(`executorFee ${receipt.executorFee} exceeds the executor's registered fee ${facts.registeredFee}`);
  }
  const royalties = receiptRoyaltyTotal(receipt);
  if (royalties > 0n && receipt.seq === 0n) problems.push("owes royalty but carries no sequence number (seq 0)");
  if (receipt.deadline <= receipt.issuedAt) problems.push(`deadline ${receipt.deadline} is not after issuedAt ${receipt.issuedAt}`);
  if (receipt.deadline > receipt.issuedAt + facts.maxSettleWindow) problems.push(`deadline is more than Settlement's window (${facts.maxSettleWindow}s) after issuedAt`);
  if (receipt.deadline <= facts.now) problems.push(`deadline ${receipt.deadline} has already passed (chain time ${facts.now})`);
  if (expected.charged !== undefined && royalties + receipt.executorFee !== expected.charged) {
    problems.push(`royalties ${royalties} + fee ${receipt.executorFee} differ from the ${expected.charged} charged`);
  }
  if (expected.paymentRef && !same(receipt.paymentRef, expected.paymentRef)) problems.push(`paymentRef ${receipt.paymentRef} is not this payment's (${expected.paymentRef})`);
  return problems;
}
