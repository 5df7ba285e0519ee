import { getAddress, isAddress, type Address } from "viem";
import { canonicalJson } from "./canonical-json.ts";
import { PACKAGE_NAME_PATTERN, parsePackageRef } from "./ids.ts";
import { isSemverRange } from "./semver.ts";

/** How a version is paid for; matches ICapabilityRegistry.AccessMode (Free=0, PerCall=1, PerFuel=2). */
export type AccessMode = "free" | "per-call" | "per-fuel";
export const ACCESS_MODES: readonly AccessMode[] = ["free", "per-call", "per-fuel"];
export const ACCESS_MODE_CODE: Record<AccessMode, number> = { free: 0, "per-call": 1, "per-fuel": 2 };

/**
 * Another published capability this one imports (composition): its WIT world imports that package's
 * interface, and every call made to it pays the dependency its own price.
 */
export interface Dependency {
  /** "scope/name" of the dependency. */
  package: string;
  /** npm-style semver range ("^1.0.0", "~1.2.0", "1.0.0"): the executor links the newest published, non-yanked match. */
  version: string;
  /** The most royalty one call to it may cost, in USDC base units (decimal string); a dearer match is refused. */
  maxRoyaltyPerCall: string;
}

export const MAX_DEPENDENCIES = 16;

export interface Split {
  recipient: Address;
  bps: number;
}

/**
 * A WIT function as published in the manifest, types printed as WIT text, so the catalog can
 * search and show signatures without fetching the WIT. Filled in from the WIT at publish.
 */
export interface PublishedFunction {
  name: string;
  params: { name: string; type: string }[];
  result: string | null;
}

/** glassbox.json: what a maintainer writes, and (with `functions` filled in) what is published on-chain. */
export interface Manifest {
  name: string;
  version: string;
  description: string;
  keywords: string[];
  license: string;
  repository?: string;
  wit: { file: string; world: string; interface: string };
  /**
   * Build input: a JS/TS module implementing the WIT world. Optional for prebuilt components.
   * `publish: true` publishes the project's source as a public tarball (free to read, a starting
   * point for forks); its sha256 goes into `sourceHash` at publish, so the chain pins it.
   */
  source?: { entry: string; backend?: "qjs" | "starlingmonkey"; publish?: boolean };
  /** sha256 of the published source tarball (filled in at publish when `source.publish` is set). */
  sourceHash?: `0x${string}`;
  /** Published capabilities this one imports; omitted when none. */
  dependencies?: Dependency[];
  /** Path of the built component (.wasm). */
  component: string;
  /** Path of the JSON test vectors. */
  tests: string;
  /**
   * Prices in USDC base units (6 decimals), as decimal strings. `licencePrice`, when set, offers a licence to
   * run the version locally (pay once, `glassbox run`): publish sets it on-chain, where the owner may change it.
   */
  access: { mode: AccessMode; price: string; fuelPricePerMillion: string; licencePrice?: string };
  /** WASI interfaces the component may import (e.g. "wasi:clocks/wall-clock"); default none. */
  capabilities: string[];
  splits: Split[];
  fork?: { parent: string; upstreamShareBps: number };
  minForkShareBps: number;
  functions?: PublishedFunction[];
}

export interface ManifestIssue {
  /** Dotted path of the offending field, e.g. "access.price" or "splits[1].bps". */
  field: string;
  message: string;
}

export class ManifestError extends Error {
  override name = "ManifestError";
  constructor(readonly issues: ManifestIssue[], source = "glassbox.json") {
    super(`${source} is invalid:\n${issues.map((i) => `  - ${i.field}: ${i.message}`).join("\n")}`);
  }
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const CAPABILITY = /^wasi:[a-z][a-z0-9-]*\/[a-z][a-z0-9-]*(@[0-9][0-9a-z.+-]*)?$/;
const IDENT = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_SPLITS = 16;

export function isSemver(version: string): boolean {
  return version.length <= 64 && SEMVER.test(version);
}

/** Validates parsed JSON as a manifest, collecting every problem (each names its field). */
export function validateManifest(input: unknown, source = "glassbox.json"): Manifest {
  const issues: ManifestIssue[] = [];
  const fail = (field: string, message: string) => issues.push({ field, message });
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ManifestError([{ field: "(root)", message: "must be a JSON object" }], source);
  }
  const m = input as Record<string, unknown>;

  const str = (field: string, value: unknown, opts: { optional?: boolean; max?: number } = {}): string | undefined => {
    if (value === undefined && opts.optional) return undefined;
    if (typeof value !== "string" || value.length === 0) {
      fail(field, `must be a non-empty string${value === undefined ? " (missing)" : `, got ${JSON.stringify(value)}`}`);
      return undefined;
    }
    if (opts.max && value.length > opts.max) fail(field, `must be at most ${opts.max} characters`);
    return value;
  };
  const amount = (field: string, value: unknown, fallback?: string): string | undefined => {
    if (value === undefined && fallback !== undefined) return fallback;
    const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
    if (typeof text !== "string" || !/^(0|[1-9]\d{0,29})$/.test(text)) {
      fail(field, `must be a non-negative integer in USDC base units (6 decimals: "1000" = 0.001 USDC), got ${JSON.stringify(value)}`);
      return undefined;
    }
    return text;
  };
  const bps = (field: string, value: unknown, fallback?: number): number | undefined => {
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 10_000) {
      fail(field, `must be an integer number of basis points from 0 to 10000 (2000 = 20%), got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  };

  const name = str("name", m.name);
  if (name !== undefined && !PACKAGE_NAME_PATTERN.test(name)) {
    fail("name", `must be "scope/name" in lowercase letters, digits and dashes, got ${JSON.stringify(name)}`);
  }
  const version = str("version", m.version);
  if (version !== undefined && !isSemver(version)) fail("version", `must be a semver version like "1.2.3", got ${JSON.stringify(version)}`);
  const description = str("description", m.description, { max: 500 });
  const license = str("license", m.license, { max: 100 });
  const repository = str("repository", m.repository, { optional: true, max: 300 });

  let keywords: string[] = [];
  if (m.keywords === undefined) keywords = [];
  else if (!Array.isArray(m.keywords) || m.keywords.some((k) => typeof k !== "string" || k.length === 0 || k.length > 40)) {
    fail("keywords", "must be an array of non-empty strings of at most 40 characters");
  } else if (m.keywords.length > 20) fail("keywords", "must have at most 20 entries");
  else keywords = m.keywords as string[];

  let wit: Manifest["wit"] | undefined;
  if (typeof m.wit !== "object" || m.wit === null) fail("wit", "must be an object { file, world, interface }");
  else {
    const w = m.wit as Record<string, unknown>;
    const file = str("wit.file", w.file);
    const world = str("wit.world", w.world);
    const iface = str("wit.interface", w.interface);
    if (world !== undefined && !IDENT.test(world)) fail("wit.world", `must be a WIT identifier (kebab-case), got ${JSON.stringify(world)}`);
    if (iface !== undefined && !IDENT.test(iface)) fail("wit.interface", `must be a WIT identifier (kebab-case), got ${JSON.stringify(iface)}`);
    if (file && world && iface) wit = { file, world, interface: iface };
  }

  let sourceField: Manifest["source"];
  if (m.source !== undefined) {
    if (typeof m.source !== "object" || m.source === null) fail("source", "must be an object { entry, backend?, publish? }");
    else {
      const s = m.source as Record<string, unknown>;
      const entry = str("source.entry", s.entry);
      if (s.backend !== undefined && s.backend !== "qjs" && s.backend !== "starlingmonkey") {
        fail("source.backend", `must be "qjs" or "starlingmonkey", got ${JSON.stringify(s.backend)}`);
      }
      if (s.publish !== undefined && typeof s.publish !== "boolean") fail("source.publish", `must be true or false, got ${JSON.stringify(s.publish)}`);
      if (entry) {
        sourceField = s.backend === undefined ? { entry } : { entry, backend: s.backend as "qjs" | "starlingmonkey" };
        if (s.publish === true) sourceField.publish = true;
      }
    }
  }
  let sourceHash: Manifest["sourceHash"];
  if (m.sourceHash !== undefined) {
    if (typeof m.sourceHash !== "string" || !/^0x[0-9a-f]{64}$/.test(m.sourceHash)) fail("sourceHash", `must be a 0x-prefixed lowercase sha256 (64 hex digits), got ${JSON.stringify(m.sourceHash)}`);
    else if (sourceField?.publish !== true) fail("sourceHash", 'is only for a manifest whose "source.publish" is true');
    else sourceHash = m.sourceHash as `0x${string}`;
  }

  const dependencies: Dependency[] = [];
  if (m.dependencies !== undefined) {
    if (!Array.isArray(m.dependencies)) fail("dependencies", 'must be an array of { package, version, maxRoyaltyPerCall }, e.g. [{ "package": "acme/slug", "version": "^1.0.0", "maxRoyaltyPerCall": "1000" }]');
    else if (m.dependencies.length > MAX_DEPENDENCIES) fail("dependencies", `must have at most ${MAX_DEPENDENCIES} entries`);
    else {
      const seen = new Set<string>();
      m.dependencies.forEach((d: unknown, i) => {
        const entry = (typeof d === "object" && d !== null && !Array.isArray(d) ? d : {}) as Record<string, unknown>;
        const field = `dependencies[${i}]`;
        if (typeof d !== "object" || d === null || Array.isArray(d)) {
          fail(field, "must be an object { package, version, maxRoyaltyPerCall }");
          return;
        }
        const pkg = str(`${field}.package`, entry.package);
        if (pkg !== undefined && !PACKAGE_NAME_PATTERN.test(pkg)) fail(`${field}.package`, `must be "scope/name" in lowercase letters, digits and dashes, got ${JSON.stringify(pkg)}`);
        else if (pkg !== undefined && pkg === name) fail(`${field}.package`, "a package cannot depend on itself");
        else if (pkg !== undefined && seen.has(pkg)) fail(`${field}.package`, `${pkg} is listed twice`);
        if (pkg !== undefined) seen.add(pkg);
        const range = str(`${field}.version`, entry.version, { max: 128 });
        if (range !== undefined && !isSemverRange(range)) fail(`${field}.version`, `must be a semver range like "^1.0.0", "~1.2.0" or "1.0.0", got ${JSON.stringify(range)}`);
        const max = amount(`${field}.maxRoyaltyPerCall`, entry.maxRoyaltyPerCall);
        if (pkg !== undefined && range !== undefined && max !== undefined) dependencies.push({ package: pkg, version: range, maxRoyaltyPerCall: max });
      });
    }
  }
  const component = str("component", m.component);
  const tests = str("tests", m.tests);

  let access: Manifest["access"] | undefined;
  if (typeof m.access !== "object" || m.access === null) fail("access", 'must be an object { mode, price, fuelPricePerMillion?, licencePrice? }');
  else {
    const a = m.access as Record<string, unknown>;
    const mode = a.mode as AccessMode;
    if (!ACCESS_MODES.includes(mode)) fail("access.mode", `must be one of ${ACCESS_MODES.join(", ")}, got ${JSON.stringify(a.mode)}`);
    const price = amount("access.price", a.price, mode === "free" ? "0" : undefined);
    const fuelPrice = amount("access.fuelPricePerMillion", a.fuelPricePerMillion, "0");
    if (mode === "free" && (price !== "0" || fuelPrice !== "0")) fail("access", 'a "free" version must have price 0 and no fuel price');
    if (mode === "per-call" && fuelPrice !== undefined && fuelPrice !== "0") fail("access.fuelPricePerMillion", 'is only for mode "per-fuel"');
    if (mode === "per-call" && price === "0") fail("access.price", 'must be above 0 for mode "per-call" (use mode "free" instead)');
    if (mode === "per-fuel" && fuelPrice === "0") fail("access.fuelPricePerMillion", 'must be above 0 for mode "per-fuel"');
    const licencePrice = a.licencePrice === undefined ? undefined : amount("access.licencePrice", a.licencePrice);
    if (licencePrice === "0") fail("access.licencePrice", "must be above 0 (leave it out to offer no licence)");
    if (ACCESS_MODES.includes(mode) && price !== undefined && fuelPrice !== undefined) {
      access = { mode, price, fuelPricePerMillion: fuelPrice };
      if (licencePrice !== undefined && licencePrice !== "0") access.licencePrice = licencePrice;
    }
  }

  let capabilities: string[] = [];
  if (m.capabilities !== undefined) {
    if (!Array.isArray(m.capabilities)) fail("capabilities", 'must be an array of WASI interface names like "wasi:random/random"');
    else
      m.capabilities.forEach((c, i) => {
        if (typeof c !== "string" || !CAPABILITY.test(c)) fail(`capabilities[${i}]`, `must be a WASI interface name like "wasi:random/random", got ${JSON.stringify(c)}`);
      });
    if (Array.isArray(m.capabilities) && issues.every((i) => !i.field.startsWith("capabilities"))) capabilities = m.capabilities as string[];
  }

  const splits: Split[] = [];
  if (!Array.isArray(m.splits) || m.splits.length === 0) fail("splits", "must be a non-empty array of { recipient, bps } summing to 10000");
  else if (m.splits.length > MAX_SPLITS) fail("splits", `must have at most ${MAX_SPLITS} recipients`);
  else {
    const seen = new Set<string>();
    m.splits.forEach((s: unknown, i) => {
      const entry = (typeof s === "object" && s !== null ? s : {}) as Record<string, unknown>;
      const recipient = entry.recipient;
      if (typeof recipient !== "string" || !isAddress(recipient, { strict: false }) || /^0x0{40}$/i.test(recipient)) {
        fail(`splits[${i}].recipient`, `must be a non-zero 0x address, got ${JSON.stringify(recipient)}`);
        return;
      }
      const b = bps(`splits[${i}].bps`, entry.bps);
      if (b === 0) fail(`splits[${i}].bps`, "must be above 0");
      const key = recipient.toLowerCase();
      if (seen.has(key)) fail(`splits[${i}].recipient`, `${recipient} appears twice`);
      seen.add(key);
      if (b !== undefined) splits.push({ recipient: getAddress(recipient), bps: b });
    });
    const total = splits.reduce((sum, s) => sum + s.bps, 0);
    if (splits.length === m.splits.length && total !== 10_000) fail("splits", `bps must sum to 10000, got ${total}`);
  }

  let fork: Manifest["fork"];
  if (m.fork !== undefined) {
    if (typeof m.fork !== "object" || m.fork === null) fail("fork", "must be an object { parent, upstreamShareBps }");
    else {
      const f = m.fork as Record<string, unknown>;
      const parent = str("fork.parent", f.parent);
      if (parent !== undefined) {
        try {
          const ref = parsePackageRef(parent);
          if (!isSemver(ref.version)) fail("fork.parent", `must name an exact version like "acme/markdown@1.0.0", got ${JSON.stringify(parent)}`);
          else if (name !== undefined && ref.name === name) fail("fork.parent", "a package cannot fork itself");
        } catch {
          fail("fork.parent", `must be "scope/name@version", got ${JSON.stringify(parent)}`);
        }
      }
      const share = bps("fork.upstreamShareBps", f.upstreamShareBps);
      if (parent !== undefined && share !== undefined) fork = { parent, upstreamShareBps: share };
    }
  }
  const minForkShareBps = bps("minForkShareBps", m.minForkShareBps, 0);

  let functions: PublishedFunction[] | undefined;
  if (m.functions !== undefined) {
    if (!Array.isArray(m.functions)) fail("functions", "must be an array of { name, params, result }");
    else {
      m.functions.forEach((f: unknown, i) => {
        const fn = (typeof f === "object" && f !== null ? f : {}) as Record<string, unknown>;
        const okParams =
          Array.isArray(fn.params) &&
          fn.params.every((p: unknown) => typeof (p as { name?: unknown })?.name === "string" && typeof (p as { type?: unknown })?.type === "string");
        if (typeof fn.name !== "string" || !okParams || (fn.result !== null && typeof fn.result !== "string")) {
          fail(`functions[${i}]`, "must be { name: string, params: [{ name, type }], result: string | null }");
        }
      });
      functions = m.functions as PublishedFunction[];
    }
  }

  if (issues.length > 0) throw new ManifestError(issues, source);
  const manifest: Manifest = {
    name: name!,
    version: version!,
    description: description!,
    keywords,
    license: license!,
    wit: wit!,
    component: component!,
    tests: tests!,
    access: access!,
    capabilities,
    splits,
    minForkShareBps: minForkShareBps!,
  };
  if (repository !== undefined) manifest.repository = repository;
  if (sourceField !== undefined) manifest.source = sourceField;
  if (sourceHash !== undefined) manifest.sourceHash = sourceHash;
  if (dependencies.length > 0) manifest.dependencies = dependencies;
  if (fork !== undefined) manifest.fork = fork;
  if (functions !== undefined) manifest.functions = functions;
  return manifest;
}

/** Parses and validates glassbox.json text. */
export function parseManifest(text: string, source = "glassbox.json"): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError([{ field: "(root)", message: `is not valid JSON: ${(error as Error).message}` }], source);
  }
  return validateManifest(json, source);
}

/** Deterministic JSON (sorted keys, no whitespace): the exact bytes published on-chain and hashed. */
export function canonicalManifestJson(manifest: Manifest): string {
  return canonicalJson(manifest);
}
