/**
 * Account and executor fields behind one seam. Payments v1 has no channels and no executor bonds:
 * when payments v2 lands (channels, bonds, royalty batches), fill `channels` and `bond` here from the
 * catalog and the page shows them.
 */
import type { AccountResponse, ExecutorEntry } from "../../../sdk/catalog-api.ts";

export interface EarningRow {
  name: string;
  royalty: bigint;
  upstream: bigint;
  executorFee: bigint;
  total: bigint;
}

export interface AccountView {
  credited: bigint;
  claimed: bigint;
  earnings: EarningRow[];
  spent: { paidCalls: bigint; royalty: bigint; executorFees: bigint; total: bigint };
  payments: AccountResponse["payments"];
  claims: AccountResponse["claims"];
  packages: string[];
  executor: ExecutorEntry | null;
  /** Payment channels the account has open: none exist on payments v1. */
  channels: null;
}

export function accountView(a: AccountResponse): AccountView {
  return {
    credited: BigInt(a.credited),
    claimed: BigInt(a.claimed),
    earnings: a.earnings.map((e) => ({ name: e.name ?? e.packageId, royalty: BigInt(e.royalty), upstream: BigInt(e.upstream), executorFee: BigInt(e.executorFee), total: BigInt(e.total) })),
    spent: { paidCalls: BigInt(a.spent.paidCalls), royalty: BigInt(a.spent.royalty), executorFees: BigInt(a.spent.executorFees), total: BigInt(a.spent.total) },
    payments: a.payments,
    claims: a.claims,
    packages: a.packages,
    executor: a.executor,
    channels: null,
  };
}

/** An executor's bond: executors post none on payments v1. */
export function executorBond(_executor: ExecutorEntry): bigint | null {
  return null;
}
