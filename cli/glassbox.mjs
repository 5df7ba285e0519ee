#!/usr/bin/env node
// The `glassbox` bin: runs the CLI as compiled to dist/ by `npm run build:cli`, which `npm ci`
// and `npm link` run (the `prepare` script). No TypeScript loader at start-up.
import { existsSync } from "node:fs";
import module from "node:module";

// V8's code cache on disk: later starts skip compiling the CLI's modules.
module.enableCompileCache?.();
const compiled = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write(`glassbox is not built yet: run \`npm run build:cli\` in ${new URL("..", import.meta.url).pathname}\n`);
  process.exit(1);
}
const { main } = await import(compiled.href);
process.exitCode = await main(process.argv);
