/**
 * The heavy toolchain (jco, binaryen) runs in a worker thread of its own, started on demand and
 * stopped after a few idle seconds:
 * - it never blocks the event loop (instrumenting a 12 MB module takes seconds, transpiling and
 *   the WIT conformance check hundreds of milliseconds), so calls keep being served during uploads;
 * - jco and binaryen never load into the caller's thread (100+ MB, and 1.8 GB for binaryen under a
 *   TypeScript loader such as tsx, which transforms its 15 MB file), and the worker's memory is
 *   returned when it stops. It runs on Node's own type stripping (execArgv: []), without loaders.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { sha256Hex } from "../../sdk/ids.ts";
import { PACKAGE_ROOT } from "../../sdk/package-root.ts";
import { HashMismatchError, InvalidComponentError, errorFromWire, type WireError } from "../errors.ts";
import type { Artefact } from "./artefact.ts";
import type { VerifiedComponent, VerifyOptions } from "./verify.ts";

type ToolchainJob =
  | { op: "verify"; input: VerifyOptions; componentHash: `0x${string}` }
  | { op: "artefact"; input: { bytes: Uint8Array; metering: boolean; moduleCacheDir: string } };

export type ToolchainRequest = ToolchainJob & { id: number };

export type ToolchainReply =
  | { id: number; ok: true; op: "verify"; output: VerifiedComponent }
  | { id: number; ok: true; op: "artefact"; output: Artefact }
  | { id: number; ok: false; error: WireError }
  | { id: number; ok: false; failure: { name: string; message: string } };

const IDLE_MS = 5_000;
// From the package root, not from this module: the executor also runs compiled to dist/, while the
// worker always runs from its TypeScript source (Node strips its types).
const WORKER_URL = pathToFileURL(path.join(PACKAGE_ROOT, "runtime", "sandbox", "toolchain-worker.ts"));

interface Pending {
  resolve(reply: ToolchainReply): void;
  reject(error: Error): void;
}

let worker: Worker | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();

function stopped(reason: string): void {
  worker = undefined;
  const failed = [...pending.values()];
  pending.clear();
  for (const request of failed) request.reject(new InvalidComponentError(`The toolchain worker stopped (${reason}) while preparing the component: it may be too large to prepare here.`));
}

function toolchainWorker(): Worker {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  if (worker) return worker;
  const started = new Worker(WORKER_URL, { execArgv: [] });
  started.on("message", (reply: ToolchainReply) => {
    const request = pending.get(reply.id);
    pending.delete(reply.id);
    request?.resolve(reply);
    if (pending.size === 0 && worker === started) {
      started.unref();
      idleTimer = setTimeout(() => {
        if (pending.size > 0 || worker !== started) return;
        worker = undefined;
        void started.terminate();
      }, IDLE_MS).unref();
    }
  });
  started.on("error", (error) => worker === started && stopped(error.message));
  started.on("exit", (code) => worker === started && stopped(`exit code ${code}`));
  worker = started;
  return started;
}

async function run(job: ToolchainJob): Promise<ToolchainReply> {
  const target = toolchainWorker();
  target.ref();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    target.postMessage({ ...job, id });
  });
}

function failure(reply: Extract<ToolchainReply, { ok: false }>): Error {
  if ("error" in reply) return errorFromWire(reply.error);
  return Object.assign(new Error(reply.failure.message), { name: reply.failure.name });
}

/** Upload-time verification (verify.ts): the hash here, the rest in the toolchain worker. Throws the runtime's typed errors. */
export async function verifyComponent(options: VerifyOptions): Promise<VerifiedComponent> {
  const componentHash = sha256Hex(options.bytes);
  if (componentHash.toLowerCase() !== options.expectedHash.toLowerCase()) throw new HashMismatchError(options.expectedHash, componentHash);
  const reply = await run({ op: "verify", input: options, componentHash });
  if (!reply.ok) throw failure(reply);
  if (reply.op !== "verify") throw new Error("the toolchain worker answered another request");
  return reply.output;
}

/** Transpiled, instrumented and compile-checked core modules and glue (artefact.ts), in the toolchain worker. */
export async function buildArtefactInWorker(bytes: Uint8Array, metering: boolean, moduleCacheDir: string): Promise<Artefact> {
  const reply = await run({ op: "artefact", input: { bytes, metering, moduleCacheDir } });
  if (!reply.ok) throw failure(reply);
  if (reply.op !== "artefact") throw new Error("the toolchain worker answered another request");
  return reply.output;
}
