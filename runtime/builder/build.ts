/**
 * Building components from WIT + JavaScript/TypeScript (componentize): the maintainer's side.
 *
 * Sources are bundled first with esbuild (TypeScript stripped, npm imports from node_modules
 * inlined into one ESM module), then componentized with the programmatic API (the jco CLI's
 * componentize fails here, see TOOLCHAIN.md). For StarlingMonkey (no ICU) the bundle is adapted
 * first: Unicode property escapes lowered, String.prototype.normalize calls refused (see
 * adaptSourceForStarlingMonkey). Builds are cached on disk by a hash of every input that affects
 * the bytes, the adapted source included.
 */
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";
import { createHash } from "node:crypto";
import * as esbuild from "esbuild";
import { sha256Hex } from "../../sdk/ids.ts";
import { describeWorld } from "../../sdk/wit.ts";
import { BuildError } from "../errors.ts";
import { adaptSourceForStarlingMonkey, componentizeStarlingMonkey } from "./starlingmonkey.ts";

export type ComponentBackend = "qjs" | "starlingmonkey";

/**
 * Measured with bench/runtime.ts (greet.ts fixture, 2-core machine under load): QuickJS 1.61 MB,
 * build 2.2 s, prepare 3.6 s, pool call on a fresh instance 1.5 ms p50; StarlingMonkey 11.96 MB,
 * build 9.4 s, prepare 8.9 s, 5.4 ms p50. QuickJS wins on every axis, so it is the default.
 */
export const DEFAULT_BACKEND: ComponentBackend = "qjs";

export interface BuildComponentOptions {
  /** WIT source of one package (the published spec). */
  witSource: string;
  /** World to build against. */
  world: string;
  /** JavaScript or TypeScript module source exporting the world's interfaces (jco conventions: camelCase names). */
  source: string;
  /** "ts" strips types; default: guessed from `sourcePath`'s extension, else "js". */
  language?: "js" | "ts";
  /** Where the source lives: npm imports resolve from here (node_modules lookup). Default: cwd. */
  sourcePath?: string;
  /**
   * Default "qjs" (smaller, faster). Worlds that import WASI interfaces default to
   * "starlingmonkey": it keeps the import set to the world's interfaces plus the few its engine
   * needs for them (wasi:io/*, wasi:cli/stderr, monotonic clock), where QuickJS would import the
   * whole WASI CLI set (filesystem included) or, stubbed, drop the world's WASI imports.
   */
  backend?: ComponentBackend;
  /** Build cache directory. Default: `<cwd>/.glassbox/cache/builds`. Pass null to disable the cache. */
  cacheDir?: string | null;
}

export interface BuildResult {
  bytes: Uint8Array;
  componentHash: `0x${string}`;
  backend: ComponentBackend;
  /** True when the bytes came from the on-disk build cache. */
  cached: boolean;
  /** The bundled single-module JavaScript that was componentized. */
  bundledSource: string;
}

const require = createRequire(import.meta.url);

function toolVersions(backend: ComponentBackend): string {
  const version = (pkg: string): string => {
    try {
      return (require(`${pkg}/package.json`) as { version: string }).version;
    } catch {
      return "?";
    }
  };
  // The StarlingMonkey source transform's tools are part of its builds' identity.
  const transformTools = backend === "starlingmonkey" ? ["regexpu-core", "acorn"] : [];
  return ["componentize-qjs", "@bytecodealliance/componentize-js", "@bytecodealliance/jco", "esbuild", ...transformTools].map((p) => `${p}@${version(p)}`).join(",");
}

/** WIT interface imports (`wasi:clocks/wall-clock@0.2.3`, `acme:x/y`) are bound by componentize, not bundled. */
const witImportsExternal: esbuild.Plugin = {
  name: "glassbox-wit-imports",
  setup(build) {
    build.onResolve({ filter: /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*\// }, (args) => ({ path: args.path, external: true }));
  },
};

/** Bundles a JS/TS entry (from a string) into one ESM module with its node_modules imports inlined. */
export async function bundleSource(source: string, options: { language?: "js" | "ts"; sourcePath?: string } = {}): Promise<string> {
  const sourcePath = options.sourcePath ? resolve(options.sourcePath) : join(process.cwd(), "index.js");
  const language = options.language ?? (/\.(m|c)?tsx?$/.test(sourcePath) ? "ts" : "js");
  try {
    const result = await esbuild.build({
      stdin: { contents: source, loader: language, resolveDir: join(sourcePath, ".."), sourcefile: sourcePath },
      bundle: true,
      write: false,
      format: "esm",
      platform: "neutral",
      mainFields: ["module", "main"],
      conditions: ["import", "default"],
      target: "es2022",
      logLevel: "silent",
      legalComments: "none",
      plugins: [witImportsExternal],
    });
    return result.outputFiles[0]!.text;
  } catch (error) {
    const failure = error as { errors?: { text: string; location?: { file: string; line: number } | null }[] };
    const messages = failure.errors?.map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text)).join("; ");
    throw new BuildError(`Bundling the component source failed: ${messages ?? String(error)}. Check imports resolve from ${join(sourcePath, "..")} (npm packages must be installed there) and that Node built-ins are not used.`);
  }
}

/** Builds a component from WIT + JS/TS source. Cached on disk by the hash of all inputs. */
export async function buildComponent(options: BuildComponentOptions): Promise<BuildResult> {
  // Fails early, with line numbers, on WIT the runtime cannot run.
  const importsWasi = worldImportsWasi(options.witSource, options.world);
  const backend = options.backend ?? (importsWasi ? "starlingmonkey" : DEFAULT_BACKEND);
  const bundled = await bundleSource(options.source, options);
  const bundledSource = backend === "starlingmonkey" ? adaptSourceForStarlingMonkey(bundled) : bundled;
  const key = createHash("sha256")
    .update(JSON.stringify({ wit: options.witSource, world: options.world, source: bundledSource, backend, tools: toolVersions(backend) }))
    .digest("hex");
  const cacheDir = options.cacheDir === undefined ? join(process.cwd(), ".glassbox", "cache", "builds") : options.cacheDir;
  const cachePath = cacheDir ? join(cacheDir, `${key}.wasm`) : undefined;
  if (cachePath) {
    const hit = await readFile(cachePath).catch(() => undefined);
    if (hit) return { bytes: new Uint8Array(hit), componentHash: sha256Hex(hit), backend, cached: true, bundledSource };
  }
  const bytes = backend === "qjs" ? await componentizeQuickJs(options, bundledSource) : await componentizeStarlingMonkey(options.witSource, options.world, bundledSource);
  if (cachePath && cacheDir) {
    await mkdir(cacheDir, { recursive: true });
    const temporary = `${cachePath}.${process.pid}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, cachePath);
  }
  return { bytes, componentHash: sha256Hex(bytes), backend, cached: false, bundledSource };
}

async function componentizeQuickJs(options: BuildComponentOptions, source: string): Promise<Uint8Array> {
  const { componentize } = await import("componentize-qjs");
  // componentize-qjs only reads WIT from a path.
  const dir = await mkdtemp(join(tmpdir(), "glassbox-wit-"));
  try {
    const witPath = join(dir, "world.wit");
    await writeFile(witPath, options.witSource);
    // sync: no component-model async ABI (no JSPI needed, cheaper calls).
    // stubWasi: the engine's own WASI needs (clocks, stdio...) become traps instead of imports, so
    // the component imports nothing at all. It also stubs WASI the world itself imports, so such
    // worlds build without it and then import the engine's whole WASI CLI set.
    const stubWasi = !worldImportsWasi(options.witSource, options.world);
    const result = await componentize({ witPath, jsSource: source, world: options.world, sync: true, stubWasi });
    return new Uint8Array(result.component);
  } catch (error) {
    throw new BuildError(`QuickJS componentize failed for world "${options.world}": ${(error as Error).message}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function worldImportsWasi(witSource: string, world: string): boolean {
  return describeWorld(witSource, world).imports.some((name) => name.startsWith("wasi:"));
}
