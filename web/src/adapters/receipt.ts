/**
 * Paying for a call and showing what was paid. `pay()` is the SDK's call v2 (sdk/client/call.ts: the stock
 * @x402/fetch client with the stock @x402/evm `batch-settlement` scheme first and `exact` second), which
 * verifies the v2 receipt (signer is the registered executor and the payee; version, function, payer, input
 * and output hashes; royalty and fee as quoted; the payment reference ties it to the voucher or transfer) and
 * keeps it in the browser's receipt store. The page only words it.
 */
import type { Hex } from "viem";
import type { CallOutcome, DepositDecision, DepositOffer, PayScheme } from "../../../sdk/client/call.ts";
import type { ChannelStatus } from "../../../sdk/client/channels.ts";
import type { Glassbox } from "../../../sdk/glassbox.ts";
import { receiptRoyaltyTotal, type Receipt } from "../../../sdk/receipt.ts";
import { formatTime, formatUsdc } from "../format.ts";

export interface PaidCallView {
  result: unknown;
  fuelUsed: bigint;
  executor: string;
  /** Present when the call was paid: the receipt checked, as label/value rows. */
  receipt?: { id: Hex; rows: [string, string][]; total: bigint; scheme: string };
  /** A deposit this call made (opening or topping up the channel). */
  deposit?: { channelId: Hex; amount: bigint };
}

export interface PayOptions {
  executorUrl: string;
  maxPayment?: bigint;
  scheme?: PayScheme;
  /** Asked before any USDC is locked in a channel: the amount to deposit, or false to call nothing. */
  onDeposit?: (offer: DepositOffer) => Promise<DepositDecision>;
}

export async function pay(glassbox: Glassbox, ref: string, functionName: string, args: unknown[], opts: PayOptions): Promise<PaidCallView> {
  const outcome = await glassbox.call(ref, functionName, args, opts);
  return viewOf(outcome);
}

function viewOf(outcome: CallOutcome): PaidCallView {
  const view: PaidCallView = { result: outcome.result, fuelUsed: outcome.fuelUsed, executor: outcome.executor };
  if (outcome.receipt && outcome.receiptId) {
    const charged = outcome.payment ? BigInt(outcome.payment.amount) : receiptRoyaltyTotal(outcome.receipt) + outcome.receipt.executorFee;
    const scheme = outcome.payment?.scheme ?? "unknown";
    view.receipt = { id: outcome.receiptId, rows: receiptRows(outcome.receipt, scheme, outcome.payment?.transaction), total: charged, scheme };
  }
  if (outcome.deposit) view.deposit = outcome.deposit;
  return view;
}

const SCHEME_WORDS: Record<string, string> = { "batch-settlement": "payment channel (a signed voucher)", exact: "exact (a USDC transfer)" };

export function receiptRows(r: Receipt, scheme: string, transaction?: Hex): [string, string][] {
  const royalty = receiptRoyaltyTotal(r);
  const rows: [string, string][] = [
    ["Paid", `${formatUsdc(royalty + r.executorFee)} (royalty ${formatUsdc(royalty)} + executor fee ${formatUsdc(r.executorFee)})`],
    ["Paid by", SCHEME_WORDS[scheme] ?? scheme],
    ["Sequence number", r.seq === 0n ? "none (no royalty owed)" : r.seq.toString()],
    ["Royalty", formatUsdc(r.royalty)],
    ["Executor fee", formatUsdc(r.executorFee)],
    ["Fuel as quoted", r.fuel === 0n ? "0 (the price does not depend on fuel)" : r.fuel.toString()],
    ["Settle royalties by", formatTime(r.deadline)],
    ["Payment reference", r.paymentRef],
  ];
  // exact: the transfer itself; a channel: the deposit this call made, if it made one.
  if (transaction) rows.push([scheme === "exact" ? "Payment transaction" : "Deposit transaction", transaction]);
  for (const d of r.dependencies) rows.push([`Dependency ${d.versionId.slice(0, 10)}…`, `${d.calls} call(s), fuel ${d.fuel}, royalty ${formatUsdc(d.royalty)}`]);
  rows.push(["Payer", r.payer], ["Signed by executor", r.executor], ["Version", r.versionId], ["Function", r.functionName], ["Input hash", r.inputHash], ["Output hash", r.outputHash], ["Issued", formatTime(r.issuedAt)]);
  return rows;
}

/** A channel's state as label/value rows (after a call, or on the account page). */
export function channelRows(s: ChannelStatus): [string, string][] {
  return [
    ["Channel", s.channelId],
    ["Deposited, still in the channel", formatUsdc(s.balance)],
    ["Charged by your vouchers", formatUsdc(s.charged)],
    ["Claimed by the executor", formatUsdc(s.totalClaimed)],
    ["Available to spend", formatUsdc(s.available)],
    ["Withdrawal", s.withdrawal ? `${formatUsdc(s.withdrawal.amount)} ${s.withdrawal.ready ? "ready to finalize" : `from ${formatTime(s.withdrawal.finalizeAfter)}`}` : "none"],
  ];
}
