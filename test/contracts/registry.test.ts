import { beforeEach, describe, expect, it } from "vitest";
import { getAddress, getContract, zeroAddress, zeroHash, type Hex } from "viem";
import { capabilityRegistryAbi } from "../../sdk/abi.ts";
import { packageIdOf, scopeIdOf, sha256Hex, versionIdOf } from "../../sdk/ids.ts";
import { AccessMode, addrOf, deployGlassboxFixture, versionInput, type Fixture } from "./fixture.ts";

let f: Fixture;
beforeEach(async () => {
  f = await deployGlassboxFixture();
});

describe("CapabilityRegistry: scopes and names", () => {
  it("claims a scope on first registration and emits ScopeClaimed + PackageRegistered", async () => {
    const r = f.registryAs(f.maintainer);
    const owner = addrOf(f.maintainer);
    const tx = r.write.registerPackage(["acme/markdown", 500]);
    await f.viem.assertions.emitWithArgs(tx, f.registry, "ScopeClaimed", [scopeIdOf("acme"), "acme", owner]);
    expect(await f.registry.read.scopeOwner(["acme"])).toBe(owner);
    const info = await f.registry.read.getPackage([packageIdOf("acme/markdown")]);
    expect(info).toMatchObject({ owner, minForkShareBps: 500, parentVersionId: zeroHash, forkDepth: 0, name: "acme/markdown" });
    await f.viem.assertions.emitWithArgs(r.write.registerPackage(["acme/other", 0]), f.registry, "PackageRegistered", [
      packageIdOf("acme/other"),
      "acme/other",
      owner,
      zeroHash,
      0,
      0,
    ]);
  });

  it("computes ids exactly like sdk/ids.ts", async () => {
    expect(await f.registry.read.packageIdOf(["acme/markdown"])).toBe(packageIdOf("acme/markdown"));
    const pkg = packageIdOf("acme/markdown");
    expect(await f.registry.read.versionIdOf([pkg, "1.2.3-beta.1"])).toBe(versionIdOf(pkg, "1.2.3-beta.1"));
  });

  it.each([
    "acme",
    "acme/",
    "/x",
    "Acme/x",
    "acme/x/y",
    "acme/-x",
    "acme/x-",
    "-acme/x",
    "acme_1/x",
    "acme/x y",
    `acme/${"a".repeat(65)}`,
    `${"a".repeat(65)}/x`,
    "acme/ü",
  ])("refuses the invalid name %j with InvalidName", async (name) => {
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.maintainer).write.registerPackage([name, 0]),
      f.registry,
      "InvalidName",
      [name],
    );
    await f.viem.assertions.revertWithCustomError(f.registry.read.packageIdOf([name]), f.registry, "InvalidName");
  });

  it("accepts names at the edges of the rules", async () => {
    const r = f.registryAs(f.maintainer);
    for (const name of ["a/b", "a1/b-2", `${"a".repeat(64)}/${"0".repeat(64)}`, "9-9/x--y"]) {
      await f.mined(await r.write.registerPackage([name, 0]));
    }
  });

  it("keeps a scope to its owner: ScopeOwnedByAnother, NameTaken", async () => {
    await f.mined(await f.registryAs(f.maintainer).write.registerPackage(["acme/x", 0]));
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.other).write.registerPackage(["acme/y", 0]),
      f.registry,
      "ScopeOwnedByAnother",
      ["acme", addrOf(f.maintainer)],
    );
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.other).write.claimScope(["acme"]),
      f.registry,
      "ScopeOwnedByAnother",
      ["acme", addrOf(f.maintainer)],
    );
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.maintainer).write.registerPackage(["acme/x", 0]),
      f.registry,
      "NameTaken",
      ["acme/x"],
    );
  });

  it("claimScope claims once, is idempotent for the owner, and validates the scope", async () => {
    const r = f.registryAs(f.other);
    await f.viem.assertions.emitWithArgs(r.write.claimScope(["zeta"]), f.registry, "ScopeClaimed", [
      scopeIdOf("zeta"),
      "zeta",
      addrOf(f.other),
    ]);
    await f.mined(await r.write.claimScope(["zeta"]));
    expect(await f.registry.read.scopeOwner(["zeta"])).toBe(addrOf(f.other));
    await f.viem.assertions.revertWithCustomError(r.write.claimScope(["Zeta"]), f.registry, "InvalidName");
    await f.viem.assertions.revertWithCustomError(r.write.claimScope(["a/b"]), f.registry, "InvalidName");
  });

  it("transferScope moves the scope; only the owner may, never to zero", async () => {
    await f.mined(await f.registryAs(f.maintainer).write.claimScope(["acme"]));
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.other).write.transferScope(["acme", addrOf(f.other)]),
      f.registry,
      "NotScopeOwner",
      [scopeIdOf("acme"), addrOf(f.other)],
    );
    await f.viem.assertions.revertWithCustomError(
      f.registryAs(f.maintainer).write.transferScope(["acme", zeroAddress]),
      f.registry,
      "ZeroAddress",
    );
    await f.viem.assertions.emitWithArgs(
      f.registryAs(f.maintainer).write.transferScope(["acme", addrOf(f.other)]),
      f.registry,
      "ScopeTransferred",
      [scopeIdOf("acme"), addrOf(f.maintainer), addrOf(f.other)],
    );
    await f.mined(await f.registryAs(f.other).write.registerPackage(["acme/new", 0]));
  });
});

describe("CapabilityRegistry: packages", () => {
  it("transferPackage and setMinForkShare: owner only, bounded bps, events", async () => {
    const { packageId } = await f.publish({ name: "acme/x" });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.other).write.transferPackage([packageId, addrOf(f.other)]),
      f.registry,
      "NotPackageOwner",
      [packageId, addrOf(f.other)],
    );
    await f.viem.assertions.revertWithCustomError(
      f.registryAs(f.maintainer).write.transferPackage([packageId, zeroAddress]),
      f.registry,
      "ZeroAddress",
    );
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.maintainer).write.setMinForkShare([packageId, 10_001]),
      f.registry,
      "InvalidBps",
      [10_001n],
    );
    await f.viem.assertions.emitWithArgs(
      f.registryAs(f.maintainer).write.setMinForkShare([packageId, 2500]),
      f.registry,
      "MinForkShareUpdated",
      [packageId, 2500],
    );
    await f.viem.assertions.emitWithArgs(
      f.registryAs(f.maintainer).write.transferPackage([packageId, addrOf(f.other)]),
      f.registry,
      "PackageTransferred",
      [packageId, addrOf(f.maintainer), addrOf(f.other)],
    );
    expect((await f.registry.read.getPackage([packageId])).owner).toBe(addrOf(f.other));
    // The new owner publishes; the old one no longer can.
    await f.mined(
      await f.registryAs(f.other).write.publishVersion([packageId, "2.0.0", versionInput("acme/x", "2.0.0", addrOf(f.other))]),
    );
    await f.viem.assertions.revertWithCustomError(
      f.registryAs(f.maintainer).write.publishVersion([packageId, "3.0.0", versionInput("acme/x", "3.0.0", addrOf(f.other))]),
      f.registry,
      "NotPackageOwner",
    );
  });

  it("refuses minForkShareBps above 10000 at registration", async () => {
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.maintainer).write.registerPackage(["acme/x", 10_001]),
      f.registry,
      "InvalidBps",
      [10_001n],
    );
  });

  it("unknown packages revert UnknownPackage everywhere", async () => {
    const unknown = packageIdOf("nobody/nothing");
    const r = f.registryAs(f.maintainer);
    for (const call of [
      () => f.registry.read.getPackage([unknown]),
      () => f.registry.read.getVersionIds([unknown]),
      () => r.write.transferPackage([unknown, addrOf(f.other)]),
      () => r.write.setMinForkShare([unknown, 1]),
      () => r.write.publishVersion([unknown, "1.0.0", versionInput("nobody/nothing", "1.0.0", addrOf(f.maintainer))]),
    ]) {
      await f.viem.assertions.revertWithCustomErrorWithArgs(call(), f.registry, "UnknownPackage", [unknown]);
    }
  });
});

describe("CapabilityRegistry: versions", () => {
  it("publishes an immutable version with everything in the event, and lists it", async () => {
    await f.mined(await f.registryAs(f.maintainer).write.registerPackage(["acme/x", 0]));
    const packageId = packageIdOf("acme/x");
    const owner = addrOf(f.maintainer);
    const input = versionInput("acme/x", "1.0.0", owner, {
      accessMode: AccessMode.PerFuel,
      price: 10n,
      fuelPricePerMillion: 7n,
      splits: [
        { recipient: owner, bps: 7000 },
        { recipient: addrOf(f.other), bps: 3000 },
      ],
    });
    const versionId = versionIdOf(packageId, "1.0.0");
    await f.viem.assertions.emitWithArgs(
      f.registryAs(f.maintainer).write.publishVersion([packageId, "1.0.0", input]),
      f.registry,
      "VersionPublished",
      [versionId, packageId, "1.0.0", input.hashes, AccessMode.PerFuel, 10n, 7n, input.splits, input.manifest],
    );
    const v = await f.registry.read.getVersion([versionId]);
    expect(v).toMatchObject({ packageId, accessMode: AccessMode.PerFuel, yanked: false, price: 10n, fuelPricePerMillion: 7n, hashes: input.hashes, version: "1.0.0" });
    expect(v.publishedAt).toBeGreaterThan(0n);
    expect(await f.registry.read.getSplits([versionId])).toEqual(input.splits);
    await f.mined(
      await f.registryAs(f.maintainer).write.publishVersion([packageId, "1.1.0", versionInput("acme/x", "1.1.0", owner)]),
    );
    expect(await f.registry.read.getVersionIds([packageId])).toEqual([versionId, versionIdOf(packageId, "1.1.0")]);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.maintainer).write.publishVersion([packageId, "1.0.0", input]),
      f.registry,
      "VersionExists",
      [versionId],
    );
  });

  it("validates the version string: InvalidVersion", async () => {
    const { packageId } = await f.publish({ name: "acme/x" });
    const owner = addrOf(f.maintainer);
    for (const version of ["", "1".repeat(65)]) {
      await f.viem.assertions.revertWithCustomErrorWithArgs(
        f.registryAs(f.maintainer).write.publishVersion([packageId, version, versionInput("acme/x", version, owner)]),
        f.registry,
        "InvalidVersion",
        [version],
      );
    }
  });

  it("checks sha256(manifest) against manifestHash: ManifestHashMismatch", async () => {
    const { packageId } = await f.publish({ name: "acme/x" });
    const input = versionInput("acme/x", "2.0.0", addrOf(f.maintainer));
    const tampered = { ...input, manifest: `${input.manifest} ` };
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.maintainer).write.publishVersion([packageId, "2.0.0", tampered]),
      f.registry,
      "ManifestHashMismatch",
      [input.hashes.manifestHash, sha256Hex(tampered.manifest)],
    );
  });

  it("validates pricing per access mode: InvalidPricing", async () => {
    const { packageId } = await f.publish({ name: "acme/x" });
    const owner = addrOf(f.maintainer);
    const cases: [number, bigint, bigint, string][] = [
      [AccessMode.Free, 1n, 0n, "free access needs price 0 and fuel price 0"],
      [AccessMode.Free, 0n, 1n, "free access needs price 0 and fuel price 0"],
      [AccessMode.PerCall, 1n, 1n, "per-call access needs fuel price 0"],
      [AccessMode.PerCall, 2n ** 96n, 0n, "price exceeds uint96"],
      [AccessMode.PerFuel, 1n, 2n ** 64n, "fuel price exceeds uint64"],
    ];
    for (const [accessMode, price, fuelPricePerMillion, reason] of cases) {
      const input = versionInput("acme/x", "9.9.9", owner, { accessMode, price, fuelPricePerMillion });
      await f.viem.assertions.revertWithCustomErrorWithArgs(
        f.registryAs(f.maintainer).write.publishVersion([packageId, "9.9.9", input]),
        f.registry,
        "InvalidPricing",
        [reason],
      );
    }
    const free = versionInput("acme/x", "0.0.1", owner, { accessMode: AccessMode.Free });
    await f.mined(await f.registryAs(f.maintainer).write.publishVersion([packageId, "0.0.1", free]));
  });

  it("validates splits: InvalidSplits names the problem", async () => {
    const { packageId } = await f.publish({ name: "acme/x" });
    const a = addrOf(f.maintainer);
    const b = addrOf(f.other);
    const many = Array.from({ length: 9 }, (_, i) => ({
      recipient: `0x${(i + 1).toString(16).padStart(40, "0")}` as Hex,
      bps: i === 0 ? 10_000 - 8 * 1111 : 1111,
    }));
    const cases: [{ recipient: Hex; bps: number }[], string][] = [
      [[], "need 1 to 8 recipients"],
      [many, "need 1 to 8 recipients"],
      [[{ recipient: a, bps: 10_000 }, { recipient: b, bps: 0 }], "zero bps"],
      [[{ recipient: a, bps: 5000 }, { recipient: a, bps: 5000 }], "duplicate recipient"],
      [[{ recipient: a, bps: 5000 }, { recipient: b, bps: 4999 }], "bps must sum to 10000"],
      [[{ recipient: a, bps: 9000 }, { recipient: b, bps: 1001 }], "bps must sum to 10000"],
    ];
    for (const [splits, reason] of cases) {
      await f.viem.assertions.revertWithCustomErrorWithArgs(
        f.registryAs(f.maintainer).write.publishVersion([packageId, "5.0.0", versionInput("acme/x", "5.0.0", a, { splits })]),
        f.registry,
        "InvalidSplits",
        [reason],
      );
    }
    // 8 recipients is the maximum that is accepted (L-3: bounds the credits of a maximum fork chain).
    expect(await f.registry.read.MAX_SPLITS()).toBe(8n);
    const eight = many.slice(0, 8).map((s, i) => ({ ...s, bps: i === 0 ? 10_000 - 7 * 1250 : 1250 }));
    await f.mined(
      await f.registryAs(f.maintainer).write.publishVersion([packageId, "5.0.0", versionInput("acme/x", "5.0.0", a, { splits: eight })]),
    );
  });

  it("L-2 / property 5: refuses split recipients that could never claim (zero, registry, Settlement, token, x402 channel contracts)", async () => {
    const { packageId } = await f.publish({ name: "acme/x" });
    const a = addrOf(f.maintainer);
    const unclaimable: Hex[] = [
      zeroAddress,
      f.registry.address,
      f.settlement.address,
      f.usdc.address,
      await f.registry.read.X402_CHANNEL(),
      await f.registry.read.X402_DEPOSIT_COLLECTOR(),
    ];
    expect(unclaimable[4]).toBe("0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003");
    expect(unclaimable[5]).toBe("0x4020806089470a89826cB9fB1f4059150b550004");
    for (const bad of unclaimable) {
      // Even as a minor second recipient: a credit to it would be locked forever.
      const splits = [
        { recipient: a, bps: 9_999 },
        { recipient: bad, bps: 1 },
      ];
      await f.viem.assertions.revertWithCustomErrorWithArgs(
        f.registryAs(f.maintainer).write.publishVersion([packageId, "6.0.0", versionInput("acme/x", "6.0.0", a, { splits })]),
        f.registry,
        "UnclaimableRecipient",
        [bad],
      );
    }
  });

  it("is wired to Settlement once, by the deployer; publishing needs the wiring", async () => {
    expect(await f.registry.read.settlement()).toBe(f.settlement.address);
    expect(await f.registry.read.token()).toBe(f.usdc.address);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registry.write.setSettlement([f.settlement.address]),
      f.registry,
      "SettlementAlreadySet",
      [f.settlement.address],
    );
    const deployed = await f.viem.deployContract("CapabilityRegistry");
    const fresh = getContract({
      address: getAddress(deployed.address),
      abi: capabilityRegistryAbi,
      client: { public: f.publicClient, wallet: f.deployer },
    });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      getContract({ address: fresh.address, abi: capabilityRegistryAbi, client: { public: f.publicClient, wallet: f.other } }).write.setSettlement([
        f.settlement.address,
      ]),
      fresh,
      "NotDeployer",
      [addrOf(f.other)],
    );
    await f.viem.assertions.revertWithCustomError(fresh.write.setSettlement([zeroAddress]), fresh, "ZeroAddress");
    const owner = addrOf(f.deployer);
    await f.mined(await fresh.write.registerPackage(["solo/x", 0]));
    await f.viem.assertions.revertWithCustomError(
      fresh.write.publishVersion([packageIdOf("solo/x"), "1.0.0", versionInput("solo/x", "1.0.0", owner)]),
      fresh,
      "SettlementNotSet",
    );
    await f.viem.assertions.emitWithArgs(fresh.write.setSettlement([f.settlement.address]), fresh, "SettlementSet", [
      f.settlement.address,
      f.usdc.address,
    ]);
    await f.mined(await fresh.write.publishVersion([packageIdOf("solo/x"), "1.0.0", versionInput("solo/x", "1.0.0", owner)]));
  });

  it("yanks a version once, owner only; unknown versions revert", async () => {
    const { packageId, versionId } = await f.publish({ name: "acme/x" });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.other).write.yankVersion([versionId]),
      f.registry,
      "NotPackageOwner",
      [packageId, addrOf(f.other)],
    );
    await f.viem.assertions.emitWithArgs(f.registryAs(f.maintainer).write.yankVersion([versionId]), f.registry, "VersionYanked", [
      versionId,
      packageId,
    ]);
    expect((await f.registry.read.getVersion([versionId])).yanked).toBe(true);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.maintainer).write.yankVersion([versionId]),
      f.registry,
      "AlreadyYanked",
      [versionId],
    );
    const unknown = versionIdOf(packageId, "7.7.7");
    for (const call of [
      () => f.registryAs(f.maintainer).write.yankVersion([unknown]),
      () => f.registry.read.getVersion([unknown]),
      () => f.registry.read.getSplits([unknown]),
    ]) {
      await f.viem.assertions.revertWithCustomErrorWithArgs(call(), f.registry, "UnknownVersion", [unknown]);
    }
  });
});

describe("CapabilityRegistry: forks", () => {
  it("registers a fork in the forker's scope with the upstream link and depth", async () => {
    const parent = await f.publish({ name: "acme/x", minForkShareBps: 1000 });
    const forkerAddress = addrOf(f.forker);
    await f.viem.assertions.emitWithArgs(
      f.registryAs(f.forker).write.registerFork(["fork/x", parent.versionId, 1500, 200]),
      f.registry,
      "PackageRegistered",
      [packageIdOf("fork/x"), "fork/x", forkerAddress, parent.versionId, 1500, 200],
    );
    expect(await f.registry.read.getPackage([packageIdOf("fork/x")])).toMatchObject({
      owner: forkerAddress,
      parentVersionId: parent.versionId,
      upstreamShareBps: 1500,
      minForkShareBps: 200,
      forkDepth: 1,
    });
    expect(await f.registry.read.scopeOwner(["fork"])).toBe(forkerAddress);
  });

  it("refuses an upstream share below the parent's minimum, or above 10000", async () => {
    const parent = await f.publish({ name: "acme/x", minForkShareBps: 1000 });
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.forker).write.registerFork(["fork/x", parent.versionId, 999, 0]),
      f.registry,
      "UpstreamShareTooLow",
      [999, 1000],
    );
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.forker).write.registerFork(["fork/x", parent.versionId, 10_001, 0]),
      f.registry,
      "InvalidBps",
      [10_001n],
    );
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.forker).write.registerFork(["fork/x", parent.versionId, 1000, 10_001]),
      f.registry,
      "InvalidBps",
      [10_001n],
    );
  });

  it("refuses unknown and yanked parents, and names in someone else's scope", async () => {
    const parent = await f.publish({ name: "acme/x" });
    const unknown = versionIdOf(parent.packageId, "0.0.0");
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.forker).write.registerFork(["fork/x", unknown, 0, 0]),
      f.registry,
      "UnknownVersion",
      [unknown],
    );
    await f.viem.assertions.revertWithCustomError(
      f.registryAs(f.forker).write.registerFork(["acme/stolen", parent.versionId, 0, 0]),
      f.registry,
      "ScopeOwnedByAnother",
    );
    await f.mined(await f.registryAs(f.maintainer).write.yankVersion([parent.versionId]));
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.forker).write.registerFork(["fork/x", parent.versionId, 0, 0]),
      f.registry,
      "ParentYanked",
      [parent.versionId],
    );
  });

  it("bounds the fork chain at MAX_FORK_DEPTH (8): ForkTooDeep", async () => {
    expect(await f.registry.read.MAX_FORK_DEPTH()).toBe(8);
    let parent = await f.publish({ name: "d0/x" });
    for (let depth = 1; depth <= 8; depth++) {
      parent = await f.publish({ name: `d${depth}/x`, fork: { parentVersionId: parent.versionId, upstreamShareBps: 100 } });
      expect((await f.registry.read.getPackage([parent.packageId])).forkDepth).toBe(depth);
    }
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.maintainer).write.registerFork(["d9/x", parent.versionId, 100, 0]),
      f.registry,
      "ForkTooDeep",
      [9, 8],
    );
  });

  it("cannot form a cycle: a fork is always a new package, a parent must already exist, links never change", async () => {
    const a = await f.publish({ name: "acme/a" });
    const b = await f.publish({ name: "acme/b", fork: { parentVersionId: a.versionId, upstreamShareBps: 0 } });
    // Re-pointing an existing package (to close a cycle a -> b) is impossible: registerFork only creates names.
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.maintainer).write.registerFork(["acme/a", b.versionId, 0, 0]),
      f.registry,
      "NameTaken",
      ["acme/a"],
    );
    // A version cannot name itself as parent: its id only exists after its package was registered without it.
    const selfId = versionIdOf(packageIdOf("acme/c"), "1.0.0");
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      f.registryAs(f.maintainer).write.registerFork(["acme/c", selfId, 0, 0]),
      f.registry,
      "UnknownVersion",
      [selfId],
    );
    // New versions of the original keep no parent: the link lives on the package, fixed at registration.
    await f.publish({ name: "acme/a", version: "2.0.0" });
    expect((await f.registry.read.getPackage([a.packageId])).parentVersionId).toBe(zeroHash);
  });
});

describe("CapabilityRegistry: executors", () => {
  it("registers, updates the endpoint only (the fee is immutable), and retires for good (L-1 / property 6: ExecutorRetired)", async () => {
    const r = f.registryAs(f.executorWallet);
    const operator = addrOf(f.executorWallet);
    await f.viem.assertions.revertWithCustomErrorWithArgs(r.write.updateExecutor(["http://x"]), f.registry, "UnknownExecutor", [operator]);
    await f.viem.assertions.revertWithCustomErrorWithArgs(r.write.deregisterExecutor(), f.registry, "UnknownExecutor", [operator]);
    await f.viem.assertions.revertWithCustomError(r.write.registerExecutor(["", 1n]), f.registry, "InvalidEndpoint");
    await f.viem.assertions.revertWithCustomError(r.write.registerExecutor(["h".repeat(513), 1n]), f.registry, "InvalidEndpoint");
    await f.viem.assertions.emitWithArgs(r.write.registerExecutor(["http://127.0.0.1:1", 5n]), f.registry, "ExecutorRegistered", [
      operator,
      "http://127.0.0.1:1",
      5n,
    ]);
    expect(await f.registry.read.isActiveExecutor([operator])).toBe(true);
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      r.write.registerExecutor(["http://127.0.0.1:1", 5n]),
      f.registry,
      "ExecutorAlreadyRegistered",
      [operator],
    );
    await f.viem.assertions.revertWithCustomError(r.write.updateExecutor([""]), f.registry, "InvalidEndpoint");
    await f.viem.assertions.emitWithArgs(r.write.updateExecutor(["https://exec.example"]), f.registry, "ExecutorUpdated", [
      operator,
      "https://exec.example",
      5n,
    ]);
    expect(await f.registry.read.getExecutor([operator])).toEqual({
      active: true,
      retired: false,
      feePerCall: 5n,
      endpoint: "https://exec.example",
    });
    expect(await f.registry.read.executorFee([operator])).toEqual([true, 5n]);
    await f.viem.assertions.emitWithArgs(r.write.deregisterExecutor(), f.registry, "ExecutorDeregistered", [operator]);
    expect(await f.registry.read.isActiveExecutor([operator])).toBe(false);
    // The fee stays on record for overcharge proofs against receipts signed before the retirement.
    expect(await f.registry.read.executorFee([operator])).toEqual([true, 5n]);
    // A retired key can never be revived (with a new fee or otherwise).
    await f.viem.assertions.revertWithCustomErrorWithArgs(
      r.write.registerExecutor(["http://again", 0n]),
      f.registry,
      "ExecutorRetired",
      [operator],
    );
    await f.viem.assertions.revertWithCustomErrorWithArgs(r.write.updateExecutor(["http://again"]), f.registry, "UnknownExecutor", [operator]);
    expect(await f.registry.read.executorFee([addrOf(f.other)])).toEqual([false, 0n]);
  });
});
