/**
 * Pay once, run locally: a version's owner offers a licence (CapabilityRegistry.setLicencePrice) and anyone
 * buys one for a holder (Settlement.buyLicence), credited through the same splits and fork shares as calls.
 * Attack tests per actor: a stranger cannot spend a buyer's funds or approval, an owner repricing in front of a
 * purchase cannot take more than the buyer's maxPrice, a licence is never charged twice, and yanked or
 * unoffered versions take nothing.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { keccak256, maxUint256, toHex } from "viem";
import { addrOf, CreditKind, deployGlassboxFixture, type Fixture } from "./fixture.ts";
import { creditsOf, expectSolvent, settlementEvents } from "./helpers.ts";

let f: Fixture;
beforeEach(async () => {
  f = await deployGlassboxFixture();
});

/** `wallet` holds `amount` and has approved Settlement for all of it. */
async function buyer(wallet: Fixture["payerWallet"], amount = 1_000_000n) {
  await f.fund(wallet, amount);
  return wallet;
}

describe("licences: offering", () => {
  it("lets only the package owner offer, reprice and withdraw a licence, and emits each change", async () => {
    const { versionId, packageId } = await f.publish({ name: "acme/md" });
    expect(await f.registry.read.licencePrice([versionId])).toBe(0n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.other).write.setLicencePrice([versionId, 5n]),
      f.registry,
      "NotPackageOwner",
      [packageId, addrOf(f.other)],
    );
    const hash = await f.registryAs(f.maintainer).write.setLicencePrice([versionId, 5_000n]);
    await f.viem.assertions.emitWithArgs(Promise.resolve(hash), f.registry, "LicenceOffered", [versionId, packageId, 5_000n]);
    expect(await f.registry.read.licencePrice([versionId])).toBe(5_000n);
    await f.mined(await f.registryAs(f.maintainer).write.setLicencePrice([versionId, 0n]));
    expect(await f.registry.read.licencePrice([versionId])).toBe(0n);
  });

  it("refuses an offer on a yanked or unknown version and a price beyond uint96", async () => {
    const { versionId } = await f.publish({ name: "acme/md" });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.maintainer).write.setLicencePrice([versionId, 2n ** 96n]),
      f.registry,
      "InvalidPricing",
      ["licence price exceeds uint96"],
    );
    await f.mined(await f.registryAs(f.maintainer).write.yankVersion([versionId]));
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.maintainer).write.setLicencePrice([versionId, 5n]),
      f.registry,
      "VersionIsYanked",
      [versionId],
    );
    const unknown = keccak256(toHex("nope"));
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.maintainer).write.setLicencePrice([unknown, 5n]),
      f.registry,
      "UnknownVersion",
      [unknown],
    );
  });
});

describe("licences: buying", () => {
  it("credits a licence through the fork chain exactly like a royalty (Licence for the version, Upstream above)", async () => {
    const [a, b, c] = [addrOf(f.maintainer), addrOf(f.other), addrOf(f.deployer)];
    const root = await f.publish({ name: "root/x", minForkShareBps: 1000, splits: [{ recipient: a, bps: 10_000 }] });
    const fork = await f.publish({
      wallet: f.forker,
      name: "fork/x",
      fork: { parentVersionId: root.versionId, upstreamShareBps: 2500 },
      splits: [
        { recipient: b, bps: 6_000 },
        { recipient: c, bps: 4_000 },
      ],
    });
    await f.mined(await f.registryAs(f.forker).write.setLicencePrice([fork.versionId, 10_003n]));
    const payer = await buyer(f.payerWallet);
    const holder = addrOf(f.payerWallet);

    const hash = await f.settlementAs(payer).write.buyLicence([fork.versionId, holder, 10_003n]);
    // 10003: the root gets floor(10003 / 4) = 2500; the fork keeps 7503, split 60/40 (remainder to the first).
    expect(await creditsOf(f, hash)).toEqual([
      { account: c, versionId: fork.versionId, kind: CreditKind.Licence, amount: 3001n },
      { account: b, versionId: fork.versionId, kind: CreditKind.Licence, amount: 4502n },
      { account: a, versionId: root.versionId, kind: CreditKind.Upstream, amount: 2500n },
    ]);
    const bought = (await settlementEvents(f, hash)).find((e) => e.eventName === "LicenceBought");
    expect(bought?.args).toEqual({ versionId: fork.versionId, holder, payer: holder, price: 10_003n });
    expect(await f.settlement.read.hasLicence([fork.versionId, holder])).toBe(true);
    expect(await f.settlement.read.hasLicence([root.versionId, holder])).toBe(false);
    expect(await f.usdc.read.balanceOf([holder])).toBe(1_000_000n - 10_003n);
    await expectSolvent(f);

    // Every credited unit is claimable.
    for (const [wallet, amount] of [
      [f.maintainer, 2500n],
      [f.other, 4502n],
      [f.deployer, 3001n],
    ] as const) {
      const before = await f.usdc.read.balanceOf([addrOf(wallet)]);
      await f.mined(await f.settlementAs(wallet).write.claim());
      expect((await f.usdc.read.balanceOf([addrOf(wallet)])) - before).toBe(amount);
    }
    await expectSolvent(f);
  });

  it("buys for another holder (a gift) and never charges one holder twice", async () => {
    const { versionId } = await f.publish({ name: "acme/md" });
    await f.mined(await f.registryAs(f.maintainer).write.setLicencePrice([versionId, 700n]));
    const payer = await buyer(f.payerWallet);
    const holder = addrOf(f.other);
    await f.mined(await f.settlementAs(payer).write.buyLicence([versionId, holder, 700n]));
    expect(await f.settlement.read.hasLicence([versionId, holder])).toBe(true);
    expect(await f.settlement.read.hasLicence([versionId, addrOf(payer)])).toBe(false);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.settlementAs(payer).write.buyLicence([versionId, holder, 700n]),
      f.settlement,
      "AlreadyLicensed",
      [versionId, holder],
    );
    expect(await f.usdc.read.balanceOf([addrOf(payer)])).toBe(1_000_000n - 700n);
    await expectSolvent(f);
  });

  it("refuses an unknown, unoffered or yanked version and a zero holder, taking nothing", async () => {
    const { versionId } = await f.publish({ name: "acme/md" });
    const payer = await buyer(f.payerWallet);
    const s = f.settlementAs(payer);
    const holder = addrOf(payer);
    const unknown = keccak256(toHex("nope"));
    await f.viem.assertions.revertWithCustomErrorWithArgs(s.write.buyLicence([unknown, holder, 1n]), f.settlement, "UnknownVersion", [unknown]);
    await f.viem.assertions.revertWithCustomErrorWithArgs(s.write.buyLicence([versionId, holder, maxUint256]), f.settlement, "LicenceNotOffered", [versionId]);
    await f.mined(await f.registryAs(f.maintainer).write.setLicencePrice([versionId, 700n]));
    await f.viem.assertions.revertWithCustomError(s.write.buyLicence([versionId, "0x0000000000000000000000000000000000000000", 700n]), f.settlement, "ZeroAddress");
    await f.mined(await f.registryAs(f.maintainer).write.yankVersion([versionId]));
    await f.viem.assertions.revertWithCustomErrorWithArgs(s.write.buyLicence([versionId, holder, 700n]), f.settlement, "LicenceVersionYanked", [versionId]);
    expect(await f.usdc.read.balanceOf([holder])).toBe(1_000_000n);
    expect(await f.settlement.read.totalOwed()).toBe(0n);
  });
});

describe("licences: attacks", () => {
  it("owner: a reprice sent in front of a purchase cannot take more than the buyer's maxPrice", async () => {
    const { versionId } = await f.publish({ name: "acme/md" });
    await f.mined(await f.registryAs(f.maintainer).write.setLicencePrice([versionId, 700n]));
    const payer = await buyer(f.payerWallet);
    // The buyer agreed to 700 with an unlimited approval; the owner reprices to 900_000 first.
    await f.mined(await f.registryAs(f.maintainer).write.setLicencePrice([versionId, 900_000n]));
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.settlementAs(payer).write.buyLicence([versionId, addrOf(payer), 700n]),
      f.settlement,
      "LicencePriceAboveMax",
      [versionId, 900_000n, 700n],
    );
    expect(await f.usdc.read.balanceOf([addrOf(payer)])).toBe(1_000_000n);
    expect(await f.settlement.read.hasLicence([versionId, addrOf(payer)])).toBe(false);
  });

  it("stranger: an approval to Settlement cannot be spent by anyone but its owner (the payer is always msg.sender)", async () => {
    const { versionId } = await f.publish({ name: "acme/md" });
    await f.mined(await f.registryAs(f.maintainer).write.setLicencePrice([versionId, 700n]));
    const victim = await buyer(f.payerWallet);
    // The stranger, with no funds of its own, tries to buy for itself with the victim's standing approval.
    const stranger = f.other;
    expect(await f.usdc.read.allowance([addrOf(victim), f.settlement.address])).toBe(maxUint256);
    await expect(f.settlementAs(stranger).write.buyLicence([versionId, addrOf(stranger), 700n])).rejects.toThrow();
    expect(await f.usdc.read.balanceOf([addrOf(victim)])).toBe(1_000_000n);
    expect(await f.settlement.read.hasLicence([versionId, addrOf(stranger)])).toBe(false);
    // The same call from a funded stranger pays with the stranger's own money.
    await f.fund(stranger, 700n);
    await f.mined(await f.settlementAs(stranger).write.buyLicence([versionId, addrOf(stranger), 700n]));
    expect(await f.usdc.read.balanceOf([addrOf(stranger)])).toBe(0n);
    expect(await f.usdc.read.balanceOf([addrOf(victim)])).toBe(1_000_000n);
    await expectSolvent(f);
  });

  it("a licence bought stays valid after the version is yanked or the offer withdrawn", async () => {
    const { versionId } = await f.publish({ name: "acme/md" });
    await f.mined(await f.registryAs(f.maintainer).write.setLicencePrice([versionId, 700n]));
    const payer = await buyer(f.payerWallet);
    await f.mined(await f.settlementAs(payer).write.buyLicence([versionId, addrOf(payer), 700n]));
    await f.mined(await f.registryAs(f.maintainer).write.setLicencePrice([versionId, 0n]));
    await f.mined(await f.registryAs(f.maintainer).write.yankVersion([versionId]));
    expect(await f.settlement.read.hasLicence([versionId, addrOf(payer)])).toBe(true);
  });
});
