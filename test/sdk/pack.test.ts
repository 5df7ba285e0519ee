import { describe, expect, it } from "vitest";
import { decodePack, encodePack, PackError } from "../../sdk/pack.ts";
import { ManifestError } from "../../sdk/manifest.ts";
import { testManifest } from "../helpers/glassbox.ts";

const files = {
  manifest: testManifest({ name: "acme/packed", version: "1.0.0", recipient: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" }),
  // Every byte value, and more than one base64 chunk.
  component: Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) & 255),
  wit: new TextEncoder().encode("\uFEFFpackage acme:packed@1.0.0;\n// ✓ non-ASCII\n"),
  tests: new TextEncoder().encode('{"world":"capability","cases":[]}'),
};

describe("packs (glassbox pack → web publish)", () => {
  it("round-trips every byte of the four files", () => {
    const decoded = decodePack(encodePack(files));
    expect(decoded.component).toEqual(files.component);
    expect(decoded.wit).toEqual(files.wit); // the BOM and non-ASCII text survive: the hashes stay the same
    expect(decoded.tests).toEqual(files.tests);
    expect(decoded.manifest).toEqual(files.manifest);
  });

  it("names what is wrong with a file that is not a usable pack", () => {
    const good = JSON.parse(encodePack(files));
    const problem = (text: string) => {
      try {
        decodePack(text);
      } catch (error) {
        return error;
      }
      throw new Error("accepted");
    };
    expect(problem("PK\u0003\u0004 zip bytes")).toMatchObject({ field: "the file" });
    expect(problem(JSON.stringify({ ...good, format: "other/1" }))).toMatchObject({ field: "format" });
    expect(problem(JSON.stringify({ ...good, wit: "" }))).toMatchObject({ field: "wit" });
    const damaged = { ...good, component: { ...good.component, base64: `AAAA${good.component.base64.slice(4)}` } };
    expect(problem(JSON.stringify(damaged))).toMatchObject({ field: "component", message: expect.stringMatching(/damaged/) });
    expect(problem(JSON.stringify({ ...good, component: { base64: "***", sha256: "0x00" } }))).toBeInstanceOf(PackError);
    const badManifest = problem(JSON.stringify({ ...good, manifest: { ...good.manifest, version: "one" } }));
    expect(badManifest).toBeInstanceOf(ManifestError);
    expect((badManifest as ManifestError).issues[0]!.field).toBe("version");
  });

  it("refuses to pack a file that is not UTF-8 text", () => {
    expect(() => encodePack({ ...files, tests: Uint8Array.of(0xff, 0xfe, 0x00) })).toThrow(/tests is not UTF-8/);
  });
});
