/**
 * The stock x402 batch-settlement stack end to end against Glassbox's own channel contract on a real local
 * chain: unmodified @x402/fetch + @x402/evm client, @x402/hono + stock server scheme, stock facilitator (in
 * process). Deposit, vouchers, batched claim, sweep to the receiver, cooperative refund, and the payer's timed
 * withdrawal with the receiver claiming inside the delay.
 */
import { decodePaymentResponseHeader } from "@x402/fetch";
import { computeChannelId } from "@x402/evm/batch-settlement/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestClient, createWalletClient, getAddress, getContract, http, zeroHash, type Address } from "viem";
import { batchSettlementAbi, localUsdcAbi } from "../../sdk/abi.ts";
import type { Deployment } from "../../sdk/deployment.ts";
import { BATCH_SETTLEMENT_ADDRESS } from "../../sdk/x402-contracts.ts";
import { devAccount, startLocalChain, type LocalChain } from "../helpers/chain.ts";
import { deployForTest } from "../helpers/deploy.ts";
import {
  channelPayer,
  localChain,
  publicClientFor,
  startPaidServer,
  WITHDRAW_DELAY,
  type PaidServer,
} from "../helpers/x402-channels.ts";

const PRICE = 1_000n;
const DEPOSIT = PRICE * 10n;
const receiver = devAccount(4);
const payerA = devAccount(5);
const payerB = devAccount(6);

let chain: LocalChain;
let deployment: Deployment;
let server: PaidServer;

const publicClient = () => publicClientFor(chain.rpcUrl);
const channelContract = () => getContract({ address: BATCH_SETTLEMENT_ADDRESS, abi: batchSettlementAbi, client: publicClient() });
const usdcBalance = (who: Address) =>
  publicClient().readContract({ address: deployment.contracts.usdc, abi: localUsdcAbi, functionName: "balanceOf", args: [who] });

function configOf(payer: Address) {
  return {
    payer,
    payerAuthorizer: payer,
    receiver: getAddress(receiver.address),
    receiverAuthorizer: getAddress(receiver.address),
    token: deployment.contracts.usdc,
    withdrawDelay: WITHDRAW_DELAY,
    salt: zeroHash,
  } as const;
}

async function payOnce(fetchFn: typeof fetch): Promise<{ status: number; transaction: string; body: unknown }> {
  const response = await fetchFn(server.url);
  const header = response.headers.get("PAYMENT-RESPONSE");
  const body: unknown = await response.json();
  if (!header) throw new Error(`no PAYMENT-RESPONSE header (status ${response.status}): ${JSON.stringify(body)}`);
  return { status: response.status, transaction: decodePaymentResponseHeader(header).transaction, body };
}

beforeAll(async () => {
  chain = await startLocalChain();
  deployment = await deployForTest(chain.rpcUrl);
  const minter = createWalletClient({ account: devAccount(0), chain: localChain(chain.rpcUrl), transport: http(chain.rpcUrl) });
  for (const payer of [payerA, payerB]) {
    const hash = await minter.writeContract({
      address: deployment.contracts.usdc,
      abi: localUsdcAbi,
      functionName: "mint",
      args: [payer.address, 1_000_000n],
    });
    await publicClient().waitForTransactionReceipt({ hash });
  }
  server = await startPaidServer({ receiver, rpcUrl: chain.rpcUrl, chainId: deployment.chainId, usdc: deployment.contracts.usdc, price: PRICE });
});

afterAll(async () => {
  await server?.close();
  await chain?.close();
});

describe("x402 batch-settlement with the stock client, server and facilitator", () => {
  it("records the channel contract in the deployment at the canonical address the stock client uses", () => {
    expect(deployment.contracts.batchSettlement).toBe(BATCH_SETTLEMENT_ADDRESS);
  });

  it("deposits once, pays vouchers, claims in a batch, sweeps to the receiver and refunds the rest", async () => {
    const payer = channelPayer(payerA, { rpcUrl: chain.rpcUrl, chainId: deployment.chainId, usdc: deployment.contracts.usdc });
    const channel = channelContract();
    const config = configOf(getAddress(payerA.address));
    const channelId = await channel.read.getChannelId([config]);
    expect(channelId).toBe(computeChannelId(config, deployment.chainId));
    const payerBefore = await usdcBalance(payerA.address);
    const receiverBefore = await usdcBalance(receiver.address);

    const first = await payOnce(payer.fetch);
    expect(first.status).toBe(200);
    expect(first.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    const depositReceipt = await publicClient().getTransactionReceipt({ hash: first.transaction as `0x${string}` });
    expect(depositReceipt.status).toBe("success");
    expect(await channel.read.channels([channelId])).toEqual([DEPOSIT, 0n]);
    expect(await usdcBalance(payerA.address)).toBe(payerBefore - DEPOSIT);

    const blockAfterDeposit = await chain.blockNumber();
    for (let i = 0; i < 4; i++) {
      const paid = await payOnce(payer.fetch);
      expect(paid.status).toBe(200);
      expect(paid.transaction).toBe(""); // a voucher moves nothing on-chain
    }
    expect(server.served()).toBe(5);
    expect(await chain.blockNumber()).toBe(blockAfterDeposit);

    const manager = server.scheme.createChannelManager(server.facilitator, server.network, deployment.contracts.usdc);
    const claims = await manager.claim();
    expect(claims).toHaveLength(1);
    expect(claims[0]!.vouchers).toBe(1);
    expect(await channel.read.channels([channelId])).toEqual([DEPOSIT, 5n * PRICE]);
    expect(await channel.read.receivers([getAddress(receiver.address), deployment.contracts.usdc])).toEqual([5n * PRICE, 0n]);

    await manager.settle();
    expect(await usdcBalance(receiver.address)).toBe(receiverBefore + 5n * PRICE);
    expect(await channel.read.receivers([getAddress(receiver.address), deployment.contracts.usdc])).toEqual([5n * PRICE, 5n * PRICE]);

    const refund = await payer.scheme.refund(server.url);
    expect(refund.success).toBe(true);
    expect(await usdcBalance(payerA.address)).toBe(payerBefore - 5n * PRICE);
    const [balance, totalClaimed] = await channel.read.channels([channelId]);
    expect(balance - totalClaimed).toBe(0n);
    expect(await channel.read.refundNonce([channelId])).toBe(1n);
    // Everything deposited is accounted for: paid to the receiver or back with the payer.
    expect(await usdcBalance(BATCH_SETTLEMENT_ADDRESS)).toBe(0n);
  });

  it("lets the payer withdraw unclaimed escrow after the delay, while the receiver claims inside it", async () => {
    const payer = channelPayer(payerB, { rpcUrl: chain.rpcUrl, chainId: deployment.chainId, usdc: deployment.contracts.usdc });
    const config = configOf(getAddress(payerB.address));
    const channel = channelContract();
    const channelId = await channel.read.getChannelId([config]);
    const payerBefore = await usdcBalance(payerB.address);
    const receiverBefore = await usdcBalance(receiver.address);
    for (let i = 0; i < 3; i++) expect((await payOnce(payer.fetch)).status).toBe(200);
    expect(await channel.read.channels([channelId])).toEqual([DEPOSIT, 0n]);

    const wallet = createWalletClient({ account: payerB, chain: localChain(chain.rpcUrl), transport: http(chain.rpcUrl) });
    const send = async (hash: `0x${string}`) => expect((await publicClient().waitForTransactionReceipt({ hash })).status).toBe("success");
    await send(await wallet.writeContract({ address: BATCH_SETTLEMENT_ADDRESS, abi: batchSettlementAbi, functionName: "initiateWithdraw", args: [config, DEPOSIT] }));
    const [, initiatedAt] = await channel.read.pendingWithdrawals([channelId]);
    expect(initiatedAt).toBeGreaterThan(0);

    // Too early: the receiver still has its window to claim.
    await expect(
      publicClient().simulateContract({ account: payerB, address: BATCH_SETTLEMENT_ADDRESS, abi: batchSettlementAbi, functionName: "finalizeWithdraw", args: [config] }),
    ).rejects.toThrow(/WithdrawDelayNotElapsed/);

    const manager = server.scheme.createChannelManager(server.facilitator, server.network, deployment.contracts.usdc);
    await manager.claimAndSettle();
    expect(await channel.read.channels([channelId])).toEqual([DEPOSIT, 3n * PRICE]);

    const testClient = createTestClient({ chain: localChain(chain.rpcUrl), mode: "hardhat", transport: http(chain.rpcUrl) });
    await testClient.increaseTime({ seconds: WITHDRAW_DELAY });
    await testClient.mine({ blocks: 1 });
    await send(await wallet.writeContract({ address: BATCH_SETTLEMENT_ADDRESS, abi: batchSettlementAbi, functionName: "finalizeWithdraw", args: [config] }));

    // The withdrawal was capped to what the receiver had not claimed.
    expect(await usdcBalance(payerB.address)).toBe(payerBefore - 3n * PRICE);
    expect(await usdcBalance(receiver.address)).toBe(receiverBefore + 3n * PRICE);
    expect(await channel.read.channels([channelId])).toEqual([3n * PRICE, 3n * PRICE]);
    expect(await channel.read.pendingWithdrawals([channelId])).toEqual([0n, 0]);
    expect(await usdcBalance(BATCH_SETTLEMENT_ADDRESS)).toBe(0n);
  });
});
