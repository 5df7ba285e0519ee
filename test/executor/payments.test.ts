import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAddress, type Hex } from "viem";
import { decodePaymentResponseHeader } from "@x402/fetch";
import { encodePaymentSignatureHeader } from "@x402/core/http";
import { toClientEvmSigner } from "@x402/evm";
import { signVoucher } from "@x402/evm/batch-settlement/client";
import type { RunningExecutor } from "../../executor/service.ts";
import { channelPaymentRef } from "../../sdk/receipt.ts";
import { localUsdcAbi } from "../../sdk/abi.ts";
import type { InfoBody, ReceiptResponseBody } from "../../sdk/protocol.ts";
import { receiptFromJson, recoverReceiptSigner } from "../../sdk/receipt.ts";
import { buildMeter, callJson, errorJson, METER, post, startPaidExecutor } from "./helpers/paid-stack.ts";
import { TestStack, type CalcArtifacts, type Published } from "./helpers/stack.ts";
import { challengeOf, channelFetch, payingFetch } from "./helpers/x402.ts";
import { devAccount } from "../helpers/chain.ts";
import { INVALID_VOUCHER_SIGNATURE } from "../../executor/voucher-check.ts";

/** secp256k1 group order. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const FEE = 100n;
const PRICE = 1_000n;
const BOND = 1_000_000n;
const DEPOSIT = 50_000n;

let stack: TestStack;
let meter: CalcArtifacts;
let executor: RunningExecutor;
let version: Published;
let perFuel: Published;
let url: (fn: string, name?: string) => string;

beforeAll(async () => {
  meter = await buildMeter();
  stack = await TestStack.start();
  version = await stack.publish({ name: "acme/meter", version: "1.0.0", mode: "per-call", price: PRICE, artifacts: meter, ...METER });
  perFuel = await stack.publish({ name: "acme/meter-fuel", version: "1.0.0", mode: "per-fuel", price: 10n, fuelPricePerMillion: 2_000n, artifacts: meter, ...METER });
  executor = await startPaidExecutor(stack, { fee: FEE, bond: BOND });
  await stack.uploadAll(executor.url, executor.operator, meter);
  url = (fn, name = "acme/meter") => `${executor.url}/v1/call/${name}@1.0.0/${fn}`;
});

afterAll(async () => {
  await executor?.close();
  await stack?.close();
});

describe("402 challenge", () => {
  it("offers batch-settlement first and exact second, both paying the executor exactly royalty + fee", async () => {
    const { required } = await challengeOf(url("add"), [1, 2]);
    expect(required.accepts.map((a) => a.scheme)).toEqual(["batch-settlement", "exact"]);
    for (const accept of required.accepts) {
      expect(getAddress(accept.payTo)).toBe(executor.operator);
      expect(accept.amount).toBe((PRICE + FEE).toString());
      expect(accept.asset.toLowerCase()).toBe(stack.deployment.contracts.usdc.toLowerCase());
    }
    expect(getAddress(String(required.accepts[0]!.extra.receiverAuthorizer))).toBe(executor.operator);
  });

  it("shows bond, fee, schemes and settle window in /v1/info", async () => {
    const info = (await (await fetch(`${executor.url}/v1/info`)).json()) as InfoBody;
    expect(info).toMatchObject({ address: executor.operator, fee: FEE.toString(), bond: BOND.toString(), schemes: ["batch-settlement", "exact"], settleWindowSeconds: 3600 });
    expect(info.channels.contract.toLowerCase()).toBe(stack.deployment.contracts.batchSettlement.toLowerCase());
  });
});

describe("channels (stock @x402/fetch + batch-settlement client)", () => {
  it("deposits once, then pays each call with a voucher for exactly the quote; royalties settle on-chain to the base unit", async () => {
    const payer = stack.payer;
    const pay = channelFetch(payer, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId, DEPOSIT);
    const payerBefore = await stack.usdcBalance(payer.address);
    const operatorBefore = await stack.usdcBalance(executor.operator);
    const maintainerBefore = await stack.settlementBalance(stack.maintainer.address);
    const nextSeqBefore = await stack.nextSeq(executor.operator);

    const bodies = [];
    for (let i = 0; i < 5; i++) {
      const response = await post(pay, url("add"), [i, 10]);
      const header = response.headers.get("PAYMENT-RESPONSE");
      const body = await callJson(response);
      expect(body.result).toBe(i + 10);
      expect(header).toBeTruthy();
      const settle = decodePaymentResponseHeader(header!);
      expect(settle.success).toBe(true);
      const channelState = settle.extra?.channelState as { channelId: Hex; chargedCumulativeAmount: string };
      expect(BigInt(channelState.chargedCumulativeAmount)).toBe(BigInt(i + 1) * (PRICE + FEE));
      expect(body.payment).toMatchObject({ scheme: "batch-settlement", amount: (PRICE + FEE).toString(), chargedCumulativeAmount: channelState.chargedCumulativeAmount });
      bodies.push(body);
    }
    // One deposit, no transaction per call.
    expect(await stack.usdcBalance(payer.address)).toBe(payerBefore - DEPOSIT);

    // Receipts: signed by the executor, contiguous seqs, paymentRef = the channel's cumulative amount.
    const seqs: bigint[] = [];
    for (const body of bodies) {
      const receipt = receiptFromJson(body.receipt!);
      expect(await recoverReceiptSigner(receipt, body.signature!, stack.chain.chainId, stack.deployment.contracts.settlement)).toBe(executor.operator);
      expect(receipt).toMatchObject({ payer: payer.address, executor: executor.operator, royalty: PRICE, executorFee: FEE, versionId: version.versionId });
      expect(receipt.paymentRef).toBe(channelPaymentRef(body.payment!.channelId!, BigInt(body.payment!.chargedCumulativeAmount!)));
      expect(receipt.deadline - receipt.issuedAt).toBe(3600n);
      seqs.push(receipt.seq);
      const stored = (await (await fetch(`${executor.url}/v1/receipts/${body.receiptId}`)).json()) as ReceiptResponseBody;
      expect(stored).toMatchObject({ receiptId: body.receiptId, status: "unsettled", signature: body.signature });
    }
    expect(seqs).toEqual([0n, 1n, 2n, 3n, 4n].map((i) => nextSeqBefore + i));
    const info = (await (await fetch(`${executor.url}/v1/info`)).json()) as InfoBody;
    expect(info.unsettledRoyalties.total).toBe((5n * PRICE).toString());
    expect(info.unsettledRoyalties.versions).toEqual([{ versionId: version.versionId, name: "acme/meter", version: "1.0.0", receipts: 5, amount: (5n * PRICE).toString() }]);

    // Claim + sweep the channel income, then settle the royalties: exact to the base unit.
    await executor.drain();
    expect(await stack.nextSeq(executor.operator)).toBe(nextSeqBefore + 5n);
    expect(await stack.settlementBalance(stack.maintainer.address)).toBe(maintainerBefore + 5n * PRICE);
    expect(await stack.usdcBalance(executor.operator)).toBe(operatorBefore + 5n * (PRICE + FEE) - 5n * PRICE);
    const batches = (await stack.royaltyBatches()).filter((b) => b.executor === executor.operator);
    expect(batches.reduce((n, b) => n + b.count, 0n)).toBe(nextSeqBefore + 4n);
    const after = (await (await fetch(`${executor.url}/v1/receipts/${bodies[0]!.receiptId}`)).json()) as ReceiptResponseBody;
    expect(after.status).toBe("settled");
    expect(after.txHash).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it("never charges a failed run: the channel's cumulative amount does not move", async () => {
    const pay = channelFetch(stack.payer, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId, DEPOSIT);
    const first = await callJson(await post(pay, url("add"), [1, 1]));
    const charged = BigInt(first.payment!.chargedCumulativeAmount!);
    const failed = await errorJson(await post(pay, url("div"), [1, 0]));
    expect(failed).toMatchObject({ status: 422, code: "COMPONENT_TRAP" });
    const channel = executor.gate.channelServer.getStorage();
    expect(BigInt((await channel.get(first.payment!.channelId!))!.chargedCumulativeAmount)).toBe(charged);
    const next = await callJson(await post(pay, url("add"), [2, 2]));
    expect(BigInt(next.payment!.chargedCumulativeAmount!)).toBe(charged + PRICE + FEE);
  });

  it("refuses a forged voucher on a channel it already knows (fast signature path), and non-canonical copies of a genuine one", async () => {
    const pay = channelFetch(stack.payer, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId, DEPOSIT);
    // A paid call first: the channel is known and its on-chain state fresh, so the next voucher takes the fast path.
    const first = await callJson(await post(pay, url("add"), [1, 1]));
    const channelId = first.payment!.channelId!;
    const storage = executor.gate.channelServer.getStorage();
    const record = (await storage.get(channelId))!;
    const charged = BigInt(record.chargedCumulativeAmount);
    const next = (charged + PRICE + FEE).toString();
    const { required } = await challengeOf(url("add"), [3, 4]);
    const accepted = required.accepts.find((a) => a.scheme === "batch-settlement")!;
    const header = (voucher: { channelId: Hex; maxClaimableAmount: string; signature: Hex }) =>
      encodePaymentSignatureHeader({ x402Version: 2, resource: required.resource, accepted, payload: { type: "voucher", channelConfig: record.channelConfig, voucher } });
    const refused = async (voucher: { channelId: Hex; maxClaimableAmount: string; signature: Hex }) => {
      const error = await errorJson(await post(fetch, url("add"), [3, 4], { "PAYMENT-SIGNATURE": header(voucher) }));
      expect(error).toMatchObject({ status: 402, code: "PAYMENT_INVALID", details: { reason: INVALID_VOUCHER_SIGNATURE } });
      expect((await storage.get(channelId))!.chargedCumulativeAmount).toBe(charged.toString());
    };

    // Signed by a stranger for exactly the next cumulative amount: would be a free call if accepted.
    await refused(await signVoucher(toClientEvmSigner(devAccount(7), stack.client), channelId, next, accepted.network));
    const genuine = await signVoucher(toClientEvmSigner(stack.payer, stack.client), channelId, next, accepted.network);
    // The same r with s' = n - s and the other v recovers the payer too, but the contract's ECDSA refuses high s.
    const s = BigInt(`0x${genuine.signature.slice(66, 130)}`);
    const v = Number.parseInt(genuine.signature.slice(130), 16);
    const highS = `${genuine.signature.slice(0, 66)}${(SECP256K1_N - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}` as Hex;
    await refused({ ...genuine, signature: highS });
    // The other v recovers another key: the claim would fail on-chain after the call was served.
    const flippedV = `${genuine.signature.slice(0, 130)}${(v === 27 ? 28 : 27).toString(16)}` as Hex;
    await refused({ ...genuine, signature: flippedV });

    // The genuine voucher is taken, exactly one price above the previous charge.
    const paid = await callJson(await post(fetch, url("add"), [3, 4], { "PAYMENT-SIGNATURE": header(genuine) }));
    expect(paid.result).toBe(7);
    expect(paid.payment!.chargedCumulativeAmount).toBe(next);
    const receipt = receiptFromJson(paid.receipt!);
    expect(await recoverReceiptSigner(receipt, paid.signature!, stack.chain.chainId, stack.deployment.contracts.settlement)).toBe(executor.operator);
  });

  it("charges a per-fuel call exactly the quote from the dry run", async () => {
    const pay = channelFetch(stack.payer, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId, DEPOSIT);
    const { requirement } = await challengeOf(url("spin", "acme/meter-fuel"), [1_000]);
    const body = await callJson(await post(pay, url("spin", "acme/meter-fuel"), [1_000]));
    const receipt = receiptFromJson(body.receipt!);
    expect(receipt.royalty).toBe(10n + (receipt.fuel * 2_000n + 999_999n) / 1_000_000n);
    expect(receipt.fuel).toBeGreaterThan(1_000n);
    expect(BigInt(requirement.amount)).toBe(receipt.royalty + FEE);
    expect(body.payment!.amount).toBe(requirement.amount);
    expect(receipt.versionId).toBe(perFuel.versionId);
  });
});

describe("exact (stock client)", () => {
  it("settles before the response; PAYMENT-RESPONSE names the real transaction", async () => {
    const payer = stack.stranger;
    await stack.mint(payer.address, 10_000n);
    const before = await stack.usdcBalance(payer.address);
    const pay = payingFetch(payer, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId);
    const response = await post(pay, url("add"), [20, 22]);
    const header = response.headers.get("PAYMENT-RESPONSE")!;
    const body = await callJson(response);
    expect(body.result).toBe(42);
    const settle = decodePaymentResponseHeader(header);
    expect(settle.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    const tx = await stack.client.getTransactionReceipt({ hash: settle.transaction as Hex });
    expect(tx.status).toBe("success");
    expect(await stack.usdcBalance(payer.address)).toBe(before - PRICE - FEE);
    expect(receiptFromJson(body.receipt!).paymentRef).toBe(settle.transaction);
    expect(body.payment).toMatchObject({ scheme: "exact", transaction: settle.transaction });
  });

  it("never settles a failed run", async () => {
    const payer = stack.stranger;
    const before = await stack.usdcBalance(payer.address);
    const pay = payingFetch(payer, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId);
    const failed = await errorJson(await post(pay, url("div"), [1, 0]));
    expect(failed).toMatchObject({ status: 422, code: "COMPONENT_TRAP" });
    expect(await stack.usdcBalance(payer.address)).toBe(before);
  });

  it("withholds the result when the payer's funds are gone before settlement (two payments, funds for one)", async () => {
    const payer = stack.wallet(stack.stranger).account;
    const balance = await stack.usdcBalance(payer.address);
    // Leave exactly one call's worth.
    await stack.confirm(
      await stack.wallet(stack.stranger).writeContract({ address: stack.deployment.contracts.usdc, abi: localUsdcAbi, functionName: "transfer", args: [stack.maintainer.address, balance - PRICE - FEE] }),
    );
    const pay = payingFetch(stack.stranger, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId);
    const receiptsBefore = await executor.journal.countReceipts();
    // A slow run: both payments verify (funds are there) before either settles.
    const responses = await Promise.all([post(pay, url("spin"), [3_000_000]), post(pay, url("spin"), [3_000_001])]);
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 402]);
    const refused = responses.find((r) => r.status === 402)!;
    const error = await errorJson(refused);
    expect(["SETTLEMENT_FAILED", "PAYMENT_UNDERFUNDED"]).toContain(error.code);
    expect(JSON.stringify(error)).not.toContain('"result"');
    expect(await stack.usdcBalance(payer.address)).toBe(0n);
    expect(await executor.journal.countReceipts()).toBe(receiptsBefore + 1);
  });
});
