/**
 * Payments v1 behind one seam. Today the SDK's call (sdk/client/call.ts) pays with the stock
 * @x402/fetch client and the `exact` scheme, then verifies the v1 EIP-712 receipt (signer is a
 * registered executor; version, function, payer, input and output hashes; royalty ≥ price) and
 * throws RECEIPT_INVALID otherwise. Receipts v2 (sequence, deadline, royalty lines) change what is
 * verified and shown: switch `pay` and `receiptRows` here, the page stays as it is.
 */
import type { Hex } from "viem";
import type { CallOutcome, Glassbox } from "../../../sdk/glassbox.ts";
import type { Receipt } from "../../../sdk/receipt.ts";
import { formatTime, formatUsdc } from "../format.ts";

export interface PaidCallView {
  result: unknown;
  fuelUsed: bigint;
  executor: string;
  /** Present when the call was paid: the receipt checked, as label/value rows. */
  receipt?: { id: Hex; rows: [string, string][]; total: bigint };
}

export async function pay(
  glassbox: Glassbox,
  ref: string,
  functionName: string,
  args: unknown[],
  opts: { executorUrl: string; maxPayment?: bigint },
): Promise<PaidCallView> {
  const outcome = await glassbox.call(ref, functionName, args, opts);
  return viewOf(outcome);
}

function viewOf(outcome: CallOutcome): PaidCallView {
  const view: PaidCallView = { result: outcome.result, fuelUsed: outcome.fuelUsed, executor: outcome.executor };
  if (outcome.receipt && outcome.receiptId) view.receipt = { id: outcome.receiptId, rows: receiptRows(outcome.receipt), total: outcome.receipt.royalty + outcome.receipt.executorFee };
  return view;
}

export function receiptRows(r: Receipt): [string, string][] {
  return [
    ["Paid", `${formatUsdc(r.royalty + r.executorFee)} (royalty ${formatUsdc(r.royalty)} + executor fee ${formatUsdc(r.executorFee)})`],
    ["Payer", r.payer],
    ["Signed by executor", r.executor],
    ["Version", r.versionId],
    ["Function", r.functionName],
    ["Input hash", r.inputHash],
    ["Output hash", r.outputHash],
    ["Fuel", r.fuelUsed.toString()],
    ["Payment nonce", r.paymentNonce],
    ["Time", formatTime(r.timestamp)],
  ];
}
