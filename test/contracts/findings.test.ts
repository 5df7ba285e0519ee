/**
 * One attack per finding of the security review in issue 9 (C-1, H-1, H-2, M-1, M-2, M-3, L-1, L-2, L-3), each run
 * against the real contracts on a real chain. Every test names the finding it closes and the property (1-7 of the
 * issue, docs/security.md) it proves; each would move money to the attacker, or leave a maintainer unpaid, if the
 * defence it exercises were missing.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { getAddress, keccak256, toHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { usdcDomain } from "../../sdk/eip3009.ts";
import { buildRoyaltyBatch, encodeRoyaltyLine } from "../../sdk/royalty-batch.ts";
import { AccessMode, addrOf, CreditKind, deployGlassboxFixture, versionInput, type Authorization, type Fixture } from "./fixture.ts";
import { creditsOf, expectSolvent, settlementEvents } from "./helpers.ts";

let f: Fixture;
beforeEach(async () => {
  f = await deployGlassboxFixture();
  await f.registerExecutor(f.executorWallet, 100n);
  await f.postBond(f.executorWallet, 1_000_000n);
  await f.fund(f.executorWallet, 10n ** 12n);
});

const executor = () => addrOf(f.executorWallet);

/** An x402 `exact` payment: the payer's EIP-3009 authorization made out to the executor (the payee). */
async function exactPayment(value: bigint) {
  const payer = await f.newPayer(10_000n);
  const authorization: Authorization = {
    from: payer.address,
    to: executor(),
    value,
    validAfter: 0n,
    validBefore: (await f.now()) + 3600n,
    nonce: keccak256(toHex(`pay-${Math.random()}`)),
  };
  return { payer, authorization, signature: await f.signAuthorization(payer, authorization) };
}

const submit = (wallet: Fixture["other"], a: Authorization, signature: Hex) =>
  f.usdcAs(wallet).write.transferWithAuthorization([a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, signature]);

describe("findings of issue 9, closed", () => {
  it("C-1 closed, property 1: whoever submits a payer's authorization, the money lands at the executor, and nobody can book it to another package", async () => {
    const markdown = await f.publish({ name: "acme/markdown", price: 1000n });
    const attacker = f.other;
    await f.registerExecutor(attacker, 0n);
    const evil = await f.publish({ wallet: attacker, name: "evil/pkg", price: 1n, splits: [{ recipient: addrOf(attacker), bps: 10_000 }] });

    // The attacker sees the 1,300 authorization in the mempool and submits it first.
    const { authorization, signature } = await exactPayment(1300n);
    const before = await f.usdc.read.balanceOf([executor()]);
    await f.mined(await submit(attacker, authorization, signature));
    expect(await f.usdc.read.balanceOf([executor()])).toBe(before + 1300n);
    expect(await f.usdc.read.balanceOf([addrOf(attacker)])).toBe(0n);

    // The executor's receipt and batch are public too: replaying them re-booked to the attacker's package needs
    // the attacker's own money (Settlement only ever pulls from msg.sender).
    const receipt = await f.makeReceipt({ versionId: markdown.versionId, seq: 1n, royalty: 1000n, executorFee: 300n });
    const batch = buildRoyaltyBatch(1n, [{ id: receipt.id, receipt: receipt.receipt }]);
    await f.viem.assertions.revertWithCustomError(
      f.settlementAs(attacker).write.settleRoyalties([[evil.versionId], batch.lines]),
      f.usdc,
      "ERC20InsufficientAllowance",
    );
    // The honest settlement is untouched by anything the attacker did (v1: AlreadySettled).
    const { hash } = await f.settleReceipts([receipt]);
    expect(await creditsOf(f, hash)).toEqual([
      { account: addrOf(f.maintainer), versionId: markdown.versionId, kind: CreditKind.Royalty, amount: 1000n },
    ]);
    expect(await f.settlement.read.balanceOf([addrOf(attacker)])).toBe(0n);
    await expectSolvent(f);
  });

  it("H-1 closed, property 2: once the executor holds the payment, the payer cannot void it (cancel, self-settle) nor the royalty owed on it", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 1000n });
    const { payer, authorization, signature } = await exactPayment(1100n);
    const before = await f.usdc.read.balanceOf([executor()]);
    // `exact` settles before the response.
    await f.mined(await submit(f.executorWallet, authorization, signature));
    const cancel = await payer.signTypedData({
      domain: usdcDomain(f.chainId, f.usdc.address),
      types: { CancelAuthorization: [{ name: "authorizer", type: "address" }, { name: "nonce", type: "bytes32" }] },
      primaryType: "CancelAuthorization",
      message: { authorizer: payer.address, nonce: authorization.nonce },
    });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.usdc.write.cancelAuthorization([payer.address, authorization.nonce, cancel]),
      f.usdc,
      "AuthorizationUsedOrCanceled",
      [payer.address, authorization.nonce],
    );
    // The payer registers as an executor and "settles" a copy of its receipt: that spends only its own funds
    // and leaves the real executor's sequence (and debt) exactly where it was.
    const payerWallet = f.payerWallet;
    await f.registerExecutor(payerWallet, 0n);
    await f.fund(payerWallet, 5000n);
    const r = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n, executorFee: 100n, payer: payer.address });
    await f.settleReceipts([r], payerWallet);
    expect(await f.settlement.read.nextSeq([executor()])).toBe(1n);
    expect(await f.usdc.read.balanceOf([executor()])).toBe(before + 1100n);
    // Nothing in Settlement lets anyone but a credited account take money out: the maintainer is still owed by
    // the executor, who settles (or is slashed).
    await f.settleReceipts([r]);
    expect(await f.settlement.read.balanceOf([addrOf(f.maintainer)])).toBe(2000n);
  });

  it("H-2 closed, properties 1 and 5: stray funds cannot be taken by anyone; they only ever go to the immutable surplus recipient", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 1000n });
    await f.mined(await f.usdc.write.mint([f.settlement.address, 2000n]));
    const thief = privateKeyToAccount(generatePrivateKey());
    const attacker = f.wallets[7]!;
    const attackerAddress = addrOf(attacker);
    // Every entry point an empty wallet can try.
    await f.viem.assertions.revertWithCustomError(
      f.settlementAs(attacker).write.settleRoyalties([[versionId], [encodeRoyaltyLine(keccak256("0x01"), 0, 2000n)]]),
      f.usdc,
      "ERC20InsufficientAllowance",
    );
    await f.viem.assertions.revertWithCustomErrorWithArgs(f.settlementAs(attacker).write.claim(), f.settlement, "NothingToClaim", [
      attackerAddress,
    ]);
    // A receipt the attacker signs for itself as executor: no bond, nothing to take.
    const selfSigned = await f.makeReceipt({ versionId, seq: 0n, royalty: 0n, executorFee: 2000n, executor: attacker, payer: thief.address });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.settlementAs(attacker).write.slashOvercharge(f.receiptArgs(selfSigned)),
      f.settlement,
      "NoBond",
      [attackerAddress],
    );
    await f.mined(await f.settlementAs(attacker).write.sweepSurplus());
    expect(await f.usdc.read.balanceOf([f.surplusRecipient])).toBe(2000n);
    expect(await f.usdc.read.balanceOf([attackerAddress])).toBe(0n);
    expect(await f.usdc.read.balanceOf([thief.address])).toBe(0n);
    await expectSolvent(f);
  });

  it("M-1 closed, property 3: a per-fuel royalty settled at the base price and a fee above the registered one are paid back out of the bond", async () => {
    // 10 per call + 1 per 1,000 fuel; the payer accepted a quote for 600,000 fuel: royalty 610, fee 100 registered.
    const { versionId } = await f.publish({ name: "acme/fuel", accessMode: AccessMode.PerFuel, price: 10n, fuelPricePerMillion: 1000n });
    expect(await f.settlement.read.minimumRoyalty([versionId, 1n, 600_000n])).toBe(610n);
    const r = await f.makeReceipt({ versionId, seq: 1n, royalty: 610n, fuel: 600_000n, executorFee: 600n });
    // The executor settles only the base price (the on-chain per-line minimum lets it through) ...
    const batch = buildRoyaltyBatch(1n, [{ id: r.id, receipt: r.receipt }]);
    batch.lines[0] = encodeRoyaltyLine(r.id, 0, 10n);
    await f.settleBatch(batch);
    expect(await f.settlement.read.balanceOf([addrOf(f.maintainer)])).toBe(10n);
    // ... and the payer's receipt proves it: the maintainer gets the signed 610 on top, the payer 10%.
    await f.mined(await f.settlementAs(f.other).write.slashMismatch([r.receipt, r.signature, 1n, batch.versions, batch.lines]));
    expect(await f.settlement.read.balanceOf([addrOf(f.maintainer)])).toBe(620n);
    // The fee: 600 signed against 100 registered; the excess goes back to the payer, with a bounty.
    await f.mined(await f.settlementAs(f.other).write.slashOvercharge(f.receiptArgs(r)));
    expect(await f.settlement.read.balanceOf([addrOf(f.payerWallet)])).toBe(61n + 500n + 50n);
    await expectSolvent(f);
  });

  it("M-2 closed, property 4: a payer whose ERC-1271 check burns all gas cannot block a royalty batch (payers are never called)", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 1000n });
    const burner = await f.viem.deployContract("GasBurningWallet");
    const receipts = [
      await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n }),
      await f.makeReceipt({ versionId, seq: 2n, royalty: 1000n, payer: getAddress(burner.address) }),
      await f.makeReceipt({ versionId, seq: 3n, royalty: 1000n }),
    ];
    const { hash } = await f.settleReceipts(receipts);
    expect(await creditsOf(f, hash)).toEqual([
      { account: addrOf(f.maintainer), versionId, kind: CreditKind.Royalty, amount: 3000n },
    ]);
    expect((await f.mined(hash)).gasUsed).toBeLessThan(200_000n);
    // Its receipt is as provable as any other: a bounty to it is a pull credit, never a call.
    const late = await f.makeReceipt({ versionId, seq: 4n, royalty: 1000n, payer: getAddress(burner.address) });
    await f.networkHelpers.time.increaseTo(late.receipt.deadline + 1n);
    await f.mined(await f.settlementAs(f.other).write.slashOverdue(f.receiptArgs(late)));
    expect(await f.settlement.read.balanceOf([getAddress(burner.address)])).toBe(100n);
  });

  it("M-3 closed, properties 1 and 3: a batch replayed by someone else never counts as the executor's settlement", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 1000n });
    const r = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n });
    const batch = buildRoyaltyBatch(1n, [{ id: r.id, receipt: r.receipt }]);
    const replayer = f.other;
    await f.fund(replayer, 5000n);
    await f.settleBatch(batch, replayer);
    // Settlement state is per executor: the replay moved the replayer's sequence, not the executor's.
    expect(await f.settlement.read.nextSeq([addrOf(replayer)])).toBe(2n);
    expect(await f.settlement.read.nextSeq([executor()])).toBe(1n);
    expect(await f.settlement.read.batchHash([executor(), 1n])).toBe(`0x${"0".repeat(64)}`);
    // So the executor still owes the receipt: unsettled past its deadline, its bond pays.
    await f.networkHelpers.time.increaseTo(r.receipt.deadline + 1n);
    const hash = await f.settlementAs(f.payerWallet).write.slashOverdue(f.receiptArgs(r));
    const slashed = (await settlementEvents(f, hash)).find((e) => e.eventName === "Slashed");
    expect(slashed?.eventName === "Slashed" && slashed.args.paid).toBe(1000n);
  });

  it("L-1 closed, property 6: receipts served before a yank and a deregistration stay settleable and slashable; the retired key cannot come back", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 1000n });
    const settledLater = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n });
    const neverSettled = await f.makeReceipt({ versionId, seq: 2n, royalty: 1000n });
    await f.mined(await f.registryAs(f.maintainer).write.yankVersion([versionId]));
    await f.mined(await f.registryAs(f.executorWallet).write.deregisterExecutor());
    const { hash } = await f.settleReceipts([settledLater]);
    expect((await creditsOf(f, hash))[0]?.amount).toBe(1000n);
    await f.networkHelpers.time.increaseTo(neverSettled.receipt.deadline + 1n);
    await f.mined(await f.settlementAs(f.other).write.slashOverdue(f.receiptArgs(neverSettled)));
    expect(await f.settlement.read.balanceOf([addrOf(f.maintainer)])).toBe(2000n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.executorWallet).write.registerExecutor(["http://revived", 0n]),
      f.registry,
      "ExecutorRetired",
      [executor()],
    );
  });

  it("L-2 closed, property 5: unclaimable recipients are refused at publish, bounties never go to them, stray funds are recoverable", async () => {
    const { packageId, versionId } = await f.publish({ name: "acme/md", price: 1000n });
    const owner = addrOf(f.maintainer);
    for (const locked of [f.settlement.address, f.usdc.address] as Address[]) {
      await f.viem.assertions.revertWithCustomErrorWithArgs(
        f.registryAs(f.maintainer).write.publishVersion([
          packageId,
          "2.0.0",
          versionInput("acme/md", "2.0.0", owner, { splits: [{ recipient: locked, bps: 10_000 }] }),
        ]),
        f.registry,
        "UnclaimableRecipient",
        [locked],
      );
    }
    // A receipt naming the token as its payer: the royalty is paid, the bounty is not credited to a dead account.
    const r = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n, payer: f.usdc.address });
    await f.networkHelpers.time.increaseTo(r.receipt.deadline + 1n);
    const hash = await f.settlementAs(f.other).write.slashOverdue(f.receiptArgs(r));
    expect(await creditsOf(f, hash)).toEqual([{ account: owner, versionId, kind: CreditKind.Royalty, amount: 1000n }]);
    expect(await f.settlement.read.balanceOf([f.usdc.address])).toBe(0n);
    await f.mined(await f.usdc.write.mint([f.settlement.address, 777n]));
    await f.mined(await f.settlement.write.sweepSurplus());
    expect(await f.usdc.read.balanceOf([f.surplusRecipient])).toBe(777n);
    await expectSolvent(f);
  });

  it("L-3 closed, property 4: a royalty through a fork chain of maximum depth with 8 splits per level settles in bounded gas", async () => {
    const depth = Number(await f.registry.read.MAX_FORK_DEPTH());
    const splitsOf = (level: number) =>
      Array.from({ length: 8 }, (_, i) => ({
        recipient: getAddress(`0x${(0x1000 + level * 16 + i).toString(16).padStart(40, "0")}`),
        bps: 1250,
      }));
    let parent = await f.publish({ name: "l0/x", minForkShareBps: 1000, splits: splitsOf(0) });
    for (let level = 1; level <= depth; level++) {
      parent = await f.publish({
        name: `l${level}/x`,
        minForkShareBps: 1000,
        splits: splitsOf(level),
        fork: { parentVersionId: parent.versionId, upstreamShareBps: 5000 },
      });
    }
    const r = await f.makeReceipt({ versionId: parent.versionId, seq: 1n, royalty: 10n ** 9n });
    const { hash } = await f.settleReceipts([r]);
    const credits = await creditsOf(f, hash);
    expect(credits.length).toBe((depth + 1) * 8);
    expect(credits.reduce((sum, c) => sum + c.amount, 0n)).toBe(10n ** 9n);
    // v1: ~4.6M gas with 16 splits per level. bench:gas prints the exact figure.
    expect((await f.mined(hash)).gasUsed).toBeLessThan(2_500_000n);
    await expectSolvent(f);
  });
});
