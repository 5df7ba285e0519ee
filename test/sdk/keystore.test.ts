import { describe, expect, it } from "vitest";
import { decryptKeystore, encryptKeystore, KeystoreError } from "../../sdk/keystore.ts";

const key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

describe("keystore", () => {
  it("round-trips a key and records its address", () => {
    const ks = encryptKeystore(key, "correct horse", { n: 1024 });
    expect(ks.address).toBe("70997970c51812dc3a010c7d01b50e0d17dc79c8");
    expect(JSON.stringify(ks)).not.toContain(key.slice(2));
    expect(decryptKeystore(ks, "correct horse")).toBe(key);
  });
  it("rejects a wrong password and foreign formats", () => {
    const ks = encryptKeystore(key, "correct horse", { n: 1024 });
    expect(() => decryptKeystore(ks, "wrong")).toThrow(KeystoreError);
    expect(() => decryptKeystore({ version: 1 }, "x")).toThrow(/Unsupported keystore/);
  });
  it("detects a tampered ciphertext", () => {
    const ks = encryptKeystore(key, "pw", { n: 1024 });
    const flipped = (parseInt(ks.crypto.ciphertext[0]!, 16) ^ 1).toString(16) + ks.crypto.ciphertext.slice(1);
    expect(() => decryptKeystore({ ...ks, crypto: { ...ks.crypto, ciphertext: flipped } }, "pw")).toThrow(/MAC does not match/);
  });
});
