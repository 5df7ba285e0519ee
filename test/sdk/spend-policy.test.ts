import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageGlob, SpendPolicy, SpendPolicyError } from "../../sdk/spend-policy.ts";

let dir: string;
beforeAll(async () => void (dir = await mkdtemp(path.join(tmpdir(), "glassbox-spend-"))));
afterAll(() => rm(dir, { recursive: true, force: true }));

const at = (iso: string) => () => new Date(iso);

async function refusal(promise: Promise<unknown>): Promise<SpendPolicyError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SpendPolicyError);
  return error as SpendPolicyError;
}

describe("package globs", () => {
  it("match within one segment; a lone * matches every package", () => {
    expect(packageGlob("acme/*").test("acme/markdown")).toBe(true);
    expect(packageGlob("acme/*").test("acme2/markdown")).toBe(false);
    expect(packageGlob("*/markdown").test("forker/markdown")).toBe(true);
    expect(packageGlob("acme/text-*").test("acme/text-stats")).toBe(true);
    expect(packageGlob("acme/text-*").test("acme/texts")).toBe(false);
    expect(packageGlob("*").test("any/thing")).toBe(true);
  });

  it("refuse anything that is not a package glob, by name", () => {
    expect(() => packageGlob("acme")).toThrow(/"acme" is not a package glob/);
    expect(() => packageGlob("acme/.*")).toThrow(SpendPolicyError);
  });
});

describe("SpendPolicy", () => {
  it("refuses a package outside the allowed globs, free ones too", async () => {
    const policy = new SpendPolicy({ allowedPackages: ["acme/*"] });
    expect(() => policy.checkPackage("acme/markdown")).not.toThrow();
    const error = await refusal(policy.reserve("forker/markdown-plus", 0n));
    expect(error.limit).toBe("allowed-packages");
    expect(error.message).toBe("forker/markdown-plus is not in the allowed packages (acme/*).");
  });

  it("refuses a price over the per-call limit, naming both amounts", async () => {
    const policy = new SpendPolicy({ maxPerCall: 1000n });
    const error = await refusal(policy.reserve("acme/markdown", 2000n));
    expect(error.limit).toBe("max-per-call");
    expect(error.amounts).toEqual({ price: 2000n, limit: 1000n });
    expect(error.message).toContain("0.002 USDC");
    expect(error.message).toContain("0.001 USDC");
  });

  it("caps a call at what the tighter limit leaves, and settles the reservation to what was paid", async () => {
    const stateFile = path.join(dir, "cap.json");
    const policy = new SpendPolicy({ maxPerCall: 5000n, maxPerDay: 12000n }, { stateFile, now: at("2026-11-29T10:00:00Z") });
    const first = await policy.reserve("acme/markdown", 2000n);
    expect(first).toMatchObject({ cap: 5000n, capLimit: "max-per-call", reserved: 5000n });
    expect(await policy.spentToday()).toBe(5000n);
    await policy.settle(first, 2100n);
    expect(await policy.spentToday()).toBe(2100n);
    const second = await policy.reserve("acme/markdown", 2000n);
    await policy.settle(second, 5000n);
    await policy.settle(await policy.reserve("acme/markdown", 2000n), 2100n);
    // 9200 spent: 2800 left, below the per-call limit, so the day's limit sets the cap.
    const fourth = await policy.reserve("acme/markdown", 2000n);
    expect(fourth).toMatchObject({ cap: 2800n, capLimit: "max-per-day" });
    const asked = await policy.refusal("acme/markdown", fourth, 3000n);
    expect(asked.limit).toBe("max-per-day");
    expect(asked.message).toBe("acme/markdown asks 0.003 USDC for this call, and only 0.0028 USDC of the daily limit of 0.012 USDC is left (0.0092 USDC spent today).");
    await policy.settle(fourth, 0n);
    expect(await policy.spentToday()).toBe(9200n);
  });

  it("keeps the day's spending across restarts (the state file), and starts afresh the next UTC day", async () => {
    const stateFile = path.join(dir, "restart.json");
    const config = { maxPerDay: 5000n };
    const before = new SpendPolicy(config, { stateFile, now: at("2026-11-29T23:59:00Z") });
    await before.settle(await before.reserve("acme/markdown", 2000n), 4000n);
    const after = new SpendPolicy(config, { stateFile, now: at("2026-11-29T23:59:30Z") });
    const error = await refusal(after.reserve("acme/markdown", 2000n));
    expect(error.limit).toBe("max-per-day");
    expect(error.amounts).toEqual({ price: 2000n, limit: 5000n, spentToday: 4000n, left: 1000n });
    expect(error.message).toContain("only 0.001 USDC of the daily limit of 0.005 USDC is left (0.004 USDC spent today)");
    const tomorrow = new SpendPolicy(config, { stateFile, now: at("2026-11-30T00:00:01Z") });
    expect(await tomorrow.reserve("acme/markdown", 2000n)).toMatchObject({ cap: 5000n });
    const state = JSON.parse(await readFile(stateFile, "utf8")) as { days: Record<string, string> };
    expect(state.days).toEqual({ "2026-11-29": "4000", "2026-11-30": "5000" });
  });

  it("concurrent calls cannot both take the last of the day", async () => {
    const policy = new SpendPolicy({ maxPerCall: 3000n, maxPerDay: 4000n }, { stateFile: path.join(dir, "race.json") });
    const outcomes = await Promise.allSettled([policy.reserve("acme/markdown", 2000n), policy.reserve("acme/markdown", 2000n)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    const granted = outcomes.find((o) => o.status === "fulfilled")!;
    expect(granted.status === "fulfilled" && granted.value.cap).toBe(3000n);
  });

  it("names a broken state file instead of treating it as nothing spent", async () => {
    const stateFile = path.join(dir, "broken.json");
    await writeFile(stateFile, "{ not json");
    const policy = new SpendPolicy({ maxPerDay: 1000n }, { stateFile });
    await expect(policy.reserve("acme/markdown", 1n)).rejects.toThrow(`The spend state file ${stateFile} is not JSON`);
    await writeFile(stateFile, JSON.stringify({ version: 1, days: { "2026-11-29": -5 } }));
    await expect(policy.spentToday()).rejects.toThrow(/no valid "days" map/);
  });

  it("refuses negative limits", () => {
    expect(() => new SpendPolicy({ maxPerCall: -1n })).toThrow(/per-call limit cannot be negative/);
  });
});
