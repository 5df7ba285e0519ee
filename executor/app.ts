import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import type { Logger } from "pino";
import { isHex, verifyMessage, type Hex } from "viem";
import { LICENCE_EXPIRES_HEADER, LICENCE_SIGNATURE_HEADER, PAYER_SIGNATURE_HEADER, PAYMENT_REQUIRED_HEADER, PAYMENT_RESPONSE_HEADER, PAYMENT_SIGNATURE_HEADER, receiptResultMessage, type ReceiptByPaymentBody, type ReceiptResponseBody } from "../sdk/protocol.ts";
import { UPLOAD_SIGNATURE_HEADER } from "../sdk/upload.ts";
import { parseSha256 } from "./blobs.ts";
import type { CallService } from "./calls.ts";
import { ApiError } from "./errors.ts";
import type { Journal } from "./journal.ts";
import type { BlobService } from "./uploads.ts";

export interface AppDeps {
  calls: CallService;
  blobs: BlobService;
  journal: Journal;
  log: Logger;
  maxCallBodyBytes: number;
  maxBlobBytes: number;
  /** Settlement.nextSeq(executor) as last read: receipts below it are settled. */
  settledBelow: () => bigint;
  info: () => Promise<unknown>;
  health: () => Promise<{ ok: boolean; [key: string]: unknown }>;
  /** The remote MCP endpoint (executor/mcp.ts), served at /mcp. */
  mcp?: (request: Request) => Promise<Response>;
}

/** The HTTP API. Every error body is `{ "error": { "code", "message", "hint"? } }`. */
export function createApp(d: AppDeps): Hono {
  const app = new Hono();

  // Browsers (the web catalog on any origin) may call, pay and upload: nothing here rides on cookies or
  // ambient credentials (payments, uploads and result reads are signed), so any origin is safe. The
  // x402 headers must be readable by the page for the stock client to pay.
  app.use("*", cors({ origin: "*", exposeHeaders: [PAYMENT_REQUIRED_HEADER, PAYMENT_RESPONSE_HEADER], maxAge: 86_400 }));

  // The unread rest of an oversized body makes the connection unusable: tell the client not to reuse it.
  const tooLarge = (limit: number, what: string) => (c: Context) =>
    c.json(
      new ApiError(413, "BODY_TOO_LARGE", `The ${what} is larger than ${limit} bytes.`, what === "arguments body" ? "Send a smaller input." : "Components above this size are not accepted here.").toBody(),
      413,
      { Connection: "close" },
    );

  app.get("/v1/health", async (c) => {
    const health = await d.health();
    return c.json(health, health.ok ? 200 : 503);
  });

  app.get("/v1/info", async (c) => c.json((await d.info()) as object));

  // Which receipt a payment backs (public like the receipt itself; the result still needs the payer's signature).
  app.get("/v1/receipts/by-payment/:ref", async (c) => {
    const ref = parseSha256(c.req.param("ref"));
    if (!ref) throw new ApiError(400, "RECEIPT_NOT_FOUND", "A payment reference is 0x followed by 64 hex digits (an exact settlement's transaction hash, or keccak256(channelId, cumulative charged)).");
    const entry = await d.journal.getReceiptByPaymentRef(ref);
    if (!entry) throw new ApiError(404, "RECEIPT_NOT_FOUND", `This executor has no receipt for payment ${ref}.`, "Nothing was charged for it here, or it was taken by another executor.");
    const body: ReceiptByPaymentBody = { receiptId: entry.receiptId };
    return c.json(body);
  });

  app.get("/v1/receipts/:id", async (c) => {
    const id = parseSha256(c.req.param("id"));
    if (!id) throw new ApiError(400, "RECEIPT_NOT_FOUND", "A receipt id is 0x followed by 64 hex digits (the EIP-712 digest).");
    const entry = await d.journal.getReceipt(id);
    if (!entry) throw new ApiError(404, "RECEIPT_NOT_FOUND", `This executor has no receipt ${id}.`);
    // The result is the payer's: shown only to a request signed by the payer's key.
    const payerSignature = c.req.header(PAYER_SIGNATURE_HEADER);
    let result: { result?: unknown } = {};
    if (payerSignature !== undefined) {
      const valid = isHex(payerSignature) && (await verifyMessage({ address: entry.payer, message: receiptResultMessage(id), signature: payerSignature }).catch(() => false));
      if (!valid) throw new ApiError(403, "NOT_THE_PAYER", `${PAYER_SIGNATURE_HEADER} is not the payer's signature of "${receiptResultMessage(id)}".`);
      result = { result: entry.result === null ? null : (JSON.parse(entry.result) as unknown) };
    }
    const settled = entry.seq > 0n && entry.seq + BigInt(entry.lineCount) <= d.settledBelow();
    const batch = settled ? await d.journal.batchCovering(entry.seq) : undefined;
    const body: ReceiptResponseBody = {
      receiptId: entry.receiptId,
      receipt: entry.receipt,
      signature: entry.signature,
      status: entry.seq === 0n ? "no-royalty" : settled ? "settled" : "unsettled",
      txHash: batch?.txHash ?? null,
      resultAvailable: entry.result !== null,
      ...result,
    };
    return c.json(body);
  });

  app.put("/v1/blobs/:hash", bodyLimit({ maxSize: d.maxBlobBytes, onError: tooLarge(d.maxBlobBytes, "blob") }), async (c) => {
    const hash = blobHash(c.req.param("hash"));
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const result = await d.blobs.upload(hash, bytes, c.req.header(UPLOAD_SIGNATURE_HEADER));
    return c.json(result, 201);
  });

  app.get("/v1/blobs/:hash", async (c) => {
    const { bytes, contentType } = await d.blobs.download(blobHash(c.req.param("hash")));
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { "content-type": contentType, "cache-control": "public, max-age=31536000, immutable" });
  });

  // Pay once, run locally: the component bytes, for a licence holder's signed request only.
  app.get("/v1/licensed/:versionId/component", async (c) => {
    const versionId = parseSha256(c.req.param("versionId"));
    if (!versionId) throw new ApiError(400, "UNKNOWN_VERSION", "A version id is 0x followed by 64 hex digits.");
    const bytes = await d.blobs.downloadLicensed({ versionId, signature: c.req.header(LICENCE_SIGNATURE_HEADER), expiresAt: c.req.header(LICENCE_EXPIRES_HEADER) });
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { "content-type": "application/wasm", "cache-control": "private, no-store" });
  });

  app.post(
    "/v1/call/:scope/:nameVersion/:function",
    bodyLimit({ maxSize: d.maxCallBodyBytes, onError: tooLarge(d.maxCallBodyBytes, "arguments body") }),
    async (c) => {
      const args = await readJsonArguments(c);
      const url = new URL(c.req.url);
      const response = await d.calls.call({
        scope: c.req.param("scope"),
        nameAndVersion: c.req.param("nameVersion"),
        functionName: c.req.param("function"),
        args,
        paymentHeader: c.req.header(PAYMENT_SIGNATURE_HEADER) ?? c.req.header("X-PAYMENT"),
        origin: url.origin,
      });
      for (const [name, value] of Object.entries(response.headers)) c.header(name, value);
      if (response.status === 402) c.header("Cache-Control", "no-store");
      return c.json(response.body as object, response.status);
    },
  );

  const mcp = d.mcp;
  if (mcp) {
    app.all("/mcp", bodyLimit({ maxSize: d.maxCallBodyBytes, onError: tooLarge(d.maxCallBodyBytes, "MCP request") }), (c) => mcp(c.req.raw));
  }

  app.notFound((c) =>
    c.json(new ApiError(404, "NOT_FOUND", `No route ${c.req.method} ${new URL(c.req.url).pathname}.`, "Routes: POST /v1/call/<scope>/<name>@<version>/<function>, PUT|GET /v1/blobs/<sha256>, GET /v1/licensed/<versionId>/component, GET /v1/health, /v1/info, /v1/receipts/<id>, POST /mcp (MCP Streamable HTTP).").toBody(), 404),
  );

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      const paymentRequired = error.details?.paymentRequired;
      if (typeof paymentRequired === "string") {
        c.header(PAYMENT_REQUIRED_HEADER, paymentRequired);
        c.header("Cache-Control", "no-store");
      }
      const { paymentRequired: _, ...details } = error.details ?? {};
      const body = new ApiError(error.status, error.code, error.message, error.hint, Object.keys(details).length ? details : undefined).toBody();
      if (error.status >= 500) d.log.warn({ code: error.code, err: error.message }, "request failed");
      return c.json(body, error.status);
    }
    d.log.error({ err: error instanceof Error ? error.stack : String(error) }, "unhandled error");
    return c.json(new ApiError(500, "INTERNAL", "The executor hit an unexpected error; nothing was charged.").toBody(), 500);
  });

  return app;
}

function blobHash(text: string): Hex {
  const hash = parseSha256(text);
  if (!hash) throw new ApiError(400, "INVALID_BLOB", `"${text}" is not a sha256 hash (0x followed by 64 hex digits).`);
  return hash;
}

async function readJsonArguments(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, "MALFORMED_JSON", `The request body is not valid JSON: ${(error as Error).message}`, 'Send the arguments as a JSON array (e.g. ["# hi"]) or an object keyed by parameter name.');
  }
  if (typeof parsed !== "object" || parsed === null) {
    throw new ApiError(400, "INVALID_ARGUMENTS", "The arguments must be a JSON array (positional) or a JSON object (by parameter name).");
  }
  return parsed;
}
