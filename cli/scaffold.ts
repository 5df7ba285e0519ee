import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Address } from "viem";
import { camelCase } from "../runtime/sandbox/values.ts";
import { canonicalJson } from "../sdk/canonical-json.ts";
import { assertPackageName } from "../sdk/ids.ts";
import type { Manifest, PublishedFunction } from "../sdk/manifest.ts";
import type { SourceFile } from "../sdk/source-archive.ts";
import { wrappingForkWit } from "../sdk/wit-compose.ts";
import { CliError, ExitCode } from "./ui.ts";

/** The splits recipient `init` writes when no wallet or --owner is given; publish refuses it. */
export const PLACEHOLDER_RECIPIENT: Address = "0x0000000000000000000000000000000000000001";

/** A kebab-case WIT identifier from a package name part ("my-tool" stays, "2fa" gets a prefix). */
function witIdent(part: string): string {
  return /^[a-z]/.test(part) ? part : `x-${part}`;
}

/** Files of a new capability: WIT, a TypeScript implementation, test vectors and glassbox.json. */
export function scaffoldFiles(name: string, owner: Address): Record<string, string> {
  assertPackageName(name);
  const [scope, short] = name.split("/") as [string, string];
  const world = witIdent(short);
  const wit = `package ${witIdent(scope)}:${world}@0.1.0;

/// The public interface: anyone can read it; callers pay per call to run it.
interface api {
  /// Counts the words in a text.
  word-count: func(text: string) -> u32;

  /// Greets someone; an empty name is an error.
  greet: func(name: string) -> result<string, string>;
}

world ${world} {
  export api;
}
`;
  const source = `// Implements the \`api\` interface of wit/world.wit. jco exports an interface as an object
// named after it (camelCase), with camelCase function names.

export const api = {
  wordCount(text: string): number {
    return text.split(/\\s+/).filter((word) => word.length > 0).length;
  },

  // WIT result<string, string>: return the ok value, throw to return the error value.
  greet(name: string): string {
    if (name.trim().length === 0) throw "name must not be empty";
    return \`Hello, \${name}!\`;
  },
};
`;
  const tests = {
    world,
    interface: "api",
    cases: [
      { name: "counts words", function: "word-count", args: ["the quick brown fox"], expect: { ok: 4 } },
      { name: "empty text has no words", function: "word-count", args: [""], expect: { ok: 0 } },
      { name: "greets", function: "greet", args: ["Ada"], expect: { ok: "Hello, Ada!" } },
      { name: "refuses an empty name", function: "greet", args: [" "], expect: { error: "name must not be empty" } },
    ],
  };
  const manifest = {
    name,
    version: "0.1.0",
    description: `${short}: describe what this capability does for its callers.`,
    keywords: [short],
    license: "Apache-2.0",
    wit: { file: "wit/world.wit", world, interface: "api" },
    source: { entry: "src/index.ts", backend: "qjs" },
    component: "dist/component.wasm",
    tests: "tests.json",
    access: { mode: "per-call", price: "1000" },
    capabilities: [],
    splits: [{ recipient: owner, bps: 10000 }],
    minForkShareBps: 1000,
  };
  return {
    "wit/world.wit": wit,
    "src/index.ts": source,
    "tests.json": `${JSON.stringify(tests, null, 2)}\n`,
    "glassbox.json": manifestFile(manifest),
    ".gitignore": "dist/\n.glassbox/\n",
  };
}

/** glassbox.json as the scaffolds write it: canonical key order, indented. */
function manifestFile(manifest: object): string {
  return `${JSON.stringify(JSON.parse(canonicalJson(manifest)), null, 2)}\n`;
}

/**
 * Files of a fork of `parent` (its published manifest, WIT and tests): the parent's public spec and
 * test vectors, a fork manifest paying `upstreamShareBps` upstream and the rest to `owner`, and a
 * source with one stub per function (the parent's source is not published: the fork implements it).
 */
export function forkScaffoldFiles(args: {
  parentRef: string;
  parent: Manifest;
  wit: string;
  tests: string;
  name: string;
  owner: Address;
  upstreamShareBps: number;
  minForkShareBps: number;
}): Record<string, string> {
  const { parent } = args;
  const manifest: Manifest = {
    ...parent,
    name: args.name,
    version: "0.1.0",
    description: `Fork of ${args.parentRef}: ${parent.description}`,
    fork: { parent: args.parentRef, upstreamShareBps: args.upstreamShareBps },
    minForkShareBps: args.minForkShareBps,
    splits: [{ recipient: args.owner, bps: 10_000 }],
    source: { entry: "src/index.ts", backend: parent.source?.backend ?? "qjs" },
  };
  delete manifest.functions; // filled in from the WIT at publish
  delete manifest.repository; // the parent's, not the fork's
  const stubs = (parent.functions ?? []).map((fn) => {
    const params = fn.params.map((p) => camelCase(p.name)).join(", ");
    const signature = `${fn.name}: func(${fn.params.map((p) => `${p.name}: ${p.type}`).join(", ")})${fn.result ? ` -> ${fn.result}` : ""}`;
    return `  // ${signature}\n  ${camelCase(fn.name)}(${params}) {\n    throw new Error("${fn.name} is not implemented yet");\n  },\n`;
  });
  const source = `// ${args.name}: a fork of ${args.parentRef}. It implements the parent's public spec, the
// \`${parent.wit.interface}\` interface of ${parent.wit.file}, and must pass the test vectors in ${parent.tests}
// (start from the parent's, add your own). The parent's source is not published: write your own.
// jco exports an interface as an object named after it and functions in camelCase; a WIT
// result's error case is returned by throwing a value.
// Then: glassbox build && glassbox test && glassbox publish

export const ${camelCase(parent.wit.interface)} = {
${stubs.join("\n")}};
`;
  return {
    [parent.wit.file]: args.wit,
    [parent.tests]: args.tests,
    "glassbox.json": manifestFile(manifest),
    "src/index.ts": source,
    ".gitignore": "dist/\n.glassbox/\n",
  };
}

/** A TypeScript type for a WIT type printed as text (what the published manifest lists); `unknown` for named types. */
function tsType(wit: string): string {
  const t = wit.trim();
  const inner = (prefix: string) => t.slice(prefix.length, -1);
  if (t === "string" || t === "char") return "string";
  if (t === "bool") return "boolean";
  if (t === "u64" || t === "s64") return "bigint";
  if (/^(u8|u16|u32|s8|s16|s32|f32|f64|float32|float64)$/.test(t)) return "number";
  if (t.startsWith("list<") && t.endsWith(">")) return `Array<${tsType(inner("list<"))}>`;
  if (t.startsWith("option<") && t.endsWith(">")) return `${tsType(inner("option<"))} | undefined`;
  if (t.startsWith("result<") && t.endsWith(">")) {
    // result<T, E>: the ok value is returned, the error thrown.
    let depth = 0;
    const body = inner("result<");
    for (let i = 0; i < body.length; i++) {
      if (body[i] === "<") depth++;
      else if (body[i] === ">") depth--;
      else if (body[i] === "," && depth === 0) return tsType(body.slice(0, i));
    }
    return tsType(body);
  }
  if (t === "result") return "void";
  return "unknown";
}

function declaration(fn: PublishedFunction): string {
  const params = fn.params.map((p) => `${camelCase(p.name)}: ${tsType(p.type)}`).join(", ");
  return `  export function ${camelCase(fn.name)}(${params}): ${fn.result ? tsType(fn.result) : "void"};`;
}

/** "forker/semver-strict" -> WIT package "forker:semver-strict@0.1.0" (never the parent's own). */
function forkWitPackage(name: string, parentWit: string): string {
  const [scope, short] = name.split("/") as [string, string];
  const candidate = `${witIdent(scope)}:${witIdent(short)}`;
  const parentPackage = /package\s+([a-z0-9-]+:[a-z0-9-]+)/.exec(parentWit)?.[1];
  return `${candidate === parentPackage ? `${candidate}-wrap` : candidate}@0.1.0`;
}

/**
 * Files of a wrapping fork of `parent` (`glassbox fork --wrap`): a WIT whose world imports the
 * parent's interface (as a nested package) and exports the same interface from the fork's package,
 * a source delegating every function to the parent (override only what you change), the parent's
 * test vectors as the fork's (add your own), and a manifest declaring the parent as a dependency.
 */
export function wrapForkScaffoldFiles(args: {
  parentRef: string;
  parent: Manifest;
  wit: string;
  tests: string;
  name: string;
  owner: Address;
  upstreamShareBps: number;
  minForkShareBps: number;
}): Record<string, string> {
  const { parent } = args;
  const [parentName, parentVersion] = [args.parentRef.slice(0, args.parentRef.lastIndexOf("@")), args.parentRef.slice(args.parentRef.lastIndexOf("@") + 1)];
  const world = witIdent(args.name.split("/")[1]!);
  const witSource = wrappingForkWit({ parentWit: args.wit, interfaceName: parent.wit.interface, forkPackage: forkWitPackage(args.name, args.wit), forkWorld: world, parentLabel: args.parentRef });
  const importName = /import\s+([^;]+);/.exec(witSource.slice(witSource.lastIndexOf("world ")))![1]!;
  // The most one delegated call may cost: the parent's price, plus (per-fuel) its fuel under the default 1e9 fuel budget.
  const maxRoyaltyPerCall =
    parent.access.mode === "free" ? "0" : parent.access.mode === "per-call" ? parent.access.price : (BigInt(parent.access.price) + BigInt(parent.access.fuelPricePerMillion) * 1000n).toString();
  const { functions: _functions, repository: _repository, sourceHash: _sourceHash, ...inherited } = parent;
  const manifest: Manifest = {
    ...inherited,
    name: args.name,
    version: "0.1.0",
    description: `Wraps ${args.parentRef}: ${parent.description}`.slice(0, 500),
    wit: { file: "wit/world.wit", world, interface: parent.wit.interface },
    source: { entry: "src/index.ts", backend: "qjs" },
    component: "dist/component.wasm",
    tests: "tests.json",
    fork: { parent: args.parentRef, upstreamShareBps: args.upstreamShareBps },
    minForkShareBps: args.minForkShareBps,
    splits: [{ recipient: args.owner, bps: 10_000 }],
    dependencies: [{ package: parentName, version: parentVersion, maxRoyaltyPerCall }],
  };
  const functions = parent.functions ?? [];
  const ifaceName = camelCase(parent.wit.interface);
  const source = `// ${args.name} wraps ${args.parentRef}: it imports the parent's \`${parent.wit.interface}\` interface and exports
// the same one. Every function delegates to the parent until you replace it: write only what you
// change (and add new functions to wit/world.wit). A delegated call pays the parent its price as a
// dependency of the call; your own price and upstream share apply to what you add (see the README,
// "Royalties of wrapping forks"). A WIT result's error case is returned by throwing a value.
// Then: glassbox build && glassbox test && glassbox publish
import * as parent from "${importName}";

export const ${ifaceName} = {
${functions.map((fn) => `  ${camelCase(fn.name)}: parent.${camelCase(fn.name)},`).join("\n")}
};
`;
  const declarations = `// Types of the parent's interface as this source imports it (generated from ${args.parentRef}'s published functions).
declare module "${importName}" {
${functions.map(declaration).join("\n")}
}
`;
  const parentTests = JSON.parse(args.tests) as { world?: string; interface?: string; cases?: unknown[] };
  const tests = { ...parentTests, world, interface: parent.wit.interface, cases: parentTests.cases ?? [] };
  return {
    "wit/world.wit": witSource,
    "src/index.ts": source,
    "src/parent.d.ts": declarations,
    "tests.json": `${JSON.stringify(tests, null, 2)}
`,
    "glassbox.json": manifestFile(manifest),
    ".gitignore": "dist/\n.glassbox/\n",
  };
}

/**
 * Files of a fork that starts from the parent's published source: the source as published, then
 * the parent's published WIT and tests (what the fork must stay compatible with) and the fork's
 * manifest over it.
 */
export function forkFromSourceFiles(source: readonly SourceFile[], forkFiles: Record<string, string>): Record<string, string | Uint8Array> {
  const files: Record<string, string | Uint8Array> = {};
  for (const file of source) files[file.path] = file.bytes;
  const { "src/index.ts": _stub, ...published } = forkFiles;
  return { ...files, ...published };
}

/** Refuses a folder that exists and is not empty, before anything irreversible happens. */
export async function assertEmptyDir(dir: string): Promise<void> {
  const existing = await readdir(dir).catch(() => [] as string[]);
  if (existing.length > 0) {
    throw new CliError(`${dir} exists and is not empty.`, ExitCode.usage, "Pick a new folder with --dir, or remove this one.");
  }
}

export async function writeScaffold(dir: string, files: Record<string, string | Uint8Array>): Promise<string[]> {
  await assertEmptyDir(dir);
  const written: string[] = [];
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(dir, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    written.push(relative);
  }
  return written;
}
