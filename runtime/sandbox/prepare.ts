/**
 * Prepare once, at upload: build the artefact in the toolchain worker (artefact.ts: transpile,
 * instrument every core module for fuel, the memory cap and snapshots, compile-check), and store it
 * on disk under its componentHash so a restart reuses it.
 *
 * Layout: <cacheDir>/<hash>[-unmetered]/{glue.js, *.wasm, prepared.json}, and
 * <cacheDir>/modules/: instrumented core modules by content (components built by the same toolchain
 * share their engine module: QuickJS's 1.3 MB runtime is instrumented once, not per component).
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sha256Hex } from "../../sdk/ids.ts";
import { describeInterface, type InterfaceDescription } from "../../sdk/wit.ts";
import { readComponentTopLevel } from "./component-binary.ts";
import { ARTEFACT_VERSION } from "./sandbox-abi.ts";
import type { SnapshotSafety } from "./snapshot-safety.ts";
import { buildArtefactInWorker } from "./toolchain.ts";

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
  const artefact = await buildArtefactInWorker(bytes, metered, join(cacheDir, "modules"));
  const dir = artefactDir(cacheDir, componentHash, metered);
  const staging = `${dir}.${process.pid}.${Date.now()}.tmp`;
  await mkdir(staging, { recursive: true });
  try {
    await writeFile(join(staging, "glue.js"), artefact.glue);
    for (const module of artefact.modules) await writeFile(join(staging, module.name), module.bytes);
    const prepared: PreparedComponent = {
      componentHash,
      dir,
      metered,
      interface: iface,
      imports,
      coreModules: artefact.modules.map((m) => m.name),
      snapshot: artefact.snapshot,
      artefactVersion: ARTEFACT_VERSION,
      prepareMs: Math.round(performance.now() - started),
    };
    await writeFile(join(staging, "prepared.json"), JSON.stringify(prepared, null, 2));
    if (await publishArtefact(staging, dir)) return prepared;
    // Another process (executors may share a cache) published the same artefact first: it is complete, and
    // replacing it would pull it from under that process's readers.
    const theirs = await loadPreparedComponent(componentHash, { cacheDir, metering: metered });
    if (theirs) {
      await rm(staging, { recursive: true, force: true });
      return theirs;
    }
    // What is there is stale (an older artefact version) or broken: replace it.
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    return prepared;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Renames the finished staging directory into place; false when a directory is already there. */
async function publishArtefact(staging: string, dir: string): Promise<boolean> {
  try {
    await rename(staging, dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") return false;
    throw error;
  }
}

/** Lists the componentHashes with a prepared artefact in the cache (for warm-up after a restart). */
export async function listPreparedComponents(cacheDir = defaultPreparedCacheDir()): Promise<string[]> {
  const entries = await readdir(cacheDir).catch(() => [] as string[]);
  return entries.filter((e) => /^[0-9a-f]{64}$/.test(e)).map((e) => `0x${e}`);
}
