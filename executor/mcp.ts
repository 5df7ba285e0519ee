/**
 * The executor's remote MCP endpoint (Streamable HTTP, stateless: any request may reach any process):
 * one tool per function of each version served here, paid per x402's MCP transport. A paid tool
 * called without payment answers `isError: true` with the PaymentRequired as structuredContent; the
 * client retries with the payment payload in `_meta["x402/payment"]`, and the settlement comes back
 * in `_meta["x402/payment-response"]`. Every call goes through CallService, the same payment gate as
 * POST /v1/call (the payload is handed over as its PAYMENT-SIGNATURE header): there is no second path
 * to the money.
 */
import { encodePaymentSignatureHeader, decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import type { PaymentPayload, PaymentRequired } from "@x402/core/types";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "pino";
import { ArgumentsError, toPositionalArguments } from "../sdk/json-schema.ts";
import { PACKAGE_VERSION } from "../sdk/package-root.ts";
import { PAYMENT_REQUIRED_HEADER, PAYMENT_RESPONSE_HEADER, type CallResponseBody } from "../sdk/protocol.ts";
import { unalias } from "../sdk/wit.ts";
import type { CallService } from "./calls.ts";
import type { Discovery, ServedTool } from "./discovery.ts";
import { ApiError } from "./errors.ts";

/** x402's MCP transport `_meta` keys. */
export const MCP_PAYMENT_META = "x402/payment";
export const MCP_PAYMENT_RESPONSE_META = "x402/payment-response";
/** The signed receipt of a paid call (and what it paid), as `glassbox mcp` returns it. */
export const MCP_RECEIPT_META = "glassbox/receipt";

export interface McpEndpointDeps {
  calls: CallService;
  discovery: Discovery;
  log: Logger;
}

/** Handles one HTTP request to /mcp (a fresh stateless server and transport per request). */
export async function handleMcpRequest(d: McpEndpointDeps, request: Request): Promise<Response> {
  const origin = new URL(request.url).origin;
  const server = new Server(
    { name: "glassbox-executor", title: "Glassbox executor", version: PACKAGE_VERSION },
    {
      capabilities: { tools: {} },
      instructions:
        "Capabilities served by this Glassbox executor, one tool per function. A paid tool called without payment returns isError with the x402 PaymentRequired as structuredContent: pay it with any x402 v2 client and call again with the payment payload in _meta[\"x402/payment\"].",
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [...(await d.discovery.tools()).values()].map((t) => t.definition as Tool) }));
  server.setRequestHandler(CallToolRequestSchema, async (call) => {
    const tools = await d.discovery.tools();
    const tool = tools.get(call.params.name);
    if (!tool) return textError(`No tool "${call.params.name}" on this executor. List the tools: ${[...tools.keys()].slice(0, 20).join(", ")}${tools.size > 20 ? ", ..." : ""}.`);
    return callTool(d, tool, call.params.arguments, call.params._meta?.[MCP_PAYMENT_META], origin);
  });
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    await server.close();
  }
}

async function callTool(d: McpEndpointDeps, tool: ServedTool, args: Record<string, unknown> | undefined, payment: unknown, origin: string): Promise<CallToolResult> {
  const { version, fn } = tool;
  let positional: unknown[];
  try {
    positional = toPositionalArguments(fn, args);
  } catch (error) {
    if (error instanceof ArgumentsError) return textError(`Invalid arguments: ${error.message}`);
    throw error;
  }
  let paymentHeader: string | undefined;
  if (payment !== undefined) {
    if (!isPaymentPayload(payment)) return textError(`_meta["${MCP_PAYMENT_META}"] is not an x402 v2 payment payload (an object with x402Version, accepted and payload).`);
    paymentHeader = encodePaymentSignatureHeader(payment);
  }
  const [scope, name] = version.name.split("/");
  try {
    const response = await d.calls.call({ scope: scope!, nameAndVersion: `${name}@${version.version}`, functionName: fn.name, args: positional, paymentHeader, origin });
    if (response.status === 402) return paymentRequiredResult(decodePaymentRequiredHeader(response.headers[PAYMENT_REQUIRED_HEADER]!));
    const body = response.body as CallResponseBody;
    const meta: Record<string, unknown> = {};
    const settlement = response.headers[PAYMENT_RESPONSE_HEADER];
    if (settlement) {
      meta[MCP_PAYMENT_RESPONSE_META] = decodePaymentResponseHeader(settlement);
      meta[MCP_RECEIPT_META] = { receiptId: body.receiptId, receipt: body.receipt, signature: body.signature, payment: body.payment, fuelUsed: body.fuelUsed };
    }
    const structuredContent = { result: body.result };
    const isErrorCase = fn.result !== null && unalias(fn.result).kind === "result" && isErrVariant(body.result);
    const shown = isErrorCase ? `${version.name}@${version.version} ${fn.name} returned an error: ${show((body.result as { error: unknown }).error)}` : show(resultValue(fn.result !== null && unalias(fn.result).kind === "result", body.result));
    return { content: [{ type: "text", text: shown }], structuredContent, ...(isErrorCase ? { isError: true } : {}), ...(Object.keys(meta).length ? { _meta: meta } : {}) };
  } catch (error) {
    if (error instanceof ApiError) {
      const required = error.details?.paymentRequired;
      // A refused payment: a fresh PaymentRequired (with the reason), so the client can pay again.
      if (typeof required === "string") return paymentRequiredResult(decodePaymentRequiredHeader(required), `${error.code}: ${error.message}`);
      return textError(`${error.code}: ${error.message}${error.hint ? ` (${error.hint})` : ""}`);
    }
    d.log.error({ err: error instanceof Error ? error.stack : String(error), tool: fn.name }, "MCP tool call failed");
    return textError("The executor hit an unexpected error; nothing was charged.");
  }
}

/** x402 MCP transport: the PaymentRequired is the structured content, and its JSON the text. */
function paymentRequiredResult(required: PaymentRequired, reason?: string): CallToolResult {
  const structuredContent = reason && !required.error ? { ...required, error: reason } : required;
  return { content: [{ type: "text", text: JSON.stringify(structuredContent) }], structuredContent: structuredContent as unknown as Record<string, unknown>, isError: true };
}

function textError(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}

function isPaymentPayload(value: unknown): value is PaymentPayload {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.x402Version === "number" && typeof v.accepted === "object" && v.accepted !== null && typeof v.payload === "object" && v.payload !== null;
}

function isErrVariant(value: unknown): boolean {
  return typeof value === "object" && value !== null && "error" in value && Object.keys(value).length === 1;
}

function resultValue(isResult: boolean, value: unknown): unknown {
  return isResult && typeof value === "object" && value !== null && "ok" in value ? (value as { ok: unknown }).ok : value;
}

const show = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value ?? null));
