import { createCipheriv, createDecipheriv, randomBytes, randomUUID, scryptSync, timingSafeEqual } from "node:crypto";
import { bytesToHex, concat, hexToBytes, keccak256, type Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";

/**
 * Encrypted key files in the Web3 Secret Storage v3 format (scrypt + aes-128-ctr), the format geth,
 * Foundry's cast and MetaMask exports use, so a maintainer can bring a key they already have.
 */
export interface KeystoreV3 {
  version: 3;
  id: string;
  address: string;
  crypto: {
    cipher: "aes-128-ctr";
    cipherparams: { iv: string };
    ciphertext: string;
    kdf: "scrypt";
    kdfparams: { dklen: number; n: number; r: number; p: number; salt: string };
    mac: string;
  };
}

export class KeystoreError extends Error {
  override name = "KeystoreError";
}

/** n = 2^17 is the geth "standard" cost; tests may pass a lower one. */
export function encryptKeystore(privateKey: Hex, password: string, opts: { n?: number } = {}): KeystoreV3 {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const kdfparams = { dklen: 32, n: opts.n ?? 1 << 17, r: 8, p: 1, salt: salt.toString("hex") };
  const derived = derive(password, kdfparams);
  const cipher = createCipheriv("aes-128-ctr", derived.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(hexToBytes(privateKey)), cipher.final()]);
  return {
    version: 3,
    id: randomUUID(),
    address: privateKeyToAddress(privateKey).slice(2).toLowerCase(),
    crypto: {
      cipher: "aes-128-ctr",
      cipherparams: { iv: iv.toString("hex") },
      ciphertext: ciphertext.toString("hex"),
      kdf: "scrypt",
      kdfparams,
      mac: mac(derived, ciphertext).slice(2),
    },
  };
}

export function decryptKeystore(keystore: unknown, password: string): Hex {
  const ks = keystore as Partial<KeystoreV3>;
  if (ks?.version !== 3 || ks.crypto?.kdf !== "scrypt" || ks.crypto.cipher !== "aes-128-ctr") {
    throw new KeystoreError("Unsupported keystore: expected a version 3 file using scrypt and aes-128-ctr.");
  }
  const { kdfparams, ciphertext, cipherparams } = ks.crypto;
  const derived = derive(password, kdfparams);
  const cipherBytes = Buffer.from(ciphertext, "hex");
  const expected = Buffer.from(ks.crypto.mac, "hex");
  const actual = Buffer.from(mac(derived, cipherBytes).slice(2), "hex");
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new KeystoreError("Wrong keystore password (the MAC does not match).");
  }
  const decipher = createDecipheriv("aes-128-ctr", derived.subarray(0, 16), Buffer.from(cipherparams.iv, "hex"));
  return bytesToHex(Buffer.concat([decipher.update(cipherBytes), decipher.final()]));
}

function derive(password: string, p: KeystoreV3["crypto"]["kdfparams"]): Buffer {
  return scryptSync(password.normalize("NFKC"), Buffer.from(p.salt, "hex"), p.dklen, {
    N: p.n,
    r: p.r,
    p: p.p,
    maxmem: 256 * p.n * p.r + 128 * p.r * p.p + 64 * 1024 * 1024,
  });
}

function mac(derived: Buffer, ciphertext: Buffer): Hex {
  return keccak256(concat([derived.subarray(16, 32), ciphertext]));
}
