/**
 * A capability call under a spend policy, through the SDK's one call path (Glassbox.call), so
 * whatever pays there (x402 today, channels later) is governed the same way: the policy is checked
 * and the cap handed to the payer before anything is signed, and the day's spending is settled to
 * what the verified receipt says was paid.
 */
import { decodePaymentRequiredHeader } from "@x402/core/http";
import type { CallOutcome } from "./client/call.ts";
import { GlassboxError } from "./client/errors.ts";
import type { VersionView } from "./client/registry.ts";
import type { CallOptions, Glassbox } from "./glassbox.ts";
import type { SpendPolicy } from "./spend-policy.ts";

/**
 * Failures raised before any request could carry a payment, or answered by the executor with an
 * error (a failed execution is never charged): the reservation is released. Anything else (the
 * connection dropped mid-call, a receipt that does not verify) may follow a signed payment, so the
 * reserved cap stays counted.
 */
function surelyUnpaid(error: unknown): boolean {
  if (!(error instanceof GlassboxError)) return false;
  return !["CALL_FAILED", "RECEIPT_MISSING", "RECEIPT_INVALID"].includes(error.code);
}

/**
 * What the executor's 402 challenge asks for this call (the least of its offers), read from an
 * unpaid request: nothing is signed. Undefined when it cannot be read.
 */
export async function quotedPrice(executorUrl: string, version: VersionView, functionName: string, args: unknown[]): Promise<bigint | undefined> {
  const url = `${executorUrl}/v1/call/${version.name}@${version.version}/${functionName}`;
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(args) }).catch(() => undefined);
  const header = response?.headers.get("PAYMENT-REQUIRED");
  await response?.body?.cancel().catch(() => undefined);
  if (response?.status !== 402 || !header) return undefined;
  try {
    const amounts = decodePaymentRequiredHeader(header).accepts.map((a) => BigInt(a.amount));
    return amounts.reduce<bigint | undefined>((least, a) => (least === undefined || a < least ? a : least), undefined);
  } catch {
    return undefined;
  }
}

/** How a guarded call pays (the spend policy sets the per-call cap itself). */
export type CallPaymentOptions = Pick<CallOptions, "scheme" | "deposit">;

/** Calls `functionName` of `version` with positional `args`, paying under `policy`; throws SpendPolicyError on a refusal. */
export async function callWithinPolicy(
  glassbox: Glassbox,
  policy: SpendPolicy,
  version: VersionView,
  functionName: string,
  args: unknown[],
  payment: CallPaymentOptions = {},
): Promise<CallOutcome & { version: VersionView }> {
  const ref = `${version.name}@${version.version}`;
  policy.checkPackage(version.name);
  if (version.accessMode === "free") return glassbox.call(ref, functionName, args);
  const reservation = await policy.reserve(version.name, version.price);
  let outcome: CallOutcome & { version: VersionView };
  try {
    outcome = await glassbox.call(ref, functionName, args, { ...payment, ...(reservation.cap !== undefined ? { maxPayment: reservation.cap } : {}) });
  } catch (error) {
    if (surelyUnpaid(error)) await policy.settle(reservation, 0n);
    if (error instanceof GlassboxError && error.code === "PAYMENT_ABOVE_LIMIT") {
      const executorUrl = (await glassbox.executorsFor(version).catch(() => []))[0];
      const asked = executorUrl ? await quotedPrice(executorUrl, version, functionName, args) : undefined;
      throw await policy.refusal(version.name, reservation, asked);
    }
    throw error;
  }
  const paid = outcome.receipt ? outcome.receipt.royalty + outcome.receipt.executorFee : 0n;
  await policy.settle(reservation, paid);
  return outcome;
}
