/**
 * Gas of the payments v2 money paths next to a bare USDC transferWithAuthorization, measured in one run on an
 * in-process Hardhat chain (real contracts, real signatures). Steady state: each scenario runs once first, so
 * recipients, executor and Settlement already hold balances (as in production) and first writes do not skew it.
 *   npm run bench:gas
 *
 * Calldata and EIP-7623 (Prague/Osaka): a transaction pays max(21000 + 4 x tokens + execution, 21000 + 10 x tokens)
 * where tokens = zero bytes + 4 x non-zero bytes of its calldata. A royalty batch is one calldata word per line, so
 * its floor can bind: every royalty figure is printed both ways (standard and floor-adjusted).
 *
 * The channel path (bench/gas-channels.ts, also runnable alone) adds the royalty per receipt to its per-call cost.
 */
import { pathToFileURL } from "node:url";
import { getAddress, hexToBytes, keccak256, parseSignature, toHex, type Hex } from "viem";
import { CALLS_PER_CLAIM, CHANNELS_PER_CLAIM, measureChannelGas } from "./gas-channels.ts";
import { addrOf, deployGlassboxFixture, type Authorization, type Fixture, type SignedReceipt } from "../test/contracts/fixture.ts";

const TX_BASE = 21_000n;
const FLOOR_TOKEN_COST = 10n;

/** A mined transaction's gas and its EIP-7623 calldata floor. */
export interface TxGas {
  /** What the chain charged (receipt.gasUsed): floor-adjusted on Osaka, standard on Cancun. */
  gasUsed: bigint;
  /** Calldata tokens: zero bytes + 4 x non-zero bytes. */
  tokens: bigint;
  /** 21000 + 10 x tokens: the EIP-7623 floor. */
  floor: bigint;
}

function calldataTokens(input: Hex): bigint {
  let tokens = 0n;
  for (const byte of hexToBytes(input)) tokens += byte === 0 ? 1n : 4n;
  return tokens;
}

export async function txGas(f: Fixture, hash: Hex): Promise<TxGas> {
  const [receipt, tx] = await Promise.all([f.mined(hash), f.publicClient.getTransaction({ hash })]);
  const tokens = calldataTokens(tx.input);
  return { gasUsed: receipt.gasUsed, tokens, floor: TX_BASE + FLOOR_TOKEN_COST * tokens };
}

/** A bare EIP-3009 transferWithAuthorization (the (v,r,s) overload x402 `exact` calls), payer to executor. */
async function bareTransfer(f: Fixture, payer: Awaited<ReturnType<Fixture["newPayer"]>>): Promise<TxGas> {
  const authorization: Authorization = {
    from: payer.address,
    to: addrOf(f.executorWallet),
    value: 1100n,
    validAfter: 0n,
    validBefore: (await f.now()) + 3600n,
    nonce: keccak256(toHex(`bench-${Math.random()}`)),
  };
  const { v, r, s } = parseSignature(await f.signAuthorization(payer, authorization));
  const a = authorization;
  return txGas(
    f,
    await f.usdcAs(f.other).write.transferWithAuthorization([a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, Number(v), r, s]),
  );
}

/** Signs `count` receipts for `versions` round-robin, from the executor's next sequence number. */
async function receiptsFor(f: Fixture, versions: readonly Hex[], count: number): Promise<SignedReceipt[]> {
  const first = await f.settlement.read.nextSeq([addrOf(f.executorWallet)]);
  const issuedAt = await f.now();
  const receipts: SignedReceipt[] = [];
  for (let i = 0; i < count; i++) {
    receipts.push(
      await f.makeReceipt({ versionId: versions[i % versions.length]!, seq: first + BigInt(i), royalty: 1000n, executorFee: 100n, issuedAt }),
    );
  }
  return receipts;
}

/** One settleRoyalties of `count` receipts over `versions`. */
async function royaltyBatch(f: Fixture, versions: readonly Hex[], count: number): Promise<TxGas> {
  const { hash } = await f.settleReceipts(await receiptsFor(f, versions, count));
  return txGas(f, hash);
}

/** `count` original versions (one package each, distinct maintainers' scopes), `splits` recipients each. */
async function publishVersions(f: Fixture, prefix: string, count: number, splits: number): Promise<Hex[]> {
  const versions: Hex[] = [];
  for (let i = 0; i < count; i++) {
    const recipients = Array.from({ length: splits }, (_, j) => ({
      recipient: getAddress(`0x${(0xa0000 + i * 16 + j).toString(16).padStart(40, "0")}`),
      bps: j === 0 ? 10_000 - (splits - 1) * Math.floor(10_000 / splits) : Math.floor(10_000 / splits),
    }));
    versions.push((await f.publish({ name: `${prefix}${i}/pkg`, price: 1000n, splits: recipients })).versionId);
  }
  return versions;
}

/** The deepest fork chain the registry allows (MAX_FORK_DEPTH), 8 recipients per level, 50% upstream at each. */
async function maximumForkChain(f: Fixture): Promise<Hex> {
  const depth = Number(await f.registry.read.MAX_FORK_DEPTH());
  const splitsOf = (level: number) =>
    Array.from({ length: 8 }, (_, i) => ({
      recipient: getAddress(`0x${(0xf0000 + level * 16 + i).toString(16).padStart(40, "0")}`),
      bps: 1250,
    }));
  let parent = await f.publish({ name: "chain0/x", minForkShareBps: 5000, splits: splitsOf(0) });
  for (let level = 1; level <= depth; level++) {
    parent = await f.publish({
      name: `chain${level}/x`,
      minForkShareBps: 5000,
      splits: splitsOf(level),
      fork: { parentVersionId: parent.versionId, upstreamShareBps: 5000 },
    });
  }
  return parent.versionId;
}

/** A fixture with a registered, bonded, funded executor. */
async function benchFixture(hardfork?: string): Promise<Fixture> {
  const f = await deployGlassboxFixture(hardfork ? { hardfork } : {});
  await f.registerExecutor(f.executorWallet, 100n);
  await f.postBond(f.executorWallet, 10n ** 12n);
  await f.fund(f.executorWallet, 10n ** 15n);
  return f;
}

/** Steady-state gas of one royalty batch: publish the versions, settle once (warm-up), measure the second. */
async function royaltyScenario(f: Fixture, receipts: number, versionCount: number, splits: number): Promise<TxGas> {
  const versions = await publishVersions(f, `r${receipts}x${versionCount}x${splits}x${Math.floor(Math.random() * 1e9)}x`, versionCount, splits);
  await royaltyBatch(f, versions, receipts);
  return royaltyBatch(f, versions, receipts);
}

/** Per-receipt gas of a royalty batch, the standard way (Cancun: execution + 4 gas per token) and floor-adjusted (Osaka). */
export interface RoyaltyPerReceipt {
  receipts: number;
  versions: number;
  splits: number;
  /** Standard gas per receipt (pre-EIP-7623, measured on a Cancun chain). */
  standard: number;
  /** Floor-adjusted gas per receipt (Osaka): what a channel or `exact` call adds for its royalty. */
  floorAdjusted: number;
  /** The EIP-7623 floor alone, per receipt. */
  floor: number;
  /** The whole batch on Osaka. */
  batchGasUsed: bigint;
}

/**
 * The royalty part of every paid call, amortized: by default 1,000 receipts over 10 versions (one recipient each) in
 * one settleRoyalties. `fixtures` are an Osaka and a Cancun chain with a funded executor; both are deployed (and
 * closed) when not given.
 */
export async function royaltyGasPerReceipt(
  options: { receipts?: number; versions?: number; splits?: number; fixtures?: { osaka: Fixture; cancun: Fixture } } = {},
): Promise<RoyaltyPerReceipt> {
  const { receipts = 1000, versions = 10, splits = 1 } = options;
  const fixtures = options.fixtures ?? { osaka: await benchFixture(), cancun: await benchFixture("cancun") };
  const osaka = await royaltyScenario(fixtures.osaka, receipts, versions, splits);
  const cancun = await royaltyScenario(fixtures.cancun, receipts, versions, splits);
  if (!options.fixtures) await Promise.all([fixtures.osaka.connection.close(), fixtures.cancun.connection.close()]);
  return {
    receipts,
    versions,
    splits,
    standard: Number(cancun.gasUsed) / receipts,
    floorAdjusted: Number(osaka.gasUsed) / receipts,
    floor: Number(osaka.floor) / receipts,
    batchGasUsed: osaka.gasUsed,
  };
}

// ------------------------------------------------------------------------------------------------ channel path

/** The x402 channel path per paid call: deposit, claim and sweep (bench/gas-channels.ts) plus the royalty line. */
async function channelRows(royaltyPerReceipt: number): Promise<Row[]> {
  const gas = await measureChannelGas();
  const target = (perCall: number) => ({ label: "< 5,000", met: perCall < 5_000 });
  const amortized = gas.perCallAmortized + royaltyPerReceipt;
  const withDeposit = gas.perCallWithDeposit + royaltyPerReceipt;
  return [
    { scenario: "channel: first deposit (ERC-3009 via collector)", perCall: Number(gas.firstDeposit), gasUsed: gas.firstDeposit },
    { scenario: `channel: claim of ${CHANNELS_PER_CLAIM} channels`, perCall: Number(gas.claim10), gasUsed: gas.claim10 },
    { scenario: "channel: sweep to the executor", perCall: Number(gas.sweep), gasUsed: gas.sweep },
    { scenario: `channel path per call (${CALLS_PER_CLAIM} calls/channel between claims, + royalty)`, perCall: amortized, target: target(amortized) },
    { scenario: "channel path per call, the deposit spread over the same calls", perCall: withDeposit, target: target(withDeposit) },
  ];
}

// ------------------------------------------------------------------------------------------------ the bench

interface Row {
  scenario: string;
  perCall: number;
  gasUsed?: bigint;
  standard?: number;
  floorAdjusted?: number;
  floor?: number;
  target?: { label: string; met: boolean };
}

async function main(): Promise<void> {
  const f = await benchFixture();
  const payer = await f.newPayer(10n ** 15n);
  const rows: Row[] = [];

  // Baseline: a bare transferWithAuthorization, payer to executor.
  await bareTransfer(f, payer);
  const bare = await bareTransfer(f, payer);
  const baseline = bare.gasUsed;
  rows.push({ scenario: "bare USDC transferWithAuthorization (v,r,s), payer -> executor", perCall: Number(baseline), gasUsed: baseline });

  // Royalty settlement: 1,000 receipts over 10 versions in one batch (and variants), standard and floor-adjusted.
  const fixtures = { osaka: f, cancun: await benchFixture("cancun") };
  const royalty = await royaltyGasPerReceipt({ fixtures });
  const royaltyRow = (r: RoyaltyPerReceipt, target?: Row["target"]): Row => ({
    scenario: `royalty settlement, ${r.receipts} receipts over ${r.versions} versions, ${r.splits} split(s) each (per receipt)`,
    perCall: r.floorAdjusted,
    gasUsed: r.batchGasUsed,
    standard: r.standard,
    floorAdjusted: r.floorAdjusted,
    floor: r.floor,
    ...(target ? { target } : {}),
  });
  rows.push(royaltyRow(royalty, { label: "<= 2000 / receipt (floor-adjusted)", met: royalty.floorAdjusted <= 2000 }));
  for (const [receipts, versions, splits] of [
    [100, 10, 1],
    [1000, 10, 8],
    [1000, 100, 1],
  ] as const) {
    rows.push(royaltyRow(await royaltyGasPerReceipt({ receipts, versions, splits, fixtures })));
  }
  await fixtures.cancun.connection.close();

  // `exact`: the x402 settlement is the bare transfer to the executor; the call's royalty adds its batch share.
  const exactPerCall = Number(baseline) + royalty.floorAdjusted;
  rows.push({
    scenario: "`exact` per call = bare transfer + royalty share",
    perCall: exactPerCall,
    target: { label: `<= 1.3x bare (${Math.floor(Number(baseline) * 1.3)})`, met: exactPerCall <= Number(baseline) * 1.3 },
  });

  // L-3: one royalty line through the deepest fork chain, 8 splits per level.
  const deepest = await maximumForkChain(f);
  await royaltyBatch(f, [deepest], 1);
  const chain = await royaltyBatch(f, [deepest], 1);
  rows.push({
    scenario: `fork chain of maximum depth (${await f.registry.read.MAX_FORK_DEPTH()}), 8 splits per level, one line`,
    perCall: Number(chain.gasUsed),
    gasUsed: chain.gasUsed,
    target: { label: "v1 with 16 splits: ~4.6M", met: chain.gasUsed < 4_600_000n },
  });
  const chainBatch = await royaltyBatch(f, [deepest], 100);
  rows.push({
    scenario: "fork chain of maximum depth, 8 splits per level, 100 lines (per line)",
    perCall: Number(chainBatch.gasUsed) / 100,
    gasUsed: chainBatch.gasUsed,
  });

  // Proofs (rare; paid by whoever submits, refunded many times over by the bounty).
  const [versionId] = await publishVersions(f, "slash", 1, 1);
  const late = await f.makeReceipt({ versionId: versionId!, seq: await f.settlement.read.nextSeq([addrOf(f.executorWallet)]), royalty: 1000n });
  await f.networkHelpers.time.increaseTo(late.receipt.deadline + 1n);
  const overdue = await txGas(f, await f.settlementAs(f.other).write.slashOverdue(f.receiptArgs(late)));
  rows.push({ scenario: "slashOverdue (one receipt)", perCall: Number(overdue.gasUsed), gasUsed: overdue.gasUsed });
  const overcharge = await f.makeReceipt({ versionId: versionId!, seq: 0n, royalty: 1000n, executorFee: 500n });
  const over = await txGas(f, await f.settlementAs(f.other).write.slashOvercharge(f.receiptArgs(overcharge)));
  rows.push({ scenario: "slashOvercharge (one receipt)", perCall: Number(over.gasUsed), gasUsed: over.gasUsed });

  // Pay once, run locally: a licence bought (after the buyer's one-time USDC approval), one split, and the
  // same through the deepest fork chain (credited like a royalty).
  const [licensed] = await publishVersions(f, "licence", 1, 1);
  await f.mined(await f.registryAs(f.maintainer).write.setLicencePrice([licensed!, 2_000_000n]));
  await f.mined(await f.registryAs(f.maintainer).write.setLicencePrice([deepest, 2_000_000n]));
  await f.fund(f.payerWallet, 10_000_000n);
  const buy = await txGas(f, await f.settlementAs(f.payerWallet).write.buyLicence([licensed!, addrOf(f.payerWallet), 2_000_000n]));
  rows.push({ scenario: "licence purchase (buyLicence, 1 split)", perCall: Number(buy.gasUsed), gasUsed: buy.gasUsed });
  const buyDeep = await txGas(f, await f.settlementAs(f.payerWallet).write.buyLicence([deepest, addrOf(f.payerWallet), 2_000_000n]));
  rows.push({ scenario: "licence purchase through a fork chain of maximum depth, 8 splits per level", perCall: Number(buyDeep.gasUsed), gasUsed: buyDeep.gasUsed });

  console.log(`\nGlassbox payments v2 gas (chain ${f.chainId}, solc 0.8.28, optimizer 200 runs)\n`);
  console.table(
    rows.map((row) => ({
      scenario: row.scenario,
      "gas / call": Math.round(row.perCall),
      "x bare": (row.perCall / Number(baseline)).toFixed(3),
      "tx gasUsed": row.gasUsed?.toString() ?? "",
      "standard / call": row.standard === undefined ? "" : row.standard.toFixed(1),
      "floor-adjusted / call": row.floorAdjusted === undefined ? "" : row.floorAdjusted.toFixed(1),
      "EIP-7623 floor / call": row.floor === undefined ? "" : row.floor.toFixed(1),
      target: row.target ? `${row.target.label}: ${row.target.met ? "met" : "MISSED"}` : "",
    })),
  );

  console.log("\nChannel path (x402 batch-settlement): deposit + claim + sweep amortized over the calls between claims + royalty per receipt");
  const channel = await channelRows(royalty.floorAdjusted);
  console.table(
    channel.map((row) => ({
      scenario: row.scenario,
      "gas / call": Math.round(row.perCall),
      "x bare": (row.perCall / Number(baseline)).toFixed(3),
      target: row.target ? `${row.target.label}: ${row.target.met ? "met" : "MISSED"}` : "",
    })),
  );
  await f.connection.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
