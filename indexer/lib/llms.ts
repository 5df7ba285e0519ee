/**
 * The catalog as plain text for LLMs (llms.txt): the index and each package's page, built from the
 * indexed rows plus the public blobs (WIT, test vectors) read from the active executors and checked
 * against the registered hashes. Blobs are immutable (keyed by hash), so they are cached.
 */
import { readPublicBlob } from "../../sdk/client/blobs.ts";
import { accessText, formatLlmsIndex, formatPackageText, type LlmsAccess, type LlmsIndexEntry } from "../../sdk/llms-text.ts";
import type { AccessMode } from "../../sdk/manifest.ts";
import { parseTestVectors } from "../../sdk/test-vectors.ts";
import { documentInterface } from "../../sdk/wit.ts";
import { ACCESS_MODES } from "./catalog.ts";

export { accessText };

/** At most this many blobs kept in memory (the oldest read first is dropped). */
const BLOB_CACHE_ENTRIES = 512;
const blobCache = new Map<string, string>();

/** A public blob by hash from the first executor that serves it (hash-checked), cached by hash. */
export async function publicText(executors: readonly string[], hash: `0x${string}`): Promise<string | undefined> {
  const cached = blobCache.get(hash);
  if (cached !== undefined) return cached;
  const text = await readPublicBlob(executors, hash);
  if (text === undefined) return undefined;
  if (blobCache.size >= BLOB_CACHE_ENTRIES) blobCache.delete(blobCache.keys().next().value!);
  blobCache.set(hash, text);
  return text;
}

function accessMode(text: string | null): AccessMode | undefined {
  return ACCESS_MODES.find((m) => m === text);
}

export function accessOf(mode: string | null, price: bigint | null, fuelPricePerMillion: bigint | null): LlmsAccess | null {
  const known = accessMode(mode);
  return known ? { mode: known, price: (price ?? 0n).toString(), fuelPricePerMillion: (fuelPricePerMillion ?? 0n).toString() } : null;
}

export interface IndexRow {
  name: string;
  latestVersion: string | null;
  description: string | null;
  accessMode: string | null;
  price: bigint | null;
  fuelPricePerMillion: bigint | null;
  functionNames: string[] | null;
}

export function llmsIndex(origin: string, rows: IndexRow[]): string {
  const packages: LlmsIndexEntry[] = rows.map((r) => ({
    name: r.name,
    version: r.latestVersion,
    description: r.description,
    access: accessOf(r.accessMode, r.price, r.fuelPricePerMillion),
    functionNames: r.functionNames ?? [],
    url: `${origin}/llms/${r.name}.txt`,
  }));
  return formatLlmsIndex({
    title: "Glassbox capabilities",
    summary:
      "Open-source capabilities published as a public WIT spec and public test vectors, run as metered WebAssembly by executors and paid per call in USDC over x402. Reading specs and tests is free; calling is free or paid per call as each package says.",
    details: [
      `Each page below is a package's spec as plain text: the WIT with its doc comments, JSON Schemas of every function (also its MCP tool name), the test vectors, the price and the executors. JSON APIs: ${origin}/search?q=WORDS, ${origin}/packages/SCOPE/NAME, ${origin}/executors.`,
      "Agents can call every function as an MCP tool with `glassbox mcp` (stdio or Streamable HTTP), paying under a spend policy.",
    ],
    packages,
  });
}

export interface PackagePageInput {
  name: string;
  version: {
    version: string;
    description: string | null;
    license: string | null;
    keywords: string[];
    accessMode: string;
    price: bigint;
    fuelPricePerMillion: bigint;
    witHash: `0x${string}`;
    testsHash: `0x${string}`;
    witWorld: string | null;
    witInterface: string | null;
    yanked: boolean;
    licencePrice: bigint | null;
  };
  fork: { parent: string; upstreamShareBps: number } | null;
  executors: { endpoint: string; feePerCall: bigint }[];
}

/** A package's page; a spec that no executor serves right now is named as missing, not an error. */
export async function llmsPackagePage(input: PackagePageInput): Promise<string> {
  const { version } = input;
  const endpoints = input.executors.map((e) => e.endpoint);
  const [wit, testsText] = await Promise.all([publicText(endpoints, version.witHash), publicText(endpoints, version.testsHash)]);
  let docs;
  if (wit && version.witWorld) {
    try {
      docs = documentInterface(wit, version.witWorld, version.witInterface ?? undefined);
    } catch {
      docs = undefined; // The WIT is shown as published; only the per-function schemas are left out.
    }
  }
  let tests;
  try {
    tests = testsText ? parseTestVectors(testsText) : undefined;
  } catch {
    tests = undefined;
  }
  return formatPackageText({
    name: input.name,
    version: version.version,
    description: version.description,
    license: version.license,
    keywords: version.keywords,
    access: accessOf(version.accessMode, version.price, version.fuelPricePerMillion) ?? { mode: "free", price: "0", fuelPricePerMillion: "0" },
    ...(wit ? { wit } : {}),
    ...(docs ? { docs } : {}),
    ...(tests ? { tests } : {}),
    executors: input.executors.map((e) => ({ endpoint: e.endpoint, feePerCall: e.feePerCall.toString() })),
    fork: input.fork,
    yanked: version.yanked,
    licencePrice: version.licencePrice?.toString() ?? null,
  });
}
