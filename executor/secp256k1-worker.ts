/**
 * libsecp256k1's own thread (started by executor/secp256k1.ts): voucher recoveries and receipt
 * signatures in batches, off the executor's event loop. Each batch is one transferred buffer each way.
 *
 * Loaded with Node's type stripping (execArgv: [], no TS-only syntax here).
 */
import { createRequire } from "node:module";
import { parentPort, workerData } from "node:worker_threads";
import { ANSWER_BYTES, OP_BYTES, RECOVER, type NativeSecp256k1, type Secp256k1Request, type Secp256k1WorkerSetup } from "./secp256k1-wire.ts";

const port = parentPort;
if (!port) throw new Error("executor/secp256k1-worker.ts runs only as a worker thread (executor/secp256k1.ts starts it)");
const native: NativeSecp256k1 = createRequire(import.meta.url)("secp256k1/bindings.js");
const keys = [...(workerData as Secp256k1WorkerSetup).keys];

port.on("message", (request: Secp256k1Request) => {
  if ("key" in request) {
    keys.push(request.key);
    return;
  }
  const { ops } = request;
  const count = ops.length / OP_BYTES;
  const answers = new Uint8Array(count * ANSWER_BYTES);
  for (let i = 0; i < count; i++) {
    const op = ops.subarray(i * OP_BYTES, (i + 1) * OP_BYTES);
    const digest = op.subarray(2, 34);
    const answer = answers.subarray(i * ANSWER_BYTES, (i + 1) * ANSWER_BYTES);
    try {
      if (op[0] === RECOVER) {
        answer.set(native.ecdsaRecover(op.subarray(34, 98), op[1]!, digest, false), 1);
      } else {
        const { signature, recid } = native.ecdsaSign(digest, keys[op[1]!]!);
        answer.set(signature, 1);
        answer[65] = 27 + recid;
      }
      answer[0] = 1;
    } catch {
      // Not recoverable (or no such key): answered 0.
    }
  }
  port.postMessage(answers, [answers.buffer]);
});
