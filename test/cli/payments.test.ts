/**
 * Paying from the CLI on payments v2, against a real chain, the real contracts and a real executor: the
 * installed `glassbox` bin pays through a channel (deposit only as agreed, state kept across runs), or with
 * exact; manages the channel (open, top up, status, close after the delay); and checks every kept receipt on
 * the chain, submitting the proofs that make the executor's bond pay for what it did not settle as signed.
 */
import { readFile, rm, appendFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestClient, createWalletClient, http, type Hex } from "viem";
import { hardhat } from "viem/chains";
import { localUsdcAbi, settlementAbi } from "../../sdk/abi.ts";
import { receiptId, receiptToJson, RECEIPT_TYPES, receiptDomain, type Receipt } from "../../sdk/receipt.ts";
import { encodeRoyaltyLine } from "../../sdk/royalty-batch.ts";
import type { RunningExecutor } from "../../executor/service.ts";
import { REPO_ROOT } from "../../cli/config.ts";
import { buildMeter, METER, startPaidExecutor } from "../executor/helpers/paid-stack.ts";
import { TestStack, type Published } from "../executor/helpers/stack.ts";
import { cliHome, runGlassbox, type CliRun } from "../helpers/cli.ts";

const FEE = 100n;
const PRICE = 1_000n;
const BOND = 1_000_000n;
const SETTLE_WINDOW = 600;
const WITHDRAW_DELAY = 900;
const PAYER_INDEX = 2; // TestStack.payer

let stack: TestStack;
let executor: RunningExecutor;
let version: Published;
let home: string;
let deploymentsFile: string;
let executorDir: string;

function glassbox(args: string[], opts: { json?: boolean; account?: number } = {}): Promise<CliRun> {
  const flags = ["--rpc", stack.chain.rpcUrl, "--deployments", deploymentsFile, "--executor", executor.url, "--dev-account", String(opts.account ?? PAYER_INDEX)];
  if (opts.json !== false) flags.push("--json");
  return runGlassbox([...args, ...flags], { cwd: REPO_ROOT, env: { GLASSBOX_HOME: home, GLASSBOX_INDEXER_URL: "" } });
}

const testClient = () => createTestClient({ chain: { ...hardhat, rpcUrls: { default: { http: [stack.chain.rpcUrl] } } }, mode: "hardhat", transport: http(stack.chain.rpcUrl) });

async function advance(seconds: number): Promise<void> {
  await testClient().increaseTime({ seconds });
  await stack.chain.mineBlock();
}

beforeAll(async () => {
  const meter = await buildMeter();
  stack = await TestStack.start();
  version = await stack.publish({ name: "acme/meter", version: "1.0.0", mode: "per-call", price: PRICE, artifacts: meter, ...METER });
  executorDir = await stack.tempDir();
  executor = await startPaidExecutor(stack, { fee: FEE, bond: BOND, settleWindowSeconds: SETTLE_WINDOW, withdrawDelaySeconds: WITHDRAW_DELAY, dataDir: executorDir });
  await stack.uploadAll(executor.url, executor.operator, meter);
  ({ home, deploymentsFile } = await cliHome("glassbox-pay-", stack.deployment));
}, 240_000);

afterAll(async () => {
  await executor?.close();
  await stack?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe("glassbox call, channel and receipts on payments v2", () => {
  let channelId: Hex;
  const charged = () => PRICE + FEE;

  it("refuses to lock USDC in a channel without a TTY, --deposit or --yes, and takes nothing", async () => {
    const before = await stack.usdcBalance(stack.payer.address);
    const result = await glassbox(["call", "acme/meter", "add", "1", "2"]);
    expect(result.code).toBe(5);
    expect(result.json.error.code).toBe("DEPOSIT_REQUIRED");
    expect(result.json.error.message).toMatch(/needs a deposit of at least 1100/);
    expect(await stack.usdcBalance(stack.payer.address)).toBe(before);
  });

  it("opens a channel with the deposit given on first use, pays by voucher, and verifies and keeps the receipt", async () => {
    const before = await stack.usdcBalance(stack.payer.address);
    const result = await glassbox(["call", "acme/meter", "add", "2", "3", "--deposit", "10000"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ result: 5, paid: true, payment: { scheme: "batch-settlement", amount: charged().toString(), chargedCumulativeAmount: charged().toString() } });
    expect(result.json.deposit.amount).toBe("10000");
    expect(result.json.receipt).toMatchObject({ royalty: PRICE.toString(), executorFee: FEE.toString(), payer: stack.payer.address, executor: executor.operator });
    expect(BigInt(result.json.receipt.seq)).toBeGreaterThan(0n);
    channelId = result.json.payment.channelId;
    // The deposit left the wallet, exactly; the call itself moved nothing on-chain.
    expect(await stack.usdcBalance(stack.payer.address)).toBe(before - 10_000n);
    const status = await glassbox(["channel", "status"]);
    expect(status.json).toMatchObject({ channelId, balance: "10000", totalClaimed: "0", charged: charged().toString(), available: (10_000n - charged()).toString(), withdrawal: null });
  });

  it("keeps the channel across runs: the next process pays with a voucher only, from the stored state", async () => {
    const before = await stack.usdcBalance(stack.payer.address);
    const result = await glassbox(["call", "acme/meter", "add", "5", "5"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json.payment).toMatchObject({ scheme: "batch-settlement", channelId, chargedCumulativeAmount: (2n * charged()).toString() });
    expect(result.json.deposit).toBeNull();
    expect(await stack.usdcBalance(stack.payer.address)).toBe(before);
    const stored = JSON.parse(await readFile(path.join(home, "channels", "31337", stack.payer.address.toLowerCase(), "client", `${channelId.toLowerCase()}.json`), "utf8"));
    expect(stored.chargedCumulativeAmount).toBe((2n * charged()).toString());
  });

  it("pays with exact on request: one transfer of exactly the quote, settled before the answer", async () => {
    const before = await stack.usdcBalance(stack.payer.address);
    const result = await glassbox(["call", "acme/meter", "add", "7", "1", "--scheme", "exact"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json.payment.scheme).toBe("exact");
    expect(result.json.payment.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(result.json.receipt.paymentRef).toBe(result.json.payment.transaction);
    expect(await stack.usdcBalance(stack.payer.address)).toBe(before - charged());
    const human = await glassbox(["call", "acme/meter", "add", "1", "1", "--scheme", "exact"], { json: false });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain("receipt verified");
    expect(human.stdout).toMatch(/paid with exact: transfer 0x[0-9a-f]{64}/);
  });

  it("tops the channel up and shows it on-chain", async () => {
    const before = await stack.usdcBalance(stack.payer.address);
    const result = await glassbox(["channel", "top-up", "--deposit", "5000"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ action: "top-up", deposited: "5000", channel: { channelId, balance: "15000", charged: (2n * charged()).toString() } });
    expect(await stack.usdcBalance(stack.payer.address)).toBe(before - 5_000n);
    // A voucher call after the top-up still sends no deposit: the stored balance was brought in line.
    const call = await glassbox(["call", "acme/meter", "add", "0", "0"]);
    expect(call.code, call.stderr).toBe(0);
    expect(call.json.deposit).toBeNull();
    expect(await stack.usdcBalance(stack.payer.address)).toBe(before - 5_000n);
  });

  it("lists every receipt as pending until the executor settles, then as settled exactly as signed", async () => {
    const pending = await glassbox(["receipts"]);
    expect(pending.code, pending.stderr).toBe(0);
    expect(pending.json.receipts).toHaveLength(5);
    expect(pending.json.counts).toEqual({ pending: 5 });
    // The maintainer sees what the executor owes it and has not settled; the operator its fee and bond.
    const owed = await glassbox(["earnings"], { account: 1 });
    expect(owed.code, owed.stderr).toBe(0);
    expect(owed.json.pendingRoyalties.versions).toMatchObject([{ name: "acme/meter", version: "1.0.0", receipts: 5, amount: (5n * PRICE).toString() }]);
    const operator = await glassbox(["earnings"], { account: 3 });
    expect(operator.json.executor).toMatchObject({ fee: FEE.toString(), bond: BOND.toString(), active: true });
    const maintainerBefore = await stack.settlementBalance(stack.maintainer.address);
    await executor.drain();
    const settled = await glassbox(["receipts"]);
    expect(settled.json.counts).toEqual({ settled: 5 });
    for (const r of settled.json.receipts) expect(r.lines[0].settled).toMatchObject({ matches: true });
    expect(await stack.settlementBalance(stack.maintainer.address)).toBe(maintainerBefore + 5n * PRICE);
    expect((await glassbox(["earnings"], { account: 1 })).json.pendingRoyalties.versions).toEqual([]);
  });

  it("an executor that stops before settling: overdue and mismatched receipts are paid from its bond, bounty to the payer", async () => {
    const first = await glassbox(["call", "acme/meter", "add", "3", "3", "--scheme", "exact"]);
    const second = await glassbox(["call", "acme/meter", "add", "4", "4", "--scheme", "exact"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    await executor.close();
    // The operator settles the first receipt's sequence number as if it were another receipt: a mismatch.
    const operatorWallet = createWalletClient({ account: stack.operator, chain: stack.viemChain(), transport: http(stack.chain.rpcUrl) });
    await stack.confirm(await operatorWallet.writeContract({ address: stack.deployment.contracts.usdc, abi: localUsdcAbi, functionName: "approve", args: [stack.deployment.contracts.settlement, PRICE] }));
    const line = encodeRoyaltyLine(second.json.receiptId, 0, PRICE);
    expect(BigInt(first.json.receipt.seq)).toBe(await stack.nextSeq(executor.operator));
    await stack.confirm(await operatorWallet.writeContract({ address: stack.deployment.contracts.settlement, abi: settlementAbi, functionName: "settleRoyalties", args: [[version.versionId], [line]] }));

    const beforeDeadline = await glassbox(["receipts"]);
    const byId = (run: CliRun) => Object.fromEntries(run.json.receipts.map((r: { receiptId: string }) => [r.receiptId, r]));
    expect(byId(beforeDeadline)[first.json.receiptId].state).toBe("mismatched");
    expect(byId(beforeDeadline)[second.json.receiptId].state).toBe("pending");

    // Past the deadline the executor signed, on the chain's clock (the one Settlement judges by).
    const chainNow = (await stack.client.getBlock()).timestamp;
    await advance(Number(BigInt(second.json.receipt.deadline) - chainNow) + 1);
    const overdue = await glassbox(["receipts"]);
    expect(byId(overdue)[second.json.receiptId].state).toBe("overdue");
    const human = await glassbox(["receipts"], { json: false });
    expect(human.stdout).toMatch(/2 can be paid out of the executor's bond/);

    const bondBefore = await stack.bondOf(executor.operator);
    const payerBefore = await stack.settlementBalance(stack.payer.address);
    const maintainerBefore = await stack.settlementBalance(stack.maintainer.address);
    const submitted = await glassbox(["receipts", "--submit"]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const proofs = byId(submitted);
    expect(proofs[first.json.receiptId].submitted).toMatchObject([{ kind: "mismatch", paid: PRICE.toString(), bounty: (PRICE / 10n).toString() }]);
    expect(proofs[second.json.receiptId].submitted).toMatchObject([{ kind: "overdue", paid: PRICE.toString(), bounty: (PRICE / 10n).toString() }]);
    // The maintainer gets both royalties from the bond; the payer gets both bounties; the bond pays all of it.
    expect(await stack.settlementBalance(stack.maintainer.address)).toBe(maintainerBefore + 2n * PRICE);
    expect(await stack.settlementBalance(stack.payer.address)).toBe(payerBefore + 2n * (PRICE / 10n));
    expect(await stack.bondOf(executor.operator)).toBe(bondBefore - 2n * (PRICE + PRICE / 10n));
    const after = await glassbox(["receipts"]);
    expect(byId(after)[first.json.receiptId].state).toBe("slashed");
    expect(byId(after)[second.json.receiptId].state).toBe("slashed");
    // Nothing is paid twice: a second --submit sends nothing.
    const again = await glassbox(["receipts", "--submit"]);
    expect(again.json.receipts.every((r: { submitted: unknown[] }) => r.submitted.length === 0)).toBe(true);
  });

  it("closes the channel: withdraws what is not charged after the delay, and says when", async () => {
    // The executor was stopped above: a new one (same operator, same journal) answers for the channel.
    executor = await startPaidExecutor(stack, { fee: FEE, bond: BOND, settleWindowSeconds: SETTLE_WINDOW, withdrawDelaySeconds: WITHDRAW_DELAY, dataDir: executorDir });
    const status = (await glassbox(["channel", "status"])).json;
    expect(status.totalClaimed).toBe((3n * charged()).toString()); // drained: the executor claimed its vouchers
    const available = BigInt(status.available);
    expect(available).toBe(15_000n - 3n * charged());
    const started = await glassbox(["channel", "close"]);
    expect(started.code, started.stderr).toBe(0);
    expect(started.json).toMatchObject({ action: "initiate", amount: available.toString(), channel: { withdrawal: { amount: available.toString(), ready: false } } });
    const early = await glassbox(["channel", "close"]);
    expect(early.json).toMatchObject({ action: "wait", finalizeAfter: started.json.finalizeAfter });
    const chainNow = (await stack.client.getBlock()).timestamp;
    await advance(Number(BigInt(started.json.finalizeAfter) - chainNow) + 1);
    const before = await stack.usdcBalance(stack.payer.address);
    const finalized = await glassbox(["channel", "close"]);
    expect(finalized.code, finalized.stderr).toBe(0);
    expect(finalized.json).toMatchObject({ action: "finalize", withdrawn: available.toString(), channel: { balance: (3n * charged()).toString(), available: "0", withdrawal: null } });
    expect(await stack.usdcBalance(stack.payer.address)).toBe(before + available);
  });

  it("a receipt whose fee is above the executor's registered fee is refunded from the bond with a bounty", async () => {
    const block = await stack.client.getBlock();
    const receipt: Receipt = {
      versionId: version.versionId,
      functionName: "add",
      payer: stack.payer.address,
      executor: stack.operator.address,
      seq: 0n,
      royalty: 0n,
      executorFee: FEE + 500n,
      fuel: 0n,
      inputHash: `0x${"11".repeat(32)}`,
      outputHash: `0x${"22".repeat(32)}`,
      dependencies: [],
      paymentRef: `0x${"33".repeat(32)}`,
      issuedAt: block.timestamp,
      deadline: block.timestamp + 600n,
    };
    const signature = await stack.operator.signTypedData({ domain: receiptDomain(stack.deployment.chainId, stack.deployment.contracts.settlement), types: RECEIPT_TYPES, primaryType: "Receipt", message: receipt });
    const id = receiptId(receipt, stack.deployment.chainId, stack.deployment.contracts.settlement);
    const entry = { receiptId: id, receipt: receiptToJson(receipt), signature, executorUrl: executor.url, chainId: stack.deployment.chainId, settlement: stack.deployment.contracts.settlement, scheme: "exact", charged: (FEE + 500n).toString(), storedAt: new Date().toISOString() };
    await appendFile(path.join(home, "receipts", "31337", `${stack.payer.address.toLowerCase()}.jsonl`), `${JSON.stringify(entry)}\n`);
    const listed = await glassbox(["receipts"]);
    const row = listed.json.receipts.find((r: { receiptId: string }) => r.receiptId === id);
    expect(row).toMatchObject({ state: "no-royalty", overcharged: true, registeredFee: FEE.toString() });
    const payerBefore = await stack.settlementBalance(stack.payer.address);
    const submitted = await glassbox(["receipts", "--submit"]);
    const proof = submitted.json.receipts.find((r: { receiptId: string }) => r.receiptId === id);
    expect(proof.submitted).toMatchObject([{ kind: "overcharge", paid: "500", bounty: "50" }]);
    expect(await stack.settlementBalance(stack.payer.address)).toBe(payerBefore + 550n);
  });
});
