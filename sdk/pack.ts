import { sha256Hex } from "./ids.ts";
import { validateManifest } from "./manifest.ts";
import type { CapabilityFiles } from "./client/publish.ts";

/**
 * A packed capability: one JSON file with everything a version publishes (the manifest as written,
 * the WIT, the test vectors and the component, base64). `glassbox pack` writes it; the web catalog
 * reads it and publishes from a browser wallet. `componentHash` lets a reader detect a damaged file.
 */
export const PACK_FORMAT = "glassbox-pack/1";
export const PACK_EXTENSION = ".gbpack";

export interface PackFile {
  format: typeof PACK_FORMAT;
  manifest: unknown;
  wit: string;
  tests: string;
  component: { base64: string; sha256: string };
  /** The published source tarball, when the manifest publishes its source. */
  source?: { base64: string; sha256: string };
}

export class PackError extends Error {
  override name = "PackError";
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`Not a usable Glassbox pack: ${field} ${problem}.`);
  }
}

export function encodePack(files: CapabilityFiles): string {
  // Exact text (a BOM kept, invalid UTF-8 refused): the hashes published are of these bytes.
  const text = (field: string, bytes: Uint8Array) => {
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw new PackError(field, "is not UTF-8 text");
    }
  };
  const pack: PackFile = {
    format: PACK_FORMAT,
    manifest: files.manifest,
    wit: text("wit", files.wit),
    tests: text("tests", files.tests),
    component: { base64: bytesToBase64(files.component), sha256: sha256Hex(files.component) },
    ...(files.source ? { source: { base64: bytesToBase64(files.source), sha256: sha256Hex(files.source) } } : {}),
  };
  return `${JSON.stringify(pack)}\n`;
}

/** Parses a pack; every problem names the field (the manifest's own issues come from its schema). */
export function decodePack(text: string): CapabilityFiles {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PackError("the file", "is not JSON (make one with `glassbox pack`)");
  }
  if (typeof value !== "object" || value === null) throw new PackError("the file", "is not a JSON object");
  const pack = value as Record<string, unknown>;
  if (pack.format !== PACK_FORMAT) throw new PackError("format", `must be "${PACK_FORMAT}", got ${JSON.stringify(pack.format)}`);
  for (const field of ["wit", "tests"] as const) {
    if (typeof pack[field] !== "string" || pack[field].length === 0) throw new PackError(field, "must be non-empty text");
  }
  const component = pack.component as { base64?: unknown; sha256?: unknown } | undefined;
  if (typeof component?.base64 !== "string" || typeof component.sha256 !== "string") {
    throw new PackError("component", "must be { base64, sha256 }");
  }
  let bytes: Uint8Array;
  try {
    bytes = base64ToBytes(component.base64);
  } catch {
    throw new PackError("component.base64", "is not base64");
  }
  if (sha256Hex(bytes) !== component.sha256.toLowerCase()) throw new PackError("component", "does not match its sha256 (the file is damaged)");
  let source: Uint8Array | undefined;
  if (pack.source !== undefined) {
    const s = pack.source as { base64?: unknown; sha256?: unknown } | null;
    if (typeof s?.base64 !== "string" || typeof s.sha256 !== "string") throw new PackError("source", "must be { base64, sha256 }");
    try {
      source = base64ToBytes(s.base64);
    } catch {
      throw new PackError("source.base64", "is not base64");
    }
    if (sha256Hex(source) !== s.sha256.toLowerCase()) throw new PackError("source", "does not match its sha256 (the file is damaged)");
  }
  return {
    manifest: validateManifest(pack.manifest, "the pack's manifest"),
    wit: new TextEncoder().encode(pack.wit as string),
    tests: new TextEncoder().encode(pack.tests as string),
    component: bytes,
    ...(source ? { source } : {}),
  };
}

/** `btoa` takes a binary string: build it in chunks (a component is megabytes; spreading it whole would overflow the stack). */
function bytesToBase64(bytes: Uint8Array): string {
  const chunks: string[] = [];
  for (let i = 0; i < bytes.length; i += 0x8000) chunks.push(String.fromCharCode(...bytes.subarray(i, i + 0x8000)));
  return btoa(chunks.join(""));
}

function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
