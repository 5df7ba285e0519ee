import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hex } from "viem";
import { waitFor } from "../../cli/dev/wait.ts";
import { spawnExecutor, type ChildExecutor } from "./helpers/child.ts";
import { buildCalc, TestStack, type CalcArtifacts } from "./helpers/stack.ts";
import { challengeOf, craftPayment } from "./helpers/x402.ts";

/**
 * kill -9 during batched settlement: the executor runs as a child process, is killed with receipts
 * journaled but unsettled (and again in the middle of settling), restarted on the same data dir, and
 * every receipt it ever returned settles exactly once on-chain; a pre-crash payment is refused after.
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
    args: ["--settlement", "batched", "--register", "--fee", "500", ...args],
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

async function journalCounts(url: string): Promise<Record<string, number>> {
  const health = (await (await fetch(`${url}/v1/health`)).json()) as { journal: Record<string, number> };
  return health.journal;
}

describe("kill -9 during batched settlement", () => {
  it("settles every journaled receipt exactly once across crashes and never accepts a payment twice", async () => {
    // Run 1: a batch interval longer than the test, so receipts pile up journaled but unsettled.
    let child = await start(["--batch-interval-ms", "600000", "--batch-size", "1000"]);
    await stack.uploadAll(child.url, stack.operator.address, calc);
    const accepted: PaidResult[] = [];
    for (let i = 0; i < 6; i++) {
      const result = await paidCall(child.url, i);
      expect(result.status).toBe(200);
      accepted.push(result);
    }
    expect((await journalCounts(child.url)).pending).toBe(6);
    expect(await stack.settledReceiptIds()).toHaveLength(0);
    await child.kill9();

    // Run 2: small batches on a short timer; kill it while calls and settlements are in flight.
    child = await start(["--batch-interval-ms", "50", "--batch-size", "2"]);
    const inFlight = Array.from({ length: 12 }, (_, i) => paidCall(child.url, 100 + i));
    await waitFor(async () => ((await stack.settledReceiptIds()).length >= 8 ? true : undefined), { timeoutMs: 60_000, what: "some settlements" });
    await child.kill9();
    for (const result of await Promise.all(inFlight)) if (result.status === 200) accepted.push(result);

    // Run 3: recovery settles the rest; nothing is settled twice.
    child = await start(["--batch-interval-ms", "100", "--batch-size", "5"]);
    for (let i = 0; i < 3; i++) {
      const result = await paidCall(child.url, 200 + i);
      expect(result.status).toBe(200);
      accepted.push(result);
    }
    const counts = await waitFor(
      async () => {
        const c = await journalCounts(child.url);
        return (c.pending ?? 0) + (c.submitted ?? 0) === 0 ? c : undefined;
      },
      { timeoutMs: 60_000, what: "the journal to have no unsettled receipt" },
    );

    const settled = await stack.settledReceiptIds();
    expect(new Set(settled).size).toBe(settled.length); // no duplicates on-chain
    for (const result of accepted) expect(settled).toContain(result.receiptId);
    expect(counts.settled).toBe(settled.length); // journal and chain agree
    expect(counts.failed ?? 0).toBe(0);

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
