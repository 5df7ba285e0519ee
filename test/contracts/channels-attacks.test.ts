/**
 * Hostile tests of the x402 batch-settlement channel contract and its ERC-3009 deposit collector: each attack
 * would move money to the wrong place (or block honest money) if its defence were missing.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { encodeFunctionData, getAddress, getContract, parseAbi, parseEventLogs, type Hex } from "viem";
import { batchSettlementAbi } from "../../sdk/abi.ts";
import { BATCH_SETTLEMENT_ADDRESS, ERC3009_DEPOSIT_COLLECTOR_ADDRESS } from "../../sdk/x402-contracts.ts";
import { deployChannelsFixture, WITHDRAW_DELAY, type ChannelsFixture } from "./channels-fixture.ts";

let f: ChannelsFixture;
beforeEach(async () => {
  f = await deployChannelsFixture();
});

describe("vouchers: replay and over-claim", () => {
  it("claims a voucher once, never above its ceiling, never with a forged signature", async () => {
    const { payer, receiver, stranger } = f.wallets;
    const config = f.configFor(f.addr(payer));
    const channelId = await f.deposit(payer, config, 10_000n);
    const receiverChannels = f.as(receiver);

    const first = await f.row(payer, config, 3_000n);
    await f.mined(await receiverChannels.write.claim([[first]]));
    expect(await f.channels.read.channels([channelId])).toEqual([10_000n, 3_000n]);

    // Replaying the same voucher, or an older lower one, changes nothing.
    const replay = await f.mined(await receiverChannels.write.claim([[first]]));
    expect(parseEventLogs({ abi: batchSettlementAbi, logs: replay.logs, eventName: "Claimed" })).toHaveLength(0);
    await f.mined(await receiverChannels.write.claim([[await f.row(payer, config, 2_000n)]]));
    expect(await f.channels.read.channels([channelId])).toEqual([10_000n, 3_000n]);
    expect(await f.channels.read.receivers([f.addr(receiver), f.usdc.address])).toEqual([3_000n, 0n]);

    // Claiming above what the payer signed.
    const overClaim = await f.row(payer, config, 3_000n, 3_500n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(receiverChannels.write.claim([[overClaim]]), f.channels, "ClaimExceedsVoucher", [
      channelId,
      3_500n,
      3_000n,
    ]);
    // A voucher "signed" by someone else than the payer's voucher key.
    const forged = await f.row(stranger, config, 9_000n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(receiverChannels.write.claim([[forged]]), f.channels, "InvalidVoucherSignature", [channelId]);
    // A voucher of one channel does not sign for another (its id is in the signed message).
    const otherConfig = f.configFor(f.addr(payer), { salt: `0x${"11".repeat(32)}` });
    const otherId = await f.deposit(payer, otherConfig, 5_000n);
    const transplanted = { ...first, voucher: { ...first.voucher, channel: otherConfig } };
    await f.viem.assertions.revertWithCustomErrorWithArgs(receiverChannels.write.claim([[transplanted]]), f.channels, "InvalidVoucherSignature", [otherId]);

    await f.mined(await f.as(stranger).write.settle([f.addr(receiver), f.usdc.address]));
    expect(await f.channels.read.receivers([f.addr(receiver), f.usdc.address])).toEqual([3_000n, 3_000n]);
    await f.expectSolvent([channelId, otherId], [f.addr(receiver)]);
  });

  it("never claims more than the channel holds, whatever the payer signed", async () => {
    const { payer, otherPayer, receiver } = f.wallets;
    const config = f.configFor(f.addr(payer));
    const channelId = await f.deposit(payer, config, 10_000n);
    const otherId = await f.deposit(otherPayer, f.configFor(f.addr(otherPayer)), 50_000n);
    const generous = await f.row(payer, config, 20_000n, 10_001n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(f.as(receiver).write.claim([[generous]]), f.channels, "ClaimExceedsBalance", [
      channelId,
      10_001n,
      10_000n,
    ]);
    await f.mined(await f.as(receiver).write.claim([[{ ...generous, totalClaimed: 10_000n }]]));
    await f.mined(await f.as(receiver).write.settle([f.addr(receiver), f.usdc.address]));
    // The other payer's escrow is untouched.
    expect(await f.channels.read.channels([otherId])).toEqual([50_000n, 0n]);
    expect(await f.usdc.read.balanceOf([BATCH_SETTLEMENT_ADDRESS])).toBe(50_000n);
    await f.expectSolvent([channelId, otherId], [f.addr(receiver)]);
  });
});

describe("claims: only the receiver side", () => {
  it("refuses strangers, their signatures and tampered batches; a relayed batch still pays only the receiver", async () => {
    const { payer, otherPayer, receiver, stranger } = f.wallets;
    const config = f.configFor(f.addr(payer));
    const channelId = await f.deposit(payer, config, 10_000n);
    const rows = [await f.row(payer, config, 4_000n)];

    await f.viem.assertions.revertWithCustomErrorWithArgs(f.as(stranger).write.claim([rows]), f.channels, "NotReceiverSide", [
      channelId,
      f.addr(stranger),
    ]);
    const strangerSignature = await f.signClaimBatch(stranger, rows);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.as(stranger).write.claimWithSignature([rows, strangerSignature]),
      f.channels,
      "InvalidAuthorizerSignature",
      [f.addr(receiver)],
    );
    const receiverSignature = await f.signClaimBatch(receiver, rows);
    const tampered = [{ ...rows[0]!, voucher: { ...rows[0]!.voucher, maxClaimableAmount: 9_000n }, totalClaimed: 9_000n }];
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.as(stranger).write.claimWithSignature([tampered, receiverSignature]),
      f.channels,
      "InvalidAuthorizerSignature",
      [f.addr(receiver)],
    );
    // A row whose channel names another receiver authorizer cannot ride on this authorizer's signature.
    const foreignConfig = f.configFor(f.addr(otherPayer), { receiver: f.addr(stranger), receiverAuthorizer: f.addr(stranger) });
    const foreign = await f.row(otherPayer, foreignConfig, 1_000n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.as(stranger).write.claimWithSignature([[rows[0]!, foreign], await f.signClaimBatch(receiver, [rows[0]!, foreign])]),
      f.channels,
      "MixedReceiverAuthorizers",
      [1n, f.addr(receiver), f.addr(stranger)],
    );

    const strangerBefore = await f.usdc.read.balanceOf([f.addr(stranger)]);
    const receiverBefore = await f.usdc.read.balanceOf([f.addr(receiver)]);
    await f.mined(await f.as(stranger).write.claimWithSignature([rows, receiverSignature]));
    await f.mined(await f.as(stranger).write.settle([f.addr(receiver), f.usdc.address]));
    expect(await f.usdc.read.balanceOf([f.addr(stranger)])).toBe(strangerBefore);
    expect(await f.usdc.read.balanceOf([f.addr(receiver)])).toBe(receiverBefore + 4_000n);
    // Settling the stranger's own (empty) receiver account yields nothing.
    await f.mined(await f.as(stranger).write.settle([f.addr(stranger), f.usdc.address]));
    expect(await f.usdc.read.balanceOf([f.addr(stranger)])).toBe(strangerBefore);
    await f.expectSolvent([channelId], [f.addr(receiver), f.addr(stranger)]);
  });
});

describe("payer exit", () => {
  it("withdraws only after the delay, only by the payer, capped to what the receiver has not claimed", async () => {
    const { payer, receiver, stranger } = f.wallets;
    const config = f.configFor(f.addr(payer));
    const channelId = await f.deposit(payer, config, 10_000n);
    const voucher = await f.row(payer, config, 6_000n);

    await f.viem.assertions.revertWithCustomErrorWithArgs(f.as(stranger).write.initiateWithdraw([config, 1_000n]), f.channels, "NotPayerSide", [
      channelId,
      f.addr(stranger),
    ]);
    await f.viem.assertions.revertWithCustomErrorWithArgs(f.as(payer).write.initiateWithdraw([config, 10_001n]), f.channels, "WithdrawExceedsAvailable", [
      channelId,
      10_001n,
      10_000n,
    ]);
    await f.mined(await f.as(payer).write.initiateWithdraw([config, 10_000n]));
    await f.viem.assertions.revertWithCustomErrorWithArgs(f.as(payer).write.initiateWithdraw([config, 1n]), f.channels, "WithdrawalAlreadyPending", [channelId]);
    await f.viem.assertions.revertWithCustomError(f.as(payer).write.finalizeWithdraw([config]), f.channels, "WithdrawDelayNotElapsed");

    // The receiver claims inside the window; the payer's withdrawal shrinks to the rest.
    await f.mined(await f.as(receiver).write.claim([[voucher]]));
    await f.networkHelpers.time.increase(WITHDRAW_DELAY);
    await f.viem.assertions.revertWithCustomErrorWithArgs(f.as(stranger).write.finalizeWithdraw([config]), f.channels, "NotPayerSide", [
      channelId,
      f.addr(stranger),
    ]);
    const payerBefore = await f.usdc.read.balanceOf([f.addr(payer)]);
    await f.mined(await f.as(payer).write.finalizeWithdraw([config]));
    expect(await f.usdc.read.balanceOf([f.addr(payer)])).toBe(payerBefore + 4_000n);
    expect(await f.channels.read.channels([channelId])).toEqual([6_000n, 6_000n]);
    await f.viem.assertions.revertWithCustomErrorWithArgs(f.as(payer).write.finalizeWithdraw([config]), f.channels, "WithdrawalNotPending", [channelId]);
    await f.mined(await f.as(receiver).write.settle([f.addr(receiver), f.usdc.address]));
    await f.expectSolvent([channelId], [f.addr(receiver)]);
  });
});

describe("cooperative refunds", () => {
  it("are the receiver side's alone, single-use when signed, and never touch claimed funds", async () => {
    const { payer, receiver, stranger } = f.wallets;
    const config = f.configFor(f.addr(payer));
    const channelId = await f.deposit(payer, config, 10_000n);
    await f.mined(await f.as(receiver).write.claim([[await f.row(payer, config, 7_000n)]]));

    await f.viem.assertions.revertWithCustomErrorWithArgs(f.as(stranger).write.refund([config, 1_000n]), f.channels, "NotRefunder", [
      channelId,
      f.addr(stranger),
    ]);
    const forged = await f.signRefund(stranger, channelId, 0n, 3_000n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.as(stranger).write.refundWithSignature([config, 3_000n, 0n, forged]),
      f.channels,
      "InvalidAuthorizerSignature",
      [f.addr(receiver)],
    );

    const payerBefore = await f.usdc.read.balanceOf([f.addr(payer)]);
    const signed = await f.signRefund(receiver, channelId, 0n, 1_000n);
    await f.mined(await f.as(stranger).write.refundWithSignature([config, 1_000n, 0n, signed]));
    expect(await f.usdc.read.balanceOf([f.addr(payer)])).toBe(payerBefore + 1_000n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.as(stranger).write.refundWithSignature([config, 1_000n, 0n, signed]),
      f.channels,
      "InvalidRefundNonce",
      [channelId, 1n, 0n],
    );
    // Asking for everything refunds only the unclaimed rest: the receiver's 7,000 stay.
    await f.mined(await f.as(receiver).write.refund([config, 1_000_000n]));
    expect(await f.usdc.read.balanceOf([f.addr(payer)])).toBe(payerBefore + 3_000n);
    expect(await f.channels.read.channels([channelId])).toEqual([7_000n, 7_000n]);
    await f.mined(await f.as(receiver).write.settle([f.addr(receiver), f.usdc.address]));
    await f.expectSolvent([channelId], [f.addr(receiver)]);
  });
});

describe("deposit authorizations", () => {
  it("can only fund the payer's own channel, whoever submits them", async () => {
    const { payer, stranger, relayer } = f.wallets;
    const config = f.configFor(f.addr(payer));
    const amount = 10_000n;
    const d = await f.depositData(payer, f.addr(payer), config, amount);
    const payerBefore = await f.usdc.read.balanceOf([f.addr(payer)]);

    // Straight to the token: only the payee (the collector) may submit a receive authorization.
    await f.viem.assertions.revertWithCustomError(
      f.usdcAs(stranger).write.receiveWithAuthorization([f.addr(payer), ERC3009_DEPOSIT_COLLECTOR_ADDRESS, amount, 0n, d.validBefore, d.nonce, d.signature]),
      f.usdc,
      "CallerMustBePayee",
    );
    // Straight to the collector: it only acts for the channel contract.
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.collectorAs(stranger).write.collect([f.addr(payer), f.usdc.address, amount, d.channelId, d.collectorData]),
      f.collector,
      "OnlyBatchSettlement",
      [f.addr(stranger)],
    );
    // Into a channel the stranger receives from: the nonce names the payer's channel, so the token refuses.
    const hijack = f.configFor(f.addr(payer), { receiver: f.addr(stranger), receiverAuthorizer: f.addr(stranger) });
    await f.viem.assertions.revertWithCustomError(
      f.as(stranger).write.deposit([hijack, amount, ERC3009_DEPOSIT_COLLECTOR_ADDRESS, d.collectorData]),
      f.usdc,
      "InvalidSignature",
    );
    expect(await f.usdc.read.balanceOf([f.addr(payer)])).toBe(payerBefore);

    // Submitted as is, by anyone, it funds exactly the payer's channel, once.
    const strangerBefore = await f.usdc.read.balanceOf([f.addr(stranger)]);
    await f.mined(await f.as(stranger).write.deposit([config, amount, ERC3009_DEPOSIT_COLLECTOR_ADDRESS, d.collectorData]));
    expect(await f.channels.read.channels([d.channelId])).toEqual([amount, 0n]);
    expect(await f.usdc.read.balanceOf([f.addr(payer)])).toBe(payerBefore - amount);
    expect(await f.usdc.read.balanceOf([f.addr(stranger)])).toBe(strangerBefore);
    await f.viem.assertions.revertWithCustomError(
      f.as(relayer).write.deposit([config, amount, ERC3009_DEPOSIT_COLLECTOR_ADDRESS, d.collectorData]),
      f.usdc,
      "AuthorizationUsedOrCanceled",
    );
    await f.expectSolvent([d.channelId], []);
  });

  it("credits nothing a collector did not deliver", async () => {
    const { stranger } = f.wallets;
    const nullCollector = await f.viem.deployContract("NullCollector");
    // A receiver colluding with a fake collector would otherwise claim this "balance" out of others' escrow.
    const fake = f.configFor(f.addr(stranger), { receiver: f.addr(stranger), receiverAuthorizer: f.addr(stranger) });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.as(stranger).write.deposit([fake, 1_000_000n, nullCollector.address, "0x"]),
      f.channels,
      "DepositNotReceived",
      [1_000_000n, 0n],
    );
    await f.viem.assertions.revertWithCustomError(
      f.as(stranger).write.deposit([{ ...fake, withdrawDelay: 60 }, 1n, ERC3009_DEPOSIT_COLLECTOR_ADDRESS, "0x"]),
      f.channels,
      "WithdrawDelayOutOfRange",
    );
  });

  it("runs a claim and a refund atomically through multicall, as the stock facilitator does", async () => {
    const { payer, receiver } = f.wallets;
    const config = f.configFor(f.addr(payer));
    const channelId = await f.deposit(payer, config, 10_000n);
    const rows = [await f.row(payer, config, 2_500n)];
    const claimCall = encodeFunctionData({ abi: batchSettlementAbi, functionName: "claimWithSignature", args: [rows, await f.signClaimBatch(receiver, rows)] });
    const refundCall = encodeFunctionData({
      abi: batchSettlementAbi,
      functionName: "refundWithSignature",
      args: [config, 7_500n, 0n, await f.signRefund(receiver, channelId, 0n, 7_500n)],
    });
    const payerBefore = await f.usdc.read.balanceOf([f.addr(payer)]);
    await f.mined(await f.as(f.wallets.relayer).write.multicall([[claimCall, refundCall]]));
    expect(await f.channels.read.channels([channelId])).toEqual([2_500n, 2_500n]);
    expect(await f.usdc.read.balanceOf([f.addr(payer)])).toBe(payerBefore + 7_500n);
    // A failing inner call reverts the whole multicall with its own error.
    await f.viem.assertions.revertWithCustomErrorWithArgs(f.as(f.wallets.relayer).write.multicall([[refundCall]]), f.channels, "InvalidRefundNonce", [
      channelId,
      1n,
      0n,
    ]);
    await f.expectSolvent([channelId], [f.addr(receiver)]);
  });
});

describe("a hostile ERC-1271 payer in a claim batch", () => {
  const Mode = { Honest: 0, Revert: 1, BurnGas: 2, WrongMagic: 3, ReturnBomb: 4 } as const;
  /** contracts/src/test/HostileWallet.sol (test-only, so not in sdk/abi.ts). */
  const hostileWalletAbi = parseAbi(["function setMode(uint8 mode)"]);

  async function hostileBatch() {
    const { payer, otherPayer, receiver, walletOwner } = f.wallets;
    const deployed = await f.viem.deployContract("HostileWallet", [f.addr(walletOwner)]);
    const wallet = getContract({ address: deployed.address, abi: hostileWalletAbi, client: { public: f.publicClient, wallet: f.wallets.deployer } });
    await f.mined(await f.usdc.write.mint([wallet.address, 100_000n]));
    const honestA = f.configFor(f.addr(payer));
    const hostile = f.configFor(wallet.address, { payerAuthorizer: f.zeroAddress });
    const honestB = f.configFor(f.addr(otherPayer));
    const ids: Hex[] = [await f.deposit(payer, honestA, 10_000n), await f.deposit(walletOwner, hostile, 10_000n), await f.deposit(otherPayer, honestB, 10_000n)];
    // Vouchers accepted while the wallet was honest (its owner signs; the wallet vouches by ERC-1271).
    const rows = [await f.row(payer, honestA, 1_000n), await f.row(walletOwner, hostile, 2_000n), await f.row(otherPayer, honestB, 3_000n)];
    const signature = await f.signClaimBatch(receiver, rows);
    return { wallet, ids, rows, signature };
  }

  for (const [name, mode] of [
    ["reverts", Mode.Revert],
    ["burns all its gas", Mode.BurnGas],
    ["answers a wrong value", Mode.WrongMagic],
  ] as const) {
    it(`skips only the hostile row when the wallet ${name}`, async () => {
      const { wallet, ids, rows, signature } = await hostileBatch();
      await f.mined(await wallet.write.setMode([mode]));
      const receipt = await f.mined(await f.as(f.wallets.relayer).write.claimWithSignature([rows, signature]));
      expect(await f.channels.read.channels([ids[0]!])).toEqual([10_000n, 1_000n]);
      expect(await f.channels.read.channels([ids[1]!])).toEqual([10_000n, 0n]);
      expect(await f.channels.read.channels([ids[2]!])).toEqual([10_000n, 3_000n]);
      const rejected = parseEventLogs({ abi: batchSettlementAbi, logs: receipt.logs, eventName: "VoucherRejected" });
      expect(rejected.map((log) => log.args)).toEqual([{ channelId: ids[1], payer: getAddress(wallet.address), maxClaimableAmount: 2_000n }]);
      // The hostile wallet burns at most its cap: the batch costs a bounded amount.
      expect(receipt.gasUsed).toBeLessThan(100_000n + 150_000n);
      await f.expectSolvent(ids, [f.addr(f.wallets.receiver)]);
    });
  }

  it("claims a valid answer without copying a return-data bomb", async () => {
    const { wallet, ids, rows, signature } = await hostileBatch();
    await f.mined(await wallet.write.setMode([Mode.ReturnBomb]));
    const receipt = await f.mined(await f.as(f.wallets.relayer).write.claimWithSignature([rows, signature]));
    expect(await f.channels.read.channels([ids[1]!])).toEqual([10_000n, 2_000n]);
    expect(receipt.gasUsed).toBeLessThan(100_000n + 150_000n);
  });

  it("cannot be starved into a false rejection by a relayer sending too little gas", async () => {
    const { ids, rows, signature } = await hostileBatch();
    await f.viem.assertions.revertWithCustomError(
      f.as(f.wallets.relayer).write.claimWithSignature([rows, signature], { gas: 150_000n }),
      f.channels,
      "InsufficientGasForSignatureCheck",
    );
    expect(await f.channels.read.channels([ids[1]!])).toEqual([10_000n, 0n]);
    // With enough gas the honest wallet's voucher is claimed.
    await f.mined(await f.as(f.wallets.relayer).write.claimWithSignature([rows, signature]));
    expect(await f.channels.read.channels([ids[1]!])).toEqual([10_000n, 2_000n]);
  });
});
