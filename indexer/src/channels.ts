import { ponder, type Context } from "ponder:registry";
import { channelReceivers, channels } from "ponder:schema";

type Db = Context["db"];
type Hex = `0x${string}`;

/** The channel's row, or undefined for a channel created before the indexer's start block (nothing to attach to). */
const channelOf = (db: Db, id: Hex) => db.find(channels, { id });

ponder.on("Channels:ChannelCreated", async ({ event, context }) => {
  const { channelId, config } = event.args;
  // A drained channel that receives escrow again is "created" again: its history stays.
  await context.db
    .insert(channels)
    .values({
      id: channelId,
      payer: config.payer,
      payerAuthorizer: config.payerAuthorizer,
      receiver: config.receiver,
      receiverAuthorizer: config.receiverAuthorizer,
      token: config.token,
      withdrawDelay: config.withdrawDelay,
      salt: config.salt,
      deposited: 0n,
      claimed: 0n,
      withdrawn: 0n,
      refunded: 0n,
      balance: 0n,
      pendingWithdrawal: null,
      withdrawFinalizeAfter: null,
      rejectedVouchers: 0,
      createdBlock: event.block.number,
      createdAt: event.block.timestamp,
      updatedBlock: event.block.number,
    })
    .onConflictDoNothing();
});

ponder.on("Channels:Deposited", async ({ event, context }) => {
  const { channelId, amount, newBalance } = event.args;
  if (!(await channelOf(context.db, channelId))) return;
  await context.db
    .update(channels, { id: channelId })
    .set((c) => ({ deposited: c.deposited + amount, balance: newBalance, updatedBlock: event.block.number }));
});

ponder.on("Channels:Claimed", async ({ event, context }) => {
  const { channelId, claimAmount, newTotalClaimed } = event.args;
  const channel = await channelOf(context.db, channelId);
  if (!channel) return;
  await context.db.update(channels, { id: channelId }).set({ claimed: newTotalClaimed, updatedBlock: event.block.number });
  await context.db
    .insert(channelReceivers)
    .values({ id: `${channel.receiver.toLowerCase()}:${channel.token.toLowerCase()}`, receiver: channel.receiver, token: channel.token, claimed: claimAmount, swept: 0n, sweeps: 0 })
    .onConflictDoUpdate((r) => ({ claimed: r.claimed + claimAmount }));
});

ponder.on("Channels:VoucherRejected", async ({ event, context }) => {
  if (!(await channelOf(context.db, event.args.channelId))) return;
  await context.db
    .update(channels, { id: event.args.channelId })
    .set((c) => ({ rejectedVouchers: c.rejectedVouchers + 1, updatedBlock: event.block.number }));
});

ponder.on("Channels:Settled", async ({ event, context }) => {
  const { receiver, token, amount } = event.args;
  await context.db
    .insert(channelReceivers)
    .values({ id: `${receiver.toLowerCase()}:${token.toLowerCase()}`, receiver, token, claimed: 0n, swept: amount, sweeps: 1 })
    .onConflictDoUpdate((r) => ({ swept: r.swept + amount, sweeps: r.sweeps + 1 }));
});

ponder.on("Channels:WithdrawInitiated", async ({ event, context }) => {
  const { channelId, amount, finalizeAfter } = event.args;
  if (!(await channelOf(context.db, channelId))) return;
  await context.db
    .update(channels, { id: channelId })
    .set({ pendingWithdrawal: amount, withdrawFinalizeAfter: BigInt(finalizeAfter), updatedBlock: event.block.number });
});

ponder.on("Channels:WithdrawFinalized", async ({ event, context }) => {
  const { channelId, amount } = event.args;
  if (!(await channelOf(context.db, channelId))) return;
  await context.db.update(channels, { id: channelId }).set((c) => ({
    withdrawn: c.withdrawn + amount,
    balance: c.balance - amount,
    pendingWithdrawal: null,
    withdrawFinalizeAfter: null,
    updatedBlock: event.block.number,
  }));
});

// The receiver side's refund also shrinks (or ends) a pending withdrawal, as the contract does.
ponder.on("Channels:Refunded", async ({ event, context }) => {
  const { channelId, amount } = event.args;
  if (!(await channelOf(context.db, channelId))) return;
  await context.db.update(channels, { id: channelId }).set((c) => {
    const pending = c.pendingWithdrawal === null || amount >= c.pendingWithdrawal ? null : c.pendingWithdrawal - amount;
    return {
      refunded: c.refunded + amount,
      balance: c.balance - amount,
      pendingWithdrawal: pending,
      withdrawFinalizeAfter: pending === null ? null : c.withdrawFinalizeAfter,
      updatedBlock: event.block.number,
    };
  });
});
