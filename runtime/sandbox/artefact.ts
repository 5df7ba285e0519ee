/**
 * The compute-heavy half of preparing a component (it runs in the toolchain worker): transpile it
 * in memory with jco (sync instantiation, every import supplied by the host), turn the glue into a
 * script, instrument every core module (instrument.ts) and check that V8 compiles them.
 *
 * Loaded by the toolchain worker through Node's type stripping: no TypeScript-only syntax here.
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { transpile } from "@bytecodealliance/jco";
import { InvalidComponentError } from "../errors.ts";
import { instrumentModule, type InstrumentedModule } from "./instrument.ts";
import { ARTEFACT_VERSION } from "./sandbox-abi.ts";
import type { SnapshotSafety } from "./snapshot-safety.ts";

export interface Artefact {
  /** glue.js: jco's instantiation glue as a script body returning `instantiate`. */
  glue: string;
  modules: { name: string; bytes: Uint8Array }[];
  snapshot: SnapshotSafety;
}

/**
 * jco's glue, as a script body that returns its `instantiate` function (instance.ts evaluates it
 * with `new Function`, so a dropped component's glue is garbage-collected, unlike an imported
 * module). The glue with `instantiation` has no imports and exports only `instantiate` and
 * `_util`; anything else is refused rather than half-converted.
 *
 * Also: the glue probes JSPI with `try { WebAssembly.promising(f) } catch { f }` on every
 * instantiation. Node 22 has no JSPI, and the TypeError's message makes V8 re-parse the (huge)
 * enclosing function: ~1.5 ms per probe, ~20 ms per fresh QuickJS instance. Same fallback,
 * without throwing.
 */
function glueScript(glue: string): string {
  const script = glue
    .replaceAll("WebAssembly.promising(", "__glassboxPromising(")
    .replace(/^export function instantiate\(/m, "function instantiate(")
    .replace(/^export const _util = /m, "const _util = ");
  if (/^\s*(export|import)\b|\bimport\s*\(|import\.meta/m.test(script)) throw new InvalidComponentError("jco's instantiation glue has an unexpected shape (imports or other exports): this jco version is not supported.");
  const helper = 'const __glassboxPromising = (fn) => (typeof WebAssembly.promising === "function" ? WebAssembly.promising(fn) : fn);';
  return `"use strict";\n${helper}\n${script}\nreturn instantiate;\n`;
}

/** Instruments a core module, or reads it from the cache of modules instrumented before (keyed by content). */
async function instrumentCached(module: Uint8Array, metering: boolean, cacheDir: string): Promise<InstrumentedModule> {
  const key = `${createHash("sha256").update(module).digest("hex")}-${metering ? "metered" : "unmetered"}-v${ARTEFACT_VERSION}`;
  const path = join(cacheDir, key);
  const [bytes, snapshot] = await Promise.all([readFile(`${path}.wasm`).catch(() => undefined), readFile(`${path}.json`, "utf8").catch(() => undefined)]);
  if (bytes && snapshot) return { bytes: new Uint8Array(bytes), snapshot: JSON.parse(snapshot) };
  const instrumented = instrumentModule(module, { metering });
  await mkdir(cacheDir, { recursive: true });
  // Unique per writer: two uploads sharing a core module (e.g. the QuickJS engine) instrument it at once.
  const staging = `${path}.${process.pid}.${randomUUID()}`;
  await writeFile(`${staging}.wasm`, instrumented.bytes);
  await writeFile(`${staging}.json`, JSON.stringify(instrumented.snapshot));
  await rename(`${staging}.wasm`, `${path}.wasm`);
  await rename(`${staging}.json`, `${path}.json`);
  return instrumented;
}

export async function buildArtefact(bytes: Uint8Array, metering: boolean, moduleCacheDir: string): Promise<Artefact> {
  let files: Record<string, Uint8Array>;
  try {
    // Sync instantiation: the host supplies every import, nothing awaits, and an instance is
    // created without a promise hop per core module.
    files = (await transpile(bytes, { name: "component", instantiation: "sync", noTypescript: true, base64Cutoff: 0, nodejsCompat: false })).files;
  } catch (error) {
    throw new InvalidComponentError(`jco could not transpile the component: ${(error as Error).message}`, error);
  }
  const glue = files["component.js"];
  if (!glue) throw new InvalidComponentError("jco produced no instantiation glue for the component.");
  const modules: Artefact["modules"] = [];
  let snapshot: SnapshotSafety = { safe: true };
  for (const [name, content] of Object.entries(files)) {
    if (!name.endsWith(".wasm")) continue;
    let instrumented: InstrumentedModule;
    try {
      instrumented = await instrumentCached(content, metering, moduleCacheDir);
    } catch (error) {
      throw new InvalidComponentError(`Core module ${name} could not be instrumented: ${(error as Error).message}`, error);
    }
    if (snapshot.safe && !instrumented.snapshot.safe) snapshot = { safe: false, reason: `core module ${name}: ${instrumented.snapshot.reason}` };
    // Fail at upload, not at the first call, if V8 rejects a module.
    await WebAssembly.compile(instrumented.bytes as Uint8Array<ArrayBuffer>).catch((error: Error) => {
      throw new InvalidComponentError(`Core module ${name} does not compile after instrumentation: ${error.message}`, error);
    });
    modules.push({ name, bytes: instrumented.bytes });
  }
  return { glue: glueScript(new TextDecoder().decode(glue)), modules, snapshot };
}
