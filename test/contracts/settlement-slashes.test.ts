import { beforeEach, describe, expect, it } from "vitest";
import type { Hex } from "viem";
import { buildRoyaltyBatch, encodeRoyaltyLine, type RoyaltyBatch } from "../../sdk/royalty-batch.ts";
import {
  AccessMode,
  addrOf,
  BOUNTY_BPS,
  CreditKind,
  DAY,
  deployGlassboxFixture,
  MAX_SETTLE_WINDOW,
  SlashReason,
  type Fixture,
  type SignedReceipt,
} from "./fixture.ts";
import { creditsOf, expectSolvent, settlementEvents } from "./helpers.ts";

let f: Fixture;
let versionId: Hex;
const BOND = 1_000_000n;
beforeEach(async () => {
  f = await deployGlassboxFixture();
  await f.registerExecutor(f.executorWallet, 1000n);
  await f.postBond(f.executorWallet, BOND);
  await f.fund(f.executorWallet, 10n ** 12n);
  ({ versionId } = await f.publish({ name: "acme/md", price: 1000n }));
});

const executor = () => addrOf(f.executorWallet);
const payer = () => addrOf(f.payerWallet);
/** A stranger submits every proof: the bounty must still go to the receipt's payer. */
const stranger = () => f.settlementAs(f.other);

async function slashedEvent(hash: Hex) {
  const event = (await settlementEvents(f, hash)).find((e) => e.eventName === "Slashed");
  return event?.eventName === "Slashed" ? event.args : undefined;
}

/** A batch whose line for `target` was altered by `alter` (what a cheating executor settles). */
function alteredBatch(firstSeq: bigint, receipts: SignedReceipt[], alter: (batch: RoyaltyBatch) => void): RoyaltyBatch {
  const batch = buildRoyaltyBatch(
    firstSeq,
    receipts.map((r) => ({ id: r.id, receipt: r.receipt })),
  );
  alter(batch);
  return batch;
}

const mismatchArgs = (r: SignedReceipt, batch: RoyaltyBatch) =>
  [r.receipt, r.signature, batch.firstSeq, batch.versions, batch.lines] as const;

describe("Settlement v2: slashOverdue", () => {
  it("pays an unsettled receipt out of the bond after its deadline: royalty to the version, bounty to the payer, once", async () => {
    const r = await f.makeReceipt({ versionId, seq: 1n, royalty: 1200n });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashOverdue(f.receiptArgs(r)),
      f.settlement,
      "NotOverdue",
      [r.id, r.receipt.deadline],
    );
    await f.networkHelpers.time.increaseTo(r.receipt.deadline + 1n);
    const hash = await stranger().write.slashOverdue(f.receiptArgs(r));
    expect(await creditsOf(f, hash)).toEqual([
      { account: addrOf(f.maintainer), versionId, kind: CreditKind.Royalty, amount: 1200n },
      { account: payer(), versionId, kind: CreditKind.Bounty, amount: 120n },
    ]);
    expect(await slashedEvent(hash)).toEqual({
      executor: executor(),
      receiptId: r.id,
      payer: payer(),
      reason: SlashReason.Overdue,
      paid: 1200n,
      bounty: 120n,
    });
    expect(await f.settlement.read.bondOf([executor()])).toBe(BOND - 1320n);
    expect(await f.settlement.read.isSlashed([r.id])).toBe(true);
    expect(await f.settlement.read.balanceOf([addrOf(f.other)])).toBe(0n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashOverdue(f.receiptArgs(r)),
      f.settlement,
      "AlreadySlashed",
      [r.id],
    );
    await expectSolvent(f);
  });

  it("refuses a receipt whose lines were all settled (AlreadySettled), and takes one whose dependency line was not", async () => {
    const dep = await f.publish({ name: "acme/dep", price: 5n });
    const settledOne = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n });
    const split = await f.makeReceipt({
      versionId,
      seq: 2n,
      royalty: 1000n,
      dependencies: [{ versionId: dep.versionId, calls: 1, fuel: 0n, royalty: 5n }],
    });
    // The executor settles lines 1 and 2 only: the receipt's dependency line (3) is left out.
    const full = buildRoyaltyBatch(1n, [settledOne, split].map((r) => ({ id: r.id, receipt: r.receipt })));
    await f.settleBatch({ firstSeq: 1n, versions: full.versions, lines: full.lines.slice(0, 2) });
    await f.networkHelpers.time.increaseTo(split.receipt.deadline + 1n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashOverdue(f.receiptArgs(settledOne)),
      f.settlement,
      "AlreadySettled",
      [settledOne.id, 3n],
    );
    const hash = await stranger().write.slashOverdue(f.receiptArgs(split));
    expect((await slashedEvent(hash))?.paid).toBe(1005n);
  });

  it("caps the deadline at issuedAt + MAX_SETTLE_WINDOW (an executor cannot sign a deadline out of reach)", async () => {
    expect(await f.settlement.read.MAX_SETTLE_WINDOW()).toBe(MAX_SETTLE_WINDOW);
    const issuedAt = await f.now();
    const r = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n, issuedAt, deadline: issuedAt + 365n * DAY });
    await f.networkHelpers.time.increaseTo(issuedAt + MAX_SETTLE_WINDOW);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashOverdue(f.receiptArgs(r)),
      f.settlement,
      "NotOverdue",
      [r.id, issuedAt + MAX_SETTLE_WINDOW],
    );
    await f.networkHelpers.time.increase(1);
    await f.mined(await stranger().write.slashOverdue(f.receiptArgs(r)));
  });

  it("takes a receipt that owes royalty but names no line (seq 0) at once; a free fee-only receipt owes nothing", async () => {
    const unsequenced = await f.makeReceipt({ versionId, seq: 0n, royalty: 0n });
    // Signed royalty 0 for a 1000 per-call version: the bond pays the registered price.
    const hash = await stranger().write.slashOverdue(f.receiptArgs(unsequenced));
    expect((await slashedEvent(hash))?.paid).toBe(1000n);
    const free = await f.publish({ name: "acme/free", accessMode: AccessMode.Free });
    const feeOnly = await f.makeReceipt({ versionId: free.versionId, seq: 0n, royalty: 0n, executorFee: 10n });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashOverdue(f.receiptArgs(feeOnly)),
      f.settlement,
      "NothingOwed",
      [feeOnly.id],
    );
  });

  it("accepts only the executor's own signature over the exact receipt: InvalidReceiptSignature", async () => {
    const forged = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n, signer: f.other });
    const genuine = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n });
    await f.networkHelpers.time.increaseTo(genuine.receipt.deadline + 1n);
    for (const [receipt, signature] of [
      [forged.receipt, forged.signature],
      [{ ...genuine.receipt, royalty: 100_000n }, genuine.signature],
    ] as const) {
      await f.viem.assertions.revertWithCustomErrorWithArgs(
        stranger().write.slashOverdue([receipt, signature]),
        f.settlement,
        "InvalidReceiptSignature",
        [executor()],
      );
    }
  });

  it("pays as much as the bond holds, royalties first; an empty bond refuses the proof (NoBond) so it can wait", async () => {
    const poor = f.wallets[6]!;
    await f.registerExecutor(poor, 0n);
    await f.postBond(poor, 500n);
    const r = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n, executor: poor });
    await f.networkHelpers.time.increaseTo(r.receipt.deadline + 1n);
    const hash = await stranger().write.slashOverdue(f.receiptArgs(r));
    expect(await slashedEvent(hash)).toMatchObject({ paid: 500n, bounty: 0n });
    expect(await f.settlement.read.bondOf([addrOf(poor)])).toBe(0n);
    const again = await f.makeReceipt({ versionId, seq: 2n, royalty: 1000n, executor: poor, issuedAt: r.receipt.issuedAt });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashOverdue(f.receiptArgs(again)),
      f.settlement,
      "NoBond",
      [addrOf(poor)],
    );
    await expectSolvent(f);
  });
});

describe("Settlement v2: slashMismatch", () => {
  it("pays a receipt whose line was settled with a lower royalty (the signed royalty, plus bounty)", async () => {
    const r = await f.makeReceipt({ versionId, seq: 1n, royalty: 1500n });
    const batch = alteredBatch(1n, [r], (b) => {
      b.lines[0] = encodeRoyaltyLine(r.id, 0, 1000n);
    });
    await f.settleBatch(batch);
    const hash = await stranger().write.slashMismatch(mismatchArgs(r, batch));
    expect(await creditsOf(f, hash)).toEqual([
      { account: addrOf(f.maintainer), versionId, kind: CreditKind.Royalty, amount: 1500n },
      { account: payer(), versionId, kind: CreditKind.Bounty, amount: 150n },
    ]);
    expect((await slashedEvent(hash))?.reason).toBe(SlashReason.Mismatch);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashMismatch(mismatchArgs(r, batch)),
      f.settlement,
      "AlreadySlashed",
      [r.id],
    );
    // Overdue cannot pay it a second time either.
    await f.networkHelpers.time.increaseTo(r.receipt.deadline + 1n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashOverdue(f.receiptArgs(r)),
      f.settlement,
      "AlreadySlashed",
      [r.id],
    );
    await expectSolvent(f);
  });

  it("pays a receipt whose line was booked to another version", async () => {
    const mine = await f.publish({ wallet: f.other, name: "other/mine", price: 1000n, splits: [{ recipient: addrOf(f.other), bps: 10_000 }] });
    const r = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n });
    const batch = alteredBatch(1n, [r], (b) => {
      b.versions[0] = mine.versionId;
    });
    await f.settleBatch(batch);
    const hash = await stranger().write.slashMismatch(mismatchArgs(r, batch));
    expect((await creditsOf(f, hash))[0]).toEqual({ account: addrOf(f.maintainer), versionId, kind: CreditKind.Royalty, amount: 1000n });
  });

  it("pays a receipt whose sequence number was given to another receipt (receipt id prefix differs)", async () => {
    const honest = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n });
    const twin = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n });
    const { batch } = await f.settleReceipts([twin]);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashMismatch(mismatchArgs(twin, batch)),
      f.settlement,
      "NoMismatch",
      [twin.id],
    );
    const hash = await stranger().write.slashMismatch(mismatchArgs(honest, batch));
    expect((await slashedEvent(hash))?.paid).toBe(1000n);
  });

  it("pays a dependency line signed below the registered minimum even when settled as signed", async () => {
    const dep = await f.publish({ name: "acme/dep", price: 7n });
    const r = await f.makeReceipt({
      versionId,
      seq: 1n,
      royalty: 1000n,
      dependencies: [{ versionId: dep.versionId, calls: 3, fuel: 0n, royalty: 7n }],
    });
    const { batch } = await f.settleReceipts([r]);
    const hash = await stranger().write.slashMismatch(mismatchArgs(r, batch));
    // Own line as signed (1000) + the dependency at its minimum 3 x 7, bounty 10%.
    expect(await slashedEvent(hash)).toMatchObject({ paid: 1021n, bounty: 102n });
  });

  it("needs the exact settled batch (UnknownBatch) and a line that really differs (NoMismatch)", async () => {
    const r = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n });
    const { batch } = await f.settleReceipts([r]);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashMismatch(mismatchArgs(r, batch)),
      f.settlement,
      "NoMismatch",
      [r.id],
    );
    const forgedBatch = { ...batch, lines: [encodeRoyaltyLine(r.id, 0, 1n)] };
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashMismatch(mismatchArgs(r, forgedBatch)),
      f.settlement,
      "UnknownBatch",
      [executor(), 1n],
    );
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashMismatch(mismatchArgs(r, { ...batch, firstSeq: 2n })),
      f.settlement,
      "UnknownBatch",
      [executor(), 2n],
    );
  });
});

describe("Settlement v2: slashOvercharge", () => {
  it("refunds a fee above the registered fee to the payer with a bounty, once per receipt", async () => {
    const r = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n, executorFee: 1500n });
    const hash = await stranger().write.slashOvercharge(f.receiptArgs(r));
    expect(await creditsOf(f, hash)).toEqual([
      { account: payer(), versionId, kind: CreditKind.Refund, amount: 500n },
      { account: payer(), versionId, kind: CreditKind.Bounty, amount: (500n * BOUNTY_BPS) / 10_000n },
    ]);
    expect((await slashedEvent(hash))?.reason).toBe(SlashReason.Overcharge);
    expect(await f.settlement.read.isOverchargeSlashed([r.id])).toBe(true);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashOvercharge(f.receiptArgs(r)),
      f.settlement,
      "OverchargeAlreadySlashed",
      [r.id],
    );
    const fair = await f.makeReceipt({ versionId, seq: 2n, royalty: 1000n, executorFee: 1000n });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashOvercharge(f.receiptArgs(fair)),
      f.settlement,
      "NotOvercharged",
      [1000n, 1000n],
    );
    // The payer withdraws what it was owed.
    await f.mined(await f.settlementAs(f.payerWallet).write.claim());
    await expectSolvent(f);
  });

  it("refuses a refund to a payer that could never claim it: UnclaimablePayer", async () => {
    const r = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n, executorFee: 5000n, payer: f.settlement.address });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      stranger().write.slashOvercharge(f.receiptArgs(r)),
      f.settlement,
      "UnclaimablePayer",
      [f.settlement.address],
    );
  });
});
