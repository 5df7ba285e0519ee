/**
 * Executor standing, for payers (issue 9, property 3): the SDK pays only executors whose bond can back
 * the receipt it gets. Real chain, real contracts, real executors (in process): one that began its bond
 * exit and one whose bond is short of what it owes are skipped, and the call goes to a healthy one;
 * with only bad ones left, the call is refused before any payment is signed; and the payment may only go
 * to the operator whose standing was checked, not to whoever an executor's 402 names.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settlementAbi } from "../../sdk/abi.ts";
import { GlassboxError, PaymentSignedError } from "../../sdk/client/errors.ts";
import { devAccount } from "../../sdk/dev-accounts.ts";
import { Glassbox } from "../../sdk/glassbox.ts";
import type { RunningExecutor } from "../../executor/service.ts";
import { buildMeter, METER, startPaidExecutor } from "./helpers/paid-stack.ts";
import { TestStack } from "./helpers/stack.ts";

const PRICE = 1_000n;
const BOND = 1_000_000n;
const REF = "acme/meter@1.0.0";

let stack: TestStack;
/** Healthy: registered, bonded, not exiting; the dearest, so it is chosen only when the others are skipped. */
let healthy: RunningExecutor;
/** The cheapest: registered and bonded, then begins its bond exit. */
let exiting: RunningExecutor;
/** Bonded for one call's royalty and a half: after one paid call, its bond cannot back another. */
let short: RunningExecutor;
const executors: RunningExecutor[] = [];

beforeAll(async () => {
  const meter = await buildMeter();
  stack = await TestStack.start();
  await stack.publish({ name: "acme/meter", version: "1.0.0", mode: "per-call", price: PRICE, artifacts: meter, ...METER });
  healthy = await startPaidExecutor(stack, { fee: 300n, bond: BOND });
  exiting = await startPaidExecutor(stack, { fee: 100n, bond: BOND, operatorIndex: 8 });
  short = await startPaidExecutor(stack, { fee: 200n, bond: PRICE + PRICE / 2n, operatorIndex: 9 });
  executors.push(healthy, exiting, short);
  for (const e of executors) await stack.uploadAll(e.url, e.operator, meter);
  await stack.confirm(
    await stack.wallet(devAccount(8)).writeContract({ address: stack.deployment.contracts.settlement, abi: settlementAbi, functionName: "beginExit", args: [] }),
  );
}, 240_000);

afterAll(async () => {
  for (const e of executors) await e.close().catch(() => {});
  await stack?.close();
});

function glassboxFor(urls: string[]): Glassbox {
  return new Glassbox({ rpcUrl: stack.chain.rpcUrl, deployment: stack.deployment, account: stack.payer, executorUrls: urls });
}

describe("executor standing (SDK chooser, real chain and executors)", () => {
  it("skips an executor that began its bond exit, naming why, and the call goes to a healthy one", async () => {
    const glassbox = glassboxFor([exiting.url, healthy.url]);
    const version = await glassbox.registry.resolveVersion("acme/meter", "1.0.0");
    const ranking = await glassbox.executorChooser.rank(await glassbox.executorCandidates(), version);
    expect(ranking.ranked.map((e) => e.url)).toEqual([healthy.url]);
    expect(ranking.skipped).toEqual([{ url: exiting.url, reason: expect.stringMatching(/has begun withdrawing its bond/), standing: true }]);

    const outcome = await glassbox.call(REF, "add", [2, 3], { scheme: "exact" });
    expect(outcome.result).toBe(5);
    expect(outcome.executor).toBe(healthy.url);
    expect(outcome.receipt!.executor).toBe(healthy.operator);
  });

  it("skips an executor whose on-chain bond cannot cover its unsettled royalties plus this call's", async () => {
    // One paid call: 1000 unsettled against a bond of 1500 (the executor settles only when drained).
    const first = await glassboxFor([short.url]).call(REF, "add", [1, 1], { scheme: "exact" });
    expect(first.executor).toBe(short.url);
    expect(short.book.total).toBe(PRICE);

    const glassbox = glassboxFor([short.url, healthy.url]);
    const version = await glassbox.registry.resolveVersion("acme/meter", "1.0.0");
    const ranking = await glassbox.executorChooser.rank(await glassbox.executorCandidates(), version);
    expect(ranking.ranked.map((e) => e.url)).toEqual([healthy.url]);
    expect(ranking.skipped).toHaveLength(1);
    expect(ranking.skipped[0]!.reason).toContain(`has a bond of ${PRICE + PRICE / 2n} on-chain, short of its unsettled royalties (${PRICE})`);
    expect((await glassbox.call(REF, "add", [4, 4], { scheme: "exact" })).executor).toBe(healthy.url);
  });

  it("with only executors in bad standing, refuses the call before any payment is signed: balance and channel unchanged", async () => {
    const payer = stack.payer.address;
    const glassbox = glassboxFor([exiting.url, short.url]);
    const balanceBefore = await stack.usdcBalance(payer);
    const channelBefore = await glassbox.channels.status(payer, exiting.url);
    // A channel call that would deposit: refused before the deposit as well as before the voucher.
    const error = await glassbox.call(REF, "add", [1, 2], { deposit: 10_000n }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GlassboxError);
    expect(error).not.toBeInstanceOf(PaymentSignedError);
    const refusal = error as GlassboxError;
    expect(refusal.code).toBe("NO_EXECUTOR_IN_GOOD_STANDING");
    expect(refusal.message).toContain(`${exiting.url}: operator ${exiting.operator} has begun withdrawing its bond`);
    expect(refusal.message).toContain(`${short.url}: operator ${short.operator} has a bond of`);
    expect(refusal.hint).toMatch(/Nothing was signed or paid/);

    // Named explicitly, an exiting executor is refused the same way.
    const explicit = await glassbox.call(REF, "add", [1, 2], { deposit: 10_000n, executorUrl: exiting.url }).catch((e: unknown) => e);
    expect((explicit as GlassboxError).code).toBe("NO_EXECUTOR_IN_GOOD_STANDING");

    expect(await stack.usdcBalance(payer)).toBe(balanceBefore);
    expect(await glassbox.channels.status(payer, exiting.url)).toEqual(channelBefore);
    expect(channelBefore.balance).toBe(0n);
    expect(exiting.book.count).toBe(0);
  });

  it("pays only the operator whose standing was checked: an executor claiming another's address is refused before signing", async () => {
    // The exiting executor behind a proxy whose /v1/info names the healthy operator.
    const impostor = await impersonate(exiting.url, healthy.operator);
    try {
      const payer = stack.payer.address;
      const balanceBefore = await stack.usdcBalance(payer);
      const glassbox = glassboxFor([impostor.url]);
      const version = await glassbox.registry.resolveVersion("acme/meter", "1.0.0");
      expect((await glassbox.executorChooser.rank([impostor.url], version)).ranked.map((e) => e.operator)).toEqual([healthy.operator]);
      const error = await glassbox.call(REF, "add", [1, 2], { deposit: 10_000n }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GlassboxError);
      expect(error).not.toBeInstanceOf(PaymentSignedError);
      expect((error as GlassboxError).code).toBe("ALL_EXECUTORS_FAILED");
      expect((error as GlassboxError).message).toContain(`PAYEE_MISMATCH ${impostor.url} asks to be paid at ${exiting.operator}, not at its operator ${healthy.operator}`);
      expect(await stack.usdcBalance(payer)).toBe(balanceBefore);
      expect((await glassbox.channels.status(payer, impostor.url)).balance).toBe(0n);
    } finally {
      await impostor.close();
    }
  });

  it("a free version needs no bond check: the exiting executor still serves it", async () => {
    const meter = await buildMeter();
    await stack.publish({ name: "acme/meter", version: "1.0.1", mode: "free", artifacts: meter, ...METER });
    const glassbox = glassboxFor([exiting.url]);
    const version = await glassbox.registry.resolveVersion("acme/meter", "1.0.1");
    await waitUntilServed(glassbox, exiting.url, version.versionId);
    const outcome = await glassbox.call("acme/meter@1.0.1", "add", [20, 22]);
    expect(outcome).toMatchObject({ result: 42, paid: false, executor: exiting.url });
  });
});

/** The executor picks up a newly published version from the chain (its blobs are already stored). */
async function waitUntilServed(glassbox: Glassbox, url: string, versionId: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const info = await glassbox.executorInfo(url);
    if (info?.packages.some((p) => (p as { versionId?: string }).versionId === versionId)) return;
    if (Date.now() > deadline) throw new Error(`${url} did not serve ${versionId} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A pass-through to `target` whose /v1/info names `operator` as the executor's address. */
async function impersonate(target: string, operator: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string" && name !== "host" && name !== "content-length") headers.set(name, value);
      const body = Buffer.concat(chunks);
      const answer = await fetch(`${target}${req.url}`, { method: req.method, headers, ...(body.length > 0 ? { body } : {}) });
      let payload = Buffer.from(await answer.arrayBuffer());
      if (req.url === "/v1/info") payload = Buffer.from(JSON.stringify({ ...JSON.parse(payload.toString("utf8")), operator, address: operator }));
      const out: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (!["content-length", "content-encoding", "transfer-encoding"].includes(name)) out[name] = value;
      });
      res.writeHead(answer.status, out).end(payload);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
