import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { bytesToHex, hexToBytes, recoverPublicKey, type Hex, type LocalAccount } from "viem";
import { sign as nobleSign } from "viem/accounts";
import { keccakHex } from "../sdk/abi-words.ts";
import { PACKAGE_ROOT } from "../sdk/package-root.ts";
import { ANSWER_BYTES, OP_BYTES, RECOVER, SIGN, type NativeSecp256k1, type Secp256k1Request, type Secp256k1WorkerSetup } from "./secp256k1-wire.ts";

/**
 * secp256k1 on the paid-call hot path (voucher checks, receipt signatures) through libsecp256k1 (the
 * `secp256k1` package's prebuilt N-API addon): a recovery costs a fraction of viem's pure-JS one, and
 * RFC 6979 signing gives byte-identical signatures. Where the addon cannot load (a platform without a
 * prebuild and no compiler), the same operations fall back to viem/noble: slower, equally correct.
 *
 * The native operations run on a thread of their own (executor/secp256k1-worker.ts), batched: the
 * requests made in one turn of the event loop go as one message. A recovery and a signature cost
 * ~100 µs each, two per paid call, and on the executor's thread they held up every other request.
 *
 * node:crypto cannot stand in: its ECDSA always hashes the input (SHA-256 for EC keys even with a null
 * algorithm), and an EIP-712 digest must be signed and verified as is.
 */
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
  // A failure of the thread itself rejects: the signature was not found invalid.
  if (native) return secp256k1Thread.run(RECOVER, v - 27, hexToBytes(digest), bytes.subarray(0, 64));
  try {
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
  const signature = await secp256k1Thread.run(SIGN, secp256k1Thread.keyIndex(privateKey), hexToBytes(digest));
  if (!signature) throw new Error("libsecp256k1 could not sign the digest (an invalid private key?)");
  return bytesToHex(signature);
}

/** `account` with its raw-digest `sign` (receipt signatures) done by `signDigest`; every other method is viem's. */
export function withFastDigestSigning(account: LocalAccount, privateKey: Hex): LocalAccount {
  if (!native) return account;
  return { ...account, sign: ({ hash }) => signDigest(hash, privateKey) };
}

const WORKER_URL = pathToFileURL(path.join(PACKAGE_ROOT, "executor", "secp256k1-worker.ts"));
/** Keys are named by a one-byte index in the batches. */
const MAX_KEYS = 256;

interface Waiting {
  resolve: (result: Uint8Array | undefined) => void;
  reject: (error: Error) => void;
}

/**
 * The native operations' thread, started at first use and restarted after a failure. It keeps the
 * process alive only while a batch is out; its private keys never leave this process.
 */
class Secp256k1Thread {
  private worker: Worker | undefined;
  private readonly keys: Uint8Array[] = [];
  private readonly keyIndexes = new Map<string, number>();
  private ops: Uint8Array[] = [];
  private waiting: Waiting[] = [];
  /** Batches sent, answered in order. */
  private readonly inFlight: Waiting[][] = [];

  /** Queues one operation for this turn's batch: a recovery's public key, or a signature (undefined: none). */
  run(kind: typeof RECOVER | typeof SIGN, index: number, digest: Uint8Array, rs?: Uint8Array): Promise<Uint8Array | undefined> {
    const op = new Uint8Array(OP_BYTES);
    op[0] = kind;
    op[1] = index;
    op.set(digest, 2);
    if (rs) op.set(rs, 34);
    return new Promise((resolve, reject) => {
      if (this.ops.push(op) === 1) setImmediate(() => this.send());
      this.waiting.push({ resolve, reject });
    });
  }

  /** The index the thread knows `privateKey` by. */
  keyIndex(privateKey: Hex): number {
    const known = this.keyIndexes.get(privateKey);
    if (known !== undefined) return known;
    if (this.keys.length >= MAX_KEYS) throw new Error(`The secp256k1 thread holds ${MAX_KEYS} signing keys at most`);
    const key = hexToBytes(privateKey);
    this.keys.push(key);
    this.keyIndexes.set(privateKey, this.keys.length - 1);
    this.worker?.postMessage({ key } satisfies Secp256k1Request);
    return this.keys.length - 1;
  }

  private send(): void {
    const ops = new Uint8Array(this.ops.length * OP_BYTES);
    this.ops.forEach((op, i) => ops.set(op, i * OP_BYTES));
    this.inFlight.push(this.waiting);
    this.ops = [];
    this.waiting = [];
    const worker = this.started();
    worker.ref();
    worker.postMessage({ ops } satisfies Secp256k1Request, [ops.buffer]);
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const setup: Secp256k1WorkerSetup = { keys: this.keys };
    // Node's own type stripping loads the worker: no loader (tsx, vitest) inherited from this thread.
    const worker = new Worker(WORKER_URL, { workerData: setup, execArgv: [] });
    worker.on("message", (answers: Uint8Array) => {
      const batch = this.inFlight.shift()!;
      batch.forEach((waiting, i) => {
        const answer = answers.subarray(i * ANSWER_BYTES, (i + 1) * ANSWER_BYTES);
        waiting.resolve(answer[0] === 1 ? answer.slice(1) : undefined);
      });
      if (this.inFlight.length === 0) worker.unref();
    });
    const fail = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const batch of this.inFlight.splice(0)) for (const waiting of batch) waiting.reject(error);
    };
    worker.on("error", (error) => fail(new Error(`The secp256k1 thread failed: ${error.message}`, { cause: error })));
    worker.on("exit", (code) => fail(new Error(`The secp256k1 thread stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }
}

const secp256k1Thread = new Secp256k1Thread();
