/**
 * Gas of the x402 batch-settlement channel path on Glassbox's own channel contract, measured on an in-process
 * Hardhat chain: a first deposit into a channel (ERC-3009 through the collector), a claim of 10 channels in one
 * `claimWithSignature`, the sweep (`settle`) to the receiver, and the amortized channel cost per paid call.
 * Steady state: the contract, the receiver and every channel already hold balances (one round runs first), as
 * in production; the first-deposit figure is a new channel on a contract already in use.
 *   npx tsx bench/gas-channels.ts          (bench/gas.ts prints the same figures beside the others)
 */
import { pathToFileURL } from "node:url";
import type { Hex } from "viem";
import { ERC3009_DEPOSIT_COLLECTOR_ADDRESS } from "../sdk/x402-contracts.ts";
import { deployChannelsFixture, type ClaimRow } from "../test/contracts/channels-fixture.ts";

/** Paid calls per channel between two claims (the reference load). */
export const CALLS_PER_CLAIM = 100;
/** Channels per claim transaction. */
export const CHANNELS_PER_CLAIM = 10;

export interface ChannelGas {
  /** A payer's first deposit into a new channel (ERC-3009 receiveWithAuthorization through the collector). */
  firstDeposit: bigint;
  /** One claimWithSignature of CHANNELS_PER_CLAIM channels (each raising its claimed total). */
  claim10: bigint;
  /** One settle(receiver, token) sweeping the claimed funds. */
  sweep: bigint;
  /** (claim10 / 10 + sweep / 10) / CALLS_PER_CLAIM: one claim row and a tenth of a sweep per 100 calls. */
  perCallAmortized: number;
  /** perCallAmortized plus the first deposit spread over the same 100 calls (a channel that lives one period). */
  perCallWithDeposit: number;
}

export async function measureChannelGas(): Promise<ChannelGas> {
  const f = await deployChannelsFixture();
  const { payer, receiver, relayer } = f.wallets;
  const gasOf = async (hash: Hex) => (await f.mined(hash)).gasUsed;
  const price = 1_000n;
  const configs = Array.from({ length: CHANNELS_PER_CLAIM }, (_, i) =>
    f.configFor(f.addr(payer), { salt: `0x${(i + 1).toString(16).padStart(64, "0")}` }),
  );

  async function depositGas(config: (typeof configs)[number], amount: bigint): Promise<bigint> {
    const { collectorData } = await f.depositData(payer, config.payer, config, amount);
    return gasOf(await f.as(relayer).write.deposit([config, amount, ERC3009_DEPOSIT_COLLECTOR_ADDRESS, collectorData]));
  }
  async function claimRound(cumulative: bigint): Promise<bigint> {
    const rows: ClaimRow[] = [];
    for (const config of configs) rows.push(await f.row(payer, config, cumulative));
    return gasOf(await f.as(relayer).write.claimWithSignature([rows, await f.signClaimBatch(receiver, rows)]));
  }

  const deposit = 1_000n * price;
  // Priming: the first channel makes the contract hold funds; every channel then has escrow and a claimed total.
  await depositGas(configs[0]!, deposit);
  let firstDeposit = 0n;
  for (const config of configs.slice(1)) firstDeposit = await depositGas(config, deposit);
  await claimRound(BigInt(CALLS_PER_CLAIM) * price);
  await gasOf(await f.as(relayer).write.settle([f.addr(receiver), f.usdc.address]));

  const claim10 = await claimRound(2n * BigInt(CALLS_PER_CLAIM) * price);
  const sweep = await gasOf(await f.as(relayer).write.settle([f.addr(receiver), f.usdc.address]));
  const perChannelPeriod = Number(claim10) / CHANNELS_PER_CLAIM + Number(sweep) / CHANNELS_PER_CLAIM;
  return {
    firstDeposit,
    claim10,
    sweep,
    perCallAmortized: perChannelPeriod / CALLS_PER_CLAIM,
    perCallWithDeposit: (perChannelPeriod + Number(firstDeposit)) / CALLS_PER_CLAIM,
  };
}

/** The figures as table rows (label, gas), for bench/gas.ts and this script. */
export function channelGasRows(gas: ChannelGas): [string, string][] {
  const fmt = (n: bigint | number) => Math.round(Number(n)).toLocaleString("en-US");
  return [
    ["channel: first deposit (ERC-3009 via collector)", fmt(gas.firstDeposit)],
    [`channel: claim of ${CHANNELS_PER_CLAIM} channels (claimWithSignature)`, fmt(gas.claim10)],
    ["channel: sweep to receiver (settle)", fmt(gas.sweep)],
    [`channel: per call, ${CALLS_PER_CLAIM} calls/channel between claims`, fmt(gas.perCallAmortized)],
    [`channel: per call, same, deposit included`, fmt(gas.perCallWithDeposit)],
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const gas = await measureChannelGas();
  console.log("\nx402 batch-settlement channel gas (Glassbox's own contract, solc 0.8.28, optimizer 200 runs)\n");
  const rows = channelGasRows(gas);
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value.padStart(9)}`);
}
