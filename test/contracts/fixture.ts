/**
 * Shared fixture for the contract tests: a fresh in-process Hardhat chain with LocalUSDC, CapabilityRegistry
 * and Settlement deployed, typed contract handles from sdk/abi.ts, and helpers that publish packages and build
 * signed settlement items (EIP-3009 authorization + EIP-712 receipt) the way executors and x402 clients do.
 */
import { network } from "hardhat";
import {
  getAddress,
  getContract,
  keccak256,
  toHex,
  type Account,
  type Address,
  type Hex,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { capabilityRegistryAbi, localUsdcAbi, settlementAbi } from "../../sdk/abi.ts";
import { packageIdOf, sha256Hex, versionIdOf } from "../../sdk/ids.ts";
import { TRANSFER_WITH_AUTHORIZATION_TYPES, type TransferAuthorization } from "../../sdk/eip3009.ts";
import { RECEIPT_TYPES, receiptDomain, type Receipt } from "../../sdk/receipt.ts";

/** Checksummed address of a Hardhat wallet client (their `account.address` is lowercase). */
export const addrOf = (wallet: { account: { address: Address } }): Address => getAddress(wallet.account.address);

export const AccessMode = { Free: 0, PerCall: 1, PerFuel: 2 } as const;
export const CreditKind = { ExecutorFee: 0, Royalty: 1, Upstream: 2 } as const;

export { TRANSFER_WITH_AUTHORIZATION_TYPES };
export type Authorization = TransferAuthorization;

export interface SettlementItem {
  receipt: Receipt;
  receiptSignature: Hex;
  authorization: Authorization;
  paymentSignature: Hex;
}

export interface Split {
  recipient: Address;
  bps: number;
}

export async function deployGlassboxFixture() {
  const connection = await network.create();
  const { viem, networkHelpers } = connection;
  const publicClient = await viem.getPublicClient();
  const wallets = await viem.getWalletClients();
  type Wallet = (typeof wallets)[number];
  const chainId = await publicClient.getChainId();
  const [deployer, maintainer, executorWallet, other, forker] = wallets as [Wallet, Wallet, Wallet, Wallet, Wallet];

  const usdcDeployed = await viem.deployContract("LocalUSDC");
  const registryDeployed = await viem.deployContract("CapabilityRegistry");
  const settlementDeployed = await viem.deployContract("Settlement", [registryDeployed.address, usdcDeployed.address]);

  const client = { public: publicClient, wallet: deployer };
  const usdc = getContract({ address: usdcDeployed.address, abi: localUsdcAbi, client });
  const registry = getContract({ address: registryDeployed.address, abi: capabilityRegistryAbi, client });
  const settlement = getContract({ address: settlementDeployed.address, abi: settlementAbi, client });

  /** The same contract bound to another wallet (msg.sender). */
  const as = <A extends typeof capabilityRegistryAbi | typeof settlementAbi | typeof localUsdcAbi>(
    abi: A,
    address: Address,
    wallet: Wallet,
  ) => getContract({ address, abi, client: { public: publicClient, wallet } });
  const registryAs = (wallet: Wallet) => as(capabilityRegistryAbi, registry.address, wallet);
  const settlementAs = (wallet: Wallet) => as(settlementAbi, settlement.address, wallet);

  async function mined(hash: Hex) {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
    return receipt;
  }

  /** Registers `name` (unless it exists) and publishes `version` from `wallet`. */
  async function publish(options: {
    wallet?: Wallet;
    name: string;
    version?: string;
    splits?: Split[];
    accessMode?: number;
    price?: bigint;
    fuelPricePerMillion?: bigint;
    minForkShareBps?: number;
    fork?: { parentVersionId: Hex; upstreamShareBps: number };
  }): Promise<{ packageId: Hex; versionId: Hex }> {
    const wallet = options.wallet ?? maintainer;
    const owner = getAddress(wallet.account!.address);
    const packageId = packageIdOf(options.name);
    const version = options.version ?? "1.0.0";
    const r = registryAs(wallet);
    const exists = await registry.read
      .getPackage([packageId])
      .then(() => true)
      .catch(() => false);
    if (!exists) {
      if (options.fork) {
        await mined(
          await r.write.registerFork([
            options.name,
            options.fork.parentVersionId,
            options.fork.upstreamShareBps,
            options.minForkShareBps ?? 0,
          ]),
        );
      } else {
        await mined(await r.write.registerPackage([options.name, options.minForkShareBps ?? 0]));
      }
    }
    await mined(await r.write.publishVersion([packageId, version, versionInput(options.name, version, owner, options)]));
    return { packageId, versionId: versionIdOf(packageId, version) };
  }

  /** Registers executorWallet as an executor (idempotent). */
  async function registerExecutor(wallet: Wallet = executorWallet) {
    const active = await registry.read.isActiveExecutor([getAddress(wallet.account!.address)]);
    if (!active) await mined(await registryAs(wallet).write.registerExecutor(["http://127.0.0.1:8787", 1000n]));
  }

  /** A funded payer with its own key (x402 clients sign off-chain; they never send transactions). */
  async function newPayer(funds = 1_000_000_000n) {
    const payer = privateKeyToAccount(generatePrivateKey());
    await mined(await usdc.write.mint([payer.address, funds]));
    return payer;
  }

  async function signAuthorization(payer: Account, authorization: Authorization, token: Address = usdc.address) {
    return payer.signTypedData!({
      domain: { name: "USD Coin", version: "2", chainId, verifyingContract: token },
      types: TRANSFER_WITH_AUTHORIZATION_TYPES,
      primaryType: "TransferWithAuthorization",
      message: authorization,
    });
  }

  async function signReceipt(receipt: Receipt, signer: Wallet = executorWallet, verifyingContract = settlement.address) {
    return signer.signTypedData({
      account: signer.account!,
      domain: receiptDomain(chainId, verifyingContract),
      types: RECEIPT_TYPES,
      primaryType: "Receipt",
      message: receipt,
    });
  }

  async function now(): Promise<bigint> {
    return (await publicClient.getBlock()).timestamp;
  }

  /** A settlement item as an executor would submit it: payment to Settlement, receipt signed by the executor. */
  async function makeItem(options: {
    payer: Account;
    versionId: Hex;
    royalty: bigint;
    executorFee?: bigint;
    fuelUsed?: bigint;
    executor?: Wallet;
    nonce?: Hex;
    validBefore?: bigint;
    token?: Address;
    payee?: Address;
  }): Promise<SettlementItem> {
    const executor = options.executor ?? executorWallet;
    const executorFee = options.executorFee ?? 0n;
    const nonce = options.nonce ?? keccak256(toHex(`${Math.random()}-${Date.now()}-${options.payer.address}`));
    const authorization: Authorization = {
      from: options.payer.address,
      to: options.payee ?? settlement.address,
      value: options.royalty + executorFee,
      validAfter: 0n,
      validBefore: options.validBefore ?? (await now()) + 3600n,
      nonce,
    };
    const receipt: Receipt = {
      versionId: options.versionId,
      functionName: "render",
      payer: options.payer.address,
      executor: getAddress(executor.account!.address),
      royalty: options.royalty,
      executorFee,
      inputHash: keccak256(toHex("input")),
      outputHash: keccak256(toHex("output")),
      fuelUsed: options.fuelUsed ?? 1234n,
      paymentNonce: nonce,
      timestamp: await now(),
    };
    return {
      receipt,
      receiptSignature: await signReceipt(receipt, executor),
      authorization,
      paymentSignature: await signAuthorization(options.payer, authorization, options.token),
    };
  }

  const itemArgs = (item: SettlementItem) =>
    [item.receipt, item.receiptSignature, item.authorization, item.paymentSignature] as const;

  return {
    connection,
    viem,
    networkHelpers,
    publicClient,
    wallets,
    chainId,
    deployer,
    maintainer,
    executorWallet,
    other,
    forker,
    usdc,
    registry,
    settlement,
    registryAs,
    settlementAs,
    mined,
    publish,
    registerExecutor,
    newPayer,
    signAuthorization,
    signReceipt,
    makeItem,
    itemArgs,
    now,
  };
}

export type Fixture = Awaited<ReturnType<typeof deployGlassboxFixture>>;

/** A valid VersionInput: manifest JSON and its hash, default one-recipient split to the owner. */
export function versionInput(
  name: string,
  version: string,
  owner: Address,
  options: { splits?: Split[]; accessMode?: number; price?: bigint; fuelPricePerMillion?: bigint } = {},
) {
  const manifest = JSON.stringify({ name, version, owner });
  const accessMode = options.accessMode ?? AccessMode.PerCall;
  return {
    hashes: {
      componentHash: sha256Hex(`component:${name}@${version}`),
      witHash: sha256Hex(`wit:${name}`),
      testsHash: sha256Hex(`tests:${name}`),
      manifestHash: sha256Hex(manifest),
    },
    accessMode,
    price: options.price ?? (accessMode === AccessMode.Free ? 0n : 1000n),
    fuelPricePerMillion: options.fuelPricePerMillion ?? 0n,
    splits: options.splits ?? [{ recipient: owner, bps: 10_000 }],
    manifest,
  };
}
