import type { Hex } from "viem";
import type { AccessMode } from "./manifest.ts";

/**
 * Royalty arithmetic of a composed call, pure and exact to the base unit (USDC, 6 decimals). The
 * executor quotes with it (after the deterministic dry run that measures fuel and dependency usage)
 * and a payer can recompute it from the receipt.
 *
 * A composed call's royalty = the dependent's own royalty + for each dependency version called:
 * - free: 0;
 * - per-call: calls x price;
 * - per-fuel: calls x price + ceil(its own fuel x fuelPricePerMillion / 1e6).
 * The dependent's own royalty is its price (per-call) or price + ceil(own fuel x fuelPricePerMillion
 * / 1e6) (per-fuel), where own fuel is the composition's fuel minus every dependency's. The
 * executor's fee is separate (one fee per composed call).
 */
export interface PricedVersion {
  accessMode: AccessMode;
  /** Per call (per-call), or base price per call (per-fuel). */
  price: bigint;
  fuelPricePerMillion: bigint;
}

export interface PricedDependency extends PricedVersion {
  versionId: Hex;
  /** For messages, e.g. "acme/slug@1.0.0". */
  label?: string;
  /** The most royalty per call its dependent accepts (manifest `dependencies[].maxRoyaltyPerCall`). */
  maxRoyaltyPerCall: bigint;
}

/** What a run used of one dependency version (the runtime's dependencyUsage). */
export interface DependencyCalls {
  versionId: Hex;
  calls: number;
  fuel: bigint;
}

/** One dependency line of a quote: the shape of a receipt's `dependencies[]` entry. */
export interface DependencyRoyalty extends DependencyCalls {
  royalty: bigint;
}

export interface ComposedQuote {
  /** The dependent's own royalty. */
  own: bigint;
  /** The dependent's own fuel (the composition's minus its dependencies'). */
  ownFuel: bigint;
  dependencies: DependencyRoyalty[];
  /** own + every dependency's royalty (the executor's fee not included). */
  royalty: bigint;
}

export class QuoteRefusedError extends Error {
  override name = "QuoteRefusedError";
  constructor(
    readonly code: "DEPENDENCY_TOO_EXPENSIVE" | "UNKNOWN_DEPENDENCY" | "INVALID_USAGE",
    message: string,
    readonly details: Record<string, string>,
  ) {
    super(message);
  }
}

const MILLION = 1_000_000n;

/** ceil(fuel x fuelPricePerMillion / 1e6): a started millionth is paid. */
export function fuelCost(fuel: bigint, fuelPricePerMillion: bigint): bigint {
  return (fuel * fuelPricePerMillion + MILLION - 1n) / MILLION;
}

/** The royalty of `calls` calls to one version that burned `fuel` between them. */
export function royaltyFor(version: PricedVersion, calls: bigint, fuel: bigint): bigint {
  switch (version.accessMode) {
    case "free":
      return 0n;
    case "per-call":
      return version.price * calls;
    case "per-fuel":
      return version.price * calls + fuelCost(fuel, version.fuelPricePerMillion);
  }
}

/**
 * Quotes a composed call from its dry run: the composition's total fuel and the usage per
 * dependency version. `dependencies` lists every dependency version that may be linked (the resolved
 * tree, flattened; a version listed twice keeps the lowest maxRoyaltyPerCall). Refuses
 * (QuoteRefusedError DEPENDENCY_TOO_EXPENSIVE) when a dependency costs more than its declared maximum
 * per call: per-call, its price; per-fuel, its royalty for this call spread over its calls.
 */
export function quoteComposedCall(own: PricedVersion, totalFuel: bigint, dependencies: readonly PricedDependency[], usage: readonly DependencyCalls[]): ComposedQuote {
  const byVersion = new Map<string, PricedDependency>();
  for (const dependency of dependencies) {
    const key = dependency.versionId.toLowerCase();
    const seen = byVersion.get(key);
    if (!seen || dependency.maxRoyaltyPerCall < seen.maxRoyaltyPerCall) byVersion.set(key, dependency);
  }
  const lines: DependencyRoyalty[] = [];
  let dependencyFuel = 0n;
  for (const used of usage) {
    const dependency = byVersion.get(used.versionId.toLowerCase());
    if (!dependency) throw new QuoteRefusedError("UNKNOWN_DEPENDENCY", `The run used ${used.versionId}, which is not a resolved dependency of this call.`, { versionId: used.versionId });
    if (!Number.isSafeInteger(used.calls) || used.calls < 0 || used.fuel < 0n) {
      throw new QuoteRefusedError("INVALID_USAGE", `Usage of ${used.versionId} must be whole non-negative calls and fuel.`, { versionId: used.versionId });
    }
    const calls = BigInt(used.calls);
    const royalty = royaltyFor(dependency, calls, used.fuel);
    if (royalty > dependency.maxRoyaltyPerCall * calls) {
      const name = dependency.label ?? dependency.versionId;
      throw new QuoteRefusedError(
        "DEPENDENCY_TOO_EXPENSIVE",
        `${name} would cost ${royalty} USDC base units for ${calls} call(s), above the declared maximum of ${dependency.maxRoyaltyPerCall} per call.`,
        { versionId: dependency.versionId, royalty: royalty.toString(), calls: calls.toString(), maxRoyaltyPerCall: dependency.maxRoyaltyPerCall.toString() },
      );
    }
    dependencyFuel += used.fuel;
    lines.push({ versionId: dependency.versionId, calls: used.calls, fuel: used.fuel, royalty });
  }
  if (dependencyFuel > totalFuel) throw new QuoteRefusedError("INVALID_USAGE", `The dependencies burned ${dependencyFuel} fuel, more than the composition's ${totalFuel}.`, {});
  const ownFuel = totalFuel - dependencyFuel;
  const ownRoyalty = royaltyFor(own, 1n, ownFuel);
  return { own: ownRoyalty, ownFuel, dependencies: lines, royalty: lines.reduce((sum, line) => sum + line.royalty, ownRoyalty) };
}
