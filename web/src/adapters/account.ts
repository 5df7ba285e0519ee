/**
 * The catalog's account answer (payments v2, sdk/catalog-api.ts) as the account page shows it: amounts as
 * bigints, earnings per package and kind, spending as channel totals plus exact payments.
 */
import type { AccountResponse, ChannelEntry, ExecutorEntry, LicenceEntry, SlashEntry } from "../../../sdk/catalog-api.ts";
import { formatTime, formatUsdc } from "../format.ts";

export interface EarningRow {
  name: string;
  royalty: bigint;
  upstream: bigint;
  bounty: bigint;
  refund: bigint;
  licence: bigint;
  total: bigint;
}

export interface AccountView {
  credited: bigint;
  claimed: bigint;
  earnings: EarningRow[];
  spent: { paid: bigint; deposited: bigint; returned: bigint; available: bigint; exact: bigint; exactPayments: number; total: bigint };
  payments: AccountResponse["payments"];
  claims: AccountResponse["claims"];
  packages: string[];
  executor: ExecutorEntry | null;
  /** Channels the account pays from, and those it is paid through (an executor's). */
  channels: { asPayer: ChannelEntry[]; asReceiver: ChannelEntry[] };
  slashes: SlashEntry[];
  /** Licences to run a version locally the account holds. */
  licences: LicenceEntry[];
}

export function accountView(a: AccountResponse): AccountView {
  const s = a.spent;
  return {
    credited: BigInt(a.credited),
    claimed: BigInt(a.claimed),
    earnings: a.earnings.map((e) => ({ name: e.name ?? e.packageId, royalty: BigInt(e.royalty), upstream: BigInt(e.upstream), bounty: BigInt(e.bounty), refund: BigInt(e.refund), licence: BigInt(e.licence), total: BigInt(e.total) })),
    spent: { paid: BigInt(s.paid), deposited: BigInt(s.deposited), returned: BigInt(s.returned), available: BigInt(s.available), exact: BigInt(s.exact), exactPayments: s.exactPayments, total: BigInt(s.total) },
    payments: a.payments,
    claims: a.claims,
    packages: a.packages,
    executor: a.executor,
    channels: a.channels,
    slashes: a.slashes,
    licences: a.licences,
  };
}

/** An executor's bond as one line: what slashes can still take, and its exit. */
export function bondLine(executor: ExecutorEntry, now = Date.now() / 1000): string {
  const b = executor.bond;
  const parts = [`${formatUsdc(b.amount)} bonded`];
  if (BigInt(b.slashed) > 0n) parts.push(`${formatUsdc(b.slashed)} slashed`);
  if (b.exitWithdrawableAt !== null) parts.push(Number(b.exitWithdrawableAt) <= now ? "exiting: withdrawable now" : `exiting: withdrawable from ${formatTime(b.exitWithdrawableAt)}`);
  return parts.join(" · ");
}
