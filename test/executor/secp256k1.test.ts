import { describe, expect, it } from "vitest";
import { BATCH_SETTLEMENT_ADDRESS, BATCH_SETTLEMENT_DOMAIN, toClientEvmSigner, voucherTypes } from "@x402/evm";
import { signVoucher } from "@x402/evm/batch-settlement/client";
import { createPublicClient, getAddress, hashTypedData, http, keccak256, recoverAddress, recoverTypedDataAddress, toHex, type Hex } from "viem";
import { privateKeyToAccount, sign } from "viem/accounts";
import { hardhat } from "viem/chains";
import { nativeSecp256k1, publicKeyAddress, recoverSigner, signDigest, withFastDigestSigning } from "../../executor/secp256k1.ts";
import { VoucherSignatures } from "../../executor/voucher-check.ts";
import { devPrivateKey } from "../helpers/chain.ts";
import { receiptDigester, receiptId, type Receipt } from "../../sdk/receipt.ts";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const key = devPrivateKey(3);
const account = privateKeyToAccount(key);
// signVoucher only signs typed data locally: the client is never asked anything.
const client = createPublicClient({ chain: hardhat, transport: http("http://127.0.0.1:1") });
const CHANNEL = keccak256(toHex("channel")) as Hex;

function withS(signature: Hex, s: bigint, v: number): Hex {
  return `${signature.slice(0, 66)}${s.toString(16).padStart(64, "0")}${v.toString(16)}` as Hex;
}

describe("secp256k1 on the hot path", () => {
  it("loads libsecp256k1 (the prebuilt addon), not the pure-JS fallback", () => {
    expect(nativeSecp256k1).toBe(true);
  });

  it("signs digests exactly as viem does (RFC 6979, low s), and viem recovers the signer", async () => {
    for (let i = 0; i < 20; i++) {
      const digest = keccak256(toHex(`digest ${i}`));
      const signature = await signDigest(digest, key);
      expect(signature).toBe(await sign({ hash: digest, privateKey: key, to: "hex" }));
      expect(await recoverAddress({ hash: digest, signature })).toBe(account.address);
      expect(BigInt(`0x${signature.slice(66, 130)}`) <= N / 2n).toBe(true);
    }
  });

  it("gives an account whose typed-data signatures (receipts) viem's recoverTypedDataAddress accepts", async () => {
    const fast = withFastDigestSigning(account, key);
    const typed = {
      domain: { name: "Glassbox Settlement", version: "2", chainId: 31337, verifyingContract: account.address },
      types: { Ping: [{ name: "n", type: "uint256" }] },
      primaryType: "Ping" as const,
      message: { n: 42n },
    };
    const signature = await fast.sign!({ hash: hashTypedData(typed) });
    expect(await recoverTypedDataAddress({ ...typed, signature })).toBe(account.address);
  });

  it("recovers the signer's key, and refuses non-canonical signatures (high s, bad v, zero r)", async () => {
    const digest = keccak256(toHex("voucher"));
    const signature = await signDigest(digest, key);
    const recovered = await recoverSigner(digest, signature);
    expect(publicKeyAddress(recovered!)).toBe(account.address.toLowerCase());
    const s = BigInt(`0x${signature.slice(66, 130)}`);
    const v = Number.parseInt(signature.slice(130), 16);
    expect(await recoverSigner(digest, withS(signature, N - s, v === 27 ? 28 : 27))).toBeUndefined();
    expect(await recoverSigner(digest, withS(signature, s, v - 27))).toBeUndefined();
    expect(await recoverSigner(digest, `0x${"00".repeat(32)}${signature.slice(66)}` as Hex)).toBeUndefined();
    expect(await recoverSigner(digest, signature.slice(0, 130) as Hex)).toBeUndefined();
  });

  it("answers a batch that mixes keys, signatures and recoveries (one turn, off this thread) each with its own result", async () => {
    const keys = [key, devPrivateKey(4), devPrivateKey(5)];
    const digests = Array.from({ length: 60 }, (_, i) => keccak256(toHex(`batch ${i}`)));
    // r = 5 is in range, but no curve point has x = 5 (5³ + 7 is not a square mod p): not recoverable.
    const noPoint = `0x${"00".repeat(31)}05${"00".repeat(31)}011b` as Hex;
    const [signatures, recoveries, unrecoverable] = await Promise.all([
      Promise.all(digests.map((digest, i) => signDigest(digest, keys[i % 3]!))),
      Promise.all(digests.map(async (digest, i) => recoverSigner(digest, await sign({ hash: digest, privateKey: keys[i % 3]!, to: "hex" })))),
      recoverSigner(digests[0]!, noPoint),
    ]);
    for (const [i, digest] of digests.entries()) {
      expect(signatures[i]).toBe(await sign({ hash: digest, privateKey: keys[i % 3]!, to: "hex" }));
      expect(publicKeyAddress(recoveries[i]!)).toBe(privateKeyToAccount(keys[i % 3]!).address.toLowerCase());
    }
    expect(unrecoverable).toBeUndefined();
  });

  it("refuses to sign with a key libsecp256k1 rejects (zero), naming the problem, and keeps serving", async () => {
    const digest = keccak256(toHex("zero key"));
    await expect(signDigest(digest, `0x${"00".repeat(32)}`)).rejects.toThrow(/could not sign the digest/);
    expect(await signDigest(digest, key)).toBe(await sign({ hash: digest, privateKey: key, to: "hex" }));
  });
});

describe("VoucherSignatures", () => {
  it("verifies stock-client vouchers, then checks later ones against the cached key; forgeries fail", async () => {
    const signatures = new VoucherSignatures(31337);
    const payer = toClientEvmSigner(account, client);
    const stranger = toClientEvmSigner(privateKeyToAccount(devPrivateKey(4)), client);
    for (const amount of ["1500", "3000", "4500"]) {
      const voucher = await signVoucher(payer, CHANNEL, amount, "eip155:31337");
      expect(await signatures.verify(voucher, account.address)).toBe(true);
      // Someone else's signature over the same voucher, and the genuine signature over another amount.
      expect(await signatures.verify(await signVoucher(stranger, CHANNEL, amount, "eip155:31337"), account.address)).toBe(false);
      expect(await signatures.verify({ ...voucher, maxClaimableAmount: `${amount}0` }, account.address)).toBe(false);
    }
    // A stranger's voucher is refused on first sight too (no key cached for that channel yet).
    const other = keccak256(toHex("other channel"));
    expect(await signatures.verify(await signVoucher(stranger, other, "1", "eip155:31337"), account.address)).toBe(false);
    expect(await signatures.verify(await signVoucher(payer, other, "1", "eip155:31337"), account.address)).toBe(true);
    // A voucher for another chain (another EIP-712 domain) does not verify here.
    expect(await signatures.verify(await signVoucher(payer, CHANNEL, "6000", "eip155:8453"), account.address)).toBe(false);
    expect(await signatures.verify({ ...(await signVoucher(payer, CHANNEL, "6000", "eip155:31337")), maxClaimableAmount: "not a number" }, account.address)).toBe(false);
  });
});

describe("digests computed with cached domain separators", () => {
  it("voucher digests equal viem's hashTypedData of the stock voucher type", () => {
    const signatures = new VoucherSignatures(31337);
    for (const amount of [0n, 1n, 1_500n, 2n ** 128n - 1n]) {
      const expected = hashTypedData({
        domain: { ...BATCH_SETTLEMENT_DOMAIN, chainId: 31337, verifyingContract: getAddress(BATCH_SETTLEMENT_ADDRESS) },
        types: voucherTypes,
        primaryType: "Voucher",
        message: { channelId: CHANNEL, maxClaimableAmount: amount },
      });
      expect(signatures.digest(CHANNEL, amount)).toBe(expected);
    }
    expect(() => signatures.digest(CHANNEL, 2n ** 128n)).toThrow();
  });

  it("receipt digests equal sdk receiptId (viem's hashTypedData), with and without dependencies", () => {
    const settlement = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
    const digest = receiptDigester(31337, settlement);
    const base: Receipt = {
      versionId: keccak256(toHex("v")),
      functionName: "to-html",
      payer: account.address,
      executor: getAddress("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"),
      seq: 7n,
      royalty: 1_000n,
      executorFee: 500n,
      fuel: 123_456n,
      inputHash: keccak256(toHex("in")),
      outputHash: keccak256(toHex("out")),
      dependencies: [],
      paymentRef: keccak256(toHex("pay")),
      issuedAt: 1_700_000_000n,
      deadline: 1_700_003_600n,
    };
    const withDeps: Receipt = {
      ...base,
      functionName: "ünïcode ☃",
      dependencies: [
        { versionId: keccak256(toHex("d1")), calls: 2, fuel: 10n, royalty: 3n },
        { versionId: keccak256(toHex("d2")), calls: 4_294_967_295, fuel: 2n ** 64n - 1n, royalty: 2n ** 255n },
      ],
    };
    for (const receipt of [base, withDeps, { ...base, seq: 0n, royalty: 0n }]) expect(digest(receipt)).toBe(receiptId(receipt, 31337, settlement));
    expect(receiptDigester(1, settlement)(base)).toBe(receiptId(base, 1, settlement));
    expect(() => digest({ ...base, seq: 2n ** 64n })).toThrow();
  });
});
