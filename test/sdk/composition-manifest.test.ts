import { describe, expect, it } from "vitest";
import { canonicalManifestJson, ManifestError, validateManifest } from "../../sdk/manifest.ts";
import { isSemverRange, newestSatisfying, satisfiesRange } from "../../sdk/semver.ts";

const base = {
  name: "forker/markdown-anchors",
  version: "1.0.0",
  description: "Markdown with heading anchors from acme/slug",
  license: "MIT",
  wit: { file: "wit/world.wit", world: "anchors", interface: "render" },
  source: { entry: "src/index.ts" },
  component: "dist/c.wasm",
  tests: "tests.json",
  access: { mode: "per-call", price: "1000" },
  splits: [{ recipient: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", bps: 10000 }],
};

function fieldsOf(input: unknown): string[] {
  try {
    validateManifest(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return (error as ManifestError).issues.map((i) => i.field);
  }
  throw new Error("expected a refusal");
}

describe("manifest: dependencies and published source", () => {
  it("accepts dependencies and a published source hash; omits both when absent (existing manifests hash the same)", () => {
    const m = validateManifest({
      ...base,
      source: { entry: "src/index.ts", publish: true },
      sourceHash: `0x${"ab".repeat(32)}`,
      dependencies: [{ package: "acme/slug", version: "^1.0.0", maxRoyaltyPerCall: "500" }],
    });
    expect(m.dependencies).toEqual([{ package: "acme/slug", version: "^1.0.0", maxRoyaltyPerCall: "500" }]);
    expect(m.source).toEqual({ entry: "src/index.ts", publish: true });
    const plain = validateManifest(base);
    expect(canonicalManifestJson(plain)).not.toMatch(/dependencies|sourceHash|publish/);
  });

  it("names every bad dependency field", () => {
    expect(fieldsOf({ ...base, dependencies: "acme/slug" })).toEqual(["dependencies"]);
    expect(
      fieldsOf({
        ...base,
        dependencies: [
          { package: "Acme/Slug", version: "^1.0.0", maxRoyaltyPerCall: "1" },
          { package: "acme/slug", version: "latest", maxRoyaltyPerCall: "1" },
          { package: "acme/slug", version: "1.0.0", maxRoyaltyPerCall: "1" },
          { package: "forker/markdown-anchors", version: "1.0.0", maxRoyaltyPerCall: "1" },
          { package: "acme/other", version: "1.0.0", maxRoyaltyPerCall: "-1" },
          { package: "acme/x", version: "1.0.0" },
          7,
        ],
      }),
    ).toEqual([
      "dependencies[0].package",
      "dependencies[1].version",
      "dependencies[2].package",
      "dependencies[3].package",
      "dependencies[4].maxRoyaltyPerCall",
      "dependencies[5].maxRoyaltyPerCall",
      "dependencies[6]",
    ]);
    expect(fieldsOf({ ...base, dependencies: Array.from({ length: 17 }, (_, i) => ({ package: `acme/d${i}`, version: "1.0.0", maxRoyaltyPerCall: "0" })) })).toEqual(["dependencies"]);
  });

  it("names a bad source hash or publish flag", () => {
    expect(fieldsOf({ ...base, sourceHash: `0x${"ab".repeat(32)}` })).toEqual(["sourceHash"]); // without source.publish
    expect(fieldsOf({ ...base, source: { entry: "src/index.ts", publish: true }, sourceHash: "0x12" })).toEqual(["sourceHash"]);
    expect(fieldsOf({ ...base, source: { entry: "src/index.ts", publish: "yes" } })).toEqual(["source.publish"]);
  });
});

describe("semver ranges", () => {
  it("caret, tilde, comparators, alternatives and prereleases", () => {
    expect(["1.0.0", "1.9.3", "2.0.0", "0.9.9", "2.0.0-rc.1"].map((v) => satisfiesRange(v, "^1.0.0"))).toEqual([true, true, false, false, false]);
    expect(["0.2.0", "0.2.9", "0.3.0"].map((v) => satisfiesRange(v, "^0.2.0"))).toEqual([true, true, false]);
    expect(["0.0.3", "0.0.4"].map((v) => satisfiesRange(v, "^0.0.3"))).toEqual([true, false]);
    expect(["1.2.0", "1.2.9", "1.3.0"].map((v) => satisfiesRange(v, "~1.2.0"))).toEqual([true, true, false]);
    expect(["1.0.0", "1.5.0", "2.0.0"].map((v) => satisfiesRange(v, ">=1.0.0 <2.0.0"))).toEqual([true, true, false]);
    expect(["1.0.0", "3.1.0", "2.0.0"].map((v) => satisfiesRange(v, "1.0.0 || ^3.0.0"))).toEqual([true, true, false]);
    expect([satisfiesRange("2.0.0-rc.1", ">=2.0.0-rc.0"), satisfiesRange("2.1.0-rc.1", ">=2.0.0-rc.0"), satisfiesRange("9.9.9", "*")]).toEqual([true, false, true]);
    expect(["^1", "latest", "", ">=", "1.0.0 ||"].map(isSemverRange)).toEqual([false, false, false, false, false]);
    expect(newestSatisfying(["1.0.0", "1.4.0", "2.0.0", "1.10.0"], "^1.0.0")).toBe("1.10.0");
  });
});

describe("WIT: the interfaces a world imports from another package", () => {
  it("reads a nested package block's interface with its types; the main package's exports are unaffected", async () => {
    const { describeImportedInterface, describeInterface } = await import("../../sdk/wit.ts");
    const wit = `package acme:toc@1.0.0;

package acme:slug@1.2.0 {
  interface slug {
    record options { lower: bool }
    slugify: func(text: string, options: options) -> result<string, string>;
  }
}

interface toc {
  toc: func(markdown: string) -> string;
}

world toc-world {
  import acme:slug/slug@1.2.0;
  export toc;
}
`;
    const imported = describeImportedInterface(wit, "acme:slug/slug@1.2.0");
    expect(imported?.qualifiedName).toBe("acme:slug/slug@1.2.0");
    expect(imported?.functions[0]).toEqual({
      name: "slugify",
      params: [
        { name: "text", type: { kind: "string" } },
        { name: "options", type: { kind: "record", name: "options", fields: [{ name: "lower", type: { kind: "bool" } }] } },
      ],
      result: { kind: "result", ok: { kind: "string" }, err: { kind: "string" } },
    });
    expect(describeImportedInterface(wit, "acme:other/x@1.0.0")).toBeUndefined();
    expect(describeInterface(wit, "toc-world").qualifiedName).toBe("acme:toc/toc@1.0.0");
  });
});
