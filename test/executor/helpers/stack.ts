import { readFile } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createPublicClient, createWalletClient, http, type Address, type Hex, type LocalAccount, type PublicClient } from "viem";
import { hardhat } from "viem/chains";
import { capabilityRegistryAbi, localUsdcAbi, settlementAbi } from "../../../sdk/abi.ts";
import type { Deployment } from "../../../sdk/deployment.ts";
import { packageIdOf, sha256Hex, versionIdOf } from "../../../sdk/ids.ts";
import { ACCESS_MODE_CODE, canonicalManifestJson, type AccessMode, type Dependency, type Manifest } from "../../../sdk/manifest.ts";
import { uploadMessage, UPLOAD_SIGNATURE_HEADER } from "../../../sdk/upload.ts";
import { buildComponent, buildWatComponent } from "../../../runtime/builder/index.ts";
import { devAccount, devPrivateKey, startLocalChain, type LocalChain } from "../../helpers/chain.ts";
import { deployForTest } from "../../helpers/deploy.ts";

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures");

/** A one-function WAT component: add(a: s32, b: s32) -> s32 (sub-millisecond calls, for overhead measurements). */
export async function buildAdder(): Promise<CalcArtifacts> {
  const wit = `package glassbox:adder@1.0.0;\n\ninterface adder {\n  add: func(a: s32, b: s32) -> s32;\n}\n\nworld adder-world {\n  export adder;\n}\n`;
  const wat = `(module (func (export "glassbox:adder/adder@1.0.0#add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add) (memory (export "memory") 1))`;
  const component = await buildWatComponent({ wat, witSource: wit, world: "adder-world" });
  const tests = JSON.stringify({ world: "adder-world", interface: "adder", cases: [{ name: "adds", function: "add", args: [2, 3], expect: { ok: 5 } }] });
  return { wit, component, tests };
}

export interface CalcArtifacts {
  wit: string;
  component: Uint8Array;
  tests: string;
}

/**
 * The calc fixture built with the real runtime build (QuickJS backend, cached by content).
 * A `variant` label gives different component bytes (and hash) with the same behaviour.
 */
export async function buildCalc(variant?: string): Promise<CalcArtifacts> {
  const wit = await readFile(path.join(FIXTURES, "calc.wit"), "utf8");
  const source = (await readFile(path.join(FIXTURES, "calc.js"), "utf8")) + (variant ? `\nglobalThis.glassboxVariant = ${JSON.stringify(variant)};\n` : "");
  const tests = await readFile(path.join(FIXTURES, "calc.tests.json"), "utf8");
  const built = await buildComponent({ witSource: wit, world: "calc-world", source, language: "js", backend: "qjs" });
  return { wit, component: built.bytes, tests };
}

export interface PublishInput {
  name: string;
  version: string;
  mode: AccessMode;
  price?: bigint;
  fuelPricePerMillion?: bigint;
  artifacts: CalcArtifacts;
  capabilities?: string[];
  world?: string;
  interfaceName?: string;
  /** Declared dependencies (composition). */
  dependencies?: Dependency[];
  /** A published source tarball: its sha256 goes into the manifest (sourceHash). */
  source?: Uint8Array;
  /** Offer a licence to run it locally at this price (access.licencePrice, then setLicencePrice). */
  licencePrice?: bigint;
}

export interface Published {
  versionId: Hex;
  componentHash: Hex;
  witHash: Hex;
  testsHash: Hex;
  manifestHash: Hex;
  manifestText: string;
}

/**
 * A local chain with the real contracts, a maintainer (dev account 1) who publishes packages with real
 * artefact hashes, a funded payer (dev 2) and an operator key (dev 3) for executors.
 */
export class TestStack {
  readonly maintainer: LocalAccount = devAccount(1);
  readonly payer: LocalAccount = devAccount(2);
  readonly operatorKey: Hex = devPrivateKey(3);
  readonly operator: LocalAccount = devAccount(3);
  readonly stranger: LocalAccount = devAccount(4);
  readonly client: PublicClient;
  private readonly dirs: string[] = [];

  private constructor(readonly chain: LocalChain, readonly deployment: Deployment) {
    this.client = createPublicClient({ chain: this.viemChain(), transport: http(chain.rpcUrl) }) as PublicClient;
  }

  /** Starts an in-process chain, or uses `chain` (e.g. a `hardhat node` child process). */
  static async start(chain?: LocalChain): Promise<TestStack> {
    chain ??= await startLocalChain();
    const deployment = await deployForTest(chain.rpcUrl);
    const stack = new TestStack(chain, deployment);
    await stack.mint(stack.payer.address, 1_000_000_000n); // 1000 USDC
    return stack;
  }

  viemChain() {
    return { ...hardhat, id: this.deployment?.chainId ?? 31337, rpcUrls: { default: { http: [this.chain.rpcUrl] } } };
  }

  wallet(account: LocalAccount) {
    return createWalletClient({ account, chain: this.viemChain(), transport: http(this.chain.rpcUrl) });
  }

  async confirm(hash: Hex): Promise<void> {
    const receipt = await this.client.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
  }

  async mint(to: Address, amount: bigint): Promise<void> {
    await this.confirm(
      await this.wallet(this.maintainer).writeContract({ address: this.deployment.contracts.usdc, abi: localUsdcAbi, functionName: "mint", args: [to, amount] }),
    );
  }

  async usdcBalance(account: Address): Promise<bigint> {
    return this.client.readContract({ address: this.deployment.contracts.usdc, abi: localUsdcAbi, functionName: "balanceOf", args: [account] });
  }

  async settlementBalance(account: Address): Promise<bigint> {
    return this.client.readContract({ address: this.deployment.contracts.settlement, abi: settlementAbi, functionName: "balanceOf", args: [account] });
  }

  /** Settlement.nextSeq(executor): royalty lines below it are settled. */
  async nextSeq(executor: Address): Promise<bigint> {
    return this.client.readContract({ address: this.deployment.contracts.settlement, abi: settlementAbi, functionName: "nextSeq", args: [executor] });
  }

  async bondOf(executor: Address): Promise<bigint> {
    return this.client.readContract({ address: this.deployment.contracts.settlement, abi: settlementAbi, functionName: "bondOf", args: [executor] });
  }

  /** Every RoyaltiesSettled event (for exactly-once counts: the seq ranges must tile 1..n without overlap). */
  async royaltyBatches(): Promise<{ executor: Address; firstSeq: bigint; count: bigint; total: bigint; transactionHash: Hex }[]> {
    const logs = await this.client.getContractEvents({
      address: this.deployment.contracts.settlement,
      abi: settlementAbi,
      eventName: "RoyaltiesSettled",
      fromBlock: BigInt(this.deployment.startBlock),
    });
    return logs.map((l) => ({ executor: l.args.executor!, firstSeq: BigInt(l.args.firstSeq!), count: BigInt(l.args.count!), total: l.args.total!, transactionHash: l.transactionHash }));
  }

  /** Mints `amount` to the operator, so it can post a bond (and pay royalties before its first claim). */
  async fundOperator(amount: bigint): Promise<void> {
    await this.mint(this.operator.address, amount);
  }

  /** Registers the package if needed and publishes a version whose hashes are the real artefacts'. */
  async publish(input: PublishInput, owner: LocalAccount = this.maintainer): Promise<Published> {
    const wallet = this.wallet(owner);
    const registry = this.deployment.contracts.registry;
    const packageId = packageIdOf(input.name);
    const pkg = await this.client.readContract({ address: registry, abi: capabilityRegistryAbi, functionName: "getPackage", args: [packageId] }).catch(() => undefined);
    if (!pkg || pkg.owner === "0x0000000000000000000000000000000000000000") {
      await this.confirm(await wallet.writeContract({ address: registry, abi: capabilityRegistryAbi, functionName: "registerPackage", args: [input.name, 0] }));
    }
    const price = input.price ?? (input.mode === "free" ? 0n : 1_000n);
    const fuelPricePerMillion = input.fuelPricePerMillion ?? (input.mode === "per-fuel" ? 10n : 0n);
    const manifest: Manifest = {
      name: input.name,
      version: input.version,
      description: `test capability ${input.name}`,
      keywords: ["test"],
      license: "Apache-2.0",
      wit: { file: "calc.wit", world: input.world ?? "calc-world", interface: input.interfaceName ?? "calc" },
      component: "calc.wasm",
      tests: "calc.tests.json",
      access: {
        mode: input.mode,
        price: price.toString(),
        fuelPricePerMillion: fuelPricePerMillion.toString(),
        ...(input.licencePrice ? { licencePrice: input.licencePrice.toString() } : {}),
      },
      capabilities: input.capabilities ?? [],
      splits: [{ recipient: owner.address, bps: 10_000 }],
      minForkShareBps: 0,
      ...(input.dependencies?.length ? { dependencies: input.dependencies } : {}),
      ...(input.source ? { source: { entry: "calc.js", publish: true }, sourceHash: sha256Hex(input.source) } : {}),
    };
    const manifestText = canonicalManifestJson(manifest);
    const hashes = {
      componentHash: sha256Hex(input.artifacts.component),
      witHash: sha256Hex(input.artifacts.wit),
      testsHash: sha256Hex(input.artifacts.tests),
      manifestHash: sha256Hex(manifestText),
    };
    await this.confirm(
      await wallet.writeContract({
        address: registry,
        abi: capabilityRegistryAbi,
        functionName: "publishVersion",
        args: [
          packageId,
          input.version,
          { hashes, accessMode: ACCESS_MODE_CODE[input.mode], price, fuelPricePerMillion, splits: manifest.splits, manifest: manifestText },
        ],
      }),
    );
    const versionId = versionIdOf(packageId, input.version);
    if (input.licencePrice) {
      await this.confirm(await wallet.writeContract({ address: registry, abi: capabilityRegistryAbi, functionName: "setLicencePrice", args: [versionId, input.licencePrice] }));
    }
    return { versionId, ...hashes, manifestText };
  }

  async yank(versionId: Hex, owner: LocalAccount = this.maintainer): Promise<void> {
    await this.confirm(
      await this.wallet(owner).writeContract({ address: this.deployment.contracts.registry, abi: capabilityRegistryAbi, functionName: "yankVersion", args: [versionId] }),
    );
  }

  /** PUT /v1/blobs/<hash> signed by `signer` (the package owner by default). */
  async upload(executorUrl: string, executor: Address, bytes: Uint8Array | string, signer: LocalAccount = this.maintainer, hash?: Hex): Promise<Response> {
    const body = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
    const blobHash = hash ?? sha256Hex(body);
    const signature = await signer.signMessage({ message: uploadMessage(blobHash, this.deployment.chainId, executor) });
    return fetch(`${executorUrl}/v1/blobs/${blobHash}`, { method: "PUT", body: body as Uint8Array<ArrayBuffer>, headers: { [UPLOAD_SIGNATURE_HEADER]: signature } });
  }

  /** Uploads WIT, tests and component (in that order); throws on any refusal. */
  async uploadAll(executorUrl: string, executor: Address, artifacts: CalcArtifacts): Promise<void> {
    for (const bytes of [artifacts.wit, artifacts.tests, artifacts.component]) {
      const response = await this.upload(executorUrl, executor, bytes);
      if (response.status !== 201) throw new Error(`upload refused: ${response.status} ${await response.text()}`);
    }
  }

  async tempDir(prefix = "glassbox-executor-"): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  async close(): Promise<void> {
    await this.chain.close();
    for (const dir of this.dirs) await rm(dir, { recursive: true, force: true });
  }
}
