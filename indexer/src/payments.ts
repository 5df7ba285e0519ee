import { ponder } from "ponder:registry";
import { exactPayments, executors } from "ponder:schema";
import { parseEventLogs } from "viem";
import { eip3009TokenAbi } from "../lib/abis.ts";

/**
 * `exact` payments: the payer's EIP-3009 authorization moves the price straight to the executor (its payee).
 * The token emits AuthorizationUsed and then the Transfer it authorized; the transfer is read from the
 * transaction's logs (the next log of the token, from the authorizer). Only transfers to a registered executor
 * count: channel deposits (receiveWithAuthorization to the deposit collector) and anything else are not payments.
 */
ponder.on("Usdc:AuthorizationUsed", async ({ event, context }) => {
  const { authorizer, nonce } = event.args;
  const receipt = await context.client.getTransactionReceipt({ hash: event.transaction.hash });
  const token = event.log.address.toLowerCase();
  const transfer = parseEventLogs({ abi: eip3009TokenAbi, eventName: "Transfer", logs: receipt.logs }).find(
    (log) =>
      log.address.toLowerCase() === token &&
      log.logIndex === event.log.logIndex + 1 &&
      log.args.from.toLowerCase() === authorizer.toLowerCase(),
  );
  if (!transfer) return;
  const executor = await context.db.find(executors, { id: transfer.args.to });
  if (!executor) return;
  await context.db.insert(exactPayments).values({
    id: `${event.transaction.hash}:${transfer.logIndex}`,
    payer: authorizer,
    executor: transfer.args.to,
    amount: transfer.args.value,
    nonce,
    blockNumber: event.block.number,
    timestamp: event.block.timestamp,
    transactionHash: event.transaction.hash,
  });
});
