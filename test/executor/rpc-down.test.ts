import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startExecutor, type RunningExecutor } from "../../executor/service.ts";
import { waitFor } from "../../cli/dev/wait.ts";
import { RpcProxy } from "./helpers/proxy.ts";
import { buildCalc, TestStack, type CalcArtifacts } from "./helpers/stack.ts";
import { challengeOf, craftPayment } from "./helpers/x402.ts";

/** The chain RPC goes down: clear 503s, nothing charged or lost; when it is back, everything settles. */
let stack: TestStack;
let calc: CalcArtifacts;
let proxy: RpcProxy;
let executor: RunningExecutor;

beforeAll(async () => {
  calc = await buildCalc();
  stack = await TestStack.start();
  await stack.publish({ name: "acme/calc", version: "1.0.0", mode: "per-call", price: 1_000n, artifacts: calc });
  await stack.publish({ name: "acme/calc-free", version: "1.0.0", mode: "free", artifacts: calc });
  proxy = new RpcProxy(stack.chain.rpcUrl);
  await proxy.up();
  await stack.fundOperator(100_000n);
  executor = await startExecutor({
    rpcUrl: proxy.url,
    deployment: stack.deployment,
    operatorKey: stack.operatorKey,
    dataDir: await stack.tempDir(),
    port: 0,
    bond: 100_000n,
    settleIntervalMs: 400,
    register: true,
    fee: 500n,
    logLevel: "error",
  });
  await stack.uploadAll(executor.url, executor.operator, calc);
});

afterAll(async () => {
  await executor?.close();
  await proxy?.down();
  await stack?.close();
});

async function errorOf(response: Response) {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, ...body.error };
}

describe("chain RPC down", () => {
  it("answers 503 CHAIN_UNAVAILABLE for paid calls and chain lookups, keeps journaled receipts, settles them when it is back", async () => {
    // A paid call accepted while the chain is up, whose batched settlement will hit the outage.
    const { required } = await challengeOf(`${executor.url}/v1/call/acme/calc@1.0.0/add`, [1, 2]);
    const header = await craftPayment(stack.payer, required, { chainId: 31337 });
    const secondHeader = await craftPayment(stack.payer, required, { chainId: 31337 });
    const accepted = await fetch(`${executor.url}/v1/call/acme/calc@1.0.0/add`, { method: "POST", body: "[1, 2]", headers: { "PAYMENT-SIGNATURE": header } });
    expect(accepted.status).toBe(200);
    const { receiptId } = (await accepted.json()) as { receiptId: string };
    await proxy.down();

    const paid = await fetch(`${executor.url}/v1/call/acme/calc@1.0.0/add`, { method: "POST", body: "[1, 2]", headers: { "PAYMENT-SIGNATURE": secondHeader } });
    const paidError = await errorOf(paid);
    expect(paidError).toMatchObject({ status: 503, code: "CHAIN_UNAVAILABLE" });
    expect(paidError.message).toContain("nothing was charged");

    const unknown = await fetch(`${executor.url}/v1/call/acme/not-yet-seen@1.0.0/add`, { method: "POST", body: "[1, 2]" });
    expect(await errorOf(unknown)).toMatchObject({ status: 503, code: "CHAIN_UNAVAILABLE" });

    const health = await fetch(`${executor.url}/v1/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ ok: false, chainReachable: false });

    // Free calls of known versions keep working from the cached registry view.
    const free = await fetch(`${executor.url}/v1/call/acme/calc-free@1.0.0/add`, { method: "POST", body: "[1, 2]" });
    expect(await free.json()).toMatchObject({ result: 3 });

    // The settler tried during the outage and kept the receipt journaled, unsettled.
    await waitFor(() => (executor.settler.stats.deferred > 0 ? true : undefined), { timeoutMs: 10_000, what: "a deferred settlement attempt" });
    const receiptNow = (await (await fetch(`${executor.url}/v1/receipts/${receiptId}`)).json()) as { status: string };
    expect(receiptNow.status).toBe("unsettled");

    await proxy.up();
    // The payment refused during the outage was never claimed: it is still good.
    const retried = await fetch(`${executor.url}/v1/call/acme/calc@1.0.0/add`, { method: "POST", body: "[1, 2]", headers: { "PAYMENT-SIGNATURE": secondHeader } });
    expect(retried.status).toBe(200);
    await waitFor(async () => {
      const receipt = (await (await fetch(`${executor.url}/v1/receipts/${receiptId}`)).json()) as { status: string };
      return receipt.status === "settled" ? true : undefined;
    }, { timeoutMs: 30_000, what: "the receipt accepted before the outage to settle" });
    await executor.drain();
    // Both receipts settled exactly once: the on-chain seq ranges tile 1..2.
    const batches = (await stack.royaltyBatches()).sort((a, b) => Number(a.firstSeq - b.firstSeq));
    let next = 1n;
    for (const b of batches) {
      expect(b.firstSeq).toBe(next);
      next += b.count;
    }
    expect(next).toBe(3n);
  });
});
