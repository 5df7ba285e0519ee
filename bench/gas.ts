/**
 * Gas per settled call next to a bare USDC transferWithAuthorization, measured in one run on an in-process
 * Hardhat chain. Steady state: every measured scenario runs once first, so recipients, executor and
 * Settlement already hold balances (as they do in production) and no first-write costs skew the figures.
 *   npm run bench:gas
 */
import { parseSignature, type Hex } from "viem";
import { addrOf, deployGlassboxFixture, type SettlementItem } from "../test/contracts/fixture.ts";

const f = await deployGlassboxFixture();
await f.registerExecutor();
const payer = await f.newPayer(10n ** 15n);
const relayer = f.other;
await f.mined(await f.usdc.write.mint([addrOf(relayer), 1n]));

async function gasOf(hash: Hex): Promise<bigint> {
  return (await f.mined(hash)).gasUsed;
}

async function bare(): Promise<bigint> {
  const item = await f.makeItem({ payer, versionId: root.versionId, royalty: 1000n, executorFee: 100n, payee: addrOf(relayer) });
  const a = item.authorization;
  const { v, r, s } = parseSignature(item.paymentSignature);
  return gasOf(
    await f.usdc.write.transferWithAuthorization([a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, Number(v), r, s]),
  );
}

async function single(versionId: Hex): Promise<bigint> {
  const item = await f.makeItem({ payer, versionId, royalty: 1000n, executorFee: 100n });
  return gasOf(await f.settlementAs(relayer).write.settle(f.itemArgs(item)));
}

async function frontRun(versionId: Hex): Promise<bigint> {
  const item = await f.makeItem({ payer, versionId, royalty: 1000n, executorFee: 100n });
  const a = item.authorization;
  await f.mined(
    await f.usdc.write.transferWithAuthorization([a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, item.paymentSignature]),
  );
  return gasOf(await f.settlementAs(relayer).write.settle(f.itemArgs(item)));
}

/** A batch of `size` receipts; `versionIds` are used round-robin (one entry: every receipt for the same version). */
async function batch(versionIds: readonly Hex[], size: number): Promise<bigint> {
  const items: SettlementItem[] = [];
  // Distinct payers, as in production: each item touches its own payer balance at the token.
  const payers = await Promise.all(Array.from({ length: Math.min(size, 20) }, () => f.newPayer(10n ** 12n)));
  for (let i = 0; i < size; i++) {
    const versionId = versionIds[i % versionIds.length]!;
    items.push(await f.makeItem({ payer: payers[i % payers.length]!, versionId, royalty: 1000n, executorFee: 100n }));
  }
  return gasOf(await f.settlementAs(relayer).write.settleBatch([items]));
}

// Versions: an original with one recipient, and a fork chain of depth 3 (10% upstream at each level).
const root = await f.publish({ name: "bench/root", price: 1000n, minForkShareBps: 1000 });
let parent = root;
const forks: { versionId: Hex }[] = [];
for (let depth = 1; depth <= 3; depth++) {
  parent = await f.publish({
    wallet: f.wallets[4 + depth]!,
    name: `bench${depth}/fork`,
    fork: { parentVersionId: parent.versionId, upstreamShareBps: 1000 },
  });
  forks.push(parent);
}
// Many distinct versions (one package, 100 versions): a batch where every receipt is for a different version
// makes the per-transaction credit ledger and level cache hold one entry per item.
const manyVersions: Hex[] = [];
for (let i = 0; i < 100; i++) {
  manyVersions.push((await f.publish({ name: "bench/many", version: `1.0.${i}`, price: 1000n })).versionId);
}

interface Row {
  scenario: string;
  calls: number;
  gas: bigint;
  target?: string;
  ok?: boolean;
}
const rows: Row[] = [];
const measure = async (scenario: string, calls: number, run: () => Promise<bigint>, target?: (perCall: bigint) => [string, boolean]) => {
  await run(); // warm-up: first writes to fresh slots
  const gas = await run();
  const [label, ok] = target ? target(gas / BigInt(calls)) : [undefined, undefined];
  rows.push({ scenario, calls, gas, ...(label ? { target: label, ok } : {}) });
};

await measure("bare USDC transferWithAuthorization (v,r,s)", 1, bare);
const baseline = rows[0]!.gas;
const within = (factor: number) => (perCall: bigint): [string, boolean] => [
  `<= ${factor}x bare (${Math.floor(Number(baseline) * factor)})`,
  Number(perCall) <= Number(baseline) * factor,
];
await measure("settle, no fork", 1, () => single(root.versionId), within(1.6));
await measure("settle, fork depth 1", 1, () => single(forks[0]!.versionId));
await measure("settle, fork depth 3", 1, () => single(forks[2]!.versionId));
await measure("settle, front-run authorization", 1, () => frontRun(root.versionId));
await measure("settleBatch of 10, no fork", 10, () => batch([root.versionId], 10));
await measure("settleBatch of 100, no fork", 100, () => batch([root.versionId], 100), (perCall) => ["< 40000 / call", perCall < 40_000n]);
await measure("settleBatch of 100, fork depth 3", 100, () => batch([forks[2]!.versionId], 100));
await measure("settleBatch of 10, 10 distinct versions", 10, () => batch(manyVersions.slice(0, 10), 10));
await measure("settleBatch of 100, 100 distinct versions", 100, () => batch(manyVersions, 100));

const table = rows.map((row) => {
  const perCall = row.gas / BigInt(row.calls);
  return {
    scenario: row.scenario,
    "gas (tx)": row.gas.toString(),
    "gas / call": perCall.toString(),
    "x bare": (Number(perCall) / Number(baseline)).toFixed(2),
    target: row.target ? `${row.target}: ${row.ok ? "met" : "MISSED"}` : "",
  };
});
console.log(`\nGlassbox settlement gas (chain ${f.chainId}, solc 0.8.28, optimizer 200 runs)\n`);
console.table(table);
await f.connection.close();
