import { parseEventLogs, type Address, type ContractEventName, type Hex, type ParseEventLogsReturnType, type PublicClient } from "viem";
import { capabilityRegistryAbi } from "../sdk/abi.ts";
import { parseManifest, type AccessMode, type Manifest } from "../sdk/manifest.ts";
import type { BlobKind } from "../sdk/protocol.ts";
import { newestVersion } from "../sdk/semver.ts";
import { ChainUnavailableError } from "./errors.ts";

/** One published version, as the registry's VersionPublished event (and later yanks) describe it. */
export interface VersionRecord {
  versionId: Hex;
  packageId: Hex;
  name: string;
  version: string;
  accessMode: AccessMode;
  yanked: boolean;
  price: bigint;
  fuelPricePerMillion: bigint;
  hashes: { componentHash: Hex; witHash: Hex; testsHash: Hex; manifestHash: Hex };
  /** The published manifest text (sha256 = manifestHash) and its parsed form (undefined if unparseable). */
  manifestText: string;
  manifest: Manifest | undefined;
}

export interface ExecutorRegistration {
  active: boolean;
  feePerCall: bigint;
  endpoint: string;
}

const ACCESS_MODE_BY_CODE: AccessMode[] = ["free", "per-call", "per-fuel"];
const LOG_CHUNK = 5_000n;

/**
 * A read model of the registry built from its events (the chain is the source of truth; nothing the
 * caller says about prices or hashes is trusted). `sync()` pulls new logs from the last synced block;
 * it runs on a poll timer and on demand when a lookup misses, so fresh publications are seen at once.
 */
export class RegistryView {
  private lastBlock: bigint;
  private syncing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly packages = new Map<string, { packageId: Hex; owner: Address }>(); // by name
  private readonly packageNames = new Map<Hex, string>(); // packageId -> name
  private readonly versions = new Map<Hex, VersionRecord>(); // by versionId
  private readonly versionsByPackage = new Map<Hex, VersionRecord[]>();
  private readonly blobs = new Map<string, { kind: BlobKind; versionId: Hex }[]>(); // sha256 -> uses
  private executorInfo: ExecutorRegistration = { active: false, feePerCall: 0n, endpoint: "" };

  constructor(
    private readonly client: PublicClient,
    private readonly registry: Address,
    private readonly operator: Address,
    startBlock: bigint,
    private readonly onSyncError: (error: unknown) => void = () => {},
  ) {
    this.lastBlock = startBlock - 1n;
  }

  async start(pollMs: number): Promise<void> {
    await this.sync();
    await this.refreshExecutor();
    this.timer = setInterval(() => {
      this.syncShared().catch(this.onSyncError);
    }, pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  get executor(): ExecutorRegistration {
    return this.executorInfo;
  }

  async refreshExecutor(): Promise<ExecutorRegistration> {
    const info = await this.read(() =>
      this.client.readContract({
        address: this.registry,
        abi: capabilityRegistryAbi,
        functionName: "getExecutor",
        args: [this.operator],
      }),
    );
    this.executorInfo = { active: info.active, feePerCall: info.feePerCall, endpoint: info.endpoint };
    return this.executorInfo;
  }

  /**
   * Pulls registry events up to the chain head as of this call. A sync already running may have read
   * an older head: it is waited for and another runs (callers arriving meanwhile share that one).
   */
  async sync(): Promise<void> {
    await this.syncing?.catch(() => {});
    return this.syncShared();
  }

  /** Joins the running sync, or starts one: enough for the poll timer, which only keeps the view warm. */
  private syncShared(): Promise<void> {
    this.syncing ??= this.doSync().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async doSync(): Promise<void> {
    const head = await this.read(() => this.client.getBlockNumber({ cacheTime: 0 }));
    while (this.lastBlock < head) {
      const fromBlock = this.lastBlock + 1n;
      const toBlock = fromBlock + LOG_CHUNK - 1n < head ? fromBlock + LOG_CHUNK - 1n : head;
      const logs = await this.read(() => this.client.getLogs({ address: this.registry, fromBlock, toBlock }));
      for (const log of parseEventLogs({ abi: capabilityRegistryAbi, logs })) this.apply(log);
      this.lastBlock = toBlock;
    }
  }

  private apply(log: RegistryLog): boolean {
    switch (log.eventName) {
      case "PackageRegistered": {
        const { name, packageId, owner } = log.args;
        this.packages.set(name, { packageId, owner });
        this.packageNames.set(packageId, name);
        return true;
      }
      case "PackageTransferred": {
        const name = this.packageNames.get(log.args.packageId);
        if (name) this.packages.set(name, { packageId: log.args.packageId, owner: log.args.to });
        return true;
      }
      case "VersionPublished": {
        const a = log.args;
        const hashes = a.hashes;
        const manifestText = a.manifest;
        let manifest: Manifest | undefined;
        try {
          manifest = parseManifest(manifestText, "published manifest");
        } catch {
          manifest = undefined;
        }
        const record: VersionRecord = {
          versionId: a.versionId,
          packageId: a.packageId,
          name: this.packageNames.get(a.packageId) ?? manifest?.name ?? "",
          version: a.version,
          accessMode: ACCESS_MODE_BY_CODE[Number(a.accessMode)] ?? "per-call",
          yanked: false,
          price: a.price,
          fuelPricePerMillion: a.fuelPricePerMillion,
          hashes: { componentHash: hashes.componentHash, witHash: hashes.witHash, testsHash: hashes.testsHash, manifestHash: hashes.manifestHash },
          manifestText,
          manifest,
        };
        this.versions.set(record.versionId, record);
        const list = this.versionsByPackage.get(record.packageId) ?? [];
        list.push(record);
        this.versionsByPackage.set(record.packageId, list);
        const files: [BlobKind, Hex][] = [
          ["component", record.hashes.componentHash],
          ["wit", record.hashes.witHash],
          ["tests", record.hashes.testsHash],
          ["manifest", record.hashes.manifestHash],
        ];
        // The published source's hash is in the manifest, which is on-chain (its sha256 is manifestHash).
        if (manifest?.sourceHash) files.push(["source", manifest.sourceHash]);
        for (const [kind, hash] of files) {
          const key = hash.toLowerCase();
          this.blobs.set(key, [...(this.blobs.get(key) ?? []), { kind, versionId: record.versionId }]);
        }
        return true;
      }
      case "VersionYanked": {
        const record = this.versions.get(log.args.versionId);
        if (record) record.yanked = true;
        return true;
      }
      case "ExecutorRegistered":
      case "ExecutorUpdated":
        if (log.args.operator.toLowerCase() === this.operator.toLowerCase()) {
          this.executorInfo = { active: true, feePerCall: log.args.feePerCall, endpoint: log.args.endpoint };
        }
        return true;
      case "ExecutorDeregistered":
        if (log.args.operator.toLowerCase() === this.operator.toLowerCase()) {
          this.executorInfo = { ...this.executorInfo, active: false };
        }
        return true;
      default:
        return false;
    }
  }

  /**
   * Resolves `name@version` (or `@latest`: the newest non-yanked version in semver order).
   * Unknown names trigger a sync first, so a version published a moment ago is found.
   */
  async resolve(name: string, version: string): Promise<{ record?: VersionRecord; packageKnown: boolean }> {
    let found = this.lookup(name, version);
    if (!found.record) {
      await this.sync();
      found = this.lookup(name, version);
    }
    return found;
  }

  private lookup(name: string, version: string): { record?: VersionRecord; packageKnown: boolean } {
    const pkg = this.packages.get(name);
    if (!pkg) return { packageKnown: false };
    const list = this.versionsByPackage.get(pkg.packageId) ?? [];
    if (version === "latest") {
      const live = list.filter((v) => !v.yanked);
      const newest = newestVersion(live.map((v) => v.version));
      return { record: live.find((v) => v.version === newest), packageKnown: true };
    }
    return { record: list.find((v) => v.version === version), packageKnown: true };
  }

  /** Every published version of a package, yanked ones included (syncs first when the name is unknown); undefined for an unknown package. */
  async versionsOf(name: string): Promise<VersionRecord[] | undefined> {
    if (!this.packages.has(name)) await this.sync();
    const pkg = this.packages.get(name);
    return pkg ? [...(this.versionsByPackage.get(pkg.packageId) ?? [])] : undefined;
  }

  /** The version that published this manifest (from synced events only: never waits). */
  versionOfManifest(manifestHash: Hex): VersionRecord | undefined {
    const use = this.blobs.get(manifestHash.toLowerCase())?.find((u) => u.kind === "manifest");
    return use ? this.versions.get(use.versionId) : undefined;
  }

  /** Which versions use this sha256 as component, WIT, tests or manifest (syncs on a miss). */
  async blobUses(hash: Hex): Promise<{ kind: BlobKind; version: VersionRecord }[]> {
    if (!this.blobs.has(hash.toLowerCase())) await this.sync();
    return this.usesOf(hash);
  }

  /**
   * Every version using this sha256 as of the chain head, for judging an upload: who may upload a
   * blob is decided by the registry now. A hit in the cache proves nothing: a fork published a moment
   * ago shares its parent's WIT and tests hashes, and only a sync shows its version (and its owner).
   */
  async blobUsesAtHead(hash: Hex): Promise<{ kind: BlobKind; version: VersionRecord }[]> {
    await this.sync();
    return this.usesOf(hash);
  }

  private usesOf(hash: Hex): { kind: BlobKind; version: VersionRecord }[] {
    return (this.blobs.get(hash.toLowerCase()) ?? []).map((u) => ({ kind: u.kind, version: this.versions.get(u.versionId)! }));
  }

  /** The package whose version published this manifest (from synced events only: never waits). */
  packageOfManifest(manifestHash: Hex): string | undefined {
    const use = this.blobs.get(manifestHash.toLowerCase())?.find((u) => u.kind === "manifest");
    return use ? this.versions.get(use.versionId)?.name : undefined;
  }

  /** The package owner, read fresh from the chain (ownership is transferable). */
  async ownerOf(packageId: Hex): Promise<Address> {
    const info = await this.read(() =>
      this.client.readContract({ address: this.registry, abi: capabilityRegistryAbi, functionName: "getPackage", args: [packageId] }),
    );
    return info.owner;
  }

  /** A version by id (yanked or not), from synced events. */
  versionById(versionId: Hex): VersionRecord | undefined {
    return this.versions.get(versionId);
  }

  /** Every non-yanked version, for /v1/info. */
  liveVersions(): VersionRecord[] {
    return [...this.versions.values()].filter((v) => !v.yanked);
  }

  private async read<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new ChainUnavailableError(error);
    }
  }
}

/**
 * One decoded CapabilityRegistry event (strict, parseEventLogs' default: logs that do not decode against
 * the ABI are dropped, so every field is present); `eventName` narrows `args` to that event's fields.
 */
type RegistryLog = ParseEventLogsReturnType<typeof capabilityRegistryAbi, ContractEventName<typeof capabilityRegistryAbi>, true>[number];
