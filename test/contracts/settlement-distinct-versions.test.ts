/**
 * settleBatch over many distinct versions: the per-transaction credit ledger and level cache are hash tables
 * that grow past their initial size here (3-recipient splits, fork chains, two executors). A batch must credit
 * exactly what the same items settled one at a time credit, with one Credited per (account, version, kind).
 */
import { describe, expect, it } from "vitest";
import { parseEventLogs, type Hex } from "viem";
import { settlementAbi } from "../../sdk/abi.ts";
import { addrOf, deployGlassboxFixture, type Fixture, type SettlementItem } from "./fixture.ts";

const PACKAGES = 12;
const VERSIONS_PER_PACKAGE = 5; // 60 distinct versions
// Every version at least once, 4 of them twice (cache hits, credits that aggregate). 64 items: the ledger starts
// with room for 128 credits and 64 levels and must grow past both (~4 credits and >1 level per item here).
const ITEMS = 64;

type CreditKey = `${Hex}|${Hex}|${number}`;

async function scenario(fixture: Fixture, batched: boolean) {
  const second = fixture.wallets[6]!;
  await fixture.registerExecutor();
  await fixture.registerExecutor(second);
  const recipients = fixture.wallets.slice(7, 17).map(addrOf);
  const versions: Hex[] = [];
  for (let p = 0; p < PACKAGES; p++) {
    // Packages 4.. are forks of an earlier package's first version: chains up to depth 2, Upstream credits.
    const fork = p >= 4 ? { parentVersionId: versions[(p - 4) * VERSIONS_PER_PACKAGE]!, upstreamShareBps: 1500 + p * 250 } : undefined;
    for (let v = 0; v < VERSIONS_PER_PACKAGE; v++) {
      const first = (3 * p + v) % recipients.length; // three distinct recipients, shared across versions
      const published = await fixture.publish({
        wallet: fork ? fixture.forker : fixture.maintainer,
        name: `distinct${p}/pkg`,
        version: `1.${v}.0`,
        price: 100n,
        minForkShareBps: 1000,
        ...(fork ? { fork } : {}),
        splits: [
          { recipient: recipients[first]!, bps: 5001 },
          { recipient: recipients[(first + 1) % recipients.length]!, bps: 3333 },
          { recipient: recipients[(first + 5) % recipients.length]!, bps: 1666 },
        ],
      });
      versions.push(published.versionId);
    }
  }
  const payers = [await fixture.newPayer(), await fixture.newPayer(), await fixture.newPayer()];
  const items: SettlementItem[] = [];
  for (let i = 0; i < ITEMS; i++) {
    items.push(
      await fixture.makeItem({
        payer: payers[i % payers.length]!,
        versionId: versions[(i * 7) % versions.length]!,
        royalty: 1000n + BigInt(i) * 131n,
        executorFee: BigInt(i % 5) * 17n,
        executor: i % 4 === 0 ? second : fixture.executorWallet,
      }),
    );
  }
  const hashes: Hex[] = [];
  if (batched) {
    hashes.push(await fixture.settlementAs(fixture.other).write.settleBatch([items]));
  } else {
    for (const item of items) hashes.push(await fixture.settlementAs(fixture.other).write.settle(fixture.itemArgs(item)));
  }
  const credited = new Map<CreditKey, bigint>();
  let creditedEvents = 0;
  let settledEvents = 0;
  for (const hash of hashes) {
    const receipt = await fixture.mined(hash);
    for (const event of parseEventLogs({ abi: settlementAbi, logs: receipt.logs })) {
      if (event.eventName === "Settled") settledEvents++;
      if (event.eventName !== "Credited") continue;
      creditedEvents++;
      const key: CreditKey = `${event.args.account}|${event.args.versionId}|${event.args.kind}`;
      credited.set(key, (credited.get(key) ?? 0n) + event.args.amount);
    }
  }
  const accounts = fixture.wallets.map(addrOf);
  return {
    credited,
    creditedEvents,
    settledEvents,
    balances: await Promise.all(accounts.map((account) => fixture.settlement.read.balanceOf([account]))),
    owed: await fixture.settlement.read.totalOwed(),
    held: await fixture.usdc.read.balanceOf([fixture.settlement.address]),
  };
}

describe("Settlement: settleBatch over many distinct versions", () => {
  it("credits 60 distinct versions (forks, 3-way splits, two executors) exactly like one-by-one settles", async () => {
    const batched = await scenario(await deployGlassboxFixture(), true);
    const single = await scenario(await deployGlassboxFixture(), false);

    expect(batched.settledEvents).toBe(ITEMS);
    expect(single.settledEvents).toBe(ITEMS);
    // Same amounts per (account, version, kind); the batch emits exactly one Credited for each.
    expect(batched.credited).toEqual(single.credited);
    expect(batched.creditedEvents).toBe(batched.credited.size);
    // More distinct credits than the ledger's initial room (2 per item): its tables grew mid-batch.
    expect(batched.credited.size).toBeGreaterThan(2 * ITEMS);
    expect(single.creditedEvents).toBeGreaterThan(batched.creditedEvents);

    expect(batched.balances).toEqual(single.balances);
    expect(batched.owed).toBe(single.owed);
    expect(batched.balances.reduce((x, y) => x + y, 0n)).toBe(batched.owed);
    expect(batched.held).toBe(batched.owed);
  });
});
