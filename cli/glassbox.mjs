#!/usr/bin/env node
// The `glassbox` bin: loads the TypeScript CLI through tsx (Node's type stripping alone cannot
// run parameter properties), then exits with the command's exit code.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv);
