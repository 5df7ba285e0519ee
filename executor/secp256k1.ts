import { createRequire } from "node:module";
import { bytesToHex, hexToBytes, recoverPublicKey, type Hex, type LocalAccount } from "viem";
import { sign as nobleSign } from "viem/accounts";
import { keccakHex } from "../sdk/abi-words.ts";

/**
 * secp256k1 on the paid-call hot path (voucher checks, receipt signatures) through libsecp256k1 (the
 * `secp256k1` package's prebuilt N-API addon): a recovery costs a fraction of viem's pure-JS one, and
 * RFC 6979 signing gives byte-identical signatures. Where the addon cannot load (a platform without a
 * prebuild and no compiler), the same operations fall back to viem/noble: slower, equally correct.
 *
 * node:crypto cannot stand in: its ECDSA always hashes the input (SHA-256 for EC keys even with a null
 * algorithm), and an EIP-712 digest must be signed and verified as is.
 */
interface NativeSecp256k1 {
  ecdsaSign(message: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed: boolean): Uint8Array;
}

function loadNative(): NativeSecp256k1 | undefined {
  try {
    // bindings.js, not index.js: index.js silently swaps in a pure-JS elliptic build when the addon is missing.
    const loaded: NativeSecp256k1 = createRequire(import.meta.url)("secp256k1/bindings.js");
    return loaded;
  } catch {
    return undefined;
  }
}

const native = loadNative();

/** Is libsecp256k1 in use (false: the viem fallback)? Reported in /v1/info-style diagnostics and the bench. */
export const nativeSecp256k1 = native !== undefined;

/** secp256k1 group order n, and n/2: Ethereum (EIP-2, OpenZeppelin ECDSA) refuses s above it. */
const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = CURVE_N >> 1n;

/**
 * The uncompressed public key (0x04 || x || y, 65 bytes) that signed `digest` with the 65-byte
 * r || s || v signature, or undefined when the signature is not one Ethereum's ecrecover accepts
 * as canonical: v must be 27 or 28, r and s in range, s in the lower half of the order.
 */
export async function recoverSigner(digest: Hex, signature: Hex): Promise<Uint8Array | undefined> {
  if (signature.length !== 132) return undefined;
  const bytes = hexToBytes(signature);
  const v = bytes[64]!;
  if (v !== 27 && v !== 28) return undefined;
  const r = BigInt(bytesToHex(bytes.subarray(0, 32)));
  const s = BigInt(bytesToHex(bytes.subarray(32, 64)));
  if (r === 0n || r >= CURVE_N || s === 0n || s > HALF_N) return undefined;
  try {
    if (native) return native.ecdsaRecover(bytes.subarray(0, 64), v - 27, hexToBytes(digest), false);
    return hexToBytes(await recoverPublicKey({ hash: digest, signature }));
  } catch {
    return undefined;
  }
}

/** The Ethereum address of an uncompressed public key, lower case. */
export function publicKeyAddress(publicKey: Uint8Array): string {
  return `0x${keccakHex(publicKey.subarray(1)).slice(26)}`;
}

/** Signs a 32-byte digest (RFC 6979, low s): the 65-byte r || s || v signature viem produces, v = 27 or 28. */
export async function signDigest(digest: Hex, privateKey: Hex): Promise<Hex> {
  if (!native) return nobleSign({ hash: digest, privateKey, to: "hex" });
  const { signature, recid } = native.ecdsaSign(hexToBytes(digest), hexToBytes(privateKey));
  const out = new Uint8Array(65);
  out.set(signature);
  out[64] = 27 + recid;
  return bytesToHex(out);
}

/** `account` with its raw-digest `sign` (receipt signatures) done by `signDigest`; every other method is viem's. */
export function withFastDigestSigning(account: LocalAccount, privateKey: Hex): LocalAccount {
  if (!native) return account;
  return { ...account, sign: ({ hash }) => signDigest(hash, privateKey) };
}
