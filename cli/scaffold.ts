import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Address } from "viem";
import { camelCase } from "../runtime/sandbox/values.ts";
import { canonicalJson } from "../sdk/canonical-json.ts";
import { assertPackageName } from "../sdk/ids.ts";
import type { Manifest } from "../sdk/manifest.ts";
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

/** Refuses a folder that exists and is not empty, before anything irreversible happens. */
export async function assertEmptyDir(dir: string): Promise<void> {
  const existing = await readdir(dir).catch(() => [] as string[]);
  if (existing.length > 0) {
    throw new CliError(`${dir} exists and is not empty.`, ExitCode.usage, "Pick a new folder with --dir, or remove this one.");
  }
}

export async function writeScaffold(dir: string, files: Record<string, string>): Promise<string[]> {
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
