/**
 * Many executors, real processes: two executors (own keys, fees, bonds, journals) serve one paid
 * version; the SDK (Glassbox.call) picks the cheaper one, and calls keep going on the other when it
 * is SIGKILLed mid-run. A call whose payment was sent to the killed executor is not retried elsewhere:
 * its paid result is read back from that executor's journal after the restart. On-chain, every
 * payment the payer made backs exactly one receipt (no double payment, no paid result lost).
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hex } from "viem";
import { localUsdcAbi } from "../../sdk/abi.ts";
import { GlassboxError, PaymentSignedError } from "../../sdk/client/errors.ts";
import { devAccount, devPrivateKey } from "../../sdk/dev-accounts.ts";
import { Glassbox } from "../../sdk/glassbox.ts";
import { outputHashOf, type Receipt } from "../../sdk/receipt.ts";
import { receiptIdForPayment } from "../../sdk/client/executor-choice.ts";
import { spawnExecutor, type ChildExecutor } from "./helpers/child.ts";
import { buildMeter, METER } from "./helpers/paid-stack.ts";
import { TestStack, type CalcArtifacts } from "./helpers/stack.ts";

const PRICE = 1_000n;
const FEE_A = 100n;
const FEE_B = 200n;
const BOND = 1_000_000n;
const OPERATOR_B = 8;

let stack: TestStack;
let meter: CalcArtifacts;
let a: ChildExecutor;
let b: ChildExecutor;
let dirA: string;
let proxy: DroppingProxy;
const children: ChildExecutor[] = [];

/**
 * A pass-through HTTP proxy in front of executor A. Armed, it forwards the next paid request (one
 * carrying PAYMENT-SIGNATURE), lets the executor answer, and then cuts the client's connection: the
 * payment is taken, the answer never arrives (as when an executor dies right after answering).
 */
class DroppingProxy {
  armed = false;
  private readonly server: Server;
  constructor(target: () => number) {
    this.server = createServer((req, res) => {
      const drop = this.armed && req.headers["payment-signature"] !== undefined;
      if (drop) this.armed = false;
      const upstream = httpRequest({ host: "127.0.0.1", port: target(), path: req.url, method: req.method, headers: req.headers }, (answer) => {
        if (drop) {
          answer.resume();
          answer.once("end", () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.once("error", () => req.socket.destroy());
      req.pipe(upstream);
    });
  }
  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function startExecutor(operatorIndex: number, fee: bigint, dataDir: string, port?: number): Promise<ChildExecutor> {
  const child = await spawnExecutor({
    rpcUrl: stack.chain.rpcUrl,
    deployment: stack.deployment,
    operatorKey: devPrivateKey(operatorIndex),
    dataDir,
    ...(port ? { port } : {}),
    args: ["--register", "--fee", fee.toString(), "--bond", BOND.toString(), "--settle-interval-ms", "600000"],
  });
  children.push(child);
  return child;
}

/** EIP-3009 authorizations of `payer` used on-chain: one per exact payment actually taken. */
async function paymentsTaken(payer: Hex, fromBlock: bigint): Promise<number> {
  const logs = await stack.client.getContractEvents({ address: stack.deployment.contracts.usdc, abi: localUsdcAbi, eventName: "AuthorizationUsed", args: { authorizer: payer }, fromBlock });
  return logs.length;
}

beforeAll(async () => {
  meter = await buildMeter();
  stack = await TestStack.start();
  await stack.publish({ name: "acme/meter", version: "1.0.0", mode: "per-call", price: PRICE, artifacts: meter, ...METER });
  await stack.fundOperator(BOND);
  await stack.mint(devAccount(OPERATOR_B).address, BOND);
  dirA = await stack.tempDir();
  [a, b] = await Promise.all([startExecutor(3, FEE_A, dirA), startExecutor(OPERATOR_B, FEE_B, await stack.tempDir())]);
  await stack.uploadAll(a.url, devAccount(3).address, meter);
  await stack.uploadAll(b.url, devAccount(OPERATOR_B).address, meter);
  proxy = new DroppingProxy(() => a.port);
  await proxy.listen();
}, 240_000);

afterAll(async () => {
  await proxy?.close();
  for (const child of children) await child.kill9().catch(() => {});
  await stack?.close();
});

describe("executor choice and failover (SDK, real executor processes)", () => {
  it("ranks the serving executors by fee, skipping one that is down or does not serve the version", async () => {
    const glassbox = new Glassbox({ rpcUrl: stack.chain.rpcUrl, deployment: stack.deployment, executorUrls: [b.url, proxy.url, "http://127.0.0.1:9"] });
    const version = await glassbox.registry.resolveVersion("acme/meter", "1.0.0");
    const ranking = await glassbox.executorChooser.rank(await glassbox.executorCandidates(), version);
    expect(ranking.ranked.map((e) => [e.url, e.fee])).toEqual([
      [proxy.url, FEE_A],
      [b.url, FEE_B],
    ]);
    expect(ranking.skipped.map((s) => s.url)).toEqual(["http://127.0.0.1:9"]);
    expect(ranking.skipped[0]!.reason).toMatch(/unreachable/);
  });

  it("kill -9 mid-run: calls continue on the other executor, the paid result is recovered from the killed one's journal, nothing is paid twice", async () => {
    const payer = stack.payer;
    const fromBlock = await stack.client.getBlockNumber();
    const balanceBefore = await stack.usdcBalance(payer.address);
    const glassbox = new Glassbox({ rpcUrl: stack.chain.rpcUrl, deployment: stack.deployment, account: payer, executorUrls: [proxy.url, b.url] });
    const receipts: Receipt[] = [];
    const call = async (x: number) => {
      const outcome = await glassbox.call("acme/meter@1.0.0", "add", [x, 1000], { scheme: "exact" });
      expect(outcome.result).toBe(x + 1000);
      receipts.push(outcome.receipt!);
      return outcome;
    };

    // The cheaper executor takes the calls while it is up.
    for (let i = 0; i < 3; i++) expect((await call(i)).executor).toBe(proxy.url);

    // A paid call whose answer is lost: A journaled receipt and result, the client never saw them.
    proxy.armed = true;
    const lost = await glassbox.call("acme/meter@1.0.0", "add", [7, 1000], { scheme: "exact" }).catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(PaymentSignedError);
    expect((lost as PaymentSignedError).answered).toBe(false);
    expect((lost as PaymentSignedError).executorUrl).toBe(proxy.url);

    // Calls in flight, then A is killed outright.
    const interrupted: PaymentSignedError[] = [lost as PaymentSignedError];
    const inFlight = Array.from({ length: 6 }, (_, i) =>
      call(100 + i).catch((error: unknown) => {
        // Only a call whose payment already went to A may fail: never retried on B.
        if (!(error instanceof PaymentSignedError)) throw error;
        expect(error.executorUrl).toBe(proxy.url);
        interrupted.push(error);
        return undefined;
      }),
    );
    await a.kill9();
    await Promise.all(inFlight);

    // A is down: every call now goes to B.
    for (let i = 0; i < 4; i++) expect((await call(200 + i)).executor).toBe(b.url);

    // A restarts on its journal (same port behind the proxy); each interrupted paid call is read back from it.
    a = await startExecutor(3, FEE_A, dirA, a.port);
    let recovered = 0;
    for (const error of interrupted) {
      const outcome = await glassbox.recoverPaidCall(error, { waitMs: 30_000 });
      if (!outcome.paid) continue;
      recovered++;
      expect(outcome.receipt.executor).toBe(devAccount(3).address);
      expect(outputHashOf(outcome.result)).toBe(outcome.receipt.outputHash);
      expect(outcome.result).toBeGreaterThanOrEqual(1000);
      receipts.push(outcome.receipt);
    }
    expect(recovered).toBeGreaterThanOrEqual(1);
    const lostRecovery = await glassbox.recoverPaidCall(lost as PaymentSignedError);
    expect(lostRecovery).toMatchObject({ paid: true, result: 1007 });

    // No double payment, no paid result lost: each payment taken on-chain backs exactly one receipt we hold.
    expect(await paymentsTaken(payer.address, fromBlock)).toBe(receipts.length);
    const charged = receipts.reduce((sum, r) => sum + r.royalty + r.executorFee, 0n);
    expect(await stack.usdcBalance(payer.address)).toBe(balanceBefore - charged);
    expect(new Set(receipts.map((r) => r.paymentRef)).size).toBe(receipts.length);
    // Every receipt A issued (before the kill, or recovered) is in its journal after the restart.
    const fromA = receipts.filter((r) => r.executor === devAccount(3).address);
    expect(fromA.length).toBeGreaterThanOrEqual(4);
    for (const r of fromA) {
      const id = await receiptIdForPayment(a.url, r.paymentRef);
      expect(id).toMatch(/^0x[0-9a-f]{64}$/);
    }
  });

  it("an explicit executor gets no failover: the failure is its own", async () => {
    const glassbox = new Glassbox({ rpcUrl: stack.chain.rpcUrl, deployment: stack.deployment, account: stack.payer, executorUrls: [b.url] });
    const error = await glassbox.call("acme/meter@1.0.0", "add", [1, 2], { scheme: "exact", executorUrl: "http://127.0.0.1:9" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GlassboxError);
    expect((error as GlassboxError).code).toBe("CALL_FAILED");
    expect(error).not.toBeInstanceOf(PaymentSignedError);
  });
});
