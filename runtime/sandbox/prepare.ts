/**
 * Prepare once, at upload: transpile the component in memory (jco, async instantiation, every
 * import supplied by the host), instrument every core module (fuel, memory cap, snapshot exports:
 * instrument.ts), check that V8 compiles them, and store the artefact on disk under its
 * componentHash so a restart reuses it.
 *
 * Layout: <cacheDir>/<hash>[-unmetered]/{glue.js, *.wasm, prepared.json}
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { transpile } from "@bytecodealliance/jco";
import { sha256Hex } from "../../sdk/ids.ts";
import { describeInterface, type InterfaceDescription } from "../../sdk/wit.ts";
import { readComponentTopLevel } from "./component-binary.ts";
import { InvalidComponentError } from "../errors.ts";
import { instrumentModule } from "./instrument.ts";
import type { SnapshotSafety } from "./snapshot-safety.ts";

/** Bump when the artefact layout or instrumentation changes: old cache entries are then ignored. */
const ARTEFACT_VERSION = 3;

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

/** Everything a worker needs to run the component; plain JSON (crosses thread boundaries). */
export interface PreparedComponent {
  componentHash: `0x${string}`;
  /** Directory holding glue.js (jco's instantiation glue) and the core modules. */
  dir: string;
  metered: boolean;
  interface: InterfaceDescription;
  /** Top-level imports of the component (versioned). */
  imports: string[];
  coreModules: string[];
  /** Whether instances may be reset to a snapshot and reused (else: a new instance per call), and why not. */
  snapshot: SnapshotSafety;
  artefactVersion: number;
  /** How long preparing took when it was done (ms). */
  prepareMs: number;
}

export interface PrepareOptions {
  witSource: string;
  world: string;
  interfaceName?: string;
  /** Artefact cache. Default `<cwd>/.glassbox/cache/prepared`. */
  cacheDir?: string;
  /** Fuel-instrument the core modules (default true; false only for benchmarks). The memory cap is always instrumented. */
  metering?: boolean;
}

export function defaultPreparedCacheDir(): string {
  return join(process.cwd(), ".glassbox", "cache", "prepared");
}

function artefactDir(cacheDir: string, componentHash: string, metered: boolean): string {
  return join(cacheDir, `${componentHash.replace(/^0x/, "")}${metered ? "" : "-unmetered"}`);
}

/** Loads a prepared artefact from the cache, or undefined when absent/stale. */
export async function loadPreparedComponent(componentHash: string, options: { cacheDir?: string; metering?: boolean } = {}): Promise<PreparedComponent | undefined> {
  const dir = artefactDir(options.cacheDir ?? defaultPreparedCacheDir(), componentHash, options.metering ?? true);
  try {
    const prepared = JSON.parse(await readFile(join(dir, "prepared.json"), "utf8")) as PreparedComponent;
    if (prepared.artefactVersion !== ARTEFACT_VERSION) return undefined;
    return { ...prepared, dir };
  } catch {
    return undefined;
  }
}

/**
 * Transpiles, instruments and caches a (verified) component. Returns the cached artefact when one
 * exists for this componentHash.
 */
export async function prepareComponent(bytes: Uint8Array, options: PrepareOptions): Promise<PreparedComponent> {
  const componentHash = sha256Hex(bytes);
  const metered = options.metering ?? true;
  const cacheDir = options.cacheDir ?? defaultPreparedCacheDir();
  // Concurrent uploads of the same blob share one preparation.
  const key = artefactDir(cacheDir, componentHash, metered);
  const running = inFlight.get(key);
  if (running) return running;
  const work = prepareUncached(bytes, componentHash, metered, cacheDir, options).finally(() => inFlight.delete(key));
  inFlight.set(key, work);
  return work;
}

const inFlight = new Map<string, Promise<PreparedComponent>>();

async function prepareUncached(bytes: Uint8Array, componentHash: `0x${string}`, metered: boolean, cacheDir: string, options: PrepareOptions): Promise<PreparedComponent> {
  const cached = await loadPreparedComponent(componentHash, { cacheDir, metering: metered });
  if (cached) return cached;

  const started = performance.now();
  const iface = describeInterface(options.witSource, options.world, options.interfaceName);
  const imports = readComponentTopLevel(bytes).imports.map((i) => i.name);
  let files: Record<string, Uint8Array>;
  try {
    // Sync instantiation: the host supplies every import, nothing awaits, and an instance is
    // created without a promise hop per core module.
    const output = await transpile(bytes, { name: "component", instantiation: "sync", noTypescript: true, base64Cutoff: 0, nodejsCompat: false });
    files = output.files;
  } catch (error) {
    throw new InvalidComponentError(`jco could not transpile the component: ${(error as Error).message}`);
  }
  const dir = artefactDir(cacheDir, componentHash, metered);
  const staging = `${dir}.${process.pid}.${Date.now()}.tmp`;
  await mkdir(staging, { recursive: true });
  const coreModules: string[] = [];
  let snapshot: SnapshotSafety = { safe: true };
  try {
    for (const [name, content] of Object.entries(files)) {
      if (name.endsWith(".wasm")) {
        let instrumented: ReturnType<typeof instrumentModule>;
        try {
          instrumented = instrumentModule(content as Uint8Array, { metering: metered });
        } catch (error) {
          throw new InvalidComponentError(`Core module ${name} could not be instrumented: ${(error as Error).message}`, error);
        }
        if (snapshot.safe && !instrumented.snapshot.safe) snapshot = { safe: false, reason: `core module ${name}: ${instrumented.snapshot.reason}` };
        // Fail at upload, not at the first call, if V8 rejects a module.
        await WebAssembly.compile(instrumented.bytes as Uint8Array<ArrayBuffer>).catch((error: Error) => {
          throw new InvalidComponentError(`Core module ${name} does not compile after instrumentation: ${error.message}`, error);
        });
        await writeFile(join(staging, name), instrumented.bytes);
        coreModules.push(name);
      } else if (name === "component.js") {
        await writeFile(join(staging, "glue.js"), glueScript(new TextDecoder().decode(content)));
      }
    }
    const prepared: PreparedComponent = {
      componentHash,
      dir,
      metered,
      interface: iface,
      imports,
      coreModules,
      snapshot,
      artefactVersion: ARTEFACT_VERSION,
      prepareMs: Math.round(performance.now() - started),
    };
    await writeFile(join(staging, "prepared.json"), JSON.stringify(prepared, null, 2));
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    return prepared;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Lists the componentHashes with a prepared artefact in the cache (for warm-up after a restart). */
export async function listPreparedComponents(cacheDir = defaultPreparedCacheDir()): Promise<string[]> {
  const entries = await readdir(cacheDir).catch(() => [] as string[]);
  return entries.filter((e) => /^[0-9a-f]{64}$/.test(e)).map((e) => `0x${e}`);
}
