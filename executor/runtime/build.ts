/**
 * Building components from WIT + JavaScript/TypeScript (componentize) and from WAT.
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
import { parse as parseJs, type Node as JsNode } from "acorn";
import { componentEmbed, componentNew, parse } from "@bytecodealliance/jco";
import { sha256Hex } from "../../sdk/ids.ts";
import { describeWorld } from "../../sdk/wit.ts";
import { BuildError } from "./errors.ts";

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
  const bytes = backend === "qjs" ? await componentizeQuickJs(options, bundledSource) : await componentizeStarlingMonkey(options, bundledSource);
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

async function componentizeStarlingMonkey(options: BuildComponentOptions, source: string): Promise<Uint8Array> {
  const { componentize } = await import("@bytecodealliance/componentize-js");
  try {
    const result = await componentize(source, options.witSource, {
      worldName: options.world,
      sourceName: "component.js",
      // No engine-provided WASI beyond what the world itself imports: the component imports only
      // what its world declares (an engine feature left on would pull its WASI interfaces in).
      disableFeatures: starlingMonkeyDisabledFeatures(describeWorld(options.witSource, options.world).imports),
    } as never);
    return result.component;
  } catch (error) {
    const message = (error as Error).message;
    throw new BuildError(`StarlingMonkey componentize failed for world "${options.world}": ${message}${starlingMonkeyHint(message)}`);
  }
}

/** SpiderMonkey's regex parser reports a Unicode property escape it cannot resolve (no ICU) like this. */
const PROPERTY_ESCAPE_FAILURE = /(invalid|unknown) (class )?property name/i;

function starlingMonkeyHint(message: string): string {
  if (!PROPERTY_ESCAPE_FAILURE.test(message)) return "";
  return (
    ". StarlingMonkey's engine has no ICU, so it cannot evaluate Unicode property escapes (\\p{...}); the build rewrites them " +
    "in regex literals and in RegExp(\"...\", \"...\") calls with literal strings, but not in patterns assembled at run time. " +
    'Write that pattern as a regex literal, or build with backend "qjs"'
  );
}

/**
 * Adapts bundled source to StarlingMonkey, whose SpiderMonkey is built without ICU:
 * - Unicode property escapes (`\p{L}`, `\P{Script=Greek}`, v-mode sets) make the whole module fail
 *   to parse, so they are lowered to explicit code point classes (regexpu-core), in regex literals
 *   and in `RegExp("pattern", "flags")` calls with literal strings (esbuild emits v-flag literals
 *   that way). Strings, comments and templates are left alone: only parsed nodes are edited.
 * - String.prototype.normalize does not exist there: a call such as `.normalize("NFC")` would trap
 *   at run time, so it fails the build now with a BuildError (unless the source feature-detects it).
 */
export function adaptSourceForStarlingMonkey(source: string): string {
  const mayUsePropertyEscapes = /\\[pP]\{/.test(source);
  if (!mayUsePropertyEscapes && !source.includes(".normalize(")) return source;
  let program: JsNode;
  try {
    program = parseJs(source, { ecmaVersion: "latest", sourceType: "module" });
  } catch (error) {
    // An invalid pattern is reported here, where it can be located; any other syntax error is left
    // to componentize, which reports it with its location too.
    const { message, pos } = error as { message: string; pos?: number };
    if (/regular expression/i.test(message) && pos !== undefined) throw new BuildError(`${message.replace(/ \(\d+:\d+\)$/, "")} ${describePosition(source, pos)}. Fix the pattern.`);
    return source;
  }
  const edits: { start: number; end: number; text: string }[] = [];
  const normalizeCalls: { start: number; form: string }[] = [];
  const normalizeCount = { members: 0, callees: 0, featureChecks: 0 };
  visitNodes(program, (node) => {
    const literal = regexLiteral(node);
    if (literal && needsLowering(literal.flags, literal.pattern)) {
      const lowered = lowerPattern(source, node.start, literal.pattern, literal.flags);
      edits.push({ start: node.start, end: node.end, text: `/${lowered.pattern}/${lowered.flags}` });
      return;
    }
    const constructed = regExpConstruction(node);
    if (constructed && needsLowering(constructed.flags.value, constructed.pattern.value)) {
      const lowered = lowerPattern(source, node.start, constructed.pattern.value, constructed.flags.value);
      edits.push({ start: constructed.pattern.start, end: constructed.pattern.end, text: JSON.stringify(lowered.pattern) });
      edits.push({ start: constructed.flags.start, end: constructed.flags.end, text: JSON.stringify(lowered.flags) });
      return;
    }
    const normalize = normalizeUse(node);
    if (normalize === "member") normalizeCount.members++;
    else if (normalize === "feature-check") normalizeCount.featureChecks++;
    else if (normalize) {
      normalizeCount.callees++;
      if (normalize !== "callee") normalizeCalls.push({ start: node.start, form: normalize.call });
    }
  });
  const featureChecked = normalizeCount.featureChecks > 0 || normalizeCount.members > normalizeCount.callees;
  const unguarded = normalizeCalls[0];
  if (unguarded && !featureChecked) {
    throw new BuildError(
      `StarlingMonkey has no String.prototype.normalize (its engine is built without ICU), but the source calls .normalize(${JSON.stringify(unguarded.form)}) ` +
        `${describePosition(source, unguarded.start)}: every call reaching it would trap. Build with backend "qjs" (QuickJS has normalize), ` +
        `or drop the normalization or guard it with a feature check (typeof "".normalize === "function").`,
    );
  }
  let adapted = source;
  for (const edit of edits.sort((a, b) => b.start - a.start)) adapted = adapted.slice(0, edit.start) + edit.text + adapted.slice(edit.end);
  return adapted;
}

type RewritePattern = (pattern: string, flags: string, options: { unicodePropertyEscapes: "transform"; unicodeSetsFlag: "transform"; onNewFlags: (flags: string) => void }) => string;

/** regexpu-core (jco's own dependency for this same rewrite) ships no types; this is the one function used. */
let rewritePattern: RewritePattern | undefined;

function needsLowering(flags: string, pattern: string): boolean {
  // Without u or v, \p{...} is just an escaped "p": nothing to lower.
  return /[uv]/.test(flags) && /\\[pP]\{/.test(pattern);
}

function lowerPattern(source: string, position: number, pattern: string, flags: string): { pattern: string; flags: string } {
  rewritePattern ??= require("regexpu-core") as RewritePattern;
  let newFlags = flags;
  try {
    const lowered = rewritePattern(pattern, flags, { unicodePropertyEscapes: "transform", unicodeSetsFlag: "transform", onNewFlags: (value) => (newFlags = value) });
    return { pattern: lowered, flags: newFlags };
  } catch (error) {
    throw new BuildError(`Regular expression /${pattern}/${flags} ${describePosition(source, position)} is invalid: ${(error as Error).message}. Fix the pattern.`);
  }
}

function visitNodes(node: JsNode, visit: (node: JsNode) => void): void {
  visit(node);
  for (const value of Object.values(node) as unknown[]) {
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) visitNodes(item, visit);
    } else if (isNode(value)) visitNodes(value, visit);
  }
}

function isNode(value: unknown): value is JsNode {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

interface StringLiteral {
  value: string;
  start: number;
  end: number;
}

function stringLiteral(node: unknown): StringLiteral | undefined {
  const literal = node as { type?: string; value?: unknown; start: number; end: number } | undefined;
  return literal?.type === "Literal" && typeof literal.value === "string" ? { value: literal.value, start: literal.start, end: literal.end } : undefined;
}

function regexLiteral(node: JsNode): { pattern: string; flags: string } | undefined {
  return node.type === "Literal" ? (node as unknown as { regex?: { pattern: string; flags: string } }).regex : undefined;
}

/** `new RegExp("...", "...")` or `RegExp("...", "...")` with literal strings. */
function regExpConstruction(node: JsNode): { pattern: StringLiteral; flags: StringLiteral } | undefined {
  if (node.type !== "NewExpression" && node.type !== "CallExpression") return undefined;
  const call = node as unknown as { callee: { type: string; name?: string }; arguments: unknown[] };
  if (call.callee.type !== "Identifier" || call.callee.name !== "RegExp") return undefined;
  const pattern = stringLiteral(call.arguments[0]);
  const flags = stringLiteral(call.arguments[1]);
  return pattern && flags ? { pattern, flags } : undefined;
}

/**
 * What a node says about String.prototype.normalize: a `.normalize("NF…")` call (its form), a
 * `.normalize` member that is not called (a feature check like `typeof s.normalize`, once calls
 * are subtracted), the string "normalize" (`"normalize" in String.prototype`), or nothing.
 * Calls without a literal form are ignored: `.normalize()` is also a common vector/path method.
 */
function normalizeUse(node: JsNode): { call: string } | "callee" | "member" | "feature-check" | undefined {
  if (stringLiteral(node)?.value === "normalize") return "feature-check";
  if (node.type === "MemberExpression" && (node as unknown as { property: { name?: string } }).property.name === "normalize") return "member";
  if (node.type !== "CallExpression") return undefined;
  const call = node as unknown as { callee: { type: string; property?: { name?: string } }; arguments: unknown[] };
  if (call.callee.type !== "MemberExpression" || call.callee.property?.name !== "normalize") return undefined;
  const form = stringLiteral(call.arguments[0])?.value;
  return form && /^NFK?[CD]$/.test(form) ? { call: form } : "callee";
}

/** "in src/index.ts (bundled line 120)": esbuild marks each inlined module with a `// path` comment. */
function describePosition(source: string, offset: number): string {
  const before = source.slice(0, offset);
  const line = before.split("\n").length;
  const module = [...before.matchAll(/^\/\/ (\S+\.[cm]?[jt]sx?)$/gm)].at(-1)?.[1];
  return module ? `in ${module} (bundled line ${line})` : `at bundled line ${line}`;
}

function worldImportsWasi(witSource: string, world: string): boolean {
  return describeWorld(witSource, world).imports.some((name) => name.startsWith("wasi:"));
}

/** Engine features whose WASI interfaces the world imports stay enabled; all others are disabled. */
function starlingMonkeyDisabledFeatures(worldImports: string[]): ("stdio" | "random" | "clocks" | "http" | "fetch-event")[] {
  const imports = worldImports.map((name) => name.replace(/@.*$/, ""));
  const uses = (prefix: string): boolean => imports.some((name) => name.startsWith(prefix));
  const disabled: ("stdio" | "random" | "clocks" | "http" | "fetch-event")[] = ["fetch-event"];
  if (!uses("wasi:cli/std")) disabled.push("stdio");
  if (!uses("wasi:random/")) disabled.push("random");
  if (!uses("wasi:clocks/")) disabled.push("clocks");
  if (!uses("wasi:http/")) disabled.push("http");
  return disabled;
}

export interface BuildWatOptions {
  /** Component text (`(component ...)`) or a core module (`(module ...)`) using canonical-ABI export names. */
  wat: string;
  /** Required for a core module: the WIT it implements. */
  witSource?: string;
  world?: string;
}

/** WAT -> component. A core module is embedded with its WIT (componentEmbed) and wrapped (componentNew). */
export async function buildWatComponent(options: BuildWatOptions): Promise<Uint8Array> {
  let binary: Uint8Array;
  try {
    binary = await parse(options.wat);
  } catch (error) {
    throw new BuildError(`WAT does not parse: ${(error as Error).message}`);
  }
  if (/^\s*(\(;[^]*?;\)\s*|;;[^\n]*\n\s*)*\(component\b/.test(options.wat)) return binary;
  if (!options.witSource || !options.world) throw new BuildError("A core-module WAT needs witSource and world to become a component.");
  try {
    const embedded = await componentEmbed({ binary, witSource: options.witSource, world: options.world });
    return await componentNew(embedded, undefined);
  } catch (error) {
    throw new BuildError(`Wrapping the WAT module as a component of world "${options.world}" failed: ${(error as Error).message}`);
  }
}
