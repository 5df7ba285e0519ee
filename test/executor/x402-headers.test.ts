import { decodePaymentSignatureHeader, encodePaymentResponseHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload, SettleResponse } from "@x402/core/types";
import { describe, expect, it } from "vitest";
import { decodePaymentSignature, encodePaymentResponse } from "../../executor/x402-headers.ts";

const payload: PaymentPayload = {
  x402Version: 2,
  resource: { url: "http://127.0.0.1:1/v1/call/acme/adder@1.0.0/add", description: "add: 1000 royalty + 500 executor fee ünï ☃ 𝄞", mimeType: "application/json" },
  accepted: { scheme: "batch-settlement", network: "eip155:31337", asset: "0x5FbDB2315678afecb367f032d93F642f64180aa3", amount: "1500", payTo: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", maxTimeoutSeconds: 300, extra: { name: "USD Coin", version: "2" } },
  payload: { type: "voucher", voucher: { channelId: `0x${"ab".repeat(32)}`, maxClaimableAmount: "3000", signature: `0x${"cd".repeat(65)}` } },
};

describe("x402 headers on the paid-call path", () => {
  it("decode what the stock encoder produced, and encode settle responses byte for byte as the stock encoder", () => {
    const header = encodePaymentSignatureHeader(payload);
    expect(decodePaymentSignature(header)).toEqual(decodePaymentSignatureHeader(header));
    const settle: SettleResponse = {
      success: true,
      transaction: "",
      network: "eip155:31337",
      payer: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
      extensionResponses: { bazaar: { ok: true } },
      extra: { channelState: { chargedCumulativeAmount: "3000" }, receiptId: `0x${"ef".repeat(32)}`, note: "ünï ☃ 𝄞" },
    };
    expect(encodePaymentResponse(settle)).toBe(encodePaymentResponseHeader(settle));
  });

  it("refuses what the stock decoder refuses, and takes unpadded base64 as it does", () => {
    expect(decodePaymentSignature("e30")).toEqual(decodePaymentSignatureHeader("e30"));
    const header = encodePaymentSignatureHeader(payload);
    for (const bad of ["not base64!", `${header}A`, header.slice(0, -5), "e30=x", "A", "e30==", "e3=", "e30A="]) {
      expect(() => decodePaymentSignatureHeader(bad), bad).toThrow();
      expect(() => decodePaymentSignature(bad), bad).toThrow();
    }
  });
});
