import { ManifestError, validateManifest } from "../../sdk/manifest.ts";

/**
 * Reads the catalog fields out of a VersionPublished manifest. The chain accepts any bytes whose sha256
 * matches, so the manifest may be anything: never throw, report it as invalid and keep the raw text.
 */
export interface ManifestFields {
  valid: boolean;
  error: string | null;
  description: string | null;
  keywords: string[];
  license: string | null;
  repository: string | null;
  witWorld: string | null;
  witInterface: string | null;
  functions: { name: string; signature: string | null }[];
  capabilities: string[];
}

const MAX_TEXT = 4_000;
const MAX_LIST = 200;

const text = (value: unknown): string | null =>
  typeof value === "string" && value.length > 0 ? value.slice(0, MAX_TEXT) : null;

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string").slice(0, MAX_LIST).map((v) => v.slice(0, 200)) : [];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** `name: func(a: string, b: u32) -> string`, from the manifest's { name, params, result } entries. */
function signatureOf(f: Record<string, unknown>, name: string): string | null {
  if (typeof f.signature === "string") return text(f.signature);
  if (!Array.isArray(f.params)) return null;
  const params = f.params
    .map((p) => (isObject(p) && typeof p.name === "string" && typeof p.type === "string" ? `${p.name}: ${p.type}` : null))
    .filter((p): p is string => p !== null);
  const result = typeof f.result === "string" && f.result.length > 0 ? ` -> ${f.result}` : "";
  return `${name}: func(${params.join(", ")})${result}`.slice(0, MAX_TEXT);
}

/** Functions as sdk/manifest.ts publishes them ({ name, params, result }), or as bare names. */
function functionsOf(value: unknown): { name: string; signature: string | null }[] {
  if (!Array.isArray(value)) return [];
  return value
    .map((f) =>
      typeof f === "string"
        ? { name: f.slice(0, 200), signature: null }
        : isObject(f) && typeof f.name === "string"
          ? { name: f.name.slice(0, 200), signature: signatureOf(f, f.name) }
          : null,
    )
    .filter((f): f is { name: string; signature: string | null } => f !== null)
    .slice(0, MAX_LIST);
}

const EMPTY: Omit<ManifestFields, "valid" | "error"> = {
  description: null,
  keywords: [],
  license: null,
  repository: null,
  witWorld: null,
  witInterface: null,
  functions: [],
  capabilities: [],
};

export function parseManifest(raw: string): ManifestFields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    return { ...EMPTY, valid: false, error: `manifest is not valid JSON: ${(error as Error).message}` };
  }
  if (!isObject(parsed)) return { ...EMPTY, valid: false, error: "manifest is not a JSON object" };
  const wit = isObject(parsed.wit) ? parsed.wit : {};
  // Valid = what `glassbox publish` would accept; the catalog fields are read best-effort either way.
  let error: string | null = null;
  try {
    validateManifest(parsed, "manifest");
  } catch (e) {
    error = e instanceof ManifestError ? e.message : `manifest could not be validated: ${(e as Error).message}`;
  }
  return {
    valid: error === null,
    error,
    description: text(parsed.description),
    keywords: strings(parsed.keywords),
    license: text(parsed.license),
    repository: text(parsed.repository),
    witWorld: text(wit.world),
    witInterface: text(wit.interface),
    functions: functionsOf(parsed.functions ?? wit.functions),
    capabilities: strings(parsed.capabilities),
  };
}

/** A dependency as a manifest declares it (composition), read best-effort. */
export interface DeclaredDependency {
  package: string;
  range: string;
  maxRoyaltyPerCall: string;
}

/** The declared dependencies and published source hash of a raw manifest; empty / null when absent or malformed. */
export function compositionOf(raw: string): { dependencies: DeclaredDependency[]; sourceHash: `0x${string}` | null } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { dependencies: [], sourceHash: null };
  }
  if (!isObject(parsed)) return { dependencies: [], sourceHash: null };
  const dependencies = Array.isArray(parsed.dependencies)
    ? parsed.dependencies
        .filter(isObject)
        .filter((d) => typeof d.package === "string" && typeof d.version === "string")
        .slice(0, MAX_LIST)
        .map((d) => ({ package: String(d.package).slice(0, 200), range: String(d.version).slice(0, 200), maxRoyaltyPerCall: typeof d.maxRoyaltyPerCall === "string" ? d.maxRoyaltyPerCall.slice(0, 40) : "0" }))
    : [];
  const sourceHash = typeof parsed.sourceHash === "string" && /^0x[0-9a-f]{64}$/.test(parsed.sourceHash) ? (parsed.sourceHash as `0x${string}`) : null;
  return { dependencies, sourceHash };
}
