import { encodeAbiParameters, keccak256, sha256, stringToBytes, type Hex } from "viem";

/** Package names: `scope/name`, lowercase [a-z0-9-], exactly one slash, each part 1-64 chars. */
export const PACKAGE_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\/[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

export class InvalidPackageNameError extends Error {
  override name = "InvalidPackageNameError";
  constructor(readonly packageName: string) {
    super(
      `Invalid package name "${packageName}": expected scope/name in lowercase letters, digits and dashes ` +
        `(no leading or trailing dash, 1-64 chars each part), e.g. "acme/markdown".`,
    );
  }
}

export function assertPackageName(name: string): void {
  if (!PACKAGE_NAME_PATTERN.test(name)) throw new InvalidPackageNameError(name);
}

/** packageId = keccak256(utf8 name). */
export function packageIdOf(name: string): Hex {
  assertPackageName(name);
  return keccak256(stringToBytes(name));
}

/** scopeId = keccak256(utf8 scope). */
export function scopeIdOf(scope: string): Hex {
  return keccak256(stringToBytes(scope));
}

/** versionId = keccak256(abi.encode(packageId, semver string)). */
export function versionIdOf(packageId: Hex, version: string): Hex {
  return keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "string" }], [packageId, version]));
}

/**
 * sha256 of bytes (a string is hashed as its UTF-8 bytes) as a 0x-prefixed hex string: componentHash,
 * witHash, testsHash, manifestHash. viem's (pure JS) so the browser computes the same hashes.
 */
export function sha256Hex(bytes: Uint8Array | string): Hex {
  return sha256(typeof bytes === "string" ? stringToBytes(bytes) : bytes);
}

/** Splits `scope/name@version` (version optional, default "latest"). */
export function parsePackageRef(ref: string): { name: string; version: string } {
  const at = ref.lastIndexOf("@");
  const name = at > 0 ? ref.slice(0, at) : ref;
  const version = at > 0 ? ref.slice(at + 1) : "latest";
  assertPackageName(name);
  if (version.length === 0) throw new Error(`Invalid package reference "${ref}": empty version after "@".`);
  return { name, version };
}
