#!/usr/bin/env node
// `npm run build:cli` (also run by `npm ci` and `npm link` through `prepare`, and before the tests):
// compiles the `glassbox` CLI and the executor it launches to JavaScript in dist/, so neither pays
// for a TypeScript loader at start-up (tsx took most of a second, and seconds to load binaryen).
// npm packages stay external (loaded from node_modules); each command's heavy modules land in their
// own chunks, loaded only by the commands that import them.
//
// Only files whose bytes change are written, each atomically and entry points last: a build with
// unchanged sources writes nothing, so CLI processes running meanwhile never read a half-written file.
import { build } from "esbuild";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const targets = [
  { entry: "cli/main.ts", outdir: "dist/cli" },
  { entry: "executor/main.ts", outdir: "dist/executor" },
];

const started = Date.now();
const results = await Promise.all(
  targets.map(({ entry, outdir }) =>
    build({
      entryPoints: { main: entry },
      outdir,
      absWorkingDir: root,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node22",
      packages: "external",
      sourcemap: "linked",
      logLevel: "warning",
      write: false,
    }),
  ),
);

let changed = 0;
for (const [i, result] of results.entries()) {
  const outdir = path.join(root, targets[i].outdir);
  await mkdir(outdir, { recursive: true });
  const isEntry = (file) => /[/\\]main\.js$/.test(file.path);
  const files = [...result.outputFiles.filter((f) => !isEntry(f)), ...result.outputFiles.filter(isEntry)];
  for (const file of files) {
    const current = await readFile(file.path).catch(() => undefined);
    if (current?.equals(file.contents)) continue;
    const staging = `${file.path}.${process.pid}.tmp`;
    await writeFile(staging, file.contents);
    await rename(staging, file.path);
    changed++;
  }
  // Chunks of an older build: unreferenced now.
  const produced = new Set(result.outputFiles.map((f) => path.basename(f.path)));
  for (const name of await readdir(outdir)) if (!produced.has(name) && !name.endsWith(".tmp")) await rm(path.join(outdir, name), { force: true });
}
if (!process.argv.includes("--quiet")) console.log(`dist/cli and dist/executor: ${changed} files written in ${Date.now() - started} ms`);
