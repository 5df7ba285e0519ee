import type { PaymentPayload, SettleResponse } from "@x402/core/types";

/**
 * The two x402 headers on the paid-call path, encoded exactly as @x402/core/http does, with Node's
 * Buffer: the stock functions go through atob/btoa and a per-byte string (written for browsers),
 * which took a visible share of each paid call. Same output (tested against the stock functions).
 */

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** decodePaymentSignatureHeader: base64 of the payload's JSON (UTF-8). */
export function decodePaymentSignature(header: string): PaymentPayload {
  // What atob (the stock decoder) refuses beyond the alphabet, and Buffer would take: padding on a length
  // that is not a multiple of 4, or 1 mod 4 characters once the padding is removed.
  const body = header.length % 4 === 0 ? header.replace(/={1,2}$/, "") : header;
  if (!BASE64.test(header) || body.includes("=") || body.length % 4 === 1) throw new Error("Invalid payment signature header");
  return JSON.parse(Buffer.from(header, "base64").toString("utf8")) as PaymentPayload;
}

/** encodePaymentResponseHeader: base64 of the settle response's JSON, without its extensionResponses. */
export function encodePaymentResponse(response: SettleResponse): string {
  const buyerFacing: SettleResponse = { ...response };
  delete buyerFacing.extensionResponses;
  return Buffer.from(JSON.stringify(buyerFacing), "utf8").toString("base64");
}
