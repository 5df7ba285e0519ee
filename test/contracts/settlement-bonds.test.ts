import { beforeEach, describe, expect, it } from "vitest";
import { encodeFunctionData, getAddress, getContract, keccak256, maxUint256, parseAbi, toFunctionSelector, toHex, zeroAddress } from "viem";
import { capabilityRegistryAbi, localUsdcAbi, settlementAbi } from "../../sdk/abi.ts";
import { packageIdOf, versionIdOf } from "../../sdk/ids.ts";
import { encodeRoyaltyLine } from "../../sdk/royalty-batch.ts";
import { addrOf, deployGlassboxFixture, EXIT_DELAY, MAX_SETTLE_WINDOW, versionInput, type Fixture } from "./fixture.ts";
import { expectSolvent, settlementEvents } from "./helpers.ts";

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

const executor = () => addrOf(f.executorWallet);

describe("Settlement v2: bonds", () => {
  it("adds to a bond any time (BondPosted), refuses zero, counts it in totalBonds", async () => {
    await f.fund(f.executorWallet, 10_000n);
    const s = f.settlementAs(f.executorWallet);
    await f.viem.assertions.revertWithCustomError(s.write.postBond([0n]), f.settlement, "ZeroAmount");
    await f.viem.assertions.emitWithArgs(s.write.postBond([4000n]), f.settlement, "BondPosted", [executor(), 4000n, 4000n]);
    await f.viem.assertions.emitWithArgs(s.write.postBond([1000n]), f.settlement, "BondPosted", [executor(), 1000n, 5000n]);
    expect(await f.settlement.read.bondOf([executor()])).toBe(5000n);
    expect(await f.settlement.read.totalBonds()).toBe(5000n);
    expect(await f.usdc.read.balanceOf([executor()])).toBe(5000n);
    await expectSolvent(f);
  });

  it("withdraws only EXIT_DELAY (> MAX_SETTLE_WINDOW) after beginExit, and stays slashable until then", async () => {
    expect(await f.settlement.read.EXIT_DELAY()).toBe(EXIT_DELAY);
    expect(EXIT_DELAY > MAX_SETTLE_WINDOW).toBe(true);
    const s = f.settlementAs(f.executorWallet);
    await f.viem.assertions.revertWithCustomErrorWithArgs(s.write.beginExit(), f.settlement, "NoBond", [executor()]);
    await f.postBond(f.executorWallet, 100_000n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(s.write.withdrawBond(), f.settlement, "ExitNotBegun", [executor()]);

    // A receipt issued just before the exit: its deadline falls inside the exit delay.
    const { versionId } = await f.publish({ name: "acme/md", price: 1000n });
    const r = await f.makeReceipt({ versionId, seq: 1n, royalty: 1000n, deadline: (await f.now()) + MAX_SETTLE_WINDOW });
    const begin = await s.write.beginExit();
    const beganAt = (await f.publicClient.getBlock({ blockNumber: (await f.mined(begin)).blockNumber })).timestamp;
    const withdrawableAt = beganAt + EXIT_DELAY;
    expect(await f.settlement.read.exitAt([executor()])).toBe(withdrawableAt);
    const exitEvent = (await settlementEvents(f, begin)).find((e) => e.eventName === "ExitBegun");
    expect(exitEvent?.args).toEqual({ executor: executor(), withdrawableAt });
    await f.viem.assertions.revertWithCustomErrorWithArgs(s.write.beginExit(), f.settlement, "ExitAlreadyBegun", [
      executor(),
      withdrawableAt,
    ]);
    await f.networkHelpers.time.increaseTo(withdrawableAt - 2n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(s.write.withdrawBond(), f.settlement, "ExitNotReady", [
      executor(),
      withdrawableAt,
    ]);
    // The overdue receipt is still paid out of the exiting bond.
    await f.mined(await f.settlementAs(f.other).write.slashOverdue(f.receiptArgs(r)));
    expect(await f.settlement.read.bondOf([executor()])).toBe(100_000n - 1100n);

    await f.networkHelpers.time.increaseTo(withdrawableAt);
    await f.viem.assertions.emitWithArgs(s.write.withdrawBond(), f.settlement, "BondWithdrawn", [executor(), 98_900n]);
    expect(await f.settlement.read.bondOf([executor()])).toBe(0n);
    expect(await f.settlement.read.exitAt([executor()])).toBe(0n);
    expect(await f.usdc.read.balanceOf([executor()])).toBe(98_900n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(s.write.withdrawBond(), f.settlement, "ExitNotBegun", [executor()]);
    await expectSolvent(f);
  });
});

describe("Settlement v2: claims", () => {
  it("claim and claimTo pay out the whole balance; NothingToClaim and ZeroAddress", async () => {
    await f.fund(f.executorWallet, 10n ** 9n);
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    await f.settleReceipts([await f.makeReceipt({ versionId, seq: 1n, royalty: 700n })]);
    const m = f.settlementAs(f.maintainer);
    await f.viem.assertions.revertWithCustomError(m.write.claimTo([zeroAddress]), f.settlement, "ZeroAddress");
    await f.viem.assertions.emitWithArgs(m.write.claimTo([addrOf(f.forker)]), f.settlement, "Claimed", [
      addrOf(f.maintainer),
      addrOf(f.forker),
      700n,
    ]);
    expect(await f.usdc.read.balanceOf([addrOf(f.forker)])).toBe(700n);
    await f.viem.assertions.revertWithCustomErrorWithArgs(m.write.claim(), f.settlement, "NothingToClaim", [addrOf(f.maintainer)]);
    await f.settleReceipts([await f.makeReceipt({ versionId, seq: 2n, royalty: 30n })]);
    await f.viem.assertions.emitWithArgs(m.write.claim(), f.settlement, "Claimed", [addrOf(f.maintainer), addrOf(f.maintainer), 30n]);
    expect(await f.settlement.read.totalOwed()).toBe(0n);
    await expectSolvent(f);
  });
});

describe("Settlement v2: surplus (L-2 recovery)", () => {
  it("sweeps exactly the stray funds to the immutable surplus recipient, whoever calls, never owed money or bonds", async () => {
    await f.fund(f.executorWallet, 10n ** 9n);
    await f.postBond(f.executorWallet, 50_000n);
    const { versionId } = await f.publish({ name: "acme/md", price: 10n });
    await f.settleReceipts([await f.makeReceipt({ versionId, seq: 1n, royalty: 700n })]);
    await f.viem.assertions.revertWithCustomError(f.settlementAs(f.other).write.sweepSurplus(), f.settlement, "NoSurplus");
    // Stray USDC: a plain transfer nobody is owed.
    await f.mined(await f.usdc.write.mint([addrOf(f.other), 2000n]));
    await f.mined(await f.usdcAs(f.other).write.transfer([f.settlement.address, 2000n]));
    expect(await f.surplus()).toBe(2000n);
    expect(await f.settlement.read.surplusRecipient()).toBe(f.surplusRecipient);
    await f.viem.assertions.emitWithArgs(f.settlementAs(f.other).write.sweepSurplus(), f.settlement, "SurplusSwept", [
      f.surplusRecipient,
      2000n,
    ]);
    expect(await f.usdc.read.balanceOf([f.surplusRecipient])).toBe(2000n);
    expect(await f.usdc.read.balanceOf([addrOf(f.other)])).toBe(0n);
    await f.viem.assertions.revertWithCustomError(f.settlementAs(f.other).write.sweepSurplus(), f.settlement, "NoSurplus");
    // Everything owed and bonded is still there and still claimable.
    await expectSolvent(f);
    await f.mined(await f.settlementAs(f.maintainer).write.claim());
    expect(await f.usdc.read.balanceOf([addrOf(f.maintainer)])).toBe(700n);
  });

  it("refuses zero constructor addresses", async () => {
    for (const args of [
      [zeroAddress, f.usdc.address, f.surplusRecipient],
      [f.registry.address, zeroAddress, f.surplusRecipient],
      [f.registry.address, f.usdc.address, zeroAddress],
    ] as const) {
      await expect(f.viem.deployContract("Settlement", [...args])).rejects.toThrow(/ZeroAddress/);
    }
  });
});

describe("Settlement v2: reentrancy through a malicious token", () => {
  it("refuses re-entry into settleRoyalties, withdrawBond and claim during a token call, and completes the outer call", async () => {
    const token = await f.viem.deployContract("ReentrantToken");
    const registryDeployed = await f.viem.deployContract("CapabilityRegistry");
    const settlementDeployed = await f.viem.deployContract("Settlement", [registryDeployed.address, token.address, f.surplusRecipient]);
    const client = { public: f.publicClient, wallet: f.deployer };
    const tok = getContract({ address: getAddress(token.address), abi: reentrantTokenAbi, client });
    const registry = getContract({ address: getAddress(registryDeployed.address), abi: capabilityRegistryAbi, client });
    const settlement = getContract({ address: getAddress(settlementDeployed.address), abi: settlementAbi, client });
    await f.mined(await registry.write.setSettlement([settlement.address]));
    const owner = addrOf(f.deployer);
    await f.mined(await registry.write.registerPackage(["acme/md", 0]));
    const packageId = packageIdOf("acme/md");
    await f.mined(await registry.write.publishVersion([packageId, "1.0.0", versionInput("acme/md", "1.0.0", owner, { price: 10n })]));
    const versionId = versionIdOf(packageId, "1.0.0");
    await f.mined(await tok.write.mint([owner, 10n ** 9n]));
    await f.mined(await tok.write.approve([settlement.address, maxUint256]));
    await f.mined(await settlement.write.postBond([1000n]));
    const line = encodeRoyaltyLine(keccak256(toHex("r")), 0, 10n);
    const guard = toFunctionSelector("ReentrancyGuardReentrantCall()");

    // Re-enter settleRoyalties during the pull.
    await f.mined(
      await tok.write.arm([
        settlement.address,
        encodeFunctionData({ abi: settlementAbi, functionName: "settleRoyalties", args: [[versionId], [line]] }),
      ]),
    );
    await f.mined(await settlement.write.settleRoyalties([[versionId], [line]]));
    expect(await tok.read.reentered()).toBe(true);
    expect(await tok.read.reentrySucceeded()).toBe(false);
    expect(await tok.read.reentryRevertData()).toBe(guard);
    expect(await settlement.read.nextSeq([owner])).toBe(2n);

    // Re-enter claim during a claim's transfer: the balance is paid once.
    await f.mined(await tok.write.arm([settlement.address, encodeFunctionData({ abi: settlementAbi, functionName: "claim" })]));
    await f.mined(await settlement.write.claim());
    expect(await tok.read.reentrySucceeded()).toBe(false);
    expect(await tok.read.reentryRevertData()).toBe(guard);
    expect(await settlement.read.balanceOf([owner])).toBe(0n);

    // Re-enter withdrawBond during postBond's pull.
    await f.mined(await settlement.write.beginExit());
    await f.mined(await tok.write.arm([settlement.address, encodeFunctionData({ abi: settlementAbi, functionName: "withdrawBond" })]));
    await f.mined(await settlement.write.postBond([5n]));
    expect(await tok.read.reentrySucceeded()).toBe(false);
    expect(await tok.read.reentryRevertData()).toBe(guard);
    expect(await settlement.read.bondOf([owner])).toBe(1005n);
    expect(await tok.read.balanceOf([settlement.address])).toBe(
      (await settlement.read.totalOwed()) + (await settlement.read.totalBonds()),
    );
  });
});
