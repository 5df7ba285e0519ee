import { beforeEach, describe, expect, it } from "vitest";
import { encodeAbiParameters, keccak256, parseEventLogs, toHex, type Hex } from "viem";
import { localUsdcAbi } from "../../sdk/abi.ts";
import { receiptId } from "../../sdk/receipt.ts";
import { encodeRoyaltyLine } from "../../sdk/royalty-batch.ts";
import { AccessMode, addrOf, CreditKind, deployGlassboxFixture, type Fixture } from "./fixture.ts";
import { creditsOf, expectSolvent, settlementEvents } from "./helpers.ts";

let f: Fixture;
beforeEach(async () => {
  f = await deployGlassboxFixture();
  await f.registerExecutor();
  await f.fund(f.executorWallet, 10n ** 12n);
});

const executor = () => addrOf(f.executorWallet);

describe("Settlement v2: receipts", () => {
  it("computes the receipt id exactly like sdk/receipt.ts (EIP-712, domain Glassbox Settlement v2, with dependencies)", async () => {
    const { versionId } = await f.publish({ name: "acme/md" });
    const dep = await f.publish({ name: "acme/dep" });
    const r = await f.makeReceipt({
      versionId,
      seq: 7n,
      royalty: 1234n,
      executorFee: 5n,
      dependencies: [
        { versionId: dep.versionId, calls: 3, fuel: 99n, royalty: 3000n },
        { versionId, calls: 1, fuel: 1n, royalty: 1000n },
      ],
    });
    expect(await f.settlement.read.receiptId([r.receipt])).toBe(receiptId(r.receipt, f.chainId, f.settlement.address));
    expect(await f.settlement.read.receiptId([{ ...r.receipt, dependencies: [] }])).toBe(
      receiptId({ ...r.receipt, dependencies: [] }, f.chainId, f.settlement.address),
    );
  });

  it("reports the registered minimum: Free 0, PerCall price x calls, PerFuel adds ceil(fuel x price / 1e6)", async () => {
    const perCall = await f.publish({ name: "acme/call", price: 1000n });
    const perFuel = await f.publish({ name: "acme/fuel", accessMode: AccessMode.PerFuel, price: 10n, fuelPricePerMillion: 3n });
    const free = await f.publish({ name: "acme/free", accessMode: AccessMode.Free });
    expect(await f.settlement.read.minimumRoyalty([perCall.versionId, 3n, 5n])).toBe(3000n);
    // 2 x 10 + ceil(1_000_001 * 3 / 1e6) = 20 + 4
    expect(await f.settlement.read.minimumRoyalty([perFuel.versionId, 2n, 1_000_001n])).toBe(24n);
    expect(await f.settlement.read.minimumRoyalty([free.versionId, 1n, 10n ** 12n])).toBe(0n);
    const unknown = keccak256(toHex("nope"));
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.settlement.read.minimumRoyalty([unknown, 1n, 0n]),
      f.settlement,
      "UnknownVersion",
      [unknown],
    );
  });
});

describe("Settlement v2: settleRoyalties", () => {
  it("pulls the batch total once, credits each (recipient, version, kind) once, stores the batch hash, advances nextSeq", async () => {
    const a = await f.publish({ name: "acme/a", price: 100n });
    const b = await f.publish({
      name: "acme/b",
      price: 10n,
      splits: [
        { recipient: addrOf(f.maintainer), bps: 7000 },
        { recipient: addrOf(f.other), bps: 3000 },
      ],
    });
    expect(await f.settlement.read.nextSeq([executor()])).toBe(1n);
    const receipts = [];
    for (let i = 0; i < 6; i++) {
      const versionId = i % 2 === 0 ? a.versionId : b.versionId;
      receipts.push(await f.makeReceipt({ versionId, seq: BigInt(i + 1), royalty: i % 2 === 0 ? 100n : 20n }));
    }
    const before = await f.usdc.read.balanceOf([executor()]);
    const { batch, hash } = await f.settleReceipts(receipts);
    expect(batch.firstSeq).toBe(1n);
    const events = await settlementEvents(f, hash);
    const settled = events.find((e) => e.eventName === "RoyaltiesSettled");
    const expectedHash = keccak256(
      encodeAbiParameters([{ type: "bytes32[]" }, { type: "uint256[]" }], [batch.versions, batch.lines]),
    );
    expect(settled?.args).toEqual({ executor: executor(), firstSeq: 1n, count: 6n, total: 360n, batchHash: expectedHash });
    expect(await f.settlement.read.batchHash([executor(), 1n])).toBe(expectedHash);
    expect(await f.settlement.read.nextSeq([executor()])).toBe(7n);
    expect(await creditsOf(f, hash)).toEqual([
      { account: addrOf(f.maintainer), versionId: a.versionId, kind: CreditKind.Royalty, amount: 300n },
      { account: addrOf(f.other), versionId: b.versionId, kind: CreditKind.Royalty, amount: 18n },
      { account: addrOf(f.maintainer), versionId: b.versionId, kind: CreditKind.Royalty, amount: 42n },
    ]);
    // Exactly one token movement, from the executor to Settlement.
    const receipt = await f.mined(hash);
    const transfers = parseEventLogs({ abi: localUsdcAbi, logs: receipt.logs, eventName: "Transfer" });
    expect(transfers.map((t) => t.args)).toEqual([{ from: executor(), to: f.settlement.address, value: 360n }]);
    expect(await f.usdc.read.balanceOf([executor()])).toBe(before - 360n);
    expect(await f.settlement.read.balanceOf([addrOf(f.maintainer)])).toBe(342n);
    await expectSolvent(f);

    // The next batch continues the sequence.
    const next = await f.makeReceipt({ versionId: a.versionId, seq: 7n, royalty: 100n });
    const second = await f.settleReceipts([next]);
    expect(second.batch.firstSeq).toBe(7n);
    expect(await f.settlement.read.nextSeq([executor()])).toBe(8n);
  });

  it("splits exactly: floor per recipient, the rounding remainder to the first recipient", async () => {
    const [a, b, c] = [addrOf(f.maintainer), addrOf(f.other), addrOf(f.forker)];
    const { versionId } = await f.publish({
      name: "acme/split",
      price: 1n,
      splits: [
        { recipient: a, bps: 3333 },
        { recipient: b, bps: 3333 },
        { recipient: c, bps: 3334 },
      ],
    });
    const { hash } = await f.settleReceipts([await f.makeReceipt({ versionId, seq: 1n, royalty: 1001n })]);
    expect(await creditsOf(f, hash)).toEqual([
      { account: b, versionId, kind: CreditKind.Royalty, amount: 333n },
      { account: c, versionId, kind: CreditKind.Royalty, amount: 333n },
      { account: a, versionId, kind: CreditKind.Royalty, amount: 335n },
    ]);
    await expectSolvent(f);
  });

  it("sends the upstream share up a fork chain of depth 3, and aggregates what two forks send to one parent", async () => {
    const [a, b, c, d] = [addrOf(f.maintainer), addrOf(f.other), addrOf(f.forker), addrOf(f.deployer)];
    const root = await f.publish({ name: "root/x", minForkShareBps: 1000, splits: [{ recipient: a, bps: 10_000 }] });
    const l1 = await f.publish({
      wallet: f.other,
      name: "one/x",
      fork: { parentVersionId: root.versionId, upstreamShareBps: 2000 },
      splits: [{ recipient: b, bps: 10_000 }],
    });
    const l2 = await f.publish({
      wallet: f.forker,
      name: "two/x",
      fork: { parentVersionId: l1.versionId, upstreamShareBps: 5000 },
      splits: [{ recipient: c, bps: 10_000 }],
    });
    const l3 = await f.publish({
      wallet: f.deployer,
      name: "three/x",
      fork: { parentVersionId: l2.versionId, upstreamShareBps: 3333 },
      splits: [{ recipient: d, bps: 10_000 }],
    });
    const { hash } = await f.settleReceipts([await f.makeReceipt({ versionId: l3.versionId, seq: 1n, royalty: 10_007n })]);
    // 10007 -> three keeps 6672; two gets 3335, keeps 1668; one gets 1667, keeps 1334; root gets 333.
    expect(await creditsOf(f, hash)).toEqual([
      { account: d, versionId: l3.versionId, kind: CreditKind.Royalty, amount: 6672n },
      { account: c, versionId: l2.versionId, kind: CreditKind.Upstream, amount: 1668n },
      { account: b, versionId: l1.versionId, kind: CreditKind.Upstream, amount: 1334n },
      { account: a, versionId: root.versionId, kind: CreditKind.Upstream, amount: 333n },
    ]);

    // Royalties to l1 and l2 in one batch: root's upstream arrives twice but is credited once.
    const batch = await f.settleReceipts([
      await f.makeReceipt({ versionId: l1.versionId, seq: 2n, royalty: 1000n }),
      await f.makeReceipt({ versionId: l2.versionId, seq: 3n, royalty: 1000n }),
    ]);
    const credits = await creditsOf(f, batch.hash);
    const rootCredits = credits.filter((c) => c.versionId === root.versionId);
    expect(rootCredits).toEqual([{ account: a, versionId: root.versionId, kind: CreditKind.Upstream, amount: 200n + 100n }]);
    expect(credits.reduce((sum, c) => sum + c.amount, 0n)).toBe(2000n);
    await expectSolvent(f);
  });

  it("pays a receipt's dependency lines (seq + 1 + i) to the dependency versions", async () => {
    const top = await f.publish({ name: "acme/top", price: 100n });
    const dep = await f.publish({ wallet: f.other, name: "other/dep", price: 7n, splits: [{ recipient: addrOf(f.other), bps: 10_000 }] });
    const r = await f.makeReceipt({
      versionId: top.versionId,
      seq: 1n,
      royalty: 100n,
      dependencies: [{ versionId: dep.versionId, calls: 3, fuel: 10n, royalty: 21n }],
    });
    const { batch, hash } = await f.settleReceipts([r]);
    expect(batch.lines.length).toBe(2);
    expect(await creditsOf(f, hash)).toEqual([
      { account: addrOf(f.maintainer), versionId: top.versionId, kind: CreditKind.Royalty, amount: 100n },
      { account: addrOf(f.other), versionId: dep.versionId, kind: CreditKind.Royalty, amount: 21n },
    ]);
    expect(await f.settlement.read.nextSeq([executor()])).toBe(3n);
  });

  it("refuses a line below the version's per-call minimum, naming the line: RoyaltyBelowMinimum", async () => {
    const perCall = await f.publish({ name: "acme/md", price: 1000n });
    const perFuel = await f.publish({ name: "acme/fuel", accessMode: AccessMode.PerFuel, price: 10n, fuelPricePerMillion: 3n });
    const free = await f.publish({ name: "acme/free", accessMode: AccessMode.Free });
    const id = keccak256(toHex("receipt"));
    const versions: Hex[] = [perCall.versionId, perFuel.versionId, free.versionId];
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.settlementAs(f.executorWallet).write.settleRoyalties([
        versions,
        [encodeRoyaltyLine(id, 0, 1000n), encodeRoyaltyLine(id, 1, 10n), encodeRoyaltyLine(id, 0, 999n)],
      ]),
      f.settlement,
      "RoyaltyBelowMinimum",
      [2n, 999n, 1000n],
    );
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.settlementAs(f.executorWallet).write.settleRoyalties([versions, [encodeRoyaltyLine(id, 1, 9n)]]),
      f.settlement,
      "RoyaltyBelowMinimum",
      [0n, 9n, 10n],
    );
    // A free version takes a zero line; per-fuel takes its base price (the fuel part is fixed by the receipt).
    await f.mined(
      await f.settlementAs(f.executorWallet).write.settleRoyalties([
        versions,
        [encodeRoyaltyLine(id, 2, 0n), encodeRoyaltyLine(id, 1, 10n), encodeRoyaltyLine(id, 0, 1000n)],
      ]),
    );
    expect(await f.settlement.read.nextSeq([executor()])).toBe(4n);
    await expectSolvent(f);
  });

  it("refuses malformed batches: EmptyBatch, VersionIndexOutOfRange, UnknownVersion; a failed pull reverts everything", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    const id = keccak256(toHex("receipt"));
    const s = f.settlementAs(f.executorWallet);
    await f.viem.assertions.revertWithCustomError(s.write.settleRoyalties([[], []]), f.settlement, "EmptyBatch");
    await f.viem.assertions.revertWithCustomError(s.write.settleRoyalties([[versionId], []]), f.settlement, "EmptyBatch");
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      s.write.settleRoyalties([[versionId], [encodeRoyaltyLine(id, 0, 10n), encodeRoyaltyLine(id, 1, 10n)]]),
      f.settlement,
      "VersionIndexOutOfRange",
      [1n, 1n],
    );
    const unknown = keccak256(toHex("unknown"));
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      s.write.settleRoyalties([[versionId, unknown], [encodeRoyaltyLine(id, 0, 10n)]]),
      f.settlement,
      "UnknownVersion",
      [unknown],
    );
    // An executor without funds (or allowance) cannot settle: nothing is credited, nextSeq does not move.
    await f.viem.assertions.revertWithCustomError(
      f.settlementAs(f.other).write.settleRoyalties([[versionId], [encodeRoyaltyLine(id, 0, 10n)]]),
      f.usdc,
      "ERC20InsufficientAllowance",
    );
    expect(await f.settlement.read.nextSeq([addrOf(f.other)])).toBe(1n);
    expect(await f.settlement.read.totalOwed()).toBe(0n);
  });

  it("settles lines for a yanked version and after the executor retired (property 6)", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    const r1 = await f.makeReceipt({ versionId, seq: 1n, royalty: 10n });
    const r2 = await f.makeReceipt({ versionId, seq: 2n, royalty: 10n });
    await f.mined(await f.registryAs(f.maintainer).write.yankVersion([versionId]));
    await f.mined(await f.registryAs(f.executorWallet).write.deregisterExecutor());
    const { hash } = await f.settleReceipts([r1, r2]);
    expect(await creditsOf(f, hash)).toEqual([
      { account: addrOf(f.maintainer), versionId, kind: CreditKind.Royalty, amount: 20n },
    ]);
  });
});
