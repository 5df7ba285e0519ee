import type { Hex } from "viem";
import { newestVersion, satisfiesRange } from "../sdk/semver.ts";
import type { VersionRecord } from "./chain.ts";
import { ApiError } from "./errors.ts";
import type { ComponentRef, ResolvedDependency } from "./host.ts";

/** What resolution reads from the registry (RegistryView implements it). */
export interface DependencyCatalog {
  /** Every published version of a package, yanked ones included; undefined for an unknown package. */
  versionsOf(name: string): Promise<VersionRecord[] | undefined>;
}

/** The prepared component of a version on this executor: the qualified WIT interface it exports, or undefined when it is not held here. */
export type HeldInterface = (ref: ComponentRef) => string | undefined;

/** Deeper chains are refused (the runtime's MAX_LINK_DEPTH). */
const MAX_DEPTH = 8;

const label = (v: { name: string; version: string }) => `${v.name}@${v.version}`;

/**
 * Resolves a version's declared dependencies (its manifest's `dependencies`), recursively, to the
 * versions this executor links: for each, the newest published, non-yanked version in the declared
 * range that this executor holds. Pulls nothing from anyone: a dependency must have been uploaded
 * here by its own maintainer. Refusals are typed ApiErrors naming the dependency:
 * DEPENDENCY_UNKNOWN (no such package), DEPENDENCY_UNRESOLVED (no published version in range),
 * DEPENDENCY_YANKED (every version in range is yanked), DEPENDENCY_MISSING (not on this executor),
 * DEPENDENCY_TOO_EXPENSIVE (its price per call is above the declared maxRoyaltyPerCall),
 * DEPENDENCY_CYCLE (a chain that comes back to itself, or deeper than 8).
 */
export async function resolveDependencies(version: VersionRecord, catalog: DependencyCatalog, held: HeldInterface, trail: Hex[] = []): Promise<ResolvedDependency[]> {
  const declared = version.manifest?.dependencies ?? [];
  const resolved: ResolvedDependency[] = [];
  const path = [...trail, version.versionId];
  for (const dependency of declared) {
    const what = `${label(version)} depends on ${dependency.package}@${dependency.version}`;
    const versions = await catalog.versionsOf(dependency.package);
    if (!versions) throw new ApiError(422, "DEPENDENCY_UNKNOWN", `${what}, but no package "${dependency.package}" is registered.`, "Publish the dependency first, or fix its name in glassbox.json.", { dependency: dependency.package });
    const inRange = versions.filter((v) => satisfiesRange(v.version, dependency.version));
    if (inRange.length === 0) {
      throw new ApiError(422, "DEPENDENCY_UNRESOLVED", `${what}, but no published version of it is in that range (published: ${versions.map((v) => v.version).join(", ") || "none"}).`, "Widen the range, or publish a matching version of the dependency.", { dependency: dependency.package, range: dependency.version });
    }
    const live = inRange.filter((v) => !v.yanked);
    if (live.length === 0) {
      throw new ApiError(422, "DEPENDENCY_YANKED", `${what}, but every version of it in that range is yanked (${inRange.map((v) => v.version).join(", ")}).`, "Depend on a version that is not yanked, and publish a new version.", { dependency: dependency.package, range: dependency.version });
    }
    const onHand = live.filter((v) => held(v.hashes) !== undefined);
    const newest = newestVersion(onHand.map((v) => v.version));
    const chosen = onHand.find((v) => v.version === newest);
    if (!chosen) {
      const wanted = live.find((v) => v.version === newestVersion(live.map((l) => l.version)))!;
      throw new ApiError(
        409,
        "DEPENDENCY_MISSING",
        `${what}, but this executor does not hold ${label(wanted)} (nor any other non-yanked version in range): its component was never uploaded here.`,
        `The executor pulls nothing: the maintainer of ${dependency.package} uploads it here first (glassbox upload), then upload this component again.`,
        { dependency: dependency.package, version: wanted.version },
      );
    }
    if (path.includes(chosen.versionId) || path.length >= MAX_DEPTH) {
      throw new ApiError(422, "DEPENDENCY_CYCLE", `${what}, which leads back to a version already in the chain or past ${MAX_DEPTH} links (${path.length} so far).`, "Break the cycle: a capability cannot depend on itself through others.", { dependency: dependency.package });
    }
    const max = BigInt(dependency.maxRoyaltyPerCall);
    if (chosen.accessMode !== "free" && chosen.price > max) {
      throw new ApiError(
        422,
        "DEPENDENCY_TOO_EXPENSIVE",
        `${what} with at most ${max} USDC base units of royalty per call, but ${label(chosen)} costs ${chosen.price}${chosen.accessMode === "per-fuel" ? " plus its fuel" : ""} per call.`,
        "Raise maxRoyaltyPerCall in glassbox.json (a new version), or depend on a cheaper package.",
        { dependency: dependency.package, version: chosen.version, price: chosen.price.toString(), maxRoyaltyPerCall: max.toString() },
      );
    }
    resolved.push({
      versionId: chosen.versionId,
      name: chosen.name,
      version: chosen.version,
      accessMode: chosen.accessMode,
      price: chosen.price,
      fuelPricePerMillion: chosen.fuelPricePerMillion,
      maxRoyaltyPerCall: max,
      interfaceName: held(chosen.hashes)!,
      hashes: chosen.hashes,
      dependencies: await resolveDependencies(chosen, catalog, held, path),
    });
  }
  return resolved;
}

/** Every dependency of a resolved tree, depth-first (what a composed call may be charged for). */
export function flattenResolved(dependencies: readonly ResolvedDependency[]): ResolvedDependency[] {
  return dependencies.flatMap((d) => [d, ...flattenResolved(d.dependencies)]);
}
