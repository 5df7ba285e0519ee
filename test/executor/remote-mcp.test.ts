/**
 * Discovery and the remote MCP endpoint against a real executor on a real chain. The paying side is a
 * stock MCP SDK Client and stock x402 client code only (x402Client with @x402/evm's exact or
 * batch-settlement client scheme): no Glassbox SDK signs anything.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { x402Client } from "@x402/core/client";
import type { PaymentPayload, PaymentRequired, SettleResponse } from "@x402/core/types";
import { toClientEvmSigner } from "@x402/evm";
import { BatchSettlementEvmScheme } from "@x402/evm/batch-settlement/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { validateAndExtract, validateDiscoveryExtension, type McpDiscoveryExtension, type McpDiscoveryInfo } from "@x402/extensions/bazaar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAddress, type LocalAccount } from "viem";
import type { RunningExecutor } from "../../executor/service.ts";
import { functionInputSchema } from "../../sdk/json-schema.ts";
import { mcpToolName, mcpVersionedToolName } from "../../sdk/mcp-tools.ts";
import { receiptFromJson, recoverReceiptSigner, type ReceiptJson } from "../../sdk/receipt.ts";
import { documentInterface } from "../../sdk/wit.ts";
import { devAccount } from "../helpers/chain.ts";
import { buildMeter, METER, startPaidExecutor } from "./helpers/paid-stack.ts";
import { TestStack, type CalcArtifacts } from "./helpers/stack.ts";
import { challengeOf } from "./helpers/x402.ts";

const FEE = 100n;
const PRICE = 1_000n;
const BOND = 1_000_000n;
const DEPOSIT = 20_000n;

let stack: TestStack;
let meter: CalcArtifacts;
let executor: RunningExecutor;
let mcp: Client;

/** A stock x402 client paying with `scheme` from `account` (LocalUSDC allowed by spendControls). */
function x402For(account: LocalAccount, scheme: "exact" | "batch-settlement"): x402Client {
  const network = `eip155:${stack.chain.chainId}` as const;
  const signer = toClientEvmSigner(account, stack.client);
  const client = new x402Client();
  client.register(network, scheme === "exact" ? new ExactEvmScheme(signer) : new BatchSettlementEvmScheme(signer, { depositStrategy: () => DEPOSIT.toString() }));
  client.setSpendControls({ allowedAssets: [{ network, asset: stack.deployment.contracts.usdc, maxAmountPerPayment: "100000000" }] });
  return client;
}

async function callTool(name: string, args: Record<string, unknown>, payment?: PaymentPayload): Promise<CallToolResult> {
  return (await mcp.callTool({ name, arguments: args, ...(payment ? { _meta: { "x402/payment": payment } } : {}) })) as CallToolResult;
}

/** Calls `name` unpaid, pays the PaymentRequired it answers with `payer`, calls again with the payment. */
async function paidToolCall(payer: x402Client, name: string, args: Record<string, unknown>): Promise<{ result: CallToolResult; payment: PaymentPayload; required: PaymentRequired }> {
  const unpaid = await callTool(name, args);
  expect(unpaid.isError).toBe(true);
  const required = unpaid.structuredContent as unknown as PaymentRequired;
  const payment = await payer.createPaymentPayload(required);
  const result = await callTool(name, args, payment);
  const settle = result._meta?.["x402/payment-response"] as SettleResponse | undefined;
  if (settle) await payer.handlePaymentResponse({ paymentPayload: payment, requirements: payment.accepted, settleResponse: settle });
  return { result, payment, required };
}

beforeAll(async () => {
  meter = await buildMeter();
  stack = await TestStack.start();
  await stack.publish({ name: "acme/meter", version: "1.0.0", mode: "per-call", price: PRICE, artifacts: meter, ...METER });
  await stack.publish({ name: "acme/meter-free", version: "1.0.0", mode: "free", artifacts: meter, ...METER });
  executor = await startPaidExecutor(stack, { fee: FEE, bond: BOND });
  await stack.uploadAll(executor.url, executor.operator, meter);
  mcp = new Client({ name: "x402-agent", version: "1.0.0" });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${executor.url}/mcp`)));
});

afterAll(async () => {
  await mcp?.close();
  await executor?.close();
  await stack?.close();
});

describe("bazaar on every 402", () => {
  it("the challenge's bazaar extension validates with @x402/extensions and names the version's remote MCP tool", async () => {
    const { required, response } = await challengeOf(`${executor.url}/v1/call/acme/meter@1.0.0/add`, [1, 2]);
    const bazaar = required.extensions?.bazaar as McpDiscoveryExtension;
    expect(validateDiscoveryExtension(bazaar)).toEqual({ valid: true });
    const { valid, info } = validateAndExtract(bazaar);
    expect(valid).toBe(true);
    const input = (info as McpDiscoveryInfo).input;
    expect(input).toMatchObject({ type: "mcp", toolName: mcpVersionedToolName("acme/meter", "1.0.0", "add"), transport: "streamable-http" });
    const docs = documentInterface(meter.wit, METER.world, METER.interfaceName);
    expect(input.inputSchema).toEqual(functionInputSchema(docs.functions.find((f) => f.name === "add")!, docs));
    // The example comes from the published test vectors.
    expect(input.example).toEqual({ a: 2, b: 3 });
    // The JSON body carries the same extensions as the header.
    const body = (await response.json()) as { extensions?: { bazaar?: unknown } };
    expect(body.extensions?.bazaar).toEqual(bazaar);
  });
});

describe("remote MCP endpoint (stock MCP client, stock x402 client)", () => {
  it("lists one tool per function of each served version; paid tools declare no outputSchema", async () => {
    const { tools } = await mcp.listTools();
    const names = tools.map((t) => t.name);
    for (const fn of ["add", "div", "spin"]) {
      expect(names).toContain(mcpToolName("acme/meter", fn));
      expect(names).toContain(mcpVersionedToolName("acme/meter", "1.0.0", fn));
      expect(names).toContain(mcpToolName("acme/meter-free", fn));
    }
    const paid = tools.find((t) => t.name === mcpToolName("acme/meter", "add"))!;
    const free = tools.find((t) => t.name === mcpToolName("acme/meter-free", "add"))!;
    expect(paid.outputSchema).toBeUndefined();
    expect(free.outputSchema).toMatchObject({ type: "object", required: ["result"] });
    expect(paid.inputSchema).toMatchObject({ type: "object", properties: { a: { type: "integer" }, b: { type: "integer" } } });
  });

  it("a free tool answers without payment", async () => {
    const result = await callTool(mcpToolName("acme/meter-free", "add"), { a: 20, b: 22 });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ result: 42 });
    expect(result._meta?.["x402/payment-response"]).toBeUndefined();
  });

  it("an unpaid paid tool returns isError with the PaymentRequired (and its bazaar entry); exact pays it: result, receipt, on-chain settlement", async () => {
    const payer = devAccount(5);
    await stack.mint(payer.address, 1_000_000n);
    const before = await stack.usdcBalance(payer.address);
    const { result, required, payment } = await paidToolCall(x402For(payer, "exact"), mcpToolName("acme/meter", "add"), { a: 2, b: 40 });
    expect(required.accepts.map((a) => a.scheme)).toEqual(["batch-settlement", "exact"]);
    expect(required.accepts.every((a) => a.amount === (PRICE + FEE).toString() && getAddress(a.payTo) === executor.operator)).toBe(true);
    expect(validateDiscoveryExtension(required.extensions?.bazaar as McpDiscoveryExtension)).toEqual({ valid: true });
    expect(payment.accepted.scheme).toBe("exact");

    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ result: 42 });
    const settle = result._meta?.["x402/payment-response"] as SettleResponse;
    expect(settle.success).toBe(true);
    expect(settle.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await stack.client.getTransactionReceipt({ hash: settle.transaction as `0x${string}` })).status).toBe("success");
    const meta = result._meta?.["glassbox/receipt"] as { receipt: ReceiptJson; signature: `0x${string}`; receiptId: string };
    const receipt = receiptFromJson(meta.receipt);
    expect(await recoverReceiptSigner(receipt, meta.signature, stack.chain.chainId, stack.deployment.contracts.settlement)).toBe(executor.operator);
    expect(receipt).toMatchObject({ payer: payer.address, royalty: PRICE, executorFee: FEE, paymentRef: settle.transaction });
    expect(await stack.usdcBalance(payer.address)).toBe(before - PRICE - FEE);
    expect(((await (await fetch(`${executor.url}/v1/receipts/${meta.receiptId}`)).json()) as { receiptId: string }).receiptId).toBe(meta.receiptId);
  });

  it("a replayed payment payload is refused with a fresh PaymentRequired: nothing is charged twice", async () => {
    const payer = devAccount(6);
    await stack.mint(payer.address, 1_000_000n);
    const { payment } = await paidToolCall(x402For(payer, "exact"), mcpToolName("acme/meter", "add"), { a: 1, b: 1 });
    const after = await stack.usdcBalance(payer.address);
    const receiptsBefore = await executor.journal.countReceipts();
    const replay = await callTool(mcpToolName("acme/meter", "add"), { a: 1, b: 1 }, payment);
    expect(replay.isError).toBe(true);
    expect((replay.structuredContent as unknown as PaymentRequired).accepts.length).toBe(2);
    expect((replay.structuredContent as unknown as PaymentRequired).error).toBeTruthy();
    expect(await stack.usdcBalance(payer.address)).toBe(after);
    expect(await executor.journal.countReceipts()).toBe(receiptsBefore);
  });

  it("a batch-settlement channel pays several calls: one deposit, a voucher each, the cumulative charge exact", async () => {
    const payer = devAccount(7);
    await stack.mint(payer.address, 1_000_000n);
    const before = await stack.usdcBalance(payer.address);
    const client = x402For(payer, "batch-settlement");
    const charged: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const { result, payment } = await paidToolCall(client, mcpToolName("acme/meter", "add"), { a: i, b: 1 });
      expect(payment.accepted.scheme).toBe("batch-settlement");
      expect(result.structuredContent).toEqual({ result: i + 1 });
      const settle = result._meta?.["x402/payment-response"] as SettleResponse;
      expect(settle.success).toBe(true);
      charged.push(BigInt((settle.extra?.channelState as { chargedCumulativeAmount: string }).chargedCumulativeAmount));
    }
    expect(charged).toEqual([1n, 2n, 3n].map((n) => n * (PRICE + FEE)));
    expect(await stack.usdcBalance(payer.address)).toBe(before - DEPOSIT);
  });

  it("bad arguments and unknown tools are named before any payment is asked for", async () => {
    const bad = await callTool(mcpToolName("acme/meter", "add"), { a: 1, c: 2 });
    expect(bad.isError).toBe(true);
    expect(JSON.stringify(bad.content)).toContain('no parameter \\"c\\"');
    expect(bad.structuredContent).toBeUndefined();
    const unknown = await callTool("acme_nothing__here", {});
    expect(unknown.isError).toBe(true);
    expect(JSON.stringify(unknown.content)).toContain('No tool \\"acme_nothing__here\\"');
  });
});
