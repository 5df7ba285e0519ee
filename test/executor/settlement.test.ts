import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEventLogs, type Address, type Hex } from "viem";
import { localUsdcAbi, settlementAbi } from "../../sdk/abi.ts";
import { startExecutor, type RunningExecutor } from "../../executor/service.ts";
import { devAccount } from "../helpers/chain.ts";
import { buildCalc, TestStack, type CalcArtifacts } from "./helpers/stack.ts";
import { challengeOf, craftPayment } from "./helpers/x402.ts";

/**
 * Batched settlement against adversity: an authorization front-run directly on the token still
 * settles (the funds landed in Settlement), and a payer who empties the wallet before the batch is
 * skipped on-chain and journaled as failed with the decoded reason, without blocking the others.
 */
let stack: TestStack;
let calc: CalcArtifacts;
let executor: RunningExecutor;

beforeAll(async () => {
  calc = await buildCalc();
  stack = await TestStack.start();
  await stack.publish({ name: "acme/calc", version: "1.0.0", mode: "per-call", price: 1_000n, artifacts: calc });
  executor = await startExecutor({
    rpcUrl: stack.chain.rpcUrl,
    deployment: stack.deployment,
    operatorKey: stack.operatorKey,
    dataDir: await stack.tempDir(),
    port: 0,
    settlement: "batched",
    batchIntervalMs: 3_600_000, // settle only when the test drains
    batchSize: 1_000,
    register: true,
    fee: 500n,
    logLevel: "warn",
  });
  await stack.uploadAll(executor.url, executor.operator, calc);
});

afterAll(async () => {
  await executor?.close();
  await stack?.close();
});

async function paidCall(payer = stack.payer): Promise<{ receiptId: Hex; header: string }> {
  const { required } = await challengeOf(`${executor.url}/v1/call/acme/calc@1.0.0/add`, [2, 2]);
  const header = await craftPayment(payer, required, { chainId: 31337 });
  const response = await fetch(`${executor.url}/v1/call/acme/calc@1.0.0/add`, { method: "POST", body: "[2, 2]", headers: { "PAYMENT-SIGNATURE": header } });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { receiptId: Hex; settlement: { status: string } };
  expect(body.settlement.status).toBe("queued");
  return { receiptId: body.receiptId, header };
}

function authorizationOf(header: string) {
  const payload = JSON.parse(Buffer.from(header, "base64").toString()) as {
    payload: { authorization: { from: Address; to: Address; value: string; validAfter: string; validBefore: string; nonce: Hex }; signature: Hex };
  };
  return payload.payload;
}

async function receiptStatus(receiptId: Hex): Promise<{ status: string; reason: string | null }> {
  return (await (await fetch(`${executor.url}/v1/receipts/${receiptId}`)).json()) as { status: string; reason: string | null };
}

describe("batched settlement", () => {
  it("settles a payment whose authorization was front-run on the token", async () => {
    const normal = await paidCall();
    const frontRun = await paidCall();
    const { authorization: a, signature } = authorizationOf(frontRun.header);
    // Anyone may submit an EIP-3009 authorization: the stranger does, before the executor's batch.
    await stack.confirm(
      await stack.wallet(stack.stranger).writeContract({
        address: stack.deployment.contracts.usdc,
        abi: localUsdcAbi,
        functionName: "transferWithAuthorization",
        args: [a.from, a.to, BigInt(a.value), BigInt(a.validAfter), BigInt(a.validBefore), a.nonce, signature],
      }),
    );
    await executor.drain();
    expect(await receiptStatus(normal.receiptId)).toMatchObject({ status: "settled" });
    expect(await receiptStatus(frontRun.receiptId)).toMatchObject({ status: "settled" });
    const events = await stack.client.getContractEvents({ address: stack.deployment.contracts.settlement, abi: settlementAbi, eventName: "Settled", fromBlock: 0n });
    const flags = new Map(events.map((e) => [e.args.receiptId, e.args.frontRun]));
    expect(flags.get(normal.receiptId)).toBe(false);
    expect(flags.get(frontRun.receiptId)).toBe(true);
  });

  it("journals a skipped item as failed with the reason, and settles the rest of the batch", async () => {
    const broke = devAccount(7);
    await stack.mint(broke.address, 1_500n); // exactly one call
    const good = await paidCall();
    const skipped = await paidCall(broke);
    // The payer empties the wallet after the call and before the batch settles.
    await stack.confirm(
      await stack.wallet(broke).writeContract({ address: stack.deployment.contracts.usdc, abi: localUsdcAbi, functionName: "transfer", args: [stack.stranger.address, 1_500n] }),
    );
    const before = executor.settler.stats.failed;
    await executor.drain();
    expect(await receiptStatus(good.receiptId)).toMatchObject({ status: "settled" });
    const failed = await receiptStatus(skipped.receiptId);
    expect(failed.status).toBe("failed");
    expect(failed.reason).toContain("ERC20InsufficientBalance");
    expect(executor.settler.stats.failed).toBe(before + 1);
    expect(await stack.isSettled(broke.address, authorizationOf(skipped.header).authorization.nonce)).toBe(false);
    // The skip is on-chain too.
    const logs = await stack.client.getContractEvents({ address: stack.deployment.contracts.settlement, abi: settlementAbi, eventName: "SettlementSkipped", fromBlock: 0n });
    expect(parseEventLogs({ abi: settlementAbi, logs }).map((l) => (l.args as { receiptId: Hex }).receiptId)).toContain(skipped.receiptId);
  });
});
