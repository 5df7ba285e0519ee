import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Address } from "viem";
import { canonicalJson } from "../sdk/canonical-json.ts";
import { assertPackageName } from "../sdk/ids.ts";
import { CliError, ExitCode } from "./ui.ts";

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
    "glassbox.json": `${JSON.stringify(JSON.parse(canonicalJson(manifest)), null, 2)}\n`,
    ".gitignore": "dist/\n.glassbox/\n",
  };
}

export async function writeScaffold(dir: string, files: Record<string, string>): Promise<string[]> {
  const existing = await readdir(dir).catch(() => [] as string[]);
  if (existing.length > 0) {
    throw new CliError(`${dir} exists and is not empty.`, ExitCode.usage, "Pick a new folder with --dir, or remove this one.");
  }
  const written: string[] = [];
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(dir, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    written.push(relative);
  }
  return written;
}
