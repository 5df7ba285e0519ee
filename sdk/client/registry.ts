import { BaseError, ContractFunctionRevertedError, type Address, type Hex } from "viem";
import { capabilityRegistryAbi } from "../abi.ts";
import type { Deployment } from "../deployment.ts";
import { packageIdOf, versionIdOf } from "../ids.ts";
import { validateManifest, type AccessMode, type Manifest } from "../manifest.ts";
import { compareSemver } from "../semver.ts";
import type { ChainClients } from "./chain.ts";
import { GlassboxError } from "./errors.ts";

const ACCESS_MODE_NAMES: readonly AccessMode[] = ["free", "per-call", "per-fuel"];

export interface VersionView {
  name: string;
  packageId: Hex;
  versionId: Hex;
  version: string;
  accessMode: AccessMode;
  price: bigint;
  fuelPricePerMillion: bigint;
  yanked: boolean;
  publishedAt: bigint;
  hashes: { componentHash: Hex; witHash: Hex; testsHash: Hex; manifestHash: Hex };
}

export interface PackageView {
  name: string;
  packageId: Hex;
  owner: Address;
  minForkShareBps: number;
  parentVersionId: Hex;
  upstreamShareBps: number;
  forkDepth: number;
}

/** True when a contract read reverted with the named custom error. */
function isRevert(error: unknown, errorName: string): boolean {
  if (!(error instanceof BaseError)) return false;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName === errorName;
}

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/** On-chain reads of packages and versions: the chain, not any server, is the source of truth. */
export class RegistryReader {
  constructor(
    private readonly clients: ChainClients,
    private readonly deployments: Deployment,
  ) {}

  private get registry() {
    return { address: this.deployments.contracts.registry, abi: capabilityRegistryAbi } as const;
  }

  async getPackage(name: string): Promise<PackageView | undefined> {
    const packageId = packageIdOf(name);
    let info;
    try {
      info = await this.clients.publicClient.readContract({ ...this.registry, functionName: "getPackage", args: [packageId] });
    } catch (error) {
      if (isRevert(error, "UnknownPackage")) return undefined;
      throw error;
    }
    if (info.owner === ZERO_ADDRESS) return undefined;
    return {
      name,
      packageId,
      owner: info.owner,
      minForkShareBps: Number(info.minForkShareBps),
      parentVersionId: info.parentVersionId,
      upstreamShareBps: Number(info.upstreamShareBps),
      forkDepth: Number(info.forkDepth),
    };
  }

  /** Who owns `scope`, or undefined while nobody has claimed it. */
  async scopeOwner(scope: string): Promise<Address | undefined> {
    const owner = await this.clients.publicClient.readContract({ ...this.registry, functionName: "scopeOwner", args: [scope] });
    return owner === ZERO_ADDRESS ? undefined : owner;
  }

  async getVersionById(name: string, versionId: Hex): Promise<VersionView | undefined> {
    try {
      const v = await this.clients.publicClient.readContract({ ...this.registry, functionName: "getVersion", args: [versionId] });
      return {
        name,
        packageId: v.packageId,
        versionId,
        version: v.version,
        accessMode: ACCESS_MODE_NAMES[Number(v.accessMode)] ?? "per-call",
        price: v.price,
        fuelPricePerMillion: v.fuelPricePerMillion,
        yanked: v.yanked,
        publishedAt: BigInt(v.publishedAt),
        hashes: { ...v.hashes },
      };
    } catch (error) {
      if (isRevert(error, "UnknownVersion")) return undefined;
      throw error;
    }
  }

  async listVersions(name: string): Promise<VersionView[]> {
    const packageId = packageIdOf(name);
    let ids: readonly Hex[];
    try {
      ids = await this.clients.publicClient.readContract({ ...this.registry, functionName: "getVersionIds", args: [packageId] });
    } catch (error) {
      if (isRevert(error, "UnknownPackage")) return [];
      throw error;
    }
    const versions = await Promise.all(ids.map((id) => this.getVersionById(name, id)));
    return versions.filter((v): v is VersionView => v !== undefined).sort((a, b) => compareSemver(a.version, b.version));
  }

  /** `version` may be an exact semver or "latest" (the newest non-yanked version). */
  async resolveVersion(name: string, version: string): Promise<VersionView> {
    if (version === "latest") {
      const versions = await this.listVersions(name);
      const callable = versions.filter((v) => !v.yanked);
      const newest = callable.at(-1);
      if (!newest) {
        throw new GlassboxError(
          versions.length === 0 ? "UNKNOWN_PACKAGE" : "ALL_VERSIONS_YANKED",
          versions.length === 0 ? `No package ${name} on-chain.` : `Every version of ${name} was yanked.`,
          "Search the catalog with `glassbox search` for another capability.",
        );
      }
      return newest;
    }
    const view = await this.getVersionById(name, versionIdOf(packageIdOf(name), version));
    if (!view) throw new GlassboxError("UNKNOWN_VERSION", `No version ${name}@${version} on-chain.`, `List versions with \`glassbox info ${name}\`.`);
    return view;
  }

  /** The published manifest, read from the VersionPublished event (hash-checked on-chain at publish). */
  async getManifest(versionId: Hex): Promise<{ manifest: Manifest; raw: string }> {
    const logs = await this.clients.publicClient.getContractEvents({
      ...this.registry,
      eventName: "VersionPublished",
      args: { versionId },
      fromBlock: BigInt(this.deployments.startBlock),
      strict: true,
    });
    const raw = logs[0]?.args.manifest;
    if (raw === undefined) throw new GlassboxError("UNKNOWN_VERSION", `No VersionPublished event for ${versionId}.`);
    return { manifest: validateManifest(JSON.parse(raw), `manifest of ${versionId}`), raw };
  }
}
