/**
 * Fixture for the channel contract's hostile tests: a fresh in-process Hardhat chain with LocalUSDC and the x402
 * contracts installed at their canonical addresses (the installer's runtime code), and helpers that sign what
 * payers and receiver authorizers sign (stock x402 EIP-712 types), deposit through the ERC-3009 collector and
 * check the money invariant.
 */
import type { ChannelConfig } from "@x402/evm";

export type { ChannelConfig };
import { network } from "hardhat";
import { claimBatchTypes, refundTypes, voucherTypes } from "@x402/evm";
import { encodeAbiParameters, getAddress, getContract, keccak256, toHex, zeroAddress, zeroHash, type Address, type Hex } from "viem";
import { batchSettlementAbi, erc3009DepositCollectorAbi, localUsdcAbi } from "../../sdk/abi.ts";
import { X402_INSTALLS } from "../../contracts/scripts/x402.ts";
import { BATCH_SETTLEMENT_ADDRESS, ERC3009_DEPOSIT_COLLECTOR_ADDRESS } from "../../sdk/x402-contracts.ts";
import { RECEIVE_WITH_AUTHORIZATION_TYPES } from "../../sdk/eip3009.ts";

export const WITHDRAW_DELAY = 900;
export interface ClaimRow {
  voucher: { channel: ChannelConfig; maxClaimableAmount: bigint };
  signature: Hex;
  totalClaimed: bigint;
}

export async function deployChannelsFixture() {
  const { viem, networkHelpers } = await network.create();
  const publicClient = await viem.getPublicClient();
  const testClient = await viem.getTestClient();
  const wallets = await viem.getWalletClients();
  type Wallet = (typeof wallets)[number];
  const [deployer, receiver, payer, stranger, otherPayer, walletOwner, relayer] = wallets as [
    Wallet, Wallet, Wallet, Wallet, Wallet, Wallet, Wallet,
  ];
  const chainId = await publicClient.getChainId();
  const usdcAddress = (await viem.deployContract("LocalUSDC")).address;
  for (const { address, code } of X402_INSTALLS) await testClient.setCode({ address, bytecode: code });
  const client = { public: publicClient, wallet: deployer };
  const usdc = getContract({ address: usdcAddress, abi: localUsdcAbi, client });
  const channels = getContract({ address: BATCH_SETTLEMENT_ADDRESS, abi: batchSettlementAbi, client });
  const collector = getContract({ address: ERC3009_DEPOSIT_COLLECTOR_ADDRESS, abi: erc3009DepositCollectorAbi, client });
  /** The channel contract (or the token, or the collector) with `wallet` as msg.sender. */
  const as = (wallet: Wallet) =>
    getContract({ address: BATCH_SETTLEMENT_ADDRESS, abi: batchSettlementAbi, client: { public: publicClient, wallet } });
  const usdcAs = (wallet: Wallet) => getContract({ address: usdcAddress, abi: localUsdcAbi, client: { public: publicClient, wallet } });
  const collectorAs = (wallet: Wallet) =>
    getContract({ address: ERC3009_DEPOSIT_COLLECTOR_ADDRESS, abi: erc3009DepositCollectorAbi, client: { public: publicClient, wallet } });
  const addr = (wallet: Wallet): Address => getAddress(wallet.account.address);
  const domain = { name: "x402 Batch Settlement", version: "1", chainId, verifyingContract: BATCH_SETTLEMENT_ADDRESS } as const;

  async function mined(hash: Hex) {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
    return receipt;
  }

  for (const wallet of [payer, otherPayer, stranger]) await mined(await usdc.write.mint([addr(wallet), 10n ** 12n]));

  /** A channel from `payerAddress` (voucher key = `payerAuthorizer`) to the receiver wallet. */
  function configFor(payerAddress: Address, overrides: Partial<ChannelConfig> = {}): ChannelConfig {
    return {
      payer: payerAddress,
      payerAuthorizer: payerAddress,
      receiver: addr(receiver),
      receiverAuthorizer: addr(receiver),
      token: usdc.address,
      withdrawDelay: WITHDRAW_DELAY,
      salt: zeroHash,
      ...overrides,
    };
  }

  /** The ERC-3009 collector data for `amount` from `signerWallet` (the payer, or a contract payer's owner). */
  async function depositData(signerWallet: Wallet, from: Address, config: ChannelConfig, amount: bigint) {
    const channelId = await channels.read.getChannelId([config]);
    const salt = BigInt(keccak256(toHex(`${channelId}:${amount}:${Math.random()}`)));
    const nonce = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }], [channelId, salt]));
    const validBefore = BigInt(Math.floor(Date.now() / 1000) + 3600);
    const signature = await signerWallet.signTypedData({
      domain: { name: "USD Coin", version: "2", chainId, verifyingContract: usdc.address },
      types: RECEIVE_WITH_AUTHORIZATION_TYPES,
      primaryType: "ReceiveWithAuthorization",
      message: { from, to: ERC3009_DEPOSIT_COLLECTOR_ADDRESS, value: amount, validAfter: 0n, validBefore, nonce },
    });
    const collectorData = encodeAbiParameters(
      [{ type: "uint256" }, { type: "uint256" }, { type: "uint256" }, { type: "bytes" }],
      [0n, validBefore, salt, signature],
    );
    return { channelId, nonce, validBefore, signature, collectorData };
  }

  /** Deposits `amount` into `config`'s channel, relayed by `relayer` as a facilitator would. */
  async function deposit(signerWallet: Wallet, config: ChannelConfig, amount: bigint): Promise<Hex> {
    const { channelId, collectorData } = await depositData(signerWallet, config.payer, config, amount);
    await mined(await as(relayer).write.deposit([config, amount, ERC3009_DEPOSIT_COLLECTOR_ADDRESS, collectorData]));
    return channelId;
  }

  const signVoucher = (signerWallet: Wallet, channelId: Hex, maxClaimableAmount: bigint) =>
    signerWallet.signTypedData({ domain, types: voucherTypes, primaryType: "Voucher", message: { channelId, maxClaimableAmount } });

  async function row(signerWallet: Wallet, config: ChannelConfig, maxClaimableAmount: bigint, totalClaimed = maxClaimableAmount): Promise<ClaimRow> {
    const channelId = await channels.read.getChannelId([config]);
    return { voucher: { channel: config, maxClaimableAmount }, signature: await signVoucher(signerWallet, channelId, maxClaimableAmount), totalClaimed };
  }

  async function signClaimBatch(authorizer: Wallet, rows: readonly ClaimRow[]): Promise<Hex> {
    const claims = await Promise.all(
      rows.map(async (r) => ({
        channelId: await channels.read.getChannelId([r.voucher.channel]),
        maxClaimableAmount: r.voucher.maxClaimableAmount,
        totalClaimed: r.totalClaimed,
      })),
    );
    return authorizer.signTypedData({ domain, types: claimBatchTypes, primaryType: "ClaimBatch", message: { claims } });
  }

  const signRefund = (authorizer: Wallet, channelId: Hex, nonce: bigint, amount: bigint) =>
    authorizer.signTypedData({ domain, types: refundTypes, primaryType: "Refund", message: { channelId, nonce, amount } });

  /**
   * The money invariant over the channels and receivers a test touched: USDC held by the channel contract ==
   * sum of channel balances - sum of what was swept to receivers; no channel claimed above its balance.
   */
  async function expectSolvent(channelIds: readonly Hex[], receivers: readonly Address[]): Promise<void> {
    let escrow = 0n;
    for (const id of channelIds) {
      const [balance, totalClaimed] = await channels.read.channels([id]);
      if (totalClaimed > balance) throw new Error(`channel ${id} claimed ${totalClaimed} above its balance ${balance}`);
      escrow += balance;
    }
    let swept = 0n;
    for (const r of receivers) swept += (await channels.read.receivers([r, usdc.address]))[1];
    const held = await usdc.read.balanceOf([BATCH_SETTLEMENT_ADDRESS]);
    if (held !== escrow - swept) throw new Error(`channel contract holds ${held}, owes ${escrow - swept}`);
  }

  return {
    viem,
    networkHelpers,
    publicClient,
    testClient,
    chainId,
    usdc,
    channels,
    collector,
    as,
    usdcAs,
    collectorAs,
    addr,
    mined,
    wallets: { deployer, receiver, payer, stranger, otherPayer, walletOwner, relayer },
    configFor,
    depositData,
    deposit,
    signVoucher,
    row,
    signClaimBatch,
    signRefund,
    expectSolvent,
    zeroAddress,
  };
}

export type ChannelsFixture = Awaited<ReturnType<typeof deployChannelsFixture>>;
