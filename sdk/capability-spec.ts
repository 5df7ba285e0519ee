/**
 * A published version's public spec as an agent reads it: the manifest (from the chain), the WIT
 * with its doc comments and the test vectors (public blobs from any executor that holds them,
 * checked against the registered hashes), the price, and the executors that serve it. Free to read.
 */
import semver from "semver";
import { readPublicBlob } from "./client/blobs.ts";
import { GlassboxError } from "./client/errors.ts";
import type { VersionView } from "./client/registry.ts";
import type { Glassbox } from "./glassbox.ts";
import { assertPackageName } from "./ids.ts";
import type { Manifest } from "./manifest.ts";
import { parseTestVectors, type TestVectors } from "./test-vectors.ts";
import { formatUsdc } from "./units.ts";
import { documentInterface, type InterfaceDocumentation } from "./wit.ts";

export interface ServingExecutor {
  endpoint: string;
  /** The executor's registered fee per call (USDC base units), when the catalog lists it. */
  feePerCall?: bigint;
}

export interface CapabilitySpec {
  name: string;
  version: VersionView;
  manifest: Manifest;
  wit: string;
  docs: InterfaceDocumentation;
  tests?: TestVectors;
  executors: ServingExecutor[];
}

/** `acme/markdown`, `acme/markdown@1.2.0`, `acme/markdown@^1` (a semver range), `acme/markdown@latest`. */
export function parseCapabilityRef(ref: string): { name: string; range: string } {
  const at = ref.lastIndexOf("@");
  const name = at > 0 ? ref.slice(0, at) : ref;
  const range = at > 0 ? ref.slice(at + 1) : "latest";
  assertPackageName(name);
  if (range !== "latest" && semver.validRange(range) === null) {
    throw new GlassboxError("BAD_VERSION_RANGE", `"${range}" in "${ref}" is neither a version nor a semver range.`, "Write scope/name, scope/name@1.2.3 or scope/name@^1.");
  }
  return { name, range };
}

/** The newest non-yanked version of `name` that satisfies `range` (an exact version may be yanked: it is refused). */
export async function resolveVersionRange(glassbox: Glassbox, name: string, range: string): Promise<VersionView> {
  if (range === "latest" || semver.valid(range)) {
    const version = await glassbox.registry.resolveVersion(name, range);
    if (version.yanked) throw new GlassboxError("VERSION_YANKED", `${name}@${version.version} was yanked by its maintainer.`, `Use ${name}@latest or another version.`);
    return version;
  }
  const versions = (await glassbox.registry.listVersions(name)).filter((v) => !v.yanked);
  const best = semver.maxSatisfying(versions.map((v) => v.version), range);
  const version = versions.find((v) => v.version === best);
  if (!version) {
    throw new GlassboxError(
      versions.length === 0 ? "UNKNOWN_PACKAGE" : "NO_MATCHING_VERSION",
      versions.length === 0 ? `No callable version of ${name} on-chain.` : `No version of ${name} satisfies ${range} (callable: ${versions.map((v) => v.version).join(", ")}).`,
    );
  }
  return version;
}

/** "free", "0.002 USDC per call", "0.0001 USDC + 0.0005 USDC per million fuel per call": the royalty, before the executor's fee. */
export function priceLabel(version: Pick<VersionView, "accessMode" | "price" | "fuelPricePerMillion">): string {
  if (version.accessMode === "free") return "free";
  if (version.accessMode === "per-fuel") return `${formatUsdc(version.price)} + ${formatUsdc(version.fuelPricePerMillion)} per million fuel per call, plus the executor's fee`;
  return `${formatUsdc(version.price)} per call, plus the executor's fee`;
}

/** Loads the public spec of `ref` (see parseCapabilityRef): reading it is free. */
export async function loadCapabilitySpec(glassbox: Glassbox, ref: string): Promise<CapabilitySpec> {
  const { name, range } = parseCapabilityRef(ref);
  const version = await resolveVersionRange(glassbox, name, range);
  const [{ manifest }, serving, listed] = await Promise.all([
    glassbox.registry.getManifest(version.versionId),
    glassbox.executorsFor(version),
    glassbox.catalog ? glassbox.catalog.executors().catch(() => undefined) : Promise.resolve(undefined),
  ]);
  const fees = new Map((listed?.executors ?? []).map((e) => [e.endpoint, BigInt(e.feePerCall)]));
  const executors = serving.map((endpoint) => {
    const fee = fees.get(endpoint);
    return fee === undefined ? { endpoint } : { endpoint, feePerCall: fee };
  });
  const label = `${name}@${version.version}`;
  if (serving.length === 0) throw new GlassboxError("NO_EXECUTOR", `No running executor serves ${label}, so its spec cannot be read either.`);
  const [wit, testsText] = await Promise.all([readPublicBlob(serving, version.hashes.witHash), readPublicBlob(serving, version.hashes.testsHash)]);
  if (wit === undefined) throw new GlassboxError("SPEC_UNAVAILABLE", `No executor serves the WIT of ${label} (hash ${version.hashes.witHash}).`);
  const docs = documentInterface(wit, manifest.wit.world, manifest.wit.interface);
  const spec: CapabilitySpec = { name, version, manifest, wit, docs, executors };
  if (testsText !== undefined) spec.tests = parseTestVectors(testsText);
  return spec;
}
