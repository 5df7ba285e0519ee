import { execFileSync } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "../../cli/config.ts";

/** Compiles the CLI and the executor (dist/) once before any test: suites run the real bins. */
export default function setup(): void {
  execFileSync(process.execPath, [path.join(REPO_ROOT, "scripts", "build-cli.mjs"), "--quiet"], { stdio: "inherit" });
}
