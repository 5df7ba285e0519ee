import { wrapFetchWithPaymentFromConfig, decodePaymentResponseHeader } from "@x402/fetch";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload, PaymentRequired, PaymentRequirements } from "@x402/core/types";
import { toClientEvmSigner } from "@x402/evm";
import { BatchSettlementEvmScheme } from "@x402/evm/batch-settlement/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import type { Address, Hex, LocalAccount, PublicClient } from "viem";
import { signTransferAuthorization } from "../../helpers/payments.ts";

export { decodePaymentRequiredHeader, decodePaymentResponseHeader };

/** An unmodified @x402/fetch client paying with a viem account; LocalUSDC allowed by spendControls. */
export function payingFetch(account: LocalAccount, client: PublicClient, usdc: Address, chainId: number): typeof fetch {
  const network = `eip155:${chainId}` as const;
  return wrapFetchWithPaymentFromConfig(fetch, {
    schemes: [{ network, client: new ExactEvmScheme(toClientEvmSigner(account, client)) }],
    spendControls: { allowedAssets: [{ network, asset: usdc, maxAmountPerPayment: "100000000" }] },
  }) as typeof fetch;
}

/**
 * An unmodified @x402/fetch client paying through a batch-settlement channel (the stock client: it
 * deposits `deposit` on first use, then signs a cumulative voucher per call).
 */
export function channelFetch(account: LocalAccount, client: PublicClient, usdc: Address, chainId: number, deposit: bigint): typeof fetch {
  const network = `eip155:${chainId}` as const;
  const signer = toClientEvmSigner(account, client);
  return wrapFetchWithPaymentFromConfig(fetch, {
    schemes: [{ network, client: new BatchSettlementEvmScheme(signer, { depositStrategy: () => deposit.toString() }) }],
    spendControls: { allowedAssets: [{ network, asset: usdc, maxAmountPerPayment: "100000000000" }] },
  }) as typeof fetch;
}

/** Reads the 402 challenge of a call (no payment). */
export async function challengeOf(url: string, args: unknown): Promise<{ response: Response; required: PaymentRequired; requirement: PaymentRequirements }> {
  const response = await fetch(url, { method: "POST", body: JSON.stringify(args), headers: { "content-type": "application/json" } });
  const header = response.headers.get("PAYMENT-REQUIRED");
  if (response.status !== 402 || !header) throw new Error(`expected a 402 challenge, got ${response.status}: ${await response.text()}`);
  const required = decodePaymentRequiredHeader(header);
  // The exact entry (channels come first in accepts).
  const requirement = required.accepts.find((a) => a.scheme === "exact") ?? required.accepts[0]!;
  return { response, required, requirement };
}

/**
 * A hand-made x402 v2 payment (for hostile cases the standard client refuses to produce):
 * an EIP-3009 authorization with any field overridden, wrapped exactly like @x402/evm does.
 */
export async function craftPayment(
  payer: LocalAccount,
  required: PaymentRequired,
  opts: { chainId: number; to?: Address; value?: bigint; validBefore?: bigint; nonce?: Hex; accepted?: Partial<PaymentRequirements> } ,
): Promise<string> {
  const requirement = required.accepts.find((a) => a.scheme === "exact")!;
  const { authorization, signature } = await signTransferAuthorization(payer, {
    usdc: requirement.asset as Address,
    chainId: opts.chainId,
    to: opts.to ?? (requirement.payTo as Address),
    value: opts.value ?? BigInt(requirement.amount),
    validAfter: 0n,
    validBefore: opts.validBefore,
    nonce: opts.nonce,
  });
  const payload: PaymentPayload = {
    x402Version: 2,
    resource: required.resource,
    accepted: { ...requirement, ...opts.accepted },
    payload: {
      authorization: {
        from: authorization.from,
        to: authorization.to,
        value: authorization.value.toString(),
        validAfter: authorization.validAfter.toString(),
        validBefore: authorization.validBefore.toString(),
        nonce: authorization.nonce,
      },
      signature,
    },
  };
  return encodePaymentSignatureHeader(payload);
}
