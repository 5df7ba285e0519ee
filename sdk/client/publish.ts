import type { Account, Address, Hex } from "viem";
import { capabilityRegistryAbi } from "../abi.ts";
import type { Deployment } from "../deployment.ts";
import { packageIdOf, parsePackageRef, sha256Hex, versionIdOf } from "../ids.ts";
import { ACCESS_MODE_CODE, canonicalManifestJson, validateManifest, type Manifest, type PublishedFunction } from "../manifest.ts";
import { UPLOAD_SIGNATURE_HEADER, uploadMessage } from "../upload.ts";
import { describeInterface, formatWitType } from "../wit.ts";
import { sendContractTx, type ChainClients } from "./chain.ts";
import { GlassboxError } from "./errors.ts";
import { RegistryReader } from "./registry.ts";

export interface CapabilityFiles {
  manifest: Manifest;
  component: Uint8Array;
  wit: Uint8Array;
  tests: Uint8Array;
}

export interface PublishResult {
  name: string;
  version: string;
  packageId: Hex;
  versionId: Hex;
  manifestJson: string;
  hashes: { componentHash: Hex; witHash: Hex; testsHash: Hex; manifestHash: Hex };
  transactions: Hex[];
  uploadedTo?: string;
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

/** The exact manifest bytes that go on-chain: validated, with `functions` taken from the WIT. */
export function publishedManifest(files: CapabilityFiles): { manifest: Manifest; json: string } {
  const manifest = validateManifest({ ...files.manifest, functions: publishedFunctions(new TextDecoder().decode(files.wit), files.manifest) });
  return { manifest, json: canonicalManifestJson(manifest) };
}

/** What publishing `files` registers: the published manifest, the ids and the four hashes. */
export interface Publication {
  manifest: Manifest;
  manifestJson: string;
  packageId: Hex;
  versionId: Hex;
  hashes: { componentHash: Hex; witHash: Hex; testsHash: Hex; manifestHash: Hex };
}

export function publicationOf(files: CapabilityFiles): Publication {
  const { manifest, json } = publishedManifest(files);
  const packageId = packageIdOf(manifest.name);
  return {
    manifest,
    manifestJson: json,
    packageId,
    versionId: versionIdOf(packageId, manifest.version),
    hashes: {
      componentHash: sha256Hex(files.component),
      witHash: sha256Hex(files.wit),
      testsHash: sha256Hex(files.tests),
      manifestHash: sha256Hex(json),
    },
  };
}

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

  private send(action: string, request: { functionName: string; args: readonly unknown[] }): Promise<Hex> {
    return sendContractTx(this.clients, action, { address: this.deployments.contracts.registry, abi: capabilityRegistryAbi, ...request });
  }

  /** Registers the package (or fork) if needed, publishes the version, uploads the blobs. */
  async publish(files: CapabilityFiles, opts: { executorUrl?: string; progress?: ProgressReporter } = {}): Promise<PublishResult> {
    const progress = opts.progress ?? silently;
    const { manifest, manifestJson: json, packageId, versionId, hashes } = publicationOf(files);
    const transactions: Hex[] = [];

    const existing = await this.reader.getPackage(manifest.name);
    if (existing && existing.owner.toLowerCase() !== this.account.address.toLowerCase()) {
      throw new GlassboxError(
        "NOT_PACKAGE_OWNER",
        `${manifest.name} belongs to ${existing.owner}, not to ${this.account.address}.`,
        "Publish from the owner's wallet, or fork it under your own scope with `glassbox fork`.",
      );
    }
    if (await this.reader.getVersionById(manifest.name, versionId)) {
      throw new GlassboxError("VERSION_EXISTS", `${manifest.name}@${manifest.version} is already published.`, "Versions are immutable: bump the version in glassbox.json.");
    }
    if (!existing) {
      if (manifest.fork) {
        const parent = parsePackageRef(manifest.fork.parent);
        const parentVersionId = versionIdOf(packageIdOf(parent.name), parent.version);
        transactions.push(
          await progress(`Registering fork ${manifest.name} of ${manifest.fork.parent}`, () =>
            this.send(`Registering fork ${manifest.name}`, {
              functionName: "registerFork",
              args: [manifest.name, parentVersionId, manifest.fork!.upstreamShareBps, manifest.minForkShareBps],
            }),
          ),
        );
      } else {
        transactions.push(
          await progress(`Registering package ${manifest.name}`, () =>
            this.send(`Registering ${manifest.name}`, {
              functionName: "registerPackage",
              args: [manifest.name, manifest.minForkShareBps],
            }),
          ),
        );
      }
    }
    transactions.push(
      await progress(`Publishing ${manifest.name}@${manifest.version} on-chain`, () =>
        this.send(`Publishing ${manifest.name}@${manifest.version}`, {
          functionName: "publishVersion",
          args: [
            packageId,
            manifest.version,
            {
              hashes,
              accessMode: ACCESS_MODE_CODE[manifest.access.mode],
              price: BigInt(manifest.access.price),
              fuelPricePerMillion: BigInt(manifest.access.fuelPricePerMillion),
              splits: manifest.splits,
              manifest: json,
            },
          ],
        }),
      ),
    );
    const result: PublishResult = { name: manifest.name, version: manifest.version, packageId, versionId, manifestJson: json, hashes, transactions };
    if (opts.executorUrl) {
      await progress(`Uploading spec, tests and component to ${opts.executorUrl}`, () => this.upload(opts.executorUrl!, files, json));
      result.uploadedTo = opts.executorUrl;
    }
    return result;
  }

  /** Uploads WIT, tests, manifest and component (last: the executor verifies it against the WIT). */
  async upload(executorUrl: string, files: CapabilityFiles, manifestJson: string): Promise<void> {
    const info = await getJson<{ operator: Address; chainId: number }>(`${executorUrl}/v1/info`);
    const blobs = [files.wit, files.tests, new TextEncoder().encode(manifestJson), files.component];
    for (const bytes of blobs) await this.uploadBlob(executorUrl, info.operator, bytes);
  }

  async uploadBlob(executorUrl: string, operator: Address, bytes: Uint8Array): Promise<void> {
    const hash = sha256Hex(bytes);
    // Through the wallet client, so a browser wallet (a JSON-RPC account) signs as well as a local key.
    const signature = await this.wallet.signMessage({ account: this.account, message: uploadMessage(hash, this.deployments.chainId, operator) });
    const response = await fetch(`${executorUrl}/v1/blobs/${hash}`, {
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
