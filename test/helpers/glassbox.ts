import {
  createPublicClient,
  createWalletClient,
  http,
  parseEventLogs,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
} from "viem";
import { hardhat } from "viem/chains";
import { capabilityRegistryAbi, localUsdcAbi, settlementAbi } from "../../sdk/abi.ts";
import type { Deployment } from "../../sdk/deployment.ts";
import { packageIdOf, sha256Hex, versionIdOf } from "../../sdk/ids.ts";
import { ACCESS_MODE_CODE, canonicalManifestJson, type AccessMode, type Manifest, type Split } from "../../sdk/manifest.ts";

/** A valid manifest (sdk/manifest.ts) for tests: override any field. */
export function testManifest(overrides: Partial<Manifest> & { name: string; version: string; recipient: Address }): Manifest {
  const { recipient, ...rest } = overrides;
  return {
    description: `Test capability ${overrides.name}`,
    keywords: [],
    license: "Apache-2.0",
    wit: { file: "capability.wit", world: "capability", interface: "api" },
    component: "component.wasm",
    tests: "tests.json",
    access: { mode: "per-call", price: "1000", fuelPricePerMillion: "0" },
    capabilities: [],
    splits: [{ recipient, bps: 10_000 }],
    minForkShareBps: 0,
    functions: [{ name: "run", params: [{ name: "input", type: "string" }], result: "string" }],
    ...rest,
  };
}

export interface PublishOptions {
  /** Exact manifest text to publish (e.g. invalid JSON); defaults to the canonical JSON of `manifest`. */
  manifestText?: string;
  manifest?: Manifest;
  accessMode?: AccessMode;
  price?: bigint;
  fuelPricePerMillion?: bigint;
  splits?: Split[];
  componentBytes?: string;
}

/**
 * The on-chain actions of Glassbox for one account, each waiting for its receipt (automine: one block
 * per transaction). Used by the indexer tests and bench; reusable by any end-to-end test.
 */
export class GlassboxActor {
  readonly publicClient: PublicClient;
  private readonly wallet;

  constructor(readonly account: LocalAccount, readonly rpcUrl: string, readonly deployment: Deployment) {
    const chain = { ...hardhat, id: deployment.chainId, rpcUrls: { default: { http: [rpcUrl] } } };
    this.publicClient = createPublicClient({ chain, transport: http(rpcUrl) }) as PublicClient;
    this.wallet = createWalletClient({ account, chain, transport: http(rpcUrl) });
  }

  get address(): Address {
    return this.account.address;
  }

  private async confirm(hash: Hex, what: string): Promise<TransactionReceipt> {
    const receipt = await this.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${what} reverted (transaction ${hash})`);
    return receipt;
  }

  async registerPackage(name: string, minForkShareBps = 0): Promise<Hex> {
    const hash = await this.wallet.writeContract({
      address: this.deployment.contracts.registry,
      abi: capabilityRegistryAbi,
      functionName: "registerPackage",
      args: [name, minForkShareBps],
    });
    await this.confirm(hash, `registerPackage(${name})`);
    return packageIdOf(name);
  }

  async registerFork(name: string, parentVersionId: Hex, upstreamShareBps: number, minForkShareBps = 0): Promise<Hex> {
    const hash = await this.wallet.writeContract({
      address: this.deployment.contracts.registry,
      abi: capabilityRegistryAbi,
      functionName: "registerFork",
      args: [name, parentVersionId, upstreamShareBps, minForkShareBps],
    });
    await this.confirm(hash, `registerFork(${name})`);
    return packageIdOf(name);
  }

  /** Publishes `name@version` (the package must exist); returns the versionId. */
  async publishVersion(name: string, version: string, options: PublishOptions = {}): Promise<{ versionId: Hex; receipt: TransactionReceipt }> {
    const manifest = options.manifest ?? testManifest({ name, version, recipient: this.address });
    const manifestText = options.manifestText ?? canonicalManifestJson(manifest);
    const accessMode = options.accessMode ?? manifest.access.mode;
    const packageId = packageIdOf(name);
    const hash = await this.wallet.writeContract({
      address: this.deployment.contracts.registry,
      abi: capabilityRegistryAbi,
      functionName: "publishVersion",
      args: [
        packageId,
        version,
        {
          hashes: {
            componentHash: sha256Hex(options.componentBytes ?? `component of ${name}@${version}`),
            witHash: sha256Hex(`wit of ${name}@${version}`),
            testsHash: sha256Hex(`tests of ${name}@${version}`),
            manifestHash: sha256Hex(manifestText),
          },
          accessMode: ACCESS_MODE_CODE[accessMode],
          price: options.price ?? BigInt(manifest.access.price),
          fuelPricePerMillion: options.fuelPricePerMillion ?? BigInt(manifest.access.fuelPricePerMillion),
          splits: options.splits ?? manifest.splits,
          manifest: manifestText,
        },
      ],
    });
    const receipt = await this.confirm(hash, `publishVersion(${name}@${version})`);
    return { versionId: versionIdOf(packageId, version), receipt };
  }

  async yankVersion(versionId: Hex): Promise<void> {
    const hash = await this.wallet.writeContract({
      address: this.deployment.contracts.registry,
      abi: capabilityRegistryAbi,
      functionName: "yankVersion",
      args: [versionId],
    });
    await this.confirm(hash, `yankVersion(${versionId})`);
  }

  async registerExecutor(endpoint: string, feePerCall: bigint): Promise<void> {
    const hash = await this.wallet.writeContract({
      address: this.deployment.contracts.registry,
      abi: capabilityRegistryAbi,
      functionName: "registerExecutor",
      args: [endpoint, feePerCall],
    });
    await this.confirm(hash, "registerExecutor");
  }

  /** The fee is fixed at registration: only the endpoint changes. */
  async updateExecutor(endpoint: string): Promise<void> {
    const hash = await this.wallet.writeContract({
      address: this.deployment.contracts.registry,
      abi: capabilityRegistryAbi,
      functionName: "updateExecutor",
      args: [endpoint],
    });
    await this.confirm(hash, "updateExecutor");
  }

  async deregisterExecutor(): Promise<void> {
    const hash = await this.wallet.writeContract({
      address: this.deployment.contracts.registry,
      abi: capabilityRegistryAbi,
      functionName: "deregisterExecutor",
      args: [],
    });
    await this.confirm(hash, "deregisterExecutor");
  }

  /** LocalUSDC's open faucet. */
  async mintUsdc(to: Address, amount: bigint): Promise<void> {
    const hash = await this.wallet.writeContract({
      address: this.deployment.contracts.usdc,
      abi: localUsdcAbi,
      functionName: "mint",
      args: [to, amount],
    });
    await this.confirm(hash, "mint");
  }

  async claim(): Promise<bigint> {
    const hash = await this.wallet.writeContract({
      address: this.deployment.contracts.settlement,
      abi: settlementAbi,
      functionName: "claim",
      args: [],
    });
    const receipt = await this.confirm(hash, "claim");
    const claimed = parseEventLogs({ abi: settlementAbi, logs: receipt.logs, eventName: "Claimed" });
    return claimed[0]?.args.amount ?? 0n;
  }

  async settlementBalance(account: Address): Promise<bigint> {
    return this.publicClient.readContract({
      address: this.deployment.contracts.settlement,
      abi: settlementAbi,
      functionName: "balanceOf",
      args: [account],
    });
  }
}
