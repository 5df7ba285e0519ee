import { describe, expect, it } from "vitest";
import { encodeAbiParameters, keccak256, toHex, type Address, type Hex } from "viem";
import { AbiWords, keccakBytes, typedDataDigest } from "../../sdk/abi-words.ts";
import { channelPaymentRef } from "../../sdk/receipt.ts";

describe("AbiWords", () => {
  it("encodes static words exactly as viem's encodeAbiParameters", () => {
    const id = keccak256(toHex("channel"));
    const upper = `0x${id.slice(2).toUpperCase()}` as Hex;
    const address: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    for (const amount of [0n, 1n, 255n, 256n, 2n ** 64n - 1n, 2n ** 256n - 1n]) {
      const expected = encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }, { type: "address" }], [id, amount, address]);
      expect(toHex(new AbiWords(3).bytes32(0, upper).uint(1, amount, 256).address(2, address).bytes)).toBe(expected);
      expect(channelPaymentRef(id, amount)).toBe(keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }], [id, amount])));
    }
  });

  it("hashes exactly as viem's keccak256, across the block size and beyond", () => {
    for (const words of [1, 2, 4, 5, 8, 17, 40]) {
      const w = new AbiWords(words);
      for (let i = 0; i < words; i++) w.uint(i, BigInt(i * 7919 + words) ** 5n, 256);
      expect(w.keccak()).toBe(keccak256(w.bytes));
      expect(toHex(keccakBytes(w))).toBe(keccak256(w.bytes));
    }
    const domain = keccakBytes(new AbiWords(1).uint(0, 1n, 8));
    const struct = keccakBytes(new AbiWords(1).uint(0, 2n, 8));
    expect(typedDataDigest(domain, struct)).toBe(keccak256(new Uint8Array([0x19, 0x01, ...domain, ...struct])));
  });

  it("refuses values outside their types", () => {
    const words = new AbiWords(1);
    expect(() => words.uint(0, 2n ** 64n, 64)).toThrow(/uint64/);
    expect(() => words.uint(0, -1n, 256)).toThrow(/uint256/);
    expect(() => words.bytes32(0, "0x1234")).toThrow(/32 bytes/);
    expect(() => words.bytes32(0, `0x${"zz".repeat(32)}`)).toThrow(/not hex/);
    // A mixed-case address with a wrong checksum, as viem refuses it.
    expect(() => words.address(0, "0x70997970c51812dc3A010C7d01b50e0d17dc79C8")).toThrow(/not an address/);
  });
});
