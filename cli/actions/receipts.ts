import type { Command } from "commander";
import type { ReceiptAudit, SlashSubmission } from "../../sdk/client/receipt-audit.ts";
import { receiptRoyaltyTotal } from "../../sdk/receipt.ts";
import { formatUsdc } from "../../sdk/units.ts";
import { connect, outputFor } from "../context.ts";
import { bold, dim, green, red, yellow } from "../ui.ts";

function auditJson(a: ReceiptAudit, submitted: SlashSubmission[]) {
  const r = a.receipt;
  return {
    receiptId: a.entry.receiptId,
    state: a.state,
    overcharged: a.overcharged,
    versionId: r.versionId,
    function: r.functionName,
    executor: r.executor,
    executorUrl: a.entry.executorUrl,
    scheme: a.entry.scheme,
    charged: a.entry.charged,
    royalty: receiptRoyaltyTotal(r).toString(),
    executorFee: r.executorFee.toString(),
    registeredFee: a.registeredFee?.toString() ?? null,
    seq: r.seq.toString(),
    deadline: Number(a.deadline),
    lines: a.lines.map((l) => ({
      seq: l.seq.toString(),
      versionId: l.versionId,
      royalty: l.royalty.toString(),
      settled: l.matches === undefined ? null : { firstSeq: l.batch!.firstSeq.toString(), transaction: l.batch!.transaction, matches: l.matches, ...(l.settledAs ? { settledAs: { versionId: l.settledAs.versionId ?? null, royalty: l.settledAs.royalty.toString(), sameReceipt: l.settledAs.sameReceipt } } : {}) },
    })),
    submitted: submitted.map((s) => ({ kind: s.kind, transaction: s.transaction, paid: s.paid.toString(), bounty: s.bounty.toString() })),
  };
}

const STATE_LABEL: Record<ReceiptAudit["state"], (t: string) => string> = {
  settled: green,
  pending: dim,
  overdue: red,
  mismatched: red,
  slashed: yellow,
  "no-royalty": dim,
};

function formatAudit(a: ReceiptAudit, submitted: SlashSubmission[]): string {
  const r = a.receipt;
  const head = `${STATE_LABEL[a.state](a.state.padEnd(10))}${a.overcharged ? ` ${red("overcharged")}` : ""} ${a.entry.receiptId}`;
  const lines = [head, `  ${r.functionName} of ${r.versionId.slice(0, 10)}… · paid ${formatUsdc(a.entry.charged)} (${a.entry.scheme}) · royalty ${formatUsdc(receiptRoyaltyTotal(r))} · fee ${formatUsdc(r.executorFee)} · executor ${r.executor}`];
  if (a.state === "pending") lines.push(dim(`  due by ${new Date(Number(a.deadline) * 1000).toISOString()} (seq ${r.seq})`));
  if (a.state === "settled") lines.push(dim(`  settled in ${a.lines[0]?.batch?.transaction}`));
  if (a.state === "overdue") lines.push(`  not settled by ${new Date(Number(a.deadline) * 1000).toISOString()}: the executor's bond owes it`);
  for (const l of a.lines.filter((l) => l.settledAs)) {
    lines.push(`  seq ${l.seq} was settled as ${formatUsdc(l.settledAs!.royalty)} to ${l.settledAs!.versionId ?? "?"}${l.settledAs!.sameReceipt ? "" : " for another receipt"}, signed ${formatUsdc(l.royalty)} to ${l.versionId}`);
  }
  if (a.overcharged) lines.push(`  fee ${formatUsdc(r.executorFee)} is above the registered ${formatUsdc(a.registeredFee ?? 0n)}`);
  for (const s of submitted) lines.push(`  ${green("✔")} ${s.kind} proof paid ${formatUsdc(s.paid)} + bounty ${formatUsdc(s.bounty)} to you ${dim(s.transaction)}`);
  return lines.join("\n");
}

export async function receipts(opts: { submit?: boolean }, command: Command): Promise<void> {
  const out = outputFor(command);
  const { glassbox, account } = await connect(command, { wallet: "required" });
  const audits = await out.step(`Checking the receipts of ${account!.address} on-chain`, () => glassbox.auditReceipts(account!.address));
  const submitted = new Map<string, SlashSubmission[]>();
  if (opts.submit) {
    for (const audit of audits) {
      if (audit.state !== "overdue" && audit.state !== "mismatched" && !audit.overcharged) continue;
      submitted.set(audit.entry.receiptId, await out.step(`Submitting the proof of ${audit.entry.receiptId}`, () => glassbox.submitReceiptProofs(audit)));
    }
  }
  const counts: Record<string, number> = {};
  for (const a of audits) counts[a.state] = (counts[a.state] ?? 0) + 1;
  const actionable = audits.filter((a) => (a.state === "overdue" || a.state === "mismatched" || a.overcharged) && !submitted.has(a.entry.receiptId));
  out.result(
    () => {
      if (audits.length === 0) return "No receipts kept for this wallet on this chain yet.";
      const body = audits.map((a) => formatAudit(a, submitted.get(a.entry.receiptId) ?? [])).join("\n\n");
      const summary = Object.entries(counts).map(([state, n]) => `${n} ${state}`).join(" · ");
      const advice = actionable.length > 0 ? `\n${bold(`${actionable.length} can be paid out of the executor's bond:`)} run \`glassbox receipts --submit\`.` : "";
      return `${body}\n\n${dim(summary)}${advice}`;
    },
    { payer: account!.address, counts, receipts: audits.map((a) => auditJson(a, submitted.get(a.entry.receiptId) ?? [])) },
  );
}
