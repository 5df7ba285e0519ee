import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeAbiParameters, keccak256, toHex } from "viem";
import { InvalidPackageNameError, packageIdOf, parsePackageRef, sha256Hex, versionIdOf } from "../../sdk/ids.ts";

describe("ids", () => {
  it("packageId is keccak256 of the utf8 name", () => {
    expect(packageIdOf("acme/markdown")).toBe(keccak256(toHex("acme/markdown")));
  });
  it("versionId is keccak256(abi.encode(packageId, version))", () => {
    const pid = packageIdOf("acme/markdown");
    expect(versionIdOf(pid, "1.0.0")).toBe(
      keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "string" }], [pid, "1.0.0"])),
    );
  });
  it("rejects bad names with a hint", () => {
    for (const bad of ["acme", "acme/x/y", "Acme/x", "-a/x", "a/x-", "a/"]) {
      expect(() => packageIdOf(bad)).toThrow(InvalidPackageNameError);
    }
  });
  it("parses refs", () => {
    expect(parsePackageRef("acme/x@1.2.3")).toEqual({ name: "acme/x", version: "1.2.3" });
    expect(parsePackageRef("acme/x")).toEqual({ name: "acme/x", version: "latest" });
    expect(() => parsePackageRef("acme/x@")).toThrow(/empty version/);
  });
  it("sha256 matches a known vector", () => {
    expect(sha256Hex("abc")).toBe("0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
  it("sha256 (pure JS, for the browser) agrees with node:crypto on bytes and on UTF-8 text", () => {
    const node = (input: Uint8Array | string) => `0x${createHash("sha256").update(input).digest("hex")}`;
    const bytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 31) & 255);
    expect(sha256Hex(bytes)).toBe(node(bytes));
    // A string is always text, even when it looks like hex.
    for (const text of ["0x1234", "héllo ✓", ""]) expect(sha256Hex(text)).toBe(node(text));
  });
});
