import { ponder, type Context } from "ponder:registry";
import {
  accountPackageCredits,
  accounts,
  claims,
  executorBooks,
  licences,
  packages,
  royaltyBatches,
  royaltyBatchVersions,
  slashes,
  surplusSweeps,
  versions,
} from "ponder:schema";
import { CREDIT_KINDS, SLASH_REASONS } from "../lib/catalog.ts";
import { itemizeRoyaltyBatch } from "../lib/royalty-calldata.ts";

type Db = Context["db"];
type Hex = `0x${string}`;

const NEW_BOOKS = {
  bond: 0n,
  bondPosted: 0n,
  bondWithdrawn: 0n,
  bondSlashed: 0n,
  exitWithdrawableAt: null,
  royaltyBatches: 0,
  royaltyLines: 0n,
  royaltiesPaid: 0n,
  slashCount: 0,
} as const;

/** The executor's Settlement row, created on its first batch, bond or slash. */
async function books(db: Db, executor: Hex) {
  return (await db.find(executorBooks, { id: executor })) ?? (await db.insert(executorBooks).values({ id: executor, ...NEW_BOOKS }));
}

ponder.on("Settlement:RoyaltiesSettled", async ({ event, context }) => {
  const { executor, firstSeq, count, total, batchHash } = event.args;
  const batchId = `${executor.toLowerCase()}:${firstSeq}`;
  const itemized = itemizeRoyaltyBatch(event.transaction, event.log.address, batchHash);
  await context.db.insert(royaltyBatches).values({
    id: batchId,
    executor,
    firstSeq,
    count,
    total,
    batchHash,
    itemized: itemized !== undefined,
    blockNumber: event.block.number,
    timestamp: event.block.timestamp,
    transactionHash: event.transaction.hash,
  });
  const row = await books(context.db, executor);
  await context.db.update(executorBooks, { id: row.id }).set((b) => ({
    royaltyBatches: b.royaltyBatches + 1,
    royaltyLines: b.royaltyLines + count,
    royaltiesPaid: b.royaltiesPaid + total,
  }));

  for (const { versionId, lines, amount } of itemized ?? []) {
    const version = await context.db.find(versions, { id: versionId });
    await context.db.insert(royaltyBatchVersions).values({
      id: `${batchId}:${versionId}`,
      batchId,
      executor,
      versionId,
      packageId: version?.packageId ?? null,
      lines,
      amount,
      blockNumber: event.block.number,
      timestamp: event.block.timestamp,
    });
    if (!version) continue;
    await context.db
      .update(versions, { id: versionId })
      .set((v) => ({ paidCalls: v.paidCalls + lines, royaltyRevenue: v.royaltyRevenue + amount }));
    await context.db
      .update(packages, { id: version.packageId })
      .set((p) => ({ paidCalls: p.paidCalls + lines, royaltyRevenue: p.royaltyRevenue + amount }));
  }
});

ponder.on("Settlement:Credited", async ({ event, context }) => {
  const { account, versionId, kind, amount } = event.args;
  await context.db
    .insert(accounts)
    .values({ id: account, credited: amount, claimed: 0n, claimable: amount })
    .onConflictDoUpdate((row) => ({ credited: row.credited + amount, claimable: row.claimable + amount }));

  const version = await context.db.find(versions, { id: versionId });
  const kindName = CREDIT_KINDS[kind];
  if (!version || kindName === undefined) return;
  const parts = {
    royalty: kindName === "royalty" ? amount : 0n,
    upstream: kindName === "upstream" ? amount : 0n,
    bounty: kindName === "bounty" ? amount : 0n,
    refund: kindName === "refund" ? amount : 0n,
    licence: kindName === "licence" ? amount : 0n,
  };
  await context.db
    .insert(accountPackageCredits)
    .values({ account, packageId: version.packageId, ...parts, total: amount })
    .onConflictDoUpdate((row) => ({
      royalty: row.royalty + parts.royalty,
      upstream: row.upstream + parts.upstream,
      bounty: row.bounty + parts.bounty,
      refund: row.refund + parts.refund,
      licence: row.licence + parts.licence,
      total: row.total + amount,
    }));
});

// Its Credited events come first in the same transaction; this adds the sale itself to the version and package.
ponder.on("Settlement:LicenceBought", async ({ event, context }) => {
  const { versionId, holder, payer, price } = event.args;
  const version = await context.db.find(versions, { id: versionId });
  await context.db.insert(licences).values({
    id: `${versionId}:${holder.toLowerCase()}`,
    versionId,
    packageId: version?.packageId ?? null,
    holder,
    payer,
    price,
    blockNumber: event.block.number,
    timestamp: event.block.timestamp,
    transactionHash: event.transaction.hash,
  });
  if (!version) return;
  await context.db
    .update(versions, { id: versionId })
    .set((v) => ({ licenceCount: v.licenceCount + 1, licenceRevenue: v.licenceRevenue + price }));
  await context.db
    .update(packages, { id: version.packageId })
    .set((p) => ({ licenceCount: p.licenceCount + 1, licenceRevenue: p.licenceRevenue + price }));
});

ponder.on("Settlement:Claimed", async ({ event, context }) => {
  const { account, to, amount } = event.args;
  await context.db.insert(claims).values({
    id: `${event.transaction.hash}:${event.log.logIndex}`,
    account,
    to,
    amount,
    blockNumber: event.block.number,
    transactionHash: event.transaction.hash,
  });
  await context.db
    .insert(accounts)
    .values({ id: account, credited: 0n, claimed: amount, claimable: 0n })
    .onConflictDoUpdate((row) => ({
      claimed: row.claimed + amount,
      claimable: row.claimable > amount ? row.claimable - amount : 0n,
    }));
});

ponder.on("Settlement:BondPosted", async ({ event, context }) => {
  const row = await books(context.db, event.args.executor);
  // The event carries the bond after the addition: take it as is rather than re-deriving it.
  await context.db
    .update(executorBooks, { id: row.id })
    .set((b) => ({ bond: event.args.bond, bondPosted: b.bondPosted + event.args.amount }));
});

ponder.on("Settlement:ExitBegun", async ({ event, context }) => {
  const row = await books(context.db, event.args.executor);
  await context.db.update(executorBooks, { id: row.id }).set({ exitWithdrawableAt: BigInt(event.args.withdrawableAt) });
});

ponder.on("Settlement:BondWithdrawn", async ({ event, context }) => {
  const row = await books(context.db, event.args.executor);
  await context.db
    .update(executorBooks, { id: row.id })
    .set((b) => ({ bond: 0n, bondWithdrawn: b.bondWithdrawn + event.args.amount, exitWithdrawableAt: null }));
});

ponder.on("Settlement:Slashed", async ({ event, context }) => {
  const { executor, receiptId, payer, reason, paid, bounty } = event.args;
  const reasonName = SLASH_REASONS[reason] ?? `unknown-${reason}`;
  await context.db.insert(slashes).values({
    id: `${receiptId}:${reasonName}`,
    executor,
    receiptId,
    payer,
    reason: reasonName,
    paid,
    bounty,
    blockNumber: event.block.number,
    timestamp: event.block.timestamp,
    transactionHash: event.transaction.hash,
  });
  const row = await books(context.db, executor);
  await context.db.update(executorBooks, { id: row.id }).set((b) => ({
    bond: b.bond > paid + bounty ? b.bond - paid - bounty : 0n,
    bondSlashed: b.bondSlashed + paid + bounty,
    slashCount: b.slashCount + 1,
  }));
});

ponder.on("Settlement:SurplusSwept", async ({ event, context }) => {
  await context.db.insert(surplusSweeps).values({
    id: `${event.transaction.hash}:${event.log.logIndex}`,
    to: event.args.to,
    amount: event.args.amount,
    blockNumber: event.block.number,
    transactionHash: event.transaction.hash,
  });
});
