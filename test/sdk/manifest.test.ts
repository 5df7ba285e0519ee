import { describe, expect, it } from "vitest";
import { canonicalManifestJson, ManifestError, parseManifest, validateManifest } from "../../sdk/manifest.ts";
import { sha256Hex } from "../../sdk/ids.ts";

const valid = {
  name: "acme/markdown",
  version: "1.0.0",
  description: "Markdown to sanitized HTML",
  keywords: ["markdown", "html"],
  license: "MIT",
  wit: { file: "wit/world.wit", world: "markdown", interface: "render" },
  component: "dist/component.wasm",
  tests: "tests.json",
  access: { mode: "per-call", price: "1000" },
  splits: [
    { recipient: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", bps: 7000 },
    { recipient: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", bps: 3000 },
  ],
  minForkShareBps: 1000,
};

function issuesOf(input: unknown): string[] {
  try {
    validateManifest(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return (error as ManifestError).issues.map((i) => i.field);
  }
  throw new Error("expected the manifest to be rejected");
}

describe("manifest", () => {
  it("accepts a valid manifest and fills defaults", () => {
    const m = validateManifest(valid);
    expect(m.access).toEqual({ mode: "per-call", price: "1000", fuelPricePerMillion: "0" });
    expect(m.capabilities).toEqual([]);
    expect(m.splits[0]!.recipient).toBe("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
  });

  it("names every bad field", () => {
    expect(issuesOf({ ...valid, name: "Acme/Markdown" })).toEqual(["name"]);
    expect(issuesOf({ ...valid, version: "1.0" })).toEqual(["version"]);
    expect(issuesOf({ ...valid, access: { mode: "per-call", price: -1 } })).toEqual(["access.price"]);
    expect(issuesOf({ ...valid, access: { mode: "monthly", price: "1" } })).toEqual(["access.mode"]);
    expect(issuesOf({ ...valid, splits: [{ recipient: valid.splits[0]!.recipient, bps: 9000 }] })).toEqual(["splits"]);
    expect(issuesOf({ ...valid, splits: [{ recipient: "0x00", bps: 10000 }] })).toEqual(["splits[0].recipient"]);
    expect(issuesOf({ ...valid, capabilities: ["fs"] })).toEqual(["capabilities[0]"]);
    expect(issuesOf({ ...valid, fork: { parent: "acme/other", upstreamShareBps: 2000 } })).toEqual(["fork.parent"]);
    expect(issuesOf({ ...valid, fork: { parent: "acme/markdown@1.0.0", upstreamShareBps: 2000 } })).toEqual(["fork.parent"]);
    expect(issuesOf({ ...valid, minForkShareBps: 10001 })).toEqual(["minForkShareBps"]);
    expect(issuesOf({ ...valid, access: { mode: "free", price: "5" } })).toEqual(["access"]);
    expect(issuesOf({ ...valid, access: { mode: "free", price: "0", licencePrice: "0" } })).toEqual(["access.licencePrice"]);
    expect(issuesOf({ ...valid, access: { mode: "free", price: "0", licencePrice: "1.5" } })).toEqual(["access.licencePrice"]);
    const missing = issuesOf({});
    expect(missing).toEqual(expect.arrayContaining(["name", "version", "description", "license", "wit", "component", "tests", "access", "splits"]));
  });

  it("reports invalid JSON with a clear message", () => {
    expect(() => parseManifest("{ nope")).toThrow(/glassbox.json is invalid:\n  - \(root\): is not valid JSON/);
  });

  it("canonical JSON is stable regardless of key order", () => {
    const a = validateManifest(valid);
    const b = validateManifest(JSON.parse(JSON.stringify({ ...valid, license: valid.license, name: valid.name })));
    expect(canonicalManifestJson(a)).toBe(canonicalManifestJson(b));
    expect(sha256Hex(canonicalManifestJson(a))).toMatch(/^0x[0-9a-f]{64}$/);
    expect(validateManifest(JSON.parse(canonicalManifestJson(a)))).toEqual(a);
  });
});
