/**
 * Shared fixture for the contract tests: a fresh in-process Hardhat chain with LocalUSDC, CapabilityRegistry and
 * Settlement v2 deployed and wired (setSettlement), typed contract handles from sdk/abi.ts, and helpers that
 * publish packages, sign receipts (sdk/receipt.ts) and settle royalty batches (sdk/royalty-batch.ts) the way an
 * executor does.
 */
import { network } from "hardhat";
import { getAddress, getContract, keccak256, maxUint256, toHex, type Account, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { TRANSFER_WITH_AUTHORIZATION_TYPES, type TransferAuthorization } from "../../sdk/eip3009.ts";
import { capabilityRegistryAbi, localUsdcAbi, settlementAbi } from "../../sdk/abi.ts";
import { packageIdOf, sha256Hex, versionIdOf } from "../../sdk/ids.ts";
import { RECEIPT_TYPES, receiptDomain, receiptId, type Receipt, type ReceiptDependency } from "../../sdk/receipt.ts";
import { buildRoyaltyBatch, type RoyaltyBatch } from "../../sdk/royalty-batch.ts";

/** Checksummed address of a Hardhat wallet client (their `account.address` is lowercase). */
export const addrOf = (wallet: { account: { address: Address } }): Address => getAddress(wallet.account.address);

export const AccessMode = { Free: 0, PerCall: 1, PerFuel: 2 } as const;
export const CreditKind = { Royalty: 0, Upstream: 1, Bounty: 2, Refund: 3, Licence: 4 } as const;
export const SlashReason = { Overdue: 0, Mismatch: 1, Overcharge: 2 } as const;
export const DAY = 86_400n;
/** Settlement.MAX_SETTLE_WINDOW and EXIT_DELAY (checked against the contract in settlement tests). */
export const MAX_SETTLE_WINDOW = 7n * DAY;
export const EXIT_DELAY = 8n * DAY;
export const BOUNTY_BPS = 1000n;

export { TRANSFER_WITH_AUTHORIZATION_TYPES };
export type Authorization = TransferAuthorization;

export interface Split {
  recipient: Address;
  bps: number;
}

/** A receipt with its id and the executor's signature, as the payer holds it. */
export interface SignedReceipt {
  receipt: Receipt;
  id: Hex;
  signature: Hex;
}

/**
 * Deploys a fresh chain. `hardfork` picks an older EVM (e.g. "cancun", before EIP-7623's calldata floor) for
 * benchmarks that report execution gas apart from the floor; the default is Hardhat's latest.
 */
export async function deployGlassboxFixture(options: { hardfork?: string } = {}) {
  const connection = await network.create(options.hardfork ? { override: { hardfork: options.hardfork } } : undefined);
  const { viem, networkHelpers } = connection;
  const publicClient = await viem.getPublicClient();
  const wallets = await viem.getWalletClients();
  type Wallet = (typeof wallets)[number];
  const chainId = await publicClient.getChainId();
  const [deployer, maintainer, executorWallet, other, forker, payerWallet] = wallets as [
    Wallet,
    Wallet,
    Wallet,
    Wallet,
    Wallet,
    Wallet,
  ];

  const usdcDeployed = await viem.deployContract("LocalUSDC");
  const registryDeployed = await viem.deployContract("CapabilityRegistry");
  const surplusRecipient = getAddress(wallets[9]!.account.address);
  const settlementDeployed = await viem.deployContract("Settlement", [
    registryDeployed.address,
    usdcDeployed.address,
    surplusRecipient,
  ]);

  const client = { public: publicClient, wallet: deployer };
  const usdc = getContract({ address: getAddress(usdcDeployed.address), abi: localUsdcAbi, client });
  const registry = getContract({ address: getAddress(registryDeployed.address), abi: capabilityRegistryAbi, client });
  const settlement = getContract({ address: getAddress(settlementDeployed.address), abi: settlementAbi, client });

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

  await mined(await registry.write.setSettlement([settlement.address]));

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

  /** Registers `wallet` as an executor with `fee` per call (idempotent). */
  async function registerExecutor(wallet: Wallet = executorWallet, fee = 1000n) {
    const active = await registry.read.isActiveExecutor([addrOf(wallet)]);
    if (!active) await mined(await registryAs(wallet).write.registerExecutor(["http://127.0.0.1:8787", fee]));
  }

  /** Mints `amount` to `wallet` and approves Settlement for everything (what an executor does once). */
  async function fund(wallet: Wallet, amount: bigint) {
    await mined(await usdc.write.mint([addrOf(wallet), amount]));
    await mined(await as(localUsdcAbi, usdc.address, wallet).write.approve([settlement.address, maxUint256]));
  }

  /** Funds `wallet` and posts `amount` as its bond. */
  async function postBond(wallet: Wallet = executorWallet, amount = 1_000_000n) {
    await fund(wallet, amount);
    await mined(await settlementAs(wallet).write.postBond([amount]));
  }

  /** A funded x402 payer with its own key (it signs off-chain; it never sends transactions). */
  async function newPayer(funds = 1_000_000_000n) {
    const payer = privateKeyToAccount(generatePrivateKey());
    await mined(await usdc.write.mint([payer.address, funds]));
    return payer;
  }

  /** The payer's EIP-3009 TransferWithAuthorization signature (what x402 `exact` carries). */
  async function signAuthorization(payer: Account, authorization: Authorization) {
    return payer.signTypedData!({
      domain: { name: "USD Coin", version: "2", chainId, verifyingContract: usdc.address },
      types: TRANSFER_WITH_AUTHORIZATION_TYPES,
      primaryType: "TransferWithAuthorization",
      message: authorization,
    });
  }

  async function now(): Promise<bigint> {
    return (await publicClient.getBlock()).timestamp;
  }

  /** Signs a receipt as `signer` (default: the executor) under Settlement's EIP-712 domain. */
  async function signReceipt(receipt: Receipt, signer: Wallet = executorWallet, verifyingContract = settlement.address) {
    return signer.signTypedData({
      account: signer.account!,
      domain: receiptDomain(chainId, verifyingContract),
      types: RECEIPT_TYPES,
      primaryType: "Receipt",
      message: receipt,
    });
  }

  /** A receipt the executor signs for a paid call (defaults: a 1-day deadline, no dependencies). */
  async function makeReceipt(options: {
    versionId: Hex;
    seq: bigint;
    royalty: bigint;
    payer?: Address;
    executor?: Wallet;
    executorFee?: bigint;
    fuel?: bigint;
    dependencies?: ReceiptDependency[];
    issuedAt?: bigint;
    deadline?: bigint;
    signer?: Wallet;
  }): Promise<SignedReceipt> {
    const executor = options.executor ?? executorWallet;
    const issuedAt = options.issuedAt ?? (await now());
    const receipt: Receipt = {
      versionId: options.versionId,
      functionName: "render",
      payer: options.payer ?? addrOf(payerWallet),
      executor: addrOf(executor),
      seq: options.seq,
      royalty: options.royalty,
      executorFee: options.executorFee ?? 0n,
      fuel: options.fuel ?? 1234n,
      inputHash: keccak256(toHex(`input-${options.seq}-${Math.random()}`)),
      outputHash: keccak256(toHex("output")),
      dependencies: options.dependencies ?? [],
      paymentRef: keccak256(toHex(`payment-${options.seq}-${Math.random()}`)),
      issuedAt,
      deadline: options.deadline ?? issuedAt + DAY,
    };
    return {
      receipt,
      id: receiptId(receipt, chainId, settlement.address),
      signature: await signReceipt(receipt, options.signer ?? executor),
    };
  }

  /** Builds the batch of `receipts` from the executor's nextSeq and settles it; returns the batch and tx hash. */
  async function settleReceipts(receipts: readonly SignedReceipt[], wallet: Wallet = executorWallet) {
    const firstSeq = await settlement.read.nextSeq([addrOf(wallet)]);
    const batch = buildRoyaltyBatch(
      firstSeq,
      receipts.map((r) => ({ id: r.id, receipt: r.receipt })),
    );
    return { batch, hash: await settleBatch(batch, wallet) };
  }

  /** Sends a batch as `wallet` (must be funded and approved). */
  async function settleBatch(batch: RoyaltyBatch, wallet: Wallet = executorWallet) {
    const hash = await settlementAs(wallet).write.settleRoyalties([batch.versions, batch.lines]);
    await mined(hash);
    return hash;
  }

  /** Receipt as the contract's calldata tuple (viem takes the object as is). */
  const receiptArgs = (r: SignedReceipt) => [r.receipt, r.signature] as const;

  /** USDC held by Settlement minus everything owed and bonded: the sweepable surplus. Never negative. */
  async function surplus(): Promise<bigint> {
    const held = await usdc.read.balanceOf([settlement.address]);
    return held - (await settlement.read.totalOwed()) - (await settlement.read.totalBonds());
  }

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
    payerWallet,
    surplusRecipient,
    usdc,
    registry,
    settlement,
    registryAs,
    settlementAs,
    usdcAs: (wallet: Wallet) => as(localUsdcAbi, usdc.address, wallet),
    mined,
    publish,
    registerExecutor,
    fund,
    postBond,
    newPayer,
    signAuthorization,
    signReceipt,
    makeReceipt,
    settleReceipts,
    settleBatch,
    receiptArgs,
    surplus,
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
