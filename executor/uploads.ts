import type { Logger } from "pino";
import { getAddress, isHex, type Address, type Hex } from "viem";
import { sha256Hex } from "../sdk/ids.ts";
import { verifyUploadSignature } from "../sdk/upload.ts";
import { LICENCE_REQUEST_MAX_SECONDS, licenceRequestSigner } from "../sdk/licence.ts";
import { LICENCE_EXPIRES_HEADER, LICENCE_SIGNATURE_HEADER, type BlobKind } from "../sdk/protocol.ts";
import type { RegistryView, VersionRecord } from "./chain.ts";
import type { BlobStore } from "./blobs.ts";
import { ApiError, ChainUnavailableError } from "./errors.ts";
import type { ComponentHost } from "./host.ts";
import { uploadRefusal } from "./runtime-errors.ts";

export interface UploadResult {
  hash: Hex;
  kinds: BlobKind[];
  versions: string[];
  /** Versions whose component is callable after this upload. */
  prepared: string[];
  /** Versions whose WIT the component does not implement (or whose WIT is not uploaded yet). */
  rejected: { version: string; code: string; message: string }[];
}

/**
 * Blob uploads and downloads. An upload is accepted when sha256(bytes) is the hash in the path, that
 * hash is registered on-chain as some version's component, WIT, tests, manifest or published source
 * (its sha256 is in the on-chain manifest), and the upload is
 * signed (EIP-191, sdk/upload.ts) by that package's current owner: both as of the upload (the
 * registry synced to its head, owners read fresh), never from a cached view. Components are verified
 * and prepared by the runtime before they are stored. WIT, tests and manifests are public; component
 * bytes are served only to a licence holder's signed request (pay once, run locally). A component that imports other
 * capabilities is accepted only when each import is a declared dependency resolving to a published,
 * non-yanked version this executor already holds (dependencies.ts); its tests run with them linked.
 */
export class BlobService {
  constructor(
    private readonly o: {
      registry: RegistryView;
      blobs: BlobStore;
      host: ComponentHost;
      chainId: number;
      operator: Address;
      log: Logger;
      /** Settlement.hasLicence, read fresh from the chain for each download. */
      hasLicence: (versionId: Hex, holder: Address) => Promise<boolean>;
      now?: () => number;
    },
  ) {}

  async upload(hash: Hex, bytes: Uint8Array, signature: string | undefined): Promise<UploadResult> {
    const actual = sha256Hex(bytes);
    if (actual !== hash) {
      throw new ApiError(400, "BLOB_HASH_MISMATCH", `The uploaded bytes hash to ${actual}, not ${hash}.`, "Upload the exact bytes whose sha256 was published.");
    }
    const uses = await this.o.registry.blobUsesAtHead(hash);
    if (uses.length === 0) {
      throw new ApiError(404, "BLOB_NOT_REGISTERED", `No registered version has ${hash} as its component, WIT, tests or manifest hash.`, "Publish the version on-chain first, then upload its files.");
    }
    if (!signature || !isHex(signature)) {
      throw new ApiError(401, "UPLOAD_UNAUTHORIZED", "The upload must carry the package owner's signature in X-Glassbox-Signature.", `Sign uploadMessage(hash, ${this.o.chainId}, ${this.o.operator}) from sdk/upload.ts with personal_sign.`);
    }
    const owners = new Set<Address>();
    for (const use of uses) owners.add(getAddress(await this.o.registry.ownerOf(use.version.packageId)));
    let authorized = false;
    for (const owner of owners) {
      if (await verifyUploadSignature({ blobHash: hash, chainId: this.o.chainId, executor: this.o.operator, signer: owner, signature })) authorized = true;
    }
    if (!authorized) {
      throw new ApiError(403, "UPLOAD_UNAUTHORIZED", `The signature is not from the owner of ${[...new Set(uses.map((u) => u.version.name))].join(", ")} (${[...owners].join(", ")}).`, `Sign uploadMessage(hash, ${this.o.chainId}, ${this.o.operator}) with the owner's wallet.`);
    }

    // A component is verified against the WIT of every version that uses it; it is stored when at
    // least one pairing verifies, and the refusals are reported per version.
    const prepared: string[] = [];
    const rejected: UploadResult["rejected"] = [];
    let firstRefusal: ApiError | undefined;
    const componentUses = uses.filter((u) => u.kind === "component" && !u.version.yanked);
    for (const use of componentUses) {
      try {
        if (!this.o.host.isReady(use.version.hashes)) await this.prepare(use.version, bytes);
        prepared.push(label(use.version));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        firstRefusal ??= error;
        rejected.push({ version: label(use.version), code: error.code, message: error.message });
      }
    }
    if (firstRefusal && prepared.length === 0 && uses.every((u) => u.kind === "component")) {
      // Nothing accepted the component: refuse the upload (and do not store it).
      throw rejected.length === 1 ? firstRefusal : new ApiError(firstRefusal.status, firstRefusal.code, firstRefusal.message, firstRefusal.hint, { rejected });
    }
    if (!this.o.blobs.has(hash)) await this.o.blobs.put(hash, bytes);
    const result: UploadResult = {
      hash,
      kinds: [...new Set(uses.map((u) => u.kind))],
      versions: [...new Set(uses.map((u) => label(u.version)))],
      prepared,
      rejected,
    };
    this.o.log.info({ hash, kinds: result.kinds, versions: result.versions }, "blob uploaded");
    return result;
  }

  private async prepare(version: VersionRecord, component: Uint8Array): Promise<void> {
    const manifest = version.manifest;
    if (!manifest) {
      throw new ApiError(422, "COMPONENT_REJECTED", `The published manifest of ${label(version)} is not a valid glassbox.json, so its component cannot be verified.`);
    }
    const wit = await this.o.blobs.get(version.hashes.witHash);
    if (!wit) {
      throw new ApiError(409, "COMPONENT_REJECTED", `Upload the WIT of ${label(version)} (${version.hashes.witHash}) before its component: the component is verified against it.`, `PUT /v1/blobs/${version.hashes.witHash} first.`);
    }
    const tests = await this.o.blobs.get(version.hashes.testsHash);
    // Composition: every declared dependency must resolve to a published, non-yanked version this
    // executor already holds (DEPENDENCY_* refusals name it); the executor pulls nothing.
    const dependencies = await this.o.host.resolveDependencies(version);
    try {
      await this.o.host.prepare({
        ...(tests ? { testsJson: new TextDecoder().decode(tests) } : {}),
        componentHash: version.hashes.componentHash,
        witHash: version.hashes.witHash,
        component,
        witSource: new TextDecoder().decode(wit),
        world: manifest.wit.world,
        interfaceName: manifest.wit.interface,
        capabilities: manifest.capabilities,
        dependencies,
      });
    } catch (error) {
      throw uploadRefusal(error, label(version));
    }
  }

  /**
   * Re-prepares every stored component whose WIT is stored too (after a restart). A dependent needs
   * its dependencies prepared first, so passes repeat while they make progress.
   */
  async prepareStored(): Promise<number> {
    let count = 0;
    let failures = new Map<string, string>();
    for (let progress = true; progress; ) {
      progress = false;
      failures = new Map();
      for (const version of this.o.registry.liveVersions()) {
        const hash = version.hashes.componentHash;
        if (this.o.host.isReady(version.hashes) || !this.o.blobs.has(hash) || !this.o.blobs.has(version.hashes.witHash)) continue;
        const bytes = await this.o.blobs.get(hash);
        try {
          await this.prepare(version, bytes!);
          count++;
          progress = true;
        } catch (error) {
          failures.set(label(version), (error as Error).message);
        }
      }
    }
    for (const [version, err] of failures) this.o.log.warn({ version, err }, "stored component could not be prepared");
    return count;
  }

  /**
   * A version's component bytes for a licence holder: the request is signed (sdk/licence.ts) for this
   * executor, this version and an expiry at most LICENCE_REQUEST_MAX_SECONDS ahead, and the signer holds
   * the licence on-chain now. A licence survives a yank (it was paid for), so yanked versions are served too.
   */
  async downloadLicensed(request: { versionId: Hex; signature: string | undefined; expiresAt: string | undefined }): Promise<Uint8Array> {
    const { versionId } = request;
    const how = `Sign licenceDownloadMessage(versionId, ${this.o.chainId}, ${this.o.operator}, expiresAt) from sdk/licence.ts with personal_sign; send it in ${LICENCE_SIGNATURE_HEADER} and expiresAt (unix seconds) in ${LICENCE_EXPIRES_HEADER}.`;
    const now = BigInt(Math.floor((this.o.now?.() ?? Date.now()) / 1000));
    const expiresAt = request.expiresAt !== undefined && /^\d{1,12}$/.test(request.expiresAt) ? BigInt(request.expiresAt) : undefined;
    if (!request.signature || !isHex(request.signature) || expiresAt === undefined) {
      throw new ApiError(401, "LICENCE_SIGNATURE_INVALID", "Component bytes are served only to a licence holder's signed request.", how);
    }
    if (expiresAt <= now || expiresAt > now + LICENCE_REQUEST_MAX_SECONDS) {
      throw new ApiError(401, "LICENCE_REQUEST_EXPIRED", `The download signature expires at ${expiresAt}: it must be in the future and at most ${LICENCE_REQUEST_MAX_SECONDS} s ahead (now ${now}).`, "Sign a fresh request.");
    }
    const version = this.o.registry.versionById(versionId) ?? (await this.o.registry.sync().then(() => this.o.registry.versionById(versionId)));
    if (!version) throw new ApiError(404, "UNKNOWN_VERSION", `No version ${versionId} is registered.`);
    const holder = await licenceRequestSigner({ versionId, chainId: this.o.chainId, executor: this.o.operator, expiresAt, signature: request.signature });
    if (!holder) throw new ApiError(401, "LICENCE_SIGNATURE_INVALID", `${LICENCE_SIGNATURE_HEADER} is not a valid signature.`, how);
    let licensed: boolean;
    try {
      licensed = await this.o.hasLicence(versionId, holder);
    } catch (error) {
      throw new ChainUnavailableError(error);
    }
    if (!licensed) {
      throw new ApiError(403, "LICENCE_REQUIRED", `${holder} holds no licence to run ${label(version)} locally, so its component bytes are not served.`, `Buy one (glassbox licence buy ${label(version)}), or call it through POST /v1/call.`);
    }
    const bytes = await this.o.blobs.get(version.hashes.componentHash);
    if (!bytes) throw new ApiError(404, "COMPONENT_NOT_AVAILABLE", `The component of ${label(version)} was never uploaded to this executor.`, "Try another executor its maintainer uploaded to.");
    this.o.log.info({ version: label(version), holder }, "licensed component downloaded");
    return bytes;
  }

  /** Public blobs (WIT, tests, manifest) by hash; component bytes are refused with 403. */
  async download(hash: Hex): Promise<{ bytes: Uint8Array; contentType: string }> {
    const uses = await this.o.registry.blobUses(hash);
    if (uses.length === 0) throw new ApiError(404, "BLOB_NOT_FOUND", `No registered version uses the blob ${hash}.`);
    if (uses.some((u) => u.kind === "component")) {
      throw new ApiError(403, "BLOB_NOT_PUBLIC", "Component bytes are not served as public blobs: knowledge is free, utility is paid.", "Read the WIT and tests for free; call the component through POST /v1/call, or buy a licence and download it from GET /v1/licensed/<versionId>/component.");
    }
    const kind = uses[0]!.kind;
    let bytes = await this.o.blobs.get(hash);
    const manifestUse = uses.find((u) => u.kind === "manifest");
    if (!bytes && manifestUse) bytes = new TextEncoder().encode(manifestUse.version.manifestText); // on-chain already
    if (!bytes) throw new ApiError(404, "BLOB_NOT_FOUND", `The ${kind} blob ${hash} is registered but was not uploaded to this executor.`);
    // Published source is public too: reading code to learn is never charged.
    const contentType = kind === "wit" ? "text/plain; charset=utf-8" : kind === "source" ? "application/gzip" : "application/json";
    return { bytes, contentType };
  }
}

function label(version: VersionRecord): string {
  return `${version.name}@${version.version}`;
}
