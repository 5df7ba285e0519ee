/**
 * Payments v2 on-chain actions for the indexer scenario: an executor's bond, royalty batches and exits, payers'
 * slash proofs, exact payments and channel withdrawals. Real signatures, real transactions, nothing faked.
 */
import type { ChannelConfig } from "@x402/evm";
import { createTestClient, createWalletClient, http, type Address, type Hex, type LocalAccount, type TransactionReceipt } from "viem";
import { batchSettlementAbi, capabilityRegistryAbi, localUsdcAbi, settlementAbi } from "../../sdk/abi.ts";
import type { Deployment } from "../../sdk/deployment.ts";
import { signTransferAuthorization } from "../../sdk/eip3009.ts";
import { RECEIPT_TYPES, receiptDomain, receiptId, type Receipt } from "../../sdk/receipt.ts";
import { buildRoyaltyBatch, type RoyaltyBatch } from "../../sdk/royalty-batch.ts";
import { localChain, publicClientFor } from "../helpers/x402-channels.ts";

export interface SignedReceipt {
  id: Hex;
  receipt: Receipt;
  signature: Hex;
}

export class V2Actor {
  private readonly wallet;
  private readonly publicClient;

  constructor(readonly account: LocalAccount, private readonly rpcUrl: string, private readonly deployment: Deployment) {
    this.wallet = createWalletClient({ account, chain: localChain(rpcUrl), transport: http(rpcUrl) });
    this.publicClient = publicClientFor(rpcUrl);
  }

  private async confirm(hash: Hex, what: string): Promise<TransactionReceipt> {
    const receipt = await this.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${what} reverted (transaction ${hash})`);
    return receipt;
  }

  async transferUsdc(to: Address, amount: bigint): Promise<void> {
    const hash = await this.wallet.writeContract({ address: this.deployment.contracts.usdc, abi: localUsdcAbi, functionName: "transfer", args: [to, amount] });
    await this.confirm(hash, "transfer");
  }

  async approveSettlement(amount: bigint): Promise<void> {
    const hash = await this.wallet.writeContract({
      address: this.deployment.contracts.usdc,
      abi: localUsdcAbi,
      functionName: "approve",
      args: [this.deployment.contracts.settlement, amount],
    });
    await this.confirm(hash, "approve");
  }

  async postBond(amount: bigint): Promise<void> {
    const hash = await this.wallet.writeContract({ address: this.deployment.contracts.settlement, abi: settlementAbi, functionName: "postBond", args: [amount] });
    await this.confirm(hash, "postBond");
  }

  async beginExit(): Promise<void> {
    const hash = await this.wallet.writeContract({ address: this.deployment.contracts.settlement, abi: settlementAbi, functionName: "beginExit", args: [] });
    await this.confirm(hash, "beginExit");
  }

  async sweepSurplus(): Promise<void> {
    const hash = await this.wallet.writeContract({ address: this.deployment.contracts.settlement, abi: settlementAbi, functionName: "sweepSurplus", args: [] });
    await this.confirm(hash, "sweepSurplus");
  }

  /** Signs a receipt as this executor. */
  async signReceipt(receipt: Receipt): Promise<SignedReceipt> {
    const { chainId, contracts } = this.deployment;
    const signature = await this.account.signTypedData({ domain: receiptDomain(chainId, contracts.settlement), types: RECEIPT_TYPES, primaryType: "Receipt", message: receipt });
    return { id: receiptId(receipt, chainId, contracts.settlement), receipt, signature };
  }

  async settleRoyalties(firstSeq: bigint, receipts: readonly SignedReceipt[]): Promise<RoyaltyBatch> {
    const batch = buildRoyaltyBatch(firstSeq, receipts);
    const hash = await this.wallet.writeContract({
      address: this.deployment.contracts.settlement,
      abi: settlementAbi,
      functionName: "settleRoyalties",
      args: [batch.versions, batch.lines],
    });
    await this.confirm(hash, "settleRoyalties");
    return batch;
  }

  async slashOverdue(signed: SignedReceipt): Promise<void> {
    const hash = await this.wallet.writeContract({
      address: this.deployment.contracts.settlement,
      abi: settlementAbi,
      functionName: "slashOverdue",
      args: [signed.receipt, signed.signature],
    });
    await this.confirm(hash, "slashOverdue");
  }

  async slashOvercharge(signed: SignedReceipt): Promise<void> {
    const hash = await this.wallet.writeContract({
      address: this.deployment.contracts.settlement,
      abi: settlementAbi,
      functionName: "slashOvercharge",
      args: [signed.receipt, signed.signature],
    });
    await this.confirm(hash, "slashOvercharge");
  }

  /** As the package owner: offers (or reprices, or with 0 withdraws) a licence to run `versionId` locally. */
  async setLicencePrice(versionId: Hex, price: bigint): Promise<void> {
    const hash = await this.wallet.writeContract({ address: this.deployment.contracts.registry, abi: capabilityRegistryAbi, functionName: "setLicencePrice", args: [versionId, price] });
    await this.confirm(hash, "setLicencePrice");
  }

  /** Pays (after approving Settlement for `price`) for `holder`'s licence to run `versionId` locally. */
  async buyLicence(versionId: Hex, holder: Address, price: bigint): Promise<void> {
    await this.approveSettlement(price);
    const hash = await this.wallet.writeContract({ address: this.deployment.contracts.settlement, abi: settlementAbi, functionName: "buyLicence", args: [versionId, holder, price] });
    await this.confirm(hash, "buyLicence");
  }

  /** An x402 `exact` settlement: `payer` authorizes `value` to this account (the executor), which submits it. */
  async collectExactPayment(payer: LocalAccount, value: bigint): Promise<Hex> {
    const { authorization, signature } = await signTransferAuthorization(payer, {
      usdc: this.deployment.contracts.usdc,
      chainId: this.deployment.chainId,
      to: this.account.address,
      value,
    });
    const hash = await this.wallet.writeContract({
      address: this.deployment.contracts.usdc,
      abi: localUsdcAbi,
      functionName: "transferWithAuthorization",
      args: [authorization.from, authorization.to, authorization.value, authorization.validAfter, authorization.validBefore, authorization.nonce, signature],
    });
    await this.confirm(hash, "transferWithAuthorization");
    return authorization.nonce;
  }

  async initiateWithdraw(config: ChannelConfig, amount: bigint): Promise<void> {
    const hash = await this.wallet.writeContract({ address: this.deployment.contracts.batchSettlement, abi: batchSettlementAbi, functionName: "initiateWithdraw", args: [config, amount] });
    await this.confirm(hash, "initiateWithdraw");
  }

  async finalizeWithdraw(config: ChannelConfig): Promise<void> {
    const hash = await this.wallet.writeContract({ address: this.deployment.contracts.batchSettlement, abi: batchSettlementAbi, functionName: "finalizeWithdraw", args: [config] });
    await this.confirm(hash, "finalizeWithdraw");
  }
}

/** Moves the chain clock forward and mines one block (one at a time: Ponder rejects batch-mined blocks). */
export async function advanceTime(rpcUrl: string, seconds: number): Promise<void> {
  const testClient = createTestClient({ chain: localChain(rpcUrl), mode: "hardhat", transport: http(rpcUrl) });
  await testClient.increaseTime({ seconds });
  await testClient.mine({ blocks: 1 });
}

export async function latestTimestamp(rpcUrl: string): Promise<bigint> {
  return (await publicClientFor(rpcUrl).getBlock()).timestamp;
}
