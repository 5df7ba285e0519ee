/**
 * The messages between executor/secp256k1.ts and its thread (executor/secp256k1-worker.ts). Loaded by
 * the worker with Node's type stripping: no TS-only syntax here.
 */

/** One operation in a batch: kind, recid or key index, the 32-byte digest, then r || s for a recovery. */
export const OP_BYTES = 98;
/** One answer: 1 and the 65-byte result (public key, or r || s || v), or 0 (not recoverable, or failed). */
export const ANSWER_BYTES = 66;
export const RECOVER = 0;
export const SIGN = 1;

/** What both threads use of the `secp256k1` package's addon (`secp256k1/bindings.js`). */
export interface NativeSecp256k1 {
  ecdsaSign(message: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed: boolean): Uint8Array;
}

export interface Secp256k1WorkerSetup {
  /** The signing keys (32 bytes each) known when the thread starts; later ones come as messages. */
  keys: Uint8Array[];
}

/** A batch of operations (OP_BYTES each), or a signing key to add (its index is the count before it). */
export type Secp256k1Request = { ops: Uint8Array } | { key: Uint8Array };
