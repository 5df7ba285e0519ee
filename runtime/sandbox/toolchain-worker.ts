/**
 * The toolchain worker (see toolchain.ts): verifies components and builds prepared artefacts, one
 * request at a time. Loaded with Node's type stripping (no TS-only syntax here).
 */
import { parentPort } from "node:worker_threads";
import { ComponentRuntimeError, errorToWire } from "../errors.ts";
import { buildArtefact } from "./artefact.ts";
import { verifyInline } from "./verify.ts";
import type { ToolchainReply, ToolchainRequest } from "./toolchain.ts";

parentPort!.on("message", async (request: ToolchainRequest) => {
  let reply: ToolchainReply;
  try {
    reply =
      request.op === "verify"
        ? { id: request.id, ok: true, op: "verify", output: await verifyInline(request.input, request.componentHash) }
        : { id: request.id, ok: true, op: "artefact", output: await buildArtefact(request.input.bytes, request.input.metering, request.input.moduleCacheDir) };
  } catch (error) {
    reply =
      error instanceof ComponentRuntimeError
        ? { id: request.id, ok: false, error: errorToWire(error) }
        : { id: request.id, ok: false, failure: { name: error instanceof Error ? error.name : "Error", message: error instanceof Error ? error.message : String(error) } };
  }
  parentPort!.postMessage(reply);
});
