import { beforeEach, describe, expect, it } from "vitest";
import {
  encodeAbiParameters,
  encodeFunctionData,
  getContract,
  keccak256,
  parseAbi,   parseEventLogs,
  toFunctionSelector,
  zeroAddress,
  type Hex,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { localUsdcAbi, settlementAbi } from "../../sdk/abi.ts";
import { receiptId } from "../../sdk/receipt.ts";
import { AccessMode, addrOf, CreditKind, deployGlassboxFixture, type Fixture, type SettlementItem } from "./fixture.ts";

/** contracts/src/test/ReentrantToken.sol: LocalUSDC plus the re-entry hooks (test-only, so not in sdk/abi.ts). */
const reentrantTokenAbi = [
  ...localUsdcAbi,
  ...parseAbi([
    "function arm(address target, bytes payload)",
    "function reentered() view returns (bool)",
    "function reentrySucceeded() view returns (bool)",
    "function reentryRevertData() view returns (bytes)",
  ]),
] as const;

let f: Fixture;
beforeEach(async () => {
  f = await deployGlassboxFixture();
  await f.registerExecutor();
});

const paymentKey = (payer: Hex, nonce: Hex) =>
  keccak256(encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [payer, nonce]));

async function settlementEvents(hash: Hex) {
  const receipt = await f.mined(hash);
  return parseEventLogs({ abi: settlementAbi, logs: receipt.logs });
}

async function credits(hash: Hex) {
  return (await settlementEvents(hash))
    .filter((e) => e.eventName === "Credited")
    .map((e) => e.args as { account: Hex; versionId: Hex; kind: number; amount: bigint });
}

/** Money in == money credited: USDC held == totalOwed + surplus (surplus is zero unless a test made one). */
async function expectSolvent(surplus = 0n) {
  const held = await f.usdc.read.balanceOf([f.settlement.address]);
  expect(held).toBe((await f.settlement.read.totalOwed()) + surplus);
}

const settle = (item: SettlementItem) => f.settlementAs(f.other).write.settle(f.itemArgs(item));

describe("Settlement: settle", () => {
  it("pulls the payment, credits executor fee and royalty, emits Settled and Credited", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 1000n });
    const payer = await f.newPayer(10_000n);
    const item = await f.makeItem({ payer, versionId, royalty: 1200n, executorFee: 300n });
    const id = receiptId(item.receipt, f.chainId, f.settlement.address);
    expect(await f.settlement.read.receiptId([item.receipt])).toBe(id);
    const hash = await settle(item);
    const events = await settlementEvents(hash);
    const settled = events.find((e) => e.eventName === "Settled");
    expect(settled?.args).toEqual({
      receiptId: id,
      versionId,
      payer: payer.address,
      executor: addrOf(f.executorWallet),
      royalty: 1200n,
      executorFee: 300n,
      fuelUsed: item.receipt.fuelUsed,
      paymentNonce: item.receipt.paymentNonce,
      frontRun: false,
    });
    expect(await credits(hash)).toEqual([
      { account: addrOf(f.maintainer), versionId, kind: CreditKind.Royalty, amount: 1200n },
      { account: addrOf(f.executorWallet), versionId, kind: CreditKind.ExecutorFee, amount: 300n },
    ]);
    expect(await f.settlement.read.balanceOf([addrOf(f.maintainer)])).toBe(1200n);
    expect(await f.settlement.read.balanceOf([addrOf(f.executorWallet)])).toBe(300n);
    expect(await f.usdc.read.balanceOf([payer.address])).toBe(8500n);
    expect(await f.settlement.read.isSettled([payer.address, item.authorization.nonce])).toBe(true);
    await expectSolvent();
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
    const payer = await f.newPayer();
    const hash = await settle(await f.makeItem({ payer, versionId, royalty: 1001n }));
    expect(await credits(hash)).toEqual([
      { account: b, versionId, kind: CreditKind.Royalty, amount: 333n },
      { account: c, versionId, kind: CreditKind.Royalty, amount: 333n },
      { account: a, versionId, kind: CreditKind.Royalty, amount: 335n },
    ]);
    await expectSolvent();
  });

  it("sends the upstream share up a fork chain of depth 3, exactly, with Upstream credits", async () => {
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
    const payer = await f.newPayer();
    const hash = await settle(await f.makeItem({ payer, versionId: l3.versionId, royalty: 10_007n, executorFee: 5n }));
    // 10007 -> three keeps 10007 - 3335 = 6672; two gets 3335, keeps 3335 - 1667 = 1668; one gets 1667,
    // keeps 1667 - 333 = 1334; root gets 333.
    expect(await credits(hash)).toEqual([
      { account: d, versionId: l3.versionId, kind: CreditKind.Royalty, amount: 6672n },
      { account: c, versionId: l2.versionId, kind: CreditKind.Upstream, amount: 1668n },
      { account: b, versionId: l1.versionId, kind: CreditKind.Upstream, amount: 1334n },
      { account: a, versionId: root.versionId, kind: CreditKind.Upstream, amount: 333n },
      { account: addrOf(f.executorWallet), versionId: l3.versionId, kind: CreditKind.ExecutorFee, amount: 5n },
    ]);
    expect(6672n + 1668n + 1334n + 333n).toBe(10_007n);
    await expectSolvent();
  });

  it("still pays upstream when the parent version was yanked after the fork", async () => {
    const root = await f.publish({ name: "root/x", minForkShareBps: 1000 });
    const fork = await f.publish({ wallet: f.forker, name: "fork/x", fork: { parentVersionId: root.versionId, upstreamShareBps: 1000 } });
    await f.mined(await f.registryAs(f.maintainer).write.yankVersion([root.versionId]));
    const payer = await f.newPayer();
    const hash = await settle(await f.makeItem({ payer, versionId: fork.versionId, royalty: 1000n }));
    expect((await credits(hash)).map((c) => c.amount)).toEqual([900n, 100n]);
  });

  it("enforces per-fuel and free pricing", async () => {
    const perFuel = await f.publish({ name: "acme/fuel", accessMode: AccessMode.PerFuel, price: 10n, fuelPricePerMillion: 3n });
    // 10 + ceil(1_000_001 * 3 / 1e6) = 10 + 4 = 14
    expect(await f.settlement.read.minimumRoyalty([perFuel.versionId, 1_000_001n])).toBe(14n);
    const payer = await f.newPayer();
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      settle(await f.makeItem({ payer, versionId: perFuel.versionId, royalty: 13n, fuelUsed: 1_000_001n })),
      f.settlement,
      "RoyaltyBelowPrice",
      [13n, 14n],
    );
    await f.mined(await settle(await f.makeItem({ payer, versionId: perFuel.versionId, royalty: 14n, fuelUsed: 1_000_001n })));
    const free = await f.publish({ name: "acme/free", accessMode: AccessMode.Free });
    const hash = await settle(await f.makeItem({ payer, versionId: free.versionId, royalty: 0n, executorFee: 7n }));
    expect(await credits(hash)).toEqual([
      { account: addrOf(f.executorWallet), versionId: free.versionId, kind: CreditKind.ExecutorFee, amount: 7n },
    ]);
    await f.viem.assertions.revertWithCustomError(
      f.settlement.read.minimumRoyalty([keccak256("0x01"), 0n]),
      f.settlement,
      "UnknownVersion",
    );
    await expectSolvent();
  });

  it("rejects an underpriced per-call royalty: RoyaltyBelowPrice", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 1000n });
    const payer = await f.newPayer();
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      settle(await f.makeItem({ payer, versionId, royalty: 999n, executorFee: 1000n })),
      f.settlement,
      "RoyaltyBelowPrice",
      [999n, 1000n],
    );
  });

  it("rejects payment fields that do not match the receipt: WrongPayee, PaymentMismatch", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    const payer = await f.newPayer();
    const other = await f.newPayer();
    const wrongPayee = await f.makeItem({ payer, versionId, royalty: 10n, payee: addrOf(f.other) });
    await f.viem.assertions.revertWithCustomErrorWithArgs(settle(wrongPayee), f.settlement, "WrongPayee", [addrOf(f.other)]);

    const base = await f.makeItem({ payer, versionId, royalty: 10n, executorFee: 1n });
    const fromOther = await f.makeItem({ payer: other, versionId, royalty: 10n, executorFee: 1n, nonce: base.authorization.nonce });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.settlementAs(f.other).write.settle([base.receipt, base.receiptSignature, fromOther.authorization, fromOther.paymentSignature]),
      f.settlement,
      "PaymentMismatch",
      ["from"],
    );
    const otherNonce = await f.makeItem({ payer, versionId, royalty: 10n, executorFee: 1n });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.settlementAs(f.other).write.settle([base.receipt, base.receiptSignature, otherNonce.authorization, otherNonce.paymentSignature]),
      f.settlement,
      "PaymentMismatch",
      ["nonce"],
    );
    const cheaper = await f.makeItem({ payer, versionId, royalty: 10n, executorFee: 0n, nonce: base.authorization.nonce });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.settlementAs(f.other).write.settle([base.receipt, base.receiptSignature, cheaper.authorization, cheaper.paymentSignature]),
      f.settlement,
      "PaymentMismatch",
      ["value"],
    );
    // royalty + executorFee overflowing uint256 is a mismatch, not a panic.
    const huge = { ...base.receipt, royalty: 2n ** 256n - 1n, executorFee: 2n };
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.settlementAs(f.other).write.settle([huge, await f.signReceipt(huge), base.authorization, base.paymentSignature]),
      f.settlement,
      "PaymentMismatch",
      ["value"],
    );
  });

  it("rejects unknown and yanked versions", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    const payer = await f.newPayer();
    const unknown = keccak256("0x1234");
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      settle(await f.makeItem({ payer, versionId: unknown, royalty: 10n })),
      f.settlement,
      "UnknownVersion",
      [unknown],
    );
    await f.mined(await f.registryAs(f.maintainer).write.yankVersion([versionId]));
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      settle(await f.makeItem({ payer, versionId, royalty: 10n })),
      f.settlement,
      "VersionYanked",
      [versionId],
    );
  });

  it("rejects receipts not signed by an active executor: NotRegisteredExecutor, InvalidReceiptSignature", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    const payer = await f.newPayer();
    // Signed by a wallet that never registered.
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      settle(await f.makeItem({ payer, versionId, royalty: 10n, executor: f.forker })),
      f.settlement,
      "NotRegisteredExecutor",
      [addrOf(f.forker)],
    );
    // Forged: names the registered executor but is signed by someone else.
    const item = await f.makeItem({ payer, versionId, royalty: 10n });
    const forged = await f.signReceipt(item.receipt, f.forker);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.settlementAs(f.other).write.settle([item.receipt, forged, item.authorization, item.paymentSignature]),
      f.settlement,
      "InvalidReceiptSignature",
      [addrOf(f.executorWallet), addrOf(f.forker)],
    );
    // Tampered after signing: a higher fuelUsed changes the digest, so the signer no longer recovers.
    const tampered = { ...item.receipt, outputHash: keccak256("0xbad0") };
    await f.viem.assertions.revertWithCustomError(
      f.settlementAs(f.other).write.settle([tampered, item.receiptSignature, item.authorization, item.paymentSignature]),
      f.settlement,
      "InvalidReceiptSignature",
    );
    // Garbage signature bytes.
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.settlementAs(f.other).write.settle([item.receipt, "0x1234", item.authorization, item.paymentSignature]),
      f.settlement,
      "InvalidReceiptSignature",
      [addrOf(f.executorWallet), zeroAddress],
    );
    // A receipt signed for another Settlement deployment (different domain) does not verify here.
    const elsewhere = await f.signReceipt(item.receipt, f.executorWallet, f.registry.address);
    await f.viem.assertions.revertWithCustomError(
      f.settlementAs(f.other).write.settle([item.receipt, elsewhere, item.authorization, item.paymentSignature]),
      f.settlement,
      "InvalidReceiptSignature",
    );
    // Deregistered executors can no longer settle.
    await f.mined(await f.registryAs(f.executorWallet).write.deregisterExecutor());
    await f.viem.assertions.revertWithCustomErrorWithArgs(settle(item), f.settlement, "NotRegisteredExecutor", [
      addrOf(f.executorWallet),
    ]);
  });

  it("never settles a payment twice: replayed receipt or authorization reverts AlreadySettled", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    const other = await f.publish({ name: "acme/other", price: 10n });
    const payer = await f.newPayer();
    const item = await f.makeItem({ payer, versionId, royalty: 10n });
    await f.mined(await settle(item));
    const key = paymentKey(payer.address, item.authorization.nonce);
    await f.viem.assertions.revertWithCustomErrorWithArgs(settle(item), f.settlement, "AlreadySettled", [key]);
    // Same authorization (payer + nonce) under a fresh receipt for another version.
    const receipt = { ...item.receipt, versionId: other.versionId };
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.settlementAs(f.other).write.settle([receipt, await f.signReceipt(receipt), item.authorization, item.paymentSignature]),
      f.settlement,
      "AlreadySettled",
      [key],
    );
    await expectSolvent();
  });

  it("surfaces the token's refusal: expired authorization, bad payment signature, insufficient funds", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    const payer = await f.newPayer(100n);
    const expired = await f.makeItem({ payer, versionId, royalty: 10n, validBefore: (await f.now()) - 1n });
    await f.viem.assertions.revertWithCustomError(settle(expired), f.usdc, "AuthorizationExpired");
    const item = await f.makeItem({ payer, versionId, royalty: 10n });
    const wrongSigner = privateKeyToAccount(generatePrivateKey());
    const badPayment = await f.signAuthorization(wrongSigner, item.authorization);
    await f.viem.assertions.revertWithCustomError(
      f.settlementAs(f.other).write.settle([item.receipt, item.receiptSignature, item.authorization, badPayment]),
      f.usdc,
      "InvalidSignature",
    );
    const tooMuch = await f.makeItem({ payer, versionId, royalty: 101n });
    await f.viem.assertions.revertWithCustomError(settle(tooMuch), f.usdc, "ERC20InsufficientBalance");
    // Nothing was marked: the valid item still settles afterwards.
    expect(await f.settlement.read.isSettled([payer.address, expired.authorization.nonce])).toBe(false);
    await f.mined(await settle(item));
    await expectSolvent();
  });
});

describe("Settlement: front-run authorizations", () => {
  async function submitDirectly(item: SettlementItem) {
    const a = item.authorization;
    await f.mined(
      await f.usdc.write.transferWithAuthorization([a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, item.paymentSignature]),
    );
  }

  it("settles exactly once when a third party already pushed the authorization to the token", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    const payer = await f.newPayer();
    const item = await f.makeItem({ payer, versionId, royalty: 10n, executorFee: 2n });
    await submitDirectly(item);
    await expectSolvent(12n); // the funds landed, unattributed
    const events = await settlementEvents(await settle(item));
    expect(events.find((e) => e.eventName === "Settled")?.args).toMatchObject({ frontRun: true });
    await expectSolvent();
    await f.viem.assertions.revertWithCustomError(settle(item), f.settlement, "AlreadySettled");
  });

  it("refuses a used authorization whose funds are not here: AuthorizationUsedElsewhere", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    const payer = await f.newPayer();
    // Used at the token by its payee... but the payee is this contract, so make the funds leave first:
    // a front-run payment exists, and a *settled* one claims the surplus before it (the funds are owed already).
    const item = await f.makeItem({ payer, versionId, royalty: 10n });
    await submitDirectly(item);
    // Someone cancels a different authorization: it is "used" at the token, but no money arrived.
    const canceled = await f.makeItem({ payer, versionId, royalty: 10n });
    const cancelSignature = await payer.signTypedData({
      domain: { name: "USD Coin", version: "2", chainId: f.chainId, verifyingContract: f.usdc.address },
      types: { CancelAuthorization: [{ name: "authorizer", type: "address" }, { name: "nonce", type: "bytes32" }] },
      primaryType: "CancelAuthorization",
      message: { authorizer: payer.address, nonce: canceled.authorization.nonce },
    });
    await f.mined(await f.usdc.write.cancelAuthorization([payer.address, canceled.authorization.nonce, cancelSignature]));
    // The genuine front-run settles first and consumes the surplus; the canceled one then finds none.
    await f.mined(await settle(item));
    await f.viem.assertions.revertWithCustomErrorWithArgs(settle(canceled), f.settlement, "AuthorizationUsedElsewhere", [
      canceled.authorization.nonce,
    ]);
    await expectSolvent();
  });

  it("refuses a used authorization with a forged payment signature: InvalidPaymentSignature", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    const payer = await f.newPayer();
    const item = await f.makeItem({ payer, versionId, royalty: 10n });
    await submitDirectly(item);
    const forged = await f.signAuthorization(privateKeyToAccount(generatePrivateKey()), item.authorization);
    await f.viem.assertions.revertWithCustomError(
      f.settlementAs(f.other).write.settle([item.receipt, item.receiptSignature, item.authorization, forged]),
      f.settlement,
      "InvalidPaymentSignature",
    );
    await f.mined(await settle(item));
    await expectSolvent();
  });
});

describe("Settlement: settleBatch", () => {
  it("refuses an empty batch", async () => {
    await f.viem.assertions.revertWithCustomError(f.settlementAs(f.other).write.settleBatch([[]]), f.settlement, "EmptyBatch");
  });

  it("aggregates credits (one Credited per account, version, kind) and writes each once", async () => {
    const a = await f.publish({ name: "acme/a", price: 10n });
    const b = await f.publish({ name: "acme/b", price: 20n });
    const payers = [await f.newPayer(), await f.newPayer()];
    const items: SettlementItem[] = [];
    for (let i = 0; i < 6; i++) {
      const version = i % 2 === 0 ? a : b;
      items.push(await f.makeItem({ payer: payers[i % 2]!, versionId: version.versionId, royalty: i % 2 === 0 ? 10n : 20n, executorFee: 1n }));
    }
    const hash = await f.settlementAs(f.other).write.settleBatch([items]);
    const events = await settlementEvents(hash);
    expect(events.filter((e) => e.eventName === "Settled")).toHaveLength(6);
    expect(await credits(hash)).toEqual([
      { account: addrOf(f.maintainer), versionId: a.versionId, kind: CreditKind.Royalty, amount: 30n },
      { account: addrOf(f.executorWallet), versionId: a.versionId, kind: CreditKind.ExecutorFee, amount: 3n },
      { account: addrOf(f.maintainer), versionId: b.versionId, kind: CreditKind.Royalty, amount: 60n },
      { account: addrOf(f.executorWallet), versionId: b.versionId, kind: CreditKind.ExecutorFee, amount: 3n },
    ]);
    expect(await f.settlement.read.balanceOf([addrOf(f.maintainer)])).toBe(90n);
    expect(await f.settlement.read.totalOwed()).toBe(96n);
    await expectSolvent();
  });

  it("credits a mixed batch (fork chain, several versions and executors) exactly like one-by-one settles", async () => {
    // Same chain, same items, settled as one batch on one chain and one at a time on another.
    async function scenario(fixture: Fixture, batched: boolean) {
      const second = fixture.wallets[6]!;
      await fixture.registerExecutor();
      await fixture.registerExecutor(second);
      const [a, b, c] = [addrOf(fixture.maintainer), addrOf(fixture.other), addrOf(fixture.forker)];
      const root = await fixture.publish({
        name: "root/x",
        minForkShareBps: 700,
        splits: [
          { recipient: a, bps: 6001 },
          { recipient: b, bps: 3999 },
        ],
      });
      let parent = root;
      const versions = [root];
      for (let depth = 1; depth <= 3; depth++) {
        parent = await fixture.publish({
          wallet: fixture.wallets[6 + depth]!,
          name: `f${depth}/x`,
          fork: { parentVersionId: parent.versionId, upstreamShareBps: 700 + depth * 1111 },
          splits: [
            { recipient: addrOf(fixture.wallets[6 + depth]!), bps: 9000 },
            { recipient: c, bps: 1000 },
          ],
        });
        versions.push(parent);
      }
      const payers = [await fixture.newPayer(), await fixture.newPayer()];
      const items: SettlementItem[] = [];
      for (let i = 0; i < 12; i++) {
        items.push(
          await fixture.makeItem({
            payer: payers[i % 2]!,
            versionId: versions[i % 4]!.versionId,
            royalty: 1000n + BigInt(i) * 337n,
            executorFee: BigInt(i),
            executor: i % 3 === 0 ? second : fixture.executorWallet,
          }),
        );
      }
      if (batched) {
        await fixture.mined(await fixture.settlementAs(fixture.other).write.settleBatch([items]));
      } else {
        for (const item of items) await fixture.mined(await fixture.settlementAs(fixture.other).write.settle(fixture.itemArgs(item)));
      }
      const accounts = [...fixture.wallets.slice(0, 10).map(addrOf)];
      return {
        balances: await Promise.all(accounts.map((account) => fixture.settlement.read.balanceOf([account]))),
        owed: await fixture.settlement.read.totalOwed(),
      };
    }
    const batched = await scenario(f, true);
    const single = await scenario(await deployGlassboxFixture(), false);
    expect(batched).toEqual(single);
    expect(batched.balances.reduce((x, y) => x + y, 0n)).toBe(batched.owed);
    await expectSolvent();
  });

  it("skips invalid items with SettlementSkipped, charges nothing for them, settles the rest", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    const payer = await f.newPayer(1000n);
    const good = await f.makeItem({ payer, versionId, royalty: 10n });
    const underpriced = await f.makeItem({ payer, versionId, royalty: 9n });
    const expired = await f.makeItem({ payer, versionId, royalty: 10n, validBefore: (await f.now()) - 1n });
    const forged = await f.makeItem({ payer, versionId, royalty: 10n, executor: f.forker });
    const good2 = await f.makeItem({ payer, versionId, royalty: 10n });
    const items = [good, underpriced, expired, good, forged, good2];
    const settled = await f.settlementAs(f.other).simulate.settleBatch([items]);
    expect(settled.result).toBe(3n - 1n);
    const hash = await f.settlementAs(f.other).write.settleBatch([items]);
    const events = await settlementEvents(hash);
    const skipped = events.filter((e) => e.eventName === "SettlementSkipped").map((e) => e.args as { receiptId: Hex; reason: Hex });
    expect(skipped.map((s) => s.receiptId)).toEqual(
      [underpriced, expired, good, forged].map((i) => receiptId(i.receipt, f.chainId, f.settlement.address)),
    );
    expect(skipped.map((s) => s.reason.slice(0, 10))).toEqual([
      toFunctionSelector("RoyaltyBelowPrice(uint256,uint256)"),
      toFunctionSelector("AuthorizationExpired(uint256,uint256)"),
      toFunctionSelector("AlreadySettled(bytes32)"),
      toFunctionSelector("NotRegisteredExecutor(address)"),
    ]);
    expect(events.filter((e) => e.eventName === "Settled")).toHaveLength(2);
    expect(await f.usdc.read.balanceOf([payer.address])).toBe(980n);
    for (const item of [underpriced, expired, forged]) {
      expect(await f.settlement.read.isSettled([payer.address, item.authorization.nonce])).toBe(false);
    }
    await expectSolvent();
  });

  it("skips an item whose pull fails without leaving its replay mark, and settles front-run items", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    const payer = await f.newPayer(1000n);
    const poor = await f.newPayer(5n);
    const broke = await f.makeItem({ payer: poor, versionId, royalty: 10n });
    const front = await f.makeItem({ payer, versionId, royalty: 10n });
    const a = front.authorization;
    await f.mined(
      await f.usdc.write.transferWithAuthorization([a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, front.paymentSignature]),
    );
    const normal = await f.makeItem({ payer, versionId, royalty: 10n });
    const hash = await f.settlementAs(f.other).write.settleBatch([[broke, front, normal]]);
    const events = await settlementEvents(hash);
    expect(events.filter((e) => e.eventName === "Settled").map((e) => (e.args as { frontRun: boolean }).frontRun)).toEqual([true, false]);
    expect(await f.settlement.read.isSettled([poor.address, broke.authorization.nonce])).toBe(false);
    await expectSolvent();
    // Funded later, the skipped item settles on its own.
    await f.mined(await f.usdc.write.mint([poor.address, 100n]));
    await f.mined(await settle(broke));
    await expectSolvent();
  });
});

describe("Settlement: claims", () => {
  it("claim and claimTo pay out the whole balance; NothingToClaim and ZeroAddress", async () => {
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    const payer = await f.newPayer();
    await f.mined(await settle(await f.makeItem({ payer, versionId, royalty: 10n, executorFee: 4n })));
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.settlementAs(f.other).write.claim(),
      f.settlement,
      "NothingToClaim",
      [addrOf(f.other)],
    );
    await f.viem.assertions.revertWithCustomError(f.settlementAs(f.maintainer).write.claimTo([zeroAddress]), f.settlement, "ZeroAddress");
    await f.viem.assertions.emitWithArgs(f.settlementAs(f.maintainer).write.claim(), f.settlement, "Claimed", [
      addrOf(f.maintainer),
      addrOf(f.maintainer),
      10n,
    ]);
    expect(await f.usdc.read.balanceOf([addrOf(f.maintainer)])).toBe(10n);
    const to = privateKeyToAccount(generatePrivateKey()).address;
    await f.viem.assertions.emitWithArgs(f.settlementAs(f.executorWallet).write.claimTo([to]), f.settlement, "Claimed", [
      addrOf(f.executorWallet),
      to,
      4n,
    ]);
    expect(await f.usdc.read.balanceOf([to])).toBe(4n);
    expect(await f.settlement.read.totalOwed()).toBe(0n);
    await f.viem.assertions.revertWithCustomError(f.settlementAs(f.maintainer).write.claim(), f.settlement, "NothingToClaim");
    await expectSolvent();
  });

  it("refuses a zero registry or token at deployment", async () => {
    await f.viem.assertions.revertWithCustomError(
      f.viem.deployContract("Settlement", [zeroAddress, f.usdc.address]),
      f.settlement,
      "ZeroAddress",
    );
  });
});

describe("Settlement: reentrancy through a malicious token", () => {
  async function withReentrantToken() {
    const tokenAddress = (await f.viem.deployContract("ReentrantToken")).address;
    const settlementAddress = (await f.viem.deployContract("Settlement", [f.registry.address, tokenAddress])).address;
    const client = { public: f.publicClient, wallet: f.deployer };
    return {
      token: getContract({ address: tokenAddress, abi: reentrantTokenAbi, client }),
      settlement: getContract({ address: settlementAddress, abi: settlementAbi, client }),
    };
  }

  it("refuses re-entry into settle and claim during the pull, and settles correctly", async () => {
    const { token, settlement } = await withReentrantToken();
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    const payer = privateKeyToAccount(generatePrivateKey());
    await f.mined(await token.write.mint([payer.address, 1000n]));
    const item = await f.makeItem({ payer, versionId, royalty: 10n, token: token.address, payee: settlement.address });
    // makeItem signs the receipt for the fixture's Settlement; re-sign for this one.
    const receiptSignature = await f.signReceipt(item.receipt, f.executorWallet, settlement.address);
    const second = await f.makeItem({ payer, versionId, royalty: 10n, token: token.address, payee: settlement.address });
    const secondSignature = await f.signReceipt(second.receipt, f.executorWallet, settlement.address);
    const reenterSettle = encodeFunctionData({
      abi: settlementAbi,
      functionName: "settle",
      args: [second.receipt, secondSignature, second.authorization, second.paymentSignature],
    });
    await f.mined(await token.write.arm([settlement.address, reenterSettle]));
    await f.mined(await settlement.write.settle([item.receipt, receiptSignature, item.authorization, item.paymentSignature]));
    expect(await token.read.reentered()).toBe(true);
    expect(await token.read.reentrySucceeded()).toBe(false);
    expect(await token.read.reentryRevertData()).toBe(toFunctionSelector("ReentrancyGuardReentrantCall()"));
    expect(await settlement.read.isSettled([payer.address, second.authorization.nonce])).toBe(false);
    expect(await settlement.read.totalOwed()).toBe(10n);
    expect(await token.read.balanceOf([settlement.address])).toBe(10n);

    // Re-entering claim while claim pays out.
    const claimCall = encodeFunctionData({ abi: settlementAbi, functionName: "claim" });
    await f.mined(await token.write.arm([settlement.address, claimCall]));
    const asMaintainer = getContract({ address: settlement.address, abi: settlementAbi, client: { public: f.publicClient, wallet: f.maintainer } });
    await f.mined(await asMaintainer.write.claim());
    expect(await token.read.reentrySucceeded()).toBe(false);
    expect(await token.read.reentryRevertData()).toBe(toFunctionSelector("ReentrancyGuardReentrantCall()"));
    expect(await settlement.read.totalOwed()).toBe(0n);
    expect(await token.read.balanceOf([settlement.address])).toBe(0n);
    expect(await token.read.balanceOf([addrOf(f.maintainer)])).toBe(10n);
  });
});

