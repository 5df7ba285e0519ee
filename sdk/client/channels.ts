import type { ChannelConfig } from "@x402/evm";
import { computeChannelId, type ClientChannelStorage } from "@x402/evm/batch-settlement/client";
import { encodeAbiParameters, getAddress, keccak256, type Address, type Hex, type LocalAccount } from "viem";
import { generatePrivateKey } from "viem/accounts";
import { batchSettlementAbi } from "../abi.ts";
import type { Deployment } from "../deployment.ts";
import { usdcDomain } from "../eip3009.ts";
import { ROUTES, type InfoBody } from "../protocol.ts";
import { BATCH_SETTLEMENT_ADDRESS, ERC3009_DEPOSIT_COLLECTOR_ADDRESS } from "../x402-contracts.ts";
import { sendContractTx, type ChainClients } from "./chain.ts";
import { GlassboxError } from "./errors.ts";
import { RECEIVE_WITH_AUTHORIZATION_TYPES } from "../eip3009.ts";

/**
 * A payer's x402 batch-settlement channel to one executor, managed outside calls: open (deposit), top up,
 * status (on-chain balance, claimed, pending withdrawal) and close (the payer's timed withdrawal). The channel
 * is the very one the stock @x402/evm client pays through: same ChannelConfig (payer as its own authorizer,
 * the executor as receiver and receiver authorizer, the executor's withdraw delay, the stock zero salt).
 */

/** The stock client's default salt: one channel per (payer, executor, token, delay). */
const DEFAULT_SALT: Hex = "0x0000000000000000000000000000000000000000000000000000000000000000";

export interface ChannelStatus {
  channelId: Hex;
  executor: Address;
  executorUrl: string;
  config: ChannelConfig;
  /** USDC in the channel (deposits minus withdrawals). */
  balance: bigint;
  /** What the executor has claimed on-chain so far. */
  totalClaimed: bigint;
  /** What this payer's vouchers have been charged, as the local channel record knows it (>= totalClaimed). */
  charged: bigint;
  /** Left to spend: balance minus what is charged or claimed. */
  available: bigint;
  withdrawDelaySeconds: number;
  /** A withdrawal in progress: `amount`, finalizable from `finalizeAfter` (unix seconds). */
  withdrawal: { amount: bigint; finalizeAfter: bigint; ready: boolean } | null;
  /** The chain's latest block time. */
  now: bigint;
}

export class ChannelManager {
  constructor(
    private readonly chain: ChainClients,
    private readonly deployment: Deployment,
    private readonly storage: ClientChannelStorage | undefined,
  ) {}

  private get contract() {
    return { address: BATCH_SETTLEMENT_ADDRESS, abi: batchSettlementAbi } as const;
  }

  /** The channel config the stock client builds for `payer` paying the executor at `executorUrl`. */
  async configFor(payer: Address, executorUrl: string): Promise<ChannelConfig> {
    const response = await fetch(`${executorUrl}${ROUTES.info}`).catch((error: Error) => {
      throw new GlassboxError("EXECUTOR_UNREACHABLE", `Cannot reach the executor at ${executorUrl}: ${error.message}`, "Is it running? Check --executor.");
    });
    if (!response.ok) throw new GlassboxError("EXECUTOR_UNREACHABLE", `The executor at ${executorUrl} answered ${response.status} to ${ROUTES.info}.`);
    const info = (await response.json()) as InfoBody;
    if (!info.schemes?.includes("batch-settlement")) {
      throw new GlassboxError("CHANNELS_UNSUPPORTED", `The executor at ${executorUrl} takes no channel payments (schemes: ${(info.schemes ?? []).join(", ") || "none"}).`, "Pay it with --scheme exact.");
    }
    if (info.chainId !== this.deployment.chainId) {
      throw new GlassboxError("WRONG_CHAIN", `The executor at ${executorUrl} runs on chain ${info.chainId}, not ${this.deployment.chainId}.`);
    }
    const operator = getAddress(info.address);
    return {
      payer: getAddress(payer),
      payerAuthorizer: getAddress(payer),
      receiver: operator,
      receiverAuthorizer: operator,
      token: getAddress(this.deployment.contracts.usdc),
      withdrawDelay: info.channels.withdrawDelaySeconds,
      salt: DEFAULT_SALT,
    };
  }

  channelIdOf(config: ChannelConfig): Hex {
    return computeChannelId(config, this.deployment.chainId);
  }

  async status(payer: Address, executorUrl: string): Promise<ChannelStatus> {
    const config = await this.configFor(payer, executorUrl);
    const channelId = this.channelIdOf(config);
    const read = this.chain.publicClient;
    const [[balance, totalClaimed], [pendingAmount, initiatedAt], block, local] = await Promise.all([
      read.readContract({ ...this.contract, functionName: "channels", args: [channelId] }),
      read.readContract({ ...this.contract, functionName: "pendingWithdrawals", args: [channelId] }),
      read.getBlock({ blockTag: "latest" }),
      this.storage?.get(channelId.toLowerCase()),
    ]);
    const localCharged = local?.chargedCumulativeAmount ? BigInt(local.chargedCumulativeAmount) : 0n;
    const charged = localCharged > totalClaimed ? localCharged : totalClaimed;
    const finalizeAfter = BigInt(initiatedAt) + BigInt(config.withdrawDelay);
    return {
      channelId,
      executor: config.receiver,
      executorUrl,
      config,
      balance,
      totalClaimed,
      charged,
      available: balance > charged ? balance - charged : 0n,
      withdrawDelaySeconds: config.withdrawDelay,
      withdrawal: initiatedAt === 0 ? null : { amount: pendingAmount, finalizeAfter, ready: block.timestamp >= finalizeAfter },
      now: block.timestamp,
    };
  }

  /**
   * Deposits `amount` into the channel (opening it, or topping it up) from the payer's wallet: an ERC-3009
   * receiveWithAuthorization only the channel contract can submit, through the deposit collector.
   */
  async deposit(account: LocalAccount, executorUrl: string, amount: bigint): Promise<{ status: ChannelStatus; transaction: Hex }> {
    if (amount <= 0n) throw new GlassboxError("INVALID_AMOUNT", `A deposit must be a positive amount of USDC base units, not ${amount}.`);
    const config = await this.configFor(account.address, executorUrl);
    const channelId = this.channelIdOf(config);
    const salt = BigInt(keccak256(generatePrivateKey()));
    const nonce = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }], [channelId, salt]));
    const block = await this.chain.publicClient.getBlock({ blockTag: "latest" });
    // An hour past chain time: the local chain's clock can run ahead of wall time.
    const validBefore = block.timestamp + 3_600n;
    const signature = await account.signTypedData({
      domain: usdcDomain(this.deployment.chainId, config.token),
      types: RECEIVE_WITH_AUTHORIZATION_TYPES,
      primaryType: "ReceiveWithAuthorization",
      message: { from: account.address, to: ERC3009_DEPOSIT_COLLECTOR_ADDRESS, value: amount, validAfter: 0n, validBefore, nonce },
    });
    const collectorData = encodeAbiParameters([{ type: "uint256" }, { type: "uint256" }, { type: "uint256" }, { type: "bytes" }], [0n, validBefore, salt, signature]);
    const transaction = await sendContractTx(this.chain, `Depositing ${amount} into the channel to ${config.receiver}`, {
      ...this.contract,
      functionName: "deposit",
      args: [config, amount, ERC3009_DEPOSIT_COLLECTOR_ADDRESS, collectorData],
    });
    await this.syncLocal(channelId);
    return { status: await this.status(account.address, executorUrl), transaction };
  }

  /**
   * Starts the payer's timed withdrawal of everything not yet charged; the executor claims what it is owed
   * during the delay, then `finalize` pays the rest back.
   */
  async close(account: LocalAccount, executorUrl: string): Promise<{ status: ChannelStatus; transaction: Hex; amount: bigint }> {
    const before = await this.status(account.address, executorUrl);
    if (before.withdrawal) {
      throw new GlassboxError("WITHDRAWAL_PENDING", `A withdrawal of ${before.withdrawal.amount} is already pending; it can be finalized from ${new Date(Number(before.withdrawal.finalizeAfter) * 1000).toISOString()}.`, "Run `glassbox channel close` again after that time to finalize it.");
    }
    if (before.available === 0n) throw new GlassboxError("NOTHING_TO_WITHDRAW", `The channel ${before.channelId} holds nothing that is not charged already.`);
    const transaction = await sendContractTx(this.chain, `Starting the withdrawal of ${before.available} from the channel`, {
      ...this.contract,
      functionName: "initiateWithdraw",
      args: [before.config, before.available],
    });
    return { status: await this.status(account.address, executorUrl), transaction, amount: before.available };
  }

  /** Completes a pending withdrawal once the delay has passed: the USDC goes back to the payer. */
  async finalize(account: LocalAccount, executorUrl: string): Promise<{ status: ChannelStatus; transaction: Hex; amount: bigint }> {
    const before = await this.status(account.address, executorUrl);
    if (!before.withdrawal) throw new GlassboxError("NO_WITHDRAWAL", `No withdrawal is pending on the channel ${before.channelId}.`, "Start one with `glassbox channel close`.");
    if (!before.withdrawal.ready) {
      throw new GlassboxError("WITHDRAWAL_NOT_READY", `The withdrawal can be finalized from ${new Date(Number(before.withdrawal.finalizeAfter) * 1000).toISOString()} (chain time now ${new Date(Number(before.now) * 1000).toISOString()}).`, "Run `glassbox channel close` again after that time.");
    }
    const transaction = await sendContractTx(this.chain, "Finalizing the channel withdrawal", { ...this.contract, functionName: "finalizeWithdraw", args: [before.config] });
    await this.syncLocal(before.channelId);
    const after = await this.status(account.address, executorUrl);
    return { status: after, transaction, amount: before.balance - after.balance };
  }

  /** Brings the stock client's local record in line with the chain after a deposit or withdrawal made here. */
  private async syncLocal(channelId: Hex): Promise<void> {
    if (!this.storage) return;
    const [balance, totalClaimed] = await this.chain.publicClient.readContract({ ...this.contract, functionName: "channels", args: [channelId] });
    const key = channelId.toLowerCase();
    const local = await this.storage.get(key);
    const charged = local?.chargedCumulativeAmount && BigInt(local.chargedCumulativeAmount) > totalClaimed ? local.chargedCumulativeAmount : totalClaimed.toString();
    await this.storage.set(key, { ...local, chargedCumulativeAmount: charged, balance: balance.toString(), totalClaimed: totalClaimed.toString() });
  }
}
