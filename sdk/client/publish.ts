import type { Account, Address, Hex } from "viem";
import { capabilityRegistryAbi } from "../abi.ts";
import { canonicalJson } from "../canonical-json.ts";
import type { Deployment } from "../deployment.ts";
import { packageIdOf, parsePackageRef, sha256Hex, versionIdOf } from "../ids.ts";
import { ACCESS_MODE_CODE, canonicalManifestJson, validateManifest, type Manifest, type PublishedFunction } from "../manifest.ts";
import { ROUTES, type BlobKind } from "../protocol.ts";
import { UPLOAD_SIGNATURE_HEADER, uploadMessage } from "../upload.ts";
import { describeInterface, formatWitType } from "../wit.ts";
import { publicBlobServed } from "./blobs.ts";
import { sendContractTx, type ChainClients, type WriteArgs, type WriteFunctionName } from "./chain.ts";
import { GlassboxError } from "./errors.ts";
import { RegistryReader, type PackageView, type VersionView } from "./registry.ts";

export interface CapabilityFiles {
  manifest: Manifest;
  component: Uint8Array;
  wit: Uint8Array;
  tests: Uint8Array;
  /** The source tarball (sdk/source-archive.ts), when the manifest publishes its source (`source.publish`). */
  source?: Uint8Array;
}

type VersionHashes = VersionView["hashes"];

export interface PublishResult {
  name: string;
  version: string;
  packageId: Hex;
  versionId: Hex;
  manifestJson: string;
  hashes: VersionHashes;
  transactions: Hex[];
  /** True when this exact version was registered before (a resumed publish): nothing was sent on-chain. */
  alreadyRegistered: boolean;
  uploadedTo?: string;
  /** What this run uploaded; the executor already served the rest. */
  uploaded?: BlobKind[];
}

export interface UploadResult {
  name: string;
  version: string;
  versionId: Hex;
  uploadedTo: string;
  /** What this run uploaded; the executor already served the rest. */
  uploaded: BlobKind[];
}

export type ProgressReporter = <T>(label: string, work: () => Promise<T>) => Promise<T>;
const silently: ProgressReporter = (_label, work) => work();

/** The exported interface's functions, printed as WIT text, for the published manifest. */
export function publishedFunctions(witSource: string, manifest: Manifest): PublishedFunction[] {
  const iface = describeInterface(witSource, manifest.wit.world, manifest.wit.interface);
  return iface.functions.map((fn) => ({
    name: fn.name,
    params: fn.params.map((p) => ({ name: p.name, type: formatWitType(p.type) })),
    result: fn.result ? formatWitType(fn.result) : null,
  }));
}

/**
 * The exact manifest bytes that go on-chain: validated, with `functions` taken from the WIT and,
 * when the source is published, `sourceHash` from the source tarball (so the chain pins it).
 */
export function publishedManifest(files: CapabilityFiles): { manifest: Manifest; json: string } {
  const publishesSource = files.manifest.source?.publish === true;
  if (publishesSource && !files.source) {
    throw new GlassboxError("SOURCE_MISSING", `${files.manifest.name}@${files.manifest.version} says "source.publish": true but no source archive was given.`, "Publish with the CLI (it packs the project's files), or pass CapabilityFiles.source.");
  }
  const { sourceHash: _declared, ...rest } = files.manifest;
  const manifest = validateManifest({
    ...rest,
    functions: publishedFunctions(new TextDecoder().decode(files.wit), files.manifest),
    ...(publishesSource && files.source ? { sourceHash: sha256Hex(files.source) } : {}),
  });
  return { manifest, json: canonicalManifestJson(manifest) };
}

/**
 * Refuses splits whose recipient could never claim its earnings: a placeholder (below 0x10000:
 * precompiles and stand-ins like 0x…0001 whose key nobody holds; the manifest schema already refuses
 * the zero address), and the Glassbox contracts and the USDC token of `deployment` (a contract
 * cannot call claim).
 */
export function assertClaimableSplits(manifest: Manifest, deployment: Deployment): void {
  const contracts = new Map<string, string>([
    [deployment.contracts.registry.toLowerCase(), "the CapabilityRegistry contract"],
    [deployment.contracts.settlement.toLowerCase(), "the Settlement contract"],
    [deployment.contracts.usdc.toLowerCase(), "the USDC token contract"],
  ]);
  const problems = manifest.splits.flatMap((split, i) => {
    const what = BigInt(split.recipient) < 0x10000n ? "a placeholder address" : contracts.get(split.recipient.toLowerCase());
    return what ? [{ field: `splits[${i}].recipient`, recipient: split.recipient, what }] : [];
  });
  if (problems.length === 0) return;
  throw new GlassboxError(
    "UNCLAIMABLE_RECIPIENT",
    `${problems.map((p) => `${p.field} ${p.recipient} is ${p.what}`).join("; ")}: its share of every paid call could never be claimed. Refusing to publish ${manifest.name}@${manifest.version}.`,
    'Put an address you control in "splits" of glassbox.json (`glassbox init` writes your wallet\'s when given --dev-account N, --keystore FILE or GLASSBOX_PRIVATE_KEY).',
    { issues: problems.map(({ field, what }) => ({ field, message: `is ${what}` })) },
  );
}

/** What publishing `files` registers: the published manifest (object and exact bytes), the ids and the four hashes. */
export interface Publication {
  manifest: Manifest;
  manifestJson: string;
  packageId: Hex;
  versionId: Hex;
  hashes: VersionHashes;
}

export function publicationOf(files: CapabilityFiles): Publication {
  return planVersion(files);
}

/** A publication and its files in upload order. */
interface VersionPlan extends Publication {
  blobs: [BlobKind, Uint8Array][];
}

function planVersion(files: CapabilityFiles): VersionPlan {
  const { manifest, json } = publishedManifest(files);
  const packageId = packageIdOf(manifest.name);
  const manifestBytes = new TextEncoder().encode(json);
  return {
    manifest,
    manifestJson: json,
    packageId,
    versionId: versionIdOf(packageId, manifest.version),
    hashes: { componentHash: sha256Hex(files.component), witHash: sha256Hex(files.wit), testsHash: sha256Hex(files.tests), manifestHash: sha256Hex(manifestBytes) },
    // The component goes last: the executor verifies it against the WIT it already holds.
    blobs: [
      ["wit", files.wit],
      ["tests", files.tests],
      ["manifest", manifestBytes],
      ...(manifest.sourceHash && files.source ? ([["source", files.source]] as [BlobKind, Uint8Array][]) : []),
      ["component", files.component],
    ],
  };
}

const label = (plan: VersionPlan) => `${plan.manifest.name}@${plan.manifest.version}`;

export class Publisher {
  private readonly reader: RegistryReader;
  constructor(
    private readonly clients: ChainClients,
    private readonly deployments: Deployment,
  ) {
    this.reader = new RegistryReader(clients, deployments);
  }

  private get wallet(): NonNullable<ChainClients["walletClient"]> {
    const wallet = this.clients.walletClient;
    if (!wallet) throw new GlassboxError("NO_WALLET", "Publishing needs a wallet.", "Pass an account to Glassbox.connect.");
    return wallet;
  }

  private get account(): Account {
    return this.wallet.account;
  }

  private send<functionName extends WriteFunctionName<typeof capabilityRegistryAbi>>(
    action: string,
    request: { functionName: functionName; args: WriteArgs<typeof capabilityRegistryAbi, functionName> },
  ): Promise<Hex> {
    return sendContractTx(this.clients, action, { address: this.deployments.contracts.registry, abi: capabilityRegistryAbi, ...request });
  }

  /**
   * Registers the package (or fork) if needed, publishes the version, and uploads what the executor
   * is missing. Resumable: a version already registered with the same hashes is not sent again, only
   * its missing files are uploaded; one registered with other files is refused, naming them.
   */
  async publish(files: CapabilityFiles, opts: { executorUrl?: string; progress?: ProgressReporter } = {}): Promise<PublishResult> {
    const progress = opts.progress ?? silently;
    const plan = planVersion(files);
    assertClaimableSplits(plan.manifest, this.deployments);
    const existing = await this.ownPackage(plan);
    const registered = await this.registeredVersion(plan);
    const transactions = registered ? [] : await this.register(plan, existing, progress);
    const result: PublishResult = {
      name: plan.manifest.name,
      version: plan.manifest.version,
      packageId: plan.packageId,
      versionId: plan.versionId,
      manifestJson: plan.manifestJson,
      hashes: plan.hashes,
      transactions,
      alreadyRegistered: registered !== undefined,
    };
    if (opts.executorUrl) {
      const executorUrl = opts.executorUrl;
      result.uploaded = await progress(`Uploading what ${executorUrl} is missing of ${label(plan)}`, () => this.uploadMissing(executorUrl, plan));
      result.uploadedTo = executorUrl;
    }
    return result;
  }

  /** Uploads to `executorUrl` what it is missing of a version registered on-chain with exactly these files. */
  async upload(files: CapabilityFiles, opts: { executorUrl: string; progress?: ProgressReporter }): Promise<UploadResult> {
    const progress = opts.progress ?? silently;
    const plan = planVersion(files);
    await this.ownPackage(plan);
    const registered = await this.registeredVersion(plan);
    if (!registered) {
      throw new GlassboxError("VERSION_NOT_REGISTERED", `${label(plan)} is not registered on-chain, so no executor accepts its files.`, "Publish it first: `glassbox publish` registers it and uploads.");
    }
    const uploaded = await progress(`Uploading what ${opts.executorUrl} is missing of ${label(plan)}`, () => this.uploadMissing(opts.executorUrl, plan));
    return { name: plan.manifest.name, version: plan.manifest.version, versionId: plan.versionId, uploadedTo: opts.executorUrl, uploaded };
  }

  /** The package, if registered, after checking this wallet owns it. */
  private async ownPackage(plan: VersionPlan): Promise<PackageView | undefined> {
    const existing = await this.reader.getPackage(plan.manifest.name);
    if (existing && existing.owner.toLowerCase() !== this.account.address.toLowerCase()) {
      throw new GlassboxError(
        "NOT_PACKAGE_OWNER",
        `${plan.manifest.name} belongs to ${existing.owner}, not to ${this.account.address}.`,
        "Publish from the owner's wallet, or fork it under your own scope with `glassbox fork`.",
      );
    }
    return existing;
  }

  /** The version on-chain, if registered: only with exactly these files, and not yanked. */
  private async registeredVersion(plan: VersionPlan): Promise<VersionView | undefined> {
    const registered = await this.reader.getVersionById(plan.manifest.name, plan.versionId);
    if (!registered) return undefined;
    const artefacts: { key: keyof VersionHashes; name: string }[] = [
      { key: "componentHash", name: `the component (${plan.manifest.component})` },
      { key: "witHash", name: `the WIT (${plan.manifest.wit.file})` },
      { key: "testsHash", name: `the test vectors (${plan.manifest.tests})` },
      { key: "manifestHash", name: "glassbox.json" },
    ];
    const differing = artefacts.filter((a) => registered.hashes[a.key] !== plan.hashes[a.key]);
    if (differing.length > 0) {
      const names = await Promise.all(differing.map(async (a) => (a.key === "manifestHash" ? `glassbox.json${await this.changedManifestFields(plan)}` : a.name)));
      throw new GlassboxError(
        "VERSION_EXISTS",
        `${label(plan)} is already registered with other files: ${names.join(" and ")} differ${differing.length === 1 ? "s" : ""} from the registered version.`,
        'Published versions are immutable: bump "version" in glassbox.json to publish these files (or restore the registered files to resume an upload).',
        { differing: differing.map((a) => ({ artefact: a.key.replace(/Hash$/, ""), registered: registered.hashes[a.key], local: plan.hashes[a.key] })) },
      );
    }
    if (registered.yanked) {
      throw new GlassboxError("VERSION_YANKED", `${label(plan)} is registered but was yanked: nobody can call it.`, 'Bump "version" in glassbox.json and publish again.');
    }
    return registered;
  }

  /** " (description, access)": the top-level manifest fields that differ from the registered manifest. */
  private async changedManifestFields(plan: VersionPlan): Promise<string> {
    const registered = JSON.parse((await this.reader.getManifest(plan.versionId)).raw) as Record<string, unknown>;
    const local = JSON.parse(plan.manifestJson) as Record<string, unknown>;
    const fields = [...new Set([...Object.keys(registered), ...Object.keys(local)])].filter((key) => canonicalJson(registered[key]) !== canonicalJson(local[key]));
    return fields.length > 0 ? ` (${fields.sort().join(", ")})` : "";
  }

  private async register(plan: VersionPlan, existing: PackageView | undefined, progress: ProgressReporter): Promise<Hex[]> {
    const { manifest } = plan;
    const transactions: Hex[] = [];
    if (!existing) {
      if (manifest.fork) {
        const fork = manifest.fork;
        const parent = parsePackageRef(fork.parent);
        const parentVersionId = versionIdOf(packageIdOf(parent.name), parent.version);
        transactions.push(
          await progress(`Registering fork ${manifest.name} of ${fork.parent}`, () =>
            this.send(`Registering fork ${manifest.name}`, {
              functionName: "registerFork",
              args: [manifest.name, parentVersionId, fork.upstreamShareBps, manifest.minForkShareBps],
            }),
          ),
        );
      } else {
        transactions.push(
          await progress(`Registering package ${manifest.name}`, () =>
            this.send(`Registering ${manifest.name}`, { functionName: "registerPackage", args: [manifest.name, manifest.minForkShareBps] }),
          ),
        );
      }
    }
    transactions.push(
      await progress(`Publishing ${label(plan)} on-chain`, () =>
        this.send(`Publishing ${label(plan)}`, {
          functionName: "publishVersion",
          args: [
            plan.packageId,
            manifest.version,
            {
              hashes: plan.hashes,
              accessMode: ACCESS_MODE_CODE[manifest.access.mode],
              price: BigInt(manifest.access.price),
              fuelPricePerMillion: BigInt(manifest.access.fuelPricePerMillion),
              splits: manifest.splits,
              manifest: plan.manifestJson,
            },
          ],
        }),
      ),
    );
    const licencePrice = manifest.access.licencePrice;
    if (licencePrice) {
      transactions.push(
        await progress(`Offering a licence to run ${label(plan)} locally`, () =>
          this.send(`Offering a licence for ${label(plan)}`, { functionName: "setLicencePrice", args: [plan.versionId, BigInt(licencePrice)] }),
        ),
      );
    }
    return transactions;
  }

  /**
   * Uploads the files the executor does not serve yet: public files it cannot answer a HEAD for, and
   * the component unless the executor lists the version as callable.
   */
  private async uploadMissing(executorUrl: string, plan: VersionPlan): Promise<BlobKind[]> {
    const info = await getJson<{ operator: Address; packages?: { versionId?: string }[] }>(`${executorUrl}${ROUTES.info}`);
    const uploaded: BlobKind[] = [];
    for (const [kind, bytes] of plan.blobs) {
      const served = kind === "component" ? Boolean(info.packages?.some((p) => p.versionId === plan.versionId)) : await publicBlobServed(executorUrl, sha256Hex(bytes));
      if (served) continue;
      await this.uploadBlob(executorUrl, info.operator, bytes);
      uploaded.push(kind);
    }
    return uploaded;
  }

  async uploadBlob(executorUrl: string, operator: Address, bytes: Uint8Array): Promise<void> {
    const hash = sha256Hex(bytes);
    // Through the wallet client, so a browser wallet (a JSON-RPC account) signs as well as a local key.
    const signature = await this.wallet.signMessage({ account: this.account, message: uploadMessage(hash, this.deployments.chainId, operator) });
    const response = await fetch(`${executorUrl}${ROUTES.blob(hash)}`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", [UPLOAD_SIGNATURE_HEADER]: signature },
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string; hint?: string } };
      throw new GlassboxError(
        body.error?.code ?? "UPLOAD_FAILED",
        `The executor refused blob ${hash}: ${body.error?.message ?? response.statusText}`,
        body.error?.hint,
      );
    }
  }
}

export async function getJson<T>(url: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new GlassboxError("UNREACHABLE", `Cannot reach ${url}: ${(error as Error).message}`, "Is the service running? `npm start` starts the local stack.");
  }
  const body = (await response.json().catch(() => undefined)) as T & { error?: { code?: string; message?: string; hint?: string } };
  if (!response.ok) {
    throw new GlassboxError(body?.error?.code ?? `HTTP_${response.status}`, body?.error?.message ?? `${url} answered ${response.status}`, body?.error?.hint);
  }
  return body;
}
