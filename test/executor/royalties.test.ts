import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestClient, http, parseEventLogs, type Hex } from "viem";
import type { RunningExecutor } from "../../executor/service.ts";
import { settlementAbi } from "../../sdk/abi.ts";
import { receiptFromJson } from "../../sdk/receipt.ts";
import { devAccount } from "../helpers/chain.ts";
import { buildMeter, callJson, errorJson, METER, post, startPaidExecutor } from "./helpers/paid-stack.ts";
import { TestStack, type CalcArtifacts } from "./helpers/stack.ts";
import { channelFetch, payingFetch } from "./helpers/x402.ts";

const FEE = 100n;
const PRICE = 1_000n;

let stack: TestStack;
let meter: CalcArtifacts;

beforeAll(async () => {
  meter = await buildMeter();
  stack = await TestStack.start();
  await stack.publish({ name: "acme/meter", version: "1.0.0", mode: "per-call", price: PRICE, artifacts: meter, ...METER });
});

afterAll(async () => {
  await stack?.close();
});

async function serve(executor: RunningExecutor): Promise<(fn: string) => string> {
  await stack.uploadAll(executor.url, executor.operator, meter);
  return (fn) => `${executor.url}/v1/call/acme/meter@1.0.0/${fn}`;
}

/** A payer (dev account `index`) funded with `amount` USDC base units. */
async function payer(index: number, amount = 1_000_000n) {
  const account = devAccount(index);
  await stack.mint(account.address, amount);
  return account;
}

describe("bond", () => {
  it("refuses paid calls (503 BOND_EXHAUSTED, nothing charged) while unsettled royalties would exceed the bond", async () => {
    const executor = await startPaidExecutor(stack, { fee: FEE, bond: 1_500n, operatorIndex: 5 });
    try {
      const url = await serve(executor);
      const account = await payer(11);
      const pay = payingFetch(account, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId);
      expect((await callJson(await post(pay, url("add"), [1, 2]))).result).toBe(3);
      const before = await stack.usdcBalance(account.address);
      const refused = await errorJson(await post(pay, url("add"), [1, 2]));
      expect(refused).toMatchObject({ status: 503, code: "BOND_EXHAUSTED" });
      expect(await stack.usdcBalance(account.address)).toBe(before);
      // Settling frees the bond again.
      await executor.drain();
      expect((await callJson(await post(pay, url("add"), [2, 2]))).result).toBe(4);
    } finally {
      await executor.close();
    }
  });
});

describe("settlement across restarts", () => {
  it("a restart in the middle of settling loses and duplicates nothing (seq ranges on-chain tile 1..n)", async () => {
    const dataDir = await stack.tempDir();
    const config = { fee: FEE, bond: 100_000n, operatorIndex: 6, royaltyBatchSize: 3, dataDir };
    let executor = await startPaidExecutor(stack, config);
    const operator = executor.operator;
    const maintainerBefore = await stack.settlementBalance(stack.maintainer.address);
    const url = await serve(executor);
    const account = await payer(12);
    const pay = payingFetch(account, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId);
    for (let i = 0; i < 10; i++) await callJson(await post(pay, url("add"), [i, i]));
    // Stop while a settlement run is under way.
    const running = executor.settler.settleNow();
    await executor.close();
    await running;
    executor = await startPaidExecutor(stack, config);
    try {
      await executor.drain();
      const batches = (await stack.royaltyBatches()).filter((b) => b.executor === operator).sort((a, b) => Number(a.firstSeq - b.firstSeq));
      let next = 1n;
      for (const b of batches) {
        expect(b.firstSeq).toBe(next);
        next += b.count;
      }
      expect(next).toBe(11n);
      expect(await stack.nextSeq(operator)).toBe(11n);
      expect(await stack.settlementBalance(stack.maintainer.address)).toBe(maintainerBefore + 10n * PRICE);
      expect(executor.book.total).toBe(0n);
    } finally {
      await executor.close();
    }
  });
});

describe("channel claims", () => {
  it("isolates a channel whose claim fails on its own (bisection): the others are claimed, it is dropped, journaled and refused", async () => {
    const executor = await startPaidExecutor(stack, { fee: FEE, bond: 100_000n, operatorIndex: 8 });
    try {
      const url = await serve(executor);
      const channels: { id: Hex; pay: typeof fetch }[] = [];
      for (const index of [14, 15, 16, 17, 18]) {
        const account = await payer(index);
        const pay = channelFetch(account, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId, 20_000n);
        const body = await callJson(await post(pay, url("add"), [index, 1]));
        await callJson(await post(pay, url("add"), [index, 2]));
        channels.push({ id: body.payment!.channelId!, pay });
      }
      // The fourth channel's stored voucher now fails on-chain (as a smart-wallet payer's signature check can
      // once the voucher was accepted): corrupt its signature in the executor's storage.
      const storage = executor.gate.channelServer.getStorage();
      const hostile = channels[3]!.id;
      await storage.updateChannel(hostile, (c) => (c ? { ...c, signature: `0x${"11".repeat(65)}` } : c));

      const outcome = await executor.claimer.claimAndSweep();
      expect(outcome.claimed).toBe(4);
      expect(outcome.dropped).toEqual([hostile]);
      expect(outcome.swept).toMatch(/^0x[0-9a-f]{64}$/);
      const events = await executor.journal.events("channel-dropped");
      expect(events.map((e) => e.subject)).toEqual([hostile.toLowerCase()]);
      expect(events[0]!.detail).toContain("reason");
      for (const { id } of channels.filter((c) => c.id !== hostile)) {
        const channel = (await storage.get(id))!;
        expect(channel.totalClaimed).toBe(channel.chargedCumulativeAmount);
      }
      // The dropped channel is refused from now on; the others keep working.
      const refused = await errorJson(await post(channels[3]!.pay, url("add"), [0, 0]));
      expect(refused).toMatchObject({ status: 402, code: "PAYMENT_INVALID" });
      expect((await callJson(await post(channels[0]!.pay, url("add"), [40, 2]))).result).toBe(42);
    } finally {
      await executor.close();
    }
  });
});

// Last: it moves the chain clock forward (later ERC-3009 authorizations signed on wall time would be expired).
describe("overdue receipts", () => {
  it("a receipt not settled by its deadline is paid out of the bond, with the bounty to the payer", async () => {
    const executor = await startPaidExecutor(stack, { fee: FEE, bond: 100_000n, operatorIndex: 7, settleWindowSeconds: 60 });
    const url = await serve(executor);
    const account = await payer(13);
    const pay = payingFetch(account, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId);
    const body = await callJson(await post(pay, url("add"), [5, 5]));
    // The executor is stopped before it settles.
    await executor.close();
    const receipt = receiptFromJson(body.receipt!);
    const testClient = createTestClient({ chain: stack.viemChain(), mode: "hardhat", transport: http(stack.chain.rpcUrl) });
    await testClient.increaseTime({ seconds: 600 });
    await stack.chain.mineBlock();

    const maintainerBefore = await stack.settlementBalance(stack.maintainer.address);
    const payerBefore = await stack.settlementBalance(account.address);
    const bondBefore = await stack.bondOf(executor.operator);
    const hash = await stack.wallet(account).writeContract({ address: stack.deployment.contracts.settlement, abi: settlementAbi, functionName: "slashOverdue", args: [receipt, body.signature!] });
    const mined = await stack.client.waitForTransactionReceipt({ hash });
    expect(mined.status).toBe("success");
    const [slashed] = parseEventLogs({ abi: settlementAbi, logs: mined.logs, eventName: "Slashed" });
    expect(slashed!.args).toMatchObject({ executor: executor.operator, receiptId: body.receiptId, payer: account.address, paid: PRICE, bounty: PRICE / 10n });
    expect(await stack.settlementBalance(stack.maintainer.address)).toBe(maintainerBefore + PRICE);
    expect(await stack.settlementBalance(account.address)).toBe(payerBefore + PRICE / 10n);
    expect(await stack.bondOf(executor.operator)).toBe(bondBefore - PRICE - PRICE / 10n);
  });
});
