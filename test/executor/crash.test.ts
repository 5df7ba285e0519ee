import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hex } from "viem";
import { waitFor } from "../../cli/dev/wait.ts";
import { spawnExecutor, type ChildExecutor } from "./helpers/child.ts";
import { buildCalc, TestStack, type CalcArtifacts } from "./helpers/stack.ts";
import { challengeOf, craftPayment } from "./helpers/x402.ts";

/**
 * kill -9 during royalty settlement: the executor runs as a child process, is killed with receipts
 * journaled but unsettled (and again in the middle of settling), restarted on the same data dir, and
 * every receipt it ever returned settles exactly once on-chain (the RoyaltiesSettled seq ranges tile
 * 1..n); a pre-crash payment is refused after.
 */
let stack: TestStack;
let calc: CalcArtifacts;
let dataDir: string;
const children: ChildExecutor[] = [];

beforeAll(async () => {
  calc = await buildCalc();
  stack = await TestStack.start();
  await stack.publish({ name: "acme/calc", version: "1.0.0", mode: "per-call", price: 1_000n, artifacts: calc });
  dataDir = await stack.tempDir();
  await stack.fundOperator(100_000n);
});

afterAll(async () => {
  for (const child of children) await child.kill9().catch(() => {});
  await stack?.close();
});

async function start(args: string[]): Promise<ChildExecutor> {
  const child = await spawnExecutor({
    rpcUrl: stack.chain.rpcUrl,
    deployment: stack.deployment,
    operatorKey: stack.operatorKey,
    dataDir,
    args: ["--register", "--fee", "500", "--bond", "100000", ...args],
  });
  children.push(child);
  return child;
}

interface PaidResult {
  status: number;
  receiptId?: Hex;
  header: string;
}

/** One paid call with a pre-signed payment (kept so it can be replayed later). */
async function paidCall(url: string, a: number): Promise<PaidResult> {
  const { required } = await challengeOf(`${url}/v1/call/acme/calc@1.0.0/add`, [a, 1]);
  const header = await craftPayment(stack.payer, required, { chainId: 31337 });
  try {
    const response = await fetch(`${url}/v1/call/acme/calc@1.0.0/add`, { method: "POST", body: JSON.stringify([a, 1]), headers: { "PAYMENT-SIGNATURE": header } });
    const body = (await response.json()) as { receiptId?: Hex };
    return { status: response.status, receiptId: body.receiptId, header };
  } catch {
    return { status: 0, header }; // connection reset by the kill
  }
}

async function health(url: string): Promise<{ receipts: number; unsettledReceipts: number }> {
  return (await (await fetch(`${url}/v1/health`)).json()) as { receipts: number; unsettledReceipts: number };
}

/** Royalty lines settled on-chain; throws unless the batches tile 1..n without gap or overlap. */
async function settledLines(): Promise<bigint> {
  const batches = (await stack.royaltyBatches()).sort((a, b) => Number(a.firstSeq - b.firstSeq));
  let next = 1n;
  for (const b of batches) {
    expect(b.firstSeq).toBe(next);
    next += b.count;
  }
  return next - 1n;
}

describe("kill -9 during royalty settlement", () => {
  it("settles every journaled receipt exactly once across crashes and never accepts a payment twice", async () => {
    // Run 1: a batch interval longer than the test, so receipts pile up journaled but unsettled.
    let child = await start(["--settle-interval-ms", "600000", "--royalty-batch-size", "1000"]);
    await stack.uploadAll(child.url, stack.operator.address, calc);
    const accepted: PaidResult[] = [];
    for (let i = 0; i < 6; i++) {
      const result = await paidCall(child.url, i);
      expect(result.status).toBe(200);
      accepted.push(result);
    }
    expect((await health(child.url)).unsettledReceipts).toBe(6);
    expect(await settledLines()).toBe(0n);
    await child.kill9();

    // Run 2: small batches on a short timer; kill it while calls and settlements are in flight.
    child = await start(["--settle-interval-ms", "50", "--royalty-batch-size", "2"]);
    const inFlight = Array.from({ length: 12 }, (_, i) => paidCall(child.url, 100 + i));
    await waitFor(async () => ((await settledLines()) >= 8n ? true : undefined), { timeoutMs: 60_000, what: "some settlements" });
    await child.kill9();
    for (const result of await Promise.all(inFlight)) if (result.status === 200) accepted.push(result);

    // Run 3: recovery settles the rest; nothing is settled twice.
    child = await start(["--settle-interval-ms", "100", "--royalty-batch-size", "5"]);
    for (let i = 0; i < 3; i++) {
      const result = await paidCall(child.url, 200 + i);
      expect(result.status).toBe(200);
      accepted.push(result);
    }
    const final = await waitFor(
      async () => {
        const h = await health(child.url);
        return h.unsettledReceipts === 0 ? h : undefined;
      },
      { timeoutMs: 60_000, what: "every journaled receipt to settle" },
    );
    // Journal and chain agree: one line per receipt, each settled once, every returned receipt among them.
    const lines = await settledLines();
    expect(lines).toBe(BigInt(final.receipts));
    for (const result of accepted) {
      const stored = (await (await fetch(`${child.url}/v1/receipts/${result.receiptId}`)).json()) as { status: string };
      expect(stored.status).toBe("settled");
    }

    // A payment accepted before a crash is refused after the restart.
    const replay = await fetch(`${child.url}/v1/call/acme/calc@1.0.0/add`, { method: "POST", body: "[0, 1]", headers: { "PAYMENT-SIGNATURE": accepted[0]!.header } });
    expect(replay.status).toBe(402);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe("PAYMENT_REPLAYED");
    await child.stop();

    // Structured logs, and the operator key never appears in them.
    for (const run of children) {
      expect(run.output()).toContain('"msg":"executor listening"');
      expect(run.output().toLowerCase()).not.toContain(stack.operatorKey.slice(2).toLowerCase());
    }
  });
});
