import sha3 from "js-sha3";
import { isAddress, type Address, type Hex } from "viem";

/**
 * EIP-712 hashing of structs made of static 32-byte words only (bytes32, uintN, address, and the
 * hashes standing for strings, arrays and nested structs), written straight into one byte buffer and
 * hashed as bytes. viem's encodeAbiParameters + keccak256 on hex strings validate the same things but
 * convert every word to hex and back; on the paid-call path (a voucher digest, a receipt digest and a
 * paymentRef per call) that conversion cost more than the hashing. Values outside their type throw,
 * as encodeAbiParameters does.
 */
export class AbiWords {
  readonly bytes: Uint8Array;

  constructor(words: number) {
    this.bytes = new Uint8Array(words * 32);
  }

  /** A bytes32 (0x + 64 hex digits) at word `index`. */
  bytes32(index: number, value: Hex): this {
    if (value.length !== 66) throw new RangeError(`bytes32 value ${value} is not 32 bytes`);
    writeHex(this.bytes, index * 32, value, 2);
    return this;
  }

  /** 32 bytes as they are (a precomputed type hash) at word `index`. */
  raw(index: number, value: Uint8Array): this {
    if (value.length !== 32) throw new RangeError(`a word is 32 bytes, not ${value.length}`);
    this.bytes.set(value, index * 32);
    return this;
  }

  /** An unsigned integer of `bits` bits at word `index` (big-endian, left-padded). */
  uint(index: number, value: bigint | number, bits: number): this {
    const v = BigInt(value);
    if (v < 0n || v >> BigInt(bits) !== 0n) throw new RangeError(`uint${bits} value ${v} is out of range`);
    const out = this.bytes;
    let rest = v;
    for (let i = index * 32 + 31; rest > 0n; i--) {
      out[i] = Number(rest & 0xffn);
      rest >>= 8n;
    }
    return this;
  }

  /** An address (checksummed or all one case, as viem's isAddress accepts) at word `index`. */
  address(index: number, value: Address): this {
    if (!isAddress(value)) throw new TypeError(`"${value}" is not an address`);
    writeHex(this.bytes, index * 32 + 12, value, 2);
    return this;
  }

  keccak(): Hex {
    return keccakHex(this.bytes);
  }
}

/** keccak256(0x1901 || domainSeparator || structHash): an EIP-712 digest from its two 32-byte parts. */
export function typedDataDigest(domainSeparator: Uint8Array, structHash: Uint8Array): Hex {
  const out = new Uint8Array(66);
  out[0] = 0x19;
  out[1] = 0x01;
  out.set(domainSeparator, 2);
  out.set(structHash, 34);
  return keccakHex(out);
}

/** The 32 bytes of a bytes32 hex value. */
export function bytes32Of(value: Hex): Uint8Array {
  if (value.length !== 66) throw new RangeError(`bytes32 value ${value} is not 32 bytes`);
  const out = new Uint8Array(32);
  writeHex(out, 0, value, 2);
  return out;
}

/** keccak256 of `words` as bytes (the struct hash of a typedDataDigest). */
export function keccakBytes(words: AbiWords): Uint8Array {
  return new Uint8Array(sha3.keccak256.arrayBuffer(words.bytes));
}

/**
 * keccak256 through js-sha3: about 3x viem's (noble) on these 32–300 byte inputs, and the paid-call
 * path hashes about eight of them per call. Byte-identical (test/sdk/abi-words.test.ts).
 */
export function keccakHex(bytes: Uint8Array): Hex {
  return `0x${sha3.keccak256(bytes)}`;
}

function writeHex(out: Uint8Array, at: number, hex: string, from: number): void {
  for (let i = from, o = at; i < hex.length; i += 2, o++) {
    const hi = nibble(hex.charCodeAt(i));
    const lo = nibble(hex.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) throw new TypeError(`"${hex}" is not hex`);
    out[o] = (hi << 4) | lo;
  }
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
