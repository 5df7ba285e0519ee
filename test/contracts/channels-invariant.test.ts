/**
 * Seeded property test of the channel contract on a real chain: random deposits, claims, sweeps, refunds and
 * timed withdrawals over several channels, checked after every step against a model and the money invariant
 * (USDC held == channel balances - swept; nothing claimed above a balance; tokens neither created nor lost).
 */
import { describe, expect, it } from "vitest";
import type { Address, Hex } from "viem";
import { BATCH_SETTLEMENT_ADDRESS } from "../../sdk/x402-contracts.ts";
import { deployChannelsFixture, WITHDRAW_DELAY, type ChannelConfig } from "./channels-fixture.ts";

/** Deterministic PRNG (mulberry32), so a failure replays with the same seed. */
function prng(seed: number): (max: number) => number {
  let a = seed >>> 0;
  return (max) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * max;
  };
}

interface Model {
  config: ChannelConfig;
  id: Hex;
  balance: bigint;
  claimed: bigint;
  pending: bigint;
  signer: "payer" | "otherPayer";
}

describe("channel money invariant (seeded random walk)", () => {
  for (const seed of [1, 7, 42]) {
    it(`holds over 40 random steps, seed ${seed}`, async () => {
      const f = await deployChannelsFixture();
      const random = prng(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random(items.length))]!;
      const amount = (max: bigint) => (max <= 0n ? 0n : 1n + BigInt(Math.floor(random(Number(max)))));
      const { receiver } = f.wallets;
      const models: Model[] = [];
      for (const signer of ["payer", "otherPayer"] as const) {
        for (const salt of [1, 2]) {
          const config = f.configFor(f.addr(f.wallets[signer]), { salt: `0x${salt.toString(16).padStart(64, "0")}` });
          models.push({ config, id: await f.channels.read.getChannelId([config]), balance: 0n, claimed: 0n, pending: 0n, signer });
        }
      }
      const holders: Address[] = [f.addr(f.wallets.payer), f.addr(f.wallets.otherPayer), f.addr(receiver), BATCH_SETTLEMENT_ADDRESS];
      const totalTokens = async () => (await Promise.all(holders.map((h) => f.usdc.read.balanceOf([h])))).reduce((a, b) => a + b, 0n);
      const tokensAtStart = await totalTokens();

      for (let step = 0; step < 40; step++) {
        const m = pick(models);
        const wallet = f.wallets[m.signer];
        const op = pick(["deposit", "deposit", "claim", "claim", "settle", "refund", "withdraw"] as const);
        if (op === "deposit" || m.balance === 0n) {
          const value = amount(50_000n);
          await f.deposit(wallet, m.config, value);
          m.balance += value;
        } else if (op === "claim") {
          const ceiling = m.claimed + amount(m.balance - m.claimed + 5_000n); // sometimes above the balance
          const total = ceiling > m.balance ? m.balance : ceiling;
          await f.mined(await f.as(receiver).write.claim([[await f.row(wallet, m.config, ceiling, total)]]));
          m.claimed = total > m.claimed ? total : m.claimed;
        } else if (op === "settle") {
          await f.mined(await f.as(pick([receiver, f.wallets.stranger])).write.settle([f.addr(receiver), f.usdc.address]));
        } else if (op === "refund") {
          const asked = amount(m.balance);
          const refunded = asked < m.balance - m.claimed ? asked : m.balance - m.claimed;
          await f.mined(await f.as(receiver).write.refund([m.config, asked]));
          m.balance -= refunded;
          if (m.pending !== 0n) m.pending = refunded >= m.pending ? 0n : m.pending - refunded;
        } else if (m.pending === 0n) {
          const available = m.balance - m.claimed;
          if (available > 0n) {
            const asked = amount(available);
            await f.mined(await f.as(wallet).write.initiateWithdraw([m.config, asked]));
            m.pending = asked;
          }
        } else {
          await f.networkHelpers.time.increase(WITHDRAW_DELAY);
          await f.mined(await f.as(wallet).write.finalizeWithdraw([m.config]));
          const available = m.balance - m.claimed;
          m.balance -= m.pending < available ? m.pending : available;
          m.pending = 0n;
        }

        for (const model of models) {
          expect(await f.channels.read.channels([model.id])).toEqual([model.balance, model.claimed]);
          expect((await f.channels.read.pendingWithdrawals([model.id]))[0]).toBe(model.pending);
        }
        await f.expectSolvent(models.map((model) => model.id), [f.addr(receiver)]);
        expect(await totalTokens()).toBe(tokensAtStart);
      }
    });
  }
});
