import { ponder } from "ponder:registry";
import {
  accountPackageCredits,
  accounts,
  claims,
  executors,
  packagePayers,
  packages,
  receipts,
  skippedSettlements,
  versionPayers,
  versions,
} from "ponder:schema";
import { CREDIT_KINDS } from "../lib/catalog.ts";

ponder.on("Settlement:Settled", async ({ event, context }) => {
  const { receiptId, versionId, payer, executor, royalty, executorFee, fuelUsed, paymentNonce, frontRun } = event.args;
  const version = await context.db.find(versions, { id: versionId });
  const packageId = version?.packageId ?? null;

  await context.db.insert(receipts).values({
    id: receiptId,
    versionId,
    packageId,
    payer,
    executor,
    royalty,
    executorFee,
    fuelUsed,
    paymentNonce,
    frontRun,
    blockNumber: event.block.number,
    timestamp: event.block.timestamp,
    transactionHash: event.transaction.hash,
  });

  if (version) {
    const newVersionPayer = await context.db.insert(versionPayers).values({ versionId, payer }).onConflictDoNothing();
    await context.db.update(versions, { id: versionId }).set((row) => ({
      paidCalls: row.paidCalls + 1n,
      royaltyRevenue: row.royaltyRevenue + royalty,
      executorFees: row.executorFees + executorFee,
      fuelUsed: row.fuelUsed + fuelUsed,
      distinctPayers: row.distinctPayers + (newVersionPayer ? 1 : 0),
    }));
    const newPackagePayer = await context.db
      .insert(packagePayers)
      .values({ packageId: version.packageId, payer })
      .onConflictDoNothing();
    await context.db.update(packages, { id: version.packageId }).set((row) => ({
      paidCalls: row.paidCalls + 1n,
      royaltyRevenue: row.royaltyRevenue + royalty,
      executorFees: row.executorFees + executorFee,
      distinctPayers: row.distinctPayers + (newPackagePayer ? 1 : 0),
    }));
  }

  const knownExecutor = await context.db.find(executors, { id: executor });
  if (knownExecutor) {
    await context.db.update(executors, { id: executor }).set((row) => ({
      settledCalls: row.settledCalls + 1n,
      feesEarned: row.feesEarned + executorFee,
    }));
  }
});

ponder.on("Settlement:Credited", async ({ event, context }) => {
  const { account, versionId, kind, amount } = event.args;
  await context.db
    .insert(accounts)
    .values({ id: account, credited: amount, claimed: 0n, claimable: amount })
    .onConflictDoUpdate((row) => ({ credited: row.credited + amount, claimable: row.claimable + amount }));

  const version = await context.db.find(versions, { id: versionId });
  if (!version) return;
  const kindName = CREDIT_KINDS[kind] ?? "royalty";
  const parts = {
    royalty: kindName === "royalty" ? amount : 0n,
    upstream: kindName === "upstream" ? amount : 0n,
    executorFee: kindName === "executorFee" ? amount : 0n,
  };
  await context.db
    .insert(accountPackageCredits)
    .values({ account, packageId: version.packageId, ...parts, total: amount })
    .onConflictDoUpdate((row) => ({
      royalty: row.royalty + parts.royalty,
      upstream: row.upstream + parts.upstream,
      executorFee: row.executorFee + parts.executorFee,
      total: row.total + amount,
    }));
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

ponder.on("Settlement:SettlementSkipped", async ({ event, context }) => {
  await context.db.insert(skippedSettlements).values({
    id: `${event.transaction.hash}:${event.log.logIndex}`,
    receiptId: event.args.receiptId,
    reason: event.args.reason,
    blockNumber: event.block.number,
    transactionHash: event.transaction.hash,
  });
});
