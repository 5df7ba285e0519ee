import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { searchTextOf } from "../../indexer/lib/catalog.ts";
import { parseManifest } from "../../indexer/lib/manifest.ts";
import { BadParameterError, amountParam, integerParam, prefixTsQuery, rejectUnknown } from "../../indexer/lib/params.ts";
import { loadSettings } from "../../indexer/lib/settings.ts";
import { BATCH_SETTLEMENT_ADDRESS } from "../../sdk/x402-contracts.ts";
import { canonicalManifestJson } from "../../sdk/manifest.ts";
import { testManifest } from "../helpers/glassbox.ts";

const RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

describe("manifest fields for the catalog", () => {
  it("reads description, keywords, license, WIT world/interface, function signatures and capabilities", () => {
    const manifest = {
      ...testManifest({ name: "acme/markdown", version: "1.0.0", recipient: RECIPIENT }),
      repository: "https://example.com/acme/markdown",
      capabilities: ["wasi:random/random"],
      functions: [
        { name: "render-html", params: [{ name: "source", type: "string" }, { name: "options", type: "list<string>" }], result: "string" },
        { name: "version", params: [], result: null },
      ],
    };
    const fields = parseManifest(canonicalManifestJson(manifest));
    expect(fields).toEqual({
      valid: true,
      error: null,
      description: manifest.description,
      keywords: [],
      license: "Apache-2.0",
      repository: "https://example.com/acme/markdown",
      witWorld: "capability",
      witInterface: "api",
      functions: [
        { name: "render-html", signature: "render-html: func(source: string, options: list<string>) -> string" },
        { name: "version", signature: "version: func()" },
      ],
      capabilities: ["wasi:random/random"],
    });
  });

  it("never throws on hostile manifests: invalid JSON, non-objects, wrong types, huge values", () => {
    for (const raw of ["", "{ not json", "null", "42", '"text"', "[1,2]", "\u0000"]) {
      const fields = parseManifest(raw);
      expect(fields.valid).toBe(false);
      expect(fields.error).toMatch(/not valid JSON|not a JSON object/);
      expect(fields.functions).toEqual([]);
    }
    const hostile = parseManifest(
      JSON.stringify({
        description: "x".repeat(1_000_000),
        keywords: [...Array.from({ length: 10_000 }, (_, i) => `k${i}`), 5, null],
        license: { spdx: "MIT" },
        wit: "not an object",
        functions: [{ name: 7 }, "bare-name", { name: "ok", params: "nope" }, null],
      }).replace(/^\{/, '{"__proto__":{"polluted":true},'),
    );
    expect(hostile.valid).toBe(false);
    expect(hostile.description).toHaveLength(4_000);
    expect(hostile.keywords).toHaveLength(200);
    expect(hostile.license).toBeNull();
    expect(hostile.witWorld).toBeNull();
    expect(hostile.functions).toEqual([
      { name: "bare-name", signature: null },
      { name: "ok", signature: null },
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("marks a JSON manifest that fails validation invalid, naming the field, but still reads it", () => {
    const { license: _license, ...withoutLicense } = testManifest({ name: "acme/x", version: "1.0.0", recipient: RECIPIENT });
    const fields = parseManifest(JSON.stringify({ ...withoutLicense, keywords: ["pdf"] }));
    expect(fields.valid).toBe(false);
    expect(fields.error).toContain("license");
    expect(fields.keywords).toEqual(["pdf"]);
  });
});

describe("search text and query parameters", () => {
  it("splits names and function names into words", () => {
    const text = searchTextOf("acme/markdown-to-html", "Render", ["md"], ["render-html"]);
    for (const word of ["acme/markdown-to-html", "markdown", "html", "Render", "md", "render-html"]) expect(text).toContain(word);
  });

  it("builds prefix tsqueries only from letters and digits, so tsquery syntax cannot be injected", () => {
    expect(prefixTsQuery("Markdown")).toBe("markdown:*");
    expect(prefixTsQuery("foo' & !bar | baz:* <-> (qux)")).toBe("foo:* & bar:* & baz:* & qux:*");
    expect(prefixTsQuery("café naïve")).toBe("café:* & naïve:*");
    expect(() => prefixTsQuery("!!! ---")).toThrow(BadParameterError);
  });

  it("rejects bad numbers and unknown parameters, naming them", () => {
    expect(() => integerParam({ limit: "1e3" }, "limit", 20, 1, 100)).toThrow(/"limit" must be an integer from 1 to 100/);
    expect(() => amountParam({ maxPrice: "0x10" }, "maxPrice")).toThrow(/maxPrice/);
    expect(amountParam({ maxPrice: "123456789012345678901234567890" }, "maxPrice")).toBe(123456789012345678901234567890n);
    expect(() => rejectUnknown({ q: "x", sort: "y" }, ["q"])).toThrow(/Unknown parameter "sort"/);
  });
});

describe("indexer settings", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "glassbox-settings-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const registry = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
  const settlement = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
  const usdc = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

  it("reads a deployments file, with env overrides and PGlite by default", () => {
    const file = path.join(dir, "31337.json");
    writeFileSync(file, JSON.stringify({ chainId: 31337, startBlock: 7, contracts: { registry, settlement, usdc } }));
    const settings = loadSettings({ GLASSBOX_DEPLOYMENTS: file, GLASSBOX_RPC_URL: "http://127.0.0.1:9999", GLASSBOX_INDEXER_DIR: dir }, dir);
    expect(settings).toEqual({
      chainId: 31337,
      rpcUrl: "http://127.0.0.1:9999",
      registry,
      settlement,
      usdc,
      // Older deployment files have no x402 contracts: the canonical channel contract address.
      batchSettlement: BATCH_SETTLEMENT_ADDRESS,
      startBlock: 7,
      pollingIntervalMs: 100,
      database: { kind: "pglite", directory: dir },
    });
    expect(loadSettings({ GLASSBOX_DEPLOYMENTS: file, GLASSBOX_START_BLOCK: "9", DATABASE_URL: "postgresql://x@127.0.0.1/db" }, dir)).toEqual(
      expect.objectContaining({ startBlock: 9, database: { kind: "postgres", connectionString: "postgresql://x@127.0.0.1/db" } }),
    );
  });

  it("works from env alone and explains what is missing or malformed", () => {
    expect(loadSettings({ GLASSBOX_REGISTRY: registry, GLASSBOX_SETTLEMENT: settlement, GLASSBOX_CHAIN_ID: "8453" }, dir)).toEqual(
      // Without GLASSBOX_USDC the token is left for ponder.config.ts to read from Settlement.
      expect.objectContaining({ chainId: 8453, registry, settlement, usdc: undefined, batchSettlement: BATCH_SETTLEMENT_ADDRESS, startBlock: 0, pollingIntervalMs: 1000 }),
    );
    expect(loadSettings({ GLASSBOX_REGISTRY: registry, GLASSBOX_SETTLEMENT: settlement, GLASSBOX_USDC: usdc.toLowerCase(), GLASSBOX_BATCH_SETTLEMENT: registry }, dir)).toEqual(
      expect.objectContaining({ usdc, batchSettlement: registry }),
    );
    expect(() => loadSettings({ GLASSBOX_REGISTRY: registry, GLASSBOX_SETTLEMENT: settlement, GLASSBOX_USDC: "usdc" }, dir)).toThrow(/GLASSBOX_USDC must be/);
    expect(() => loadSettings({ GLASSBOX_DEPLOYMENTS: path.join(dir, "missing.json") }, dir)).toThrow(/does not exist: deploy the contracts first/);
    const broken = path.join(dir, "broken.json");
    writeFileSync(broken, "{");
    expect(() => loadSettings({ GLASSBOX_DEPLOYMENTS: broken }, dir)).toThrow(/not valid JSON/);
    expect(() => loadSettings({ GLASSBOX_REGISTRY: "0x1234", GLASSBOX_SETTLEMENT: settlement }, dir)).toThrow(/GLASSBOX_REGISTRY must be/);
    expect(() => loadSettings({ GLASSBOX_REGISTRY: registry, GLASSBOX_SETTLEMENT: settlement, GLASSBOX_START_BLOCK: "-1" }, dir)).toThrow(/GLASSBOX_START_BLOCK/);
  });
});
