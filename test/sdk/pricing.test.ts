import { describe, expect, it } from "vitest";
import { fuelCost, quoteComposedCall, QuoteRefusedError, royaltyFor, type PricedDependency } from "../../sdk/pricing.ts";

const SLUG = "0x1111111111111111111111111111111111111111111111111111111111111111" as const;
const ANCHORS = "0x2222222222222222222222222222222222222222222222222222222222222222" as const;
const PARENT = "0x3333333333333333333333333333333333333333333333333333333333333333" as const;

const perCall = (versionId: `0x${string}`, price: bigint, maxRoyaltyPerCall: bigint): PricedDependency => ({ versionId, accessMode: "per-call", price, fuelPricePerMillion: 0n, maxRoyaltyPerCall });
const perFuel = (versionId: `0x${string}`, price: bigint, fuelPricePerMillion: bigint, maxRoyaltyPerCall: bigint): PricedDependency => ({ versionId, accessMode: "per-fuel", price, fuelPricePerMillion, maxRoyaltyPerCall });

describe("quote arithmetic of a composed call, to the base unit", () => {
  it("fuel cost rounds a started millionth up", () => {
    expect([fuelCost(0n, 7n), fuelCost(1n, 7n), fuelCost(1_000_000n, 7n), fuelCost(1_000_001n, 7n), fuelCost(142_857n, 7n), fuelCost(142_858n, 7n)]).toEqual([0n, 1n, 7n, 8n, 1n, 2n]);
    expect([royaltyFor({ accessMode: "free", price: 0n, fuelPricePerMillion: 0n }, 5n, 10n ** 12n), royaltyFor({ accessMode: "per-call", price: 1_500n, fuelPricePerMillion: 0n }, 3n, 1n)]).toEqual([0n, 4_500n]);
  });

  it("own price + calls x price for a per-call dependency + price x calls + ceil(fuel x fuelPrice / 1e6) for a per-fuel one", () => {
    const quote = quoteComposedCall(
      { accessMode: "per-fuel", price: 100n, fuelPricePerMillion: 50n },
      5_000_000n,
      [perCall(SLUG, 300n, 300n), perFuel(ANCHORS, 20n, 9n, 1_000n)],
      [
        { versionId: SLUG, calls: 4, fuel: 1_234_567n },
        { versionId: ANCHORS, calls: 2, fuel: 2_000_001n },
      ],
    );
    // own fuel = 5,000,000 - 1,234,567 - 2,000,001 = 1,765,432 -> 100 + ceil(1,765,432 x 50 / 1e6) = 100 + 89
    expect(quote.ownFuel).toBe(1_765_432n);
    expect(quote.own).toBe(189n);
    // slug: 4 x 300 = 1200; anchors: 2 x 20 + ceil(2,000,001 x 9 / 1e6) = 40 + 19
    expect(quote.dependencies).toEqual([
      { versionId: SLUG, calls: 4, fuel: 1_234_567n, royalty: 1_200n },
      { versionId: ANCHORS, calls: 2, fuel: 2_000_001n, royalty: 59n },
    ]);
    expect(quote.royalty).toBe(189n + 1_200n + 59n);
  });

  it("a wrapping fork: delegated calls pay the parent its price as a dependency, the fork's own price once", () => {
    const quote = quoteComposedCall({ accessMode: "per-call", price: 500n, fuelPricePerMillion: 0n }, 80_000n, [perCall(PARENT, 1_000n, 1_000n)], [{ versionId: PARENT, calls: 1, fuel: 60_000n }]);
    expect(quote).toEqual({ own: 500n, ownFuel: 20_000n, dependencies: [{ versionId: PARENT, calls: 1, fuel: 60_000n, royalty: 1_000n }], royalty: 1_500n });
  });

  it("a dependency that was not called costs nothing; a free one costs nothing however much it runs", () => {
    const free: PricedDependency = { versionId: SLUG, accessMode: "free", price: 0n, fuelPricePerMillion: 0n, maxRoyaltyPerCall: 0n };
    const quote = quoteComposedCall({ accessMode: "free", price: 0n, fuelPricePerMillion: 0n }, 10n ** 9n, [free, perCall(ANCHORS, 7n, 7n)], [{ versionId: SLUG, calls: 1_000, fuel: 10n ** 8n }]);
    expect(quote.royalty).toBe(0n);
    expect(quote.dependencies).toEqual([{ versionId: SLUG, calls: 1_000, fuel: 10n ** 8n, royalty: 0n }]);
  });

  it("refuses a per-call dependency priced above the declared maximum (one base unit over is enough)", () => {
    const attempt = () => quoteComposedCall({ accessMode: "free", price: 0n, fuelPricePerMillion: 0n }, 10n, [perCall(SLUG, 1_001n, 1_000n)], [{ versionId: SLUG, calls: 1, fuel: 1n }]);
    expect(attempt).toThrow(QuoteRefusedError);
    expect(attempt).toThrow(/1001 USDC base units for 1 call\(s\), above the declared maximum of 1000 per call/);
    expect(() => quoteComposedCall({ accessMode: "free", price: 0n, fuelPricePerMillion: 0n }, 10n, [perCall(SLUG, 1_000n, 1_000n)], [{ versionId: SLUG, calls: 1, fuel: 1n }])).not.toThrow();
  });

  it("refuses a per-fuel dependency whose royalty spread over its calls passes the maximum", () => {
    const own = { accessMode: "free" as const, price: 0n, fuelPricePerMillion: 0n };
    // 2 calls: 2 x 10 + ceil(3,000,000 x 30 / 1e6) = 20 + 90 = 110 <= 2 x 55
    expect(quoteComposedCall(own, 3_000_000n, [perFuel(SLUG, 10n, 30n, 55n)], [{ versionId: SLUG, calls: 2, fuel: 3_000_000n }]).royalty).toBe(110n);
    expect(() => quoteComposedCall(own, 3_000_001n, [perFuel(SLUG, 10n, 30n, 55n)], [{ versionId: SLUG, calls: 2, fuel: 3_000_001n }])).toThrow(/111 USDC base units for 2 call\(s\)/);
  });

  it("a version listed twice keeps the lowest maximum; usage of an unknown version or more fuel than the total is refused", () => {
    const own = { accessMode: "free" as const, price: 0n, fuelPricePerMillion: 0n };
    expect(() => quoteComposedCall(own, 10n, [perCall(SLUG, 500n, 900n), perCall(SLUG, 500n, 400n)], [{ versionId: SLUG, calls: 1, fuel: 1n }])).toThrow(/maximum of 400/);
    expect(() => quoteComposedCall(own, 10n, [], [{ versionId: SLUG, calls: 1, fuel: 1n }])).toThrow(/not a resolved dependency/);
    expect(() => quoteComposedCall(own, 10n, [perCall(SLUG, 1n, 1n)], [{ versionId: SLUG, calls: 1, fuel: 11n }])).toThrow(/more than the composition's 10/);
  });
});
