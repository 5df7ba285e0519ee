/** Small assertions shared by the Settlement v2 tests: decoded events and the money invariant. */
import { expect } from "vitest";
import { parseEventLogs, type Address, type Hex } from "viem";
import { settlementAbi } from "../../sdk/abi.ts";
import type { Fixture } from "./fixture.ts";

export interface CreditedArgs {
  account: Address;
  versionId: Hex;
  kind: number;
  amount: bigint;
}

export async function settlementEvents(f: Fixture, hash: Hex) {
  const receipt = await f.mined(hash);
  return parseEventLogs({ abi: settlementAbi, logs: receipt.logs });
}

/** The Credited events of a transaction, in emission order. */
export async function creditsOf(f: Fixture, hash: Hex): Promise<CreditedArgs[]> {
  return (await settlementEvents(f, hash)).flatMap((e) => (e.eventName === "Credited" ? [e.args] : []));
}

/** Money in == money owed + bonds + explicit surplus (surplus is zero unless the test sent stray funds). */
export async function expectSolvent(f: Fixture, surplus = 0n) {
  const held = await f.usdc.read.balanceOf([f.settlement.address]);
  const owed = await f.settlement.read.totalOwed();
  const bonds = await f.settlement.read.totalBonds();
  expect(held).toBe(owed + bonds + surplus);
}
