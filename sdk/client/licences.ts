/**
 * Pay once, run locally: licence offers (CapabilityRegistry.setLicencePrice), purchases
 * (Settlement.buyLicence, credited through the version's splits and fork shares) and the signed download
 * of a licensed component from an executor, checked against the componentHash the chain pins. The bytes a
 * holder runs are exactly the published ones, whichever executor served them.
 */
import type { Address, Hex, LocalAccount } from "viem";
import { capabilityRegistryAbi, localUsdcAbi, settlementAbi } from "../abi.ts";
import type { Deployment } from "../deployment.ts";
import { sha256Hex } from "../ids.ts";
import { LICENCE_EXPIRES_HEADER, LICENCE_SIGNATURE_HEADER, licenceDownloadMessage } from "../licence.ts";
import type { Manifest } from "../manifest.ts";
import { ROUTES, type ErrorBody, type InfoBody } from "../protocol.ts";
import { newestVersion, satisfiesRange } from "../semver.ts";
import { readPublicBlob } from "./blobs.ts";
import { sendContractTx, type ChainClients } from "./chain.ts";
import { GlassboxError } from "./errors.ts";
import { getJson } from "./publish.ts";
import type { RegistryReader, VersionView } from "./registry.ts";

/** How long a download signature is valid: long enough for one request, short enough that a copy is useless. */
const DOWNLOAD_SIGNATURE_SECONDS = 120n;

/** A version's licence as the chain has it now. */
export interface LicenceStatus {
  version: VersionView;
  /** The current offer in USDC base units (0: no licence offered). */
  price: bigint;
  /** Whether `holder` has one. */
  held: boolean;
  holder: Address;
}

/** A licensed version ready to run locally: its files, and its dependencies' (each licensed too). */
export interface LicensedCapability {
  version: VersionView;
  manifest: Manifest;
  witSource: string;
  /** The component bytes, sha256-checked against the on-chain componentHash. */
  component: Uint8Array;
  dependencies: LicensedCapability[];
}

/** Where downloaded components are kept between runs (keyed by componentHash; checked again on read). */
export interface ComponentCache {
  get(componentHash: Hex): Promise<Uint8Array | undefined>;
  put(componentHash: Hex, bytes: Uint8Array): Promise<void>;
}

const label = (v: { name: string; version: string }) => `${v.name}@${v.version}`;

export class Licences {
  constructor(
    private readonly clients: ChainClients,
    private readonly deployment: Deployment,
    private readonly registry: RegistryReader,
  ) {}

  /** The current licence price of a version (0: none offered). */
  price(versionId: Hex): Promise<bigint> {
    return this.clients.publicClient.readContract({ address: this.deployment.contracts.registry, abi: capabilityRegistryAbi, functionName: "licencePrice", args: [versionId] });
  }

  /** Whether `holder` bought a licence for the version. */
  holds(versionId: Hex, holder: Address): Promise<boolean> {
    return this.clients.publicClient.readContract({ address: this.deployment.contracts.settlement, abi: settlementAbi, functionName: "hasLicence", args: [versionId, holder] });
  }

  async status(version: VersionView, holder: Address): Promise<LicenceStatus> {
    const [price, held] = await Promise.all([this.price(version.versionId), this.holds(version.versionId, holder)]);
    return { version, price, held, holder };
  }

  /** Offers (price > 0), reprices or withdraws (0) the licence of a version this wallet's package owns. */
  setPrice(version: VersionView, price: bigint): Promise<Hex> {
    const action = price === 0n ? `Withdrawing the licence offer of ${label(version)}` : `Offering a licence for ${label(version)} at ${price}`;
    return sendContractTx(this.clients, action, { address: this.deployment.contracts.registry, abi: capabilityRegistryAbi, functionName: "setLicencePrice", args: [version.versionId, price] });
  }

  /**
   * Buys `holder` (default: the payer) a licence at the current price, paid by `payer` (the wallet of these
   * clients), refusing above `maxPrice` (default: the price read now, so an owner's repricing in between makes the
   * purchase revert rather than cost more). Approves Settlement for exactly the price first when the allowance is
   * short. `onStep` words each transaction before the wallet is asked for it.
   */
  async buy(
    payer: Address,
    version: Pick<VersionView, "versionId" | "name" | "version" | "yanked">,
    opts: { holder?: Address; maxPrice?: bigint; onStep?: (text: string) => void } = {},
  ): Promise<{ price: bigint; holder: Address; transaction: Hex; approval?: Hex }> {
    const holder = opts.holder ?? payer;
    const [price, held] = await Promise.all([this.price(version.versionId), this.holds(version.versionId, holder)]);
    if (version.yanked) throw new GlassboxError("VERSION_YANKED", `${label(version)} is yanked: no new licences are sold.`, "Buy a licence for a version that is not yanked.");
    if (price === 0n) throw new GlassboxError("LICENCE_NOT_OFFERED", `${label(version)} offers no licence to run it locally.`, "Call it through an executor instead (glassbox call), or ask its maintainer to offer one.");
    if (held) throw new GlassboxError("ALREADY_LICENSED", `${holder} already holds a licence for ${label(version)}.`, `Nothing was charged. Run it: glassbox run ${label(version)} <function> [args]`);
    const maxPrice = opts.maxPrice ?? price;
    if (price > maxPrice) throw new GlassboxError("LICENCE_TOO_EXPENSIVE", `The licence for ${label(version)} costs ${price}, above the most you allowed (${maxPrice}).`, "Nothing was charged. Agree to the new price (--max-price, or reload the page) if it is right.");
    const usdc = { address: this.deployment.contracts.usdc, abi: localUsdcAbi } as const;
    const settlement = this.deployment.contracts.settlement;
    const [balance, allowance] = await Promise.all([
      this.clients.publicClient.readContract({ ...usdc, functionName: "balanceOf", args: [payer] }),
      this.clients.publicClient.readContract({ ...usdc, functionName: "allowance", args: [payer, settlement] }),
    ]);
    if (balance < price) throw new GlassboxError("INSUFFICIENT_FUNDS", `The licence costs ${price} USDC base units; ${payer} holds ${balance}.`, "Fund the wallet with USDC first. Nothing was signed or charged.");
    let approval: Hex | undefined;
    if (allowance < price) {
      opts.onStep?.(`Approving Settlement to take the licence price (${price} USDC base units)`);
      approval = await sendContractTx(this.clients, "Approving Settlement for the licence price", { ...usdc, functionName: "approve", args: [settlement, price] });
    }
    opts.onStep?.(`Buying the licence for ${label(version)}`);
    const transaction = await sendContractTx(this.clients, `Buying a licence for ${label(version)}`, { address: settlement, abi: settlementAbi, functionName: "buyLicence", args: [version.versionId, holder, maxPrice] });
    return { price, holder, transaction, ...(approval ? { approval } : {}) };
  }

  /**
   * The component bytes of a licensed version, from the first executor that serves them to `account`'s
   * signed request, sha256-checked against the chain. A 403 from every executor means no licence.
   */
  async download(account: LocalAccount, version: VersionView, executorUrls: readonly string[]): Promise<Uint8Array> {
    const failures: string[] = [];
    for (const url of executorUrls) {
      const info = await getJson<InfoBody>(`${url}${ROUTES.info}`).catch(() => undefined);
      if (!info) {
        failures.push(`${url}: unreachable`);
        continue;
      }
      const expiresAt = BigInt(Math.floor(Date.now() / 1000)) + DOWNLOAD_SIGNATURE_SECONDS;
      const signature = await account.signMessage({ message: licenceDownloadMessage({ versionId: version.versionId, chainId: this.deployment.chainId, executor: info.operator, expiresAt }) });
      const response = await fetch(`${url}${ROUTES.licensedComponent(version.versionId)}`, {
        headers: { [LICENCE_SIGNATURE_HEADER]: signature, [LICENCE_EXPIRES_HEADER]: expiresAt.toString() },
      }).catch((error: unknown) => error as Error);
      if (response instanceof Error) {
        failures.push(`${url}: ${response.message}`);
        continue;
      }
      if (!response.ok) {
        const body = (await response.json().catch(() => undefined)) as ErrorBody | undefined;
        if (body?.error.code === "LICENCE_REQUIRED") {
          throw new GlassboxError("LICENCE_REQUIRED", body.error.message, `Buy one: glassbox licence buy ${label(version)}`);
        }
        failures.push(`${url}: ${body?.error.message ?? `HTTP ${response.status}`}`);
        continue;
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (sha256Hex(bytes) !== version.hashes.componentHash.toLowerCase()) {
        failures.push(`${url}: served bytes that do not hash to the published componentHash`);
        continue;
      }
      return bytes;
    }
    throw new GlassboxError("COMPONENT_NOT_AVAILABLE", `No executor served the component of ${label(version)}.`, "Pass --executor URL of an executor its maintainer uploaded to.", { failures });
  }

  /**
   * Everything needed to run `version` locally: its manifest (on-chain), WIT (a public blob), component
   * (licensed download, or the cache) and, recursively, its declared dependencies. Each dependency resolves
   * to the newest non-yanked version in its declared range that `account` holds a licence for: a local run
   * needs a licence for every component it runs.
   */
  async fetchForRun(account: LocalAccount, version: VersionView, executorUrls: readonly string[], cache?: ComponentCache, trail: Hex[] = []): Promise<LicensedCapability> {
    if (!(await this.holds(version.versionId, account.address))) {
      const price = await this.price(version.versionId);
      throw new GlassboxError(
        "LICENCE_REQUIRED",
        `${account.address} holds no licence to run ${label(version)} locally${trail.length > 0 ? " (a dependency)" : ""}.`,
        price > 0n ? `It offers one for ${price} USDC base units: glassbox licence buy ${label(version)}` : `${label(version)} offers no licence: call it through an executor (glassbox call).`,
        { version: label(version), price: price.toString() },
      );
    }
    const { manifest } = await this.registry.getManifest(version.versionId);
    const witSource = await readPublicBlob(executorUrls, version.hashes.witHash);
    if (witSource === undefined) throw new GlassboxError("BLOB_NOT_FOUND", `No executor serves the WIT of ${label(version)} (${version.hashes.witHash}).`, "Pass --executor URL of an executor its maintainer uploaded to.");
    let component = await cache?.get(version.hashes.componentHash);
    if (!component || sha256Hex(component) !== version.hashes.componentHash.toLowerCase()) {
      component = await this.download(account, version, executorUrls);
      await cache?.put(version.hashes.componentHash, component);
    }
    const path = [...trail, version.versionId];
    const dependencies: LicensedCapability[] = [];
    for (const dependency of manifest.dependencies ?? []) {
      const chosen = await this.licensedDependency(account, label(version), dependency);
      if (path.includes(chosen.versionId)) throw new GlassboxError("DEPENDENCY_CYCLE", `${label(version)} depends on ${label(chosen)}, which is already in the chain.`);
      dependencies.push(await this.fetchForRun(account, chosen, executorUrls, cache, path));
    }
    return { version, manifest, witSource, component, dependencies };
  }

  /**
   * The version of a dependency to link: the newest in the declared range that `account` holds a licence for,
   * preferring versions that are not yanked (a licence outlives a yank, so a yanked one still runs).
   */
  private async licensedDependency(account: LocalAccount, dependent: string, dependency: { package: string; version: string }): Promise<VersionView> {
    const inRange = (await this.registry.listVersions(dependency.package)).filter((v) => satisfiesRange(v.version, dependency.version));
    const what = `${dependent} depends on ${dependency.package}@${dependency.version}`;
    if (inRange.length === 0) throw new GlassboxError("DEPENDENCY_UNRESOLVED", `${what}, but no published version of it is in that range.`);
    const held = await Promise.all(inRange.map((v) => this.holds(v.versionId, account.address)));
    const licensed = inRange.filter((_, i) => held[i]);
    const newestOf = (versions: VersionView[]) => versions.find((v) => v.version === newestVersion(versions.map((x) => x.version)));
    const chosen = newestOf(licensed.filter((v) => !v.yanked)) ?? newestOf(licensed);
    if (chosen) return chosen;
    const wanted = newestOf(inRange.filter((v) => !v.yanked));
    if (!wanted) throw new GlassboxError("DEPENDENCY_YANKED", `${what}, but every version of it in that range is yanked and ${account.address} holds a licence for none.`);
    const price = await this.price(wanted.versionId);
    throw new GlassboxError(
      "LICENCE_REQUIRED",
      `${what}: running it locally needs a licence for a version of ${dependency.package} in that range too, and ${account.address} holds none.`,
      price > 0n ? `${label(wanted)} offers one for ${price} USDC base units: glassbox licence buy ${label(wanted)}` : `${label(wanted)} offers no licence: call ${dependent} through an executor (glassbox call).`,
      { dependency: dependency.package, version: wanted.version, price: price.toString() },
    );
  }
}
