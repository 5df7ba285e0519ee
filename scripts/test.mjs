#!/usr/bin/env node
// The one test command (README, .ci/run): compile contracts, run the Solidity fuzz/invariant
// tests and the vitest suites, then print a closing "N passed, N failed" line.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const cache = path.join(root, ".cache");
mkdirSync(cache, { recursive: true });
const env = {
  ...process.env,
  XDG_CACHE_HOME: path.join(cache, "xdg-cache"),
  XDG_CONFIG_HOME: path.join(cache, "xdg-config"),
  XDG_DATA_HOME: path.join(cache, "xdg-data"),
  PONDER_TELEMETRY_DISABLED: "true",
  HARDHAT_DISABLE_TELEMETRY_PROMPT: "true",
};
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const extraArgs = process.argv.slice(2);

let passed = 0;
let failed = 0;

function run(label, cmd, args) {
  console.log(`\n▶ ${label}`);
  const result = spawnSync(cmd, args, { cwd: root, env, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  process.stdout.write(result.stdout ?? "");
  return { ok: result.status === 0, stdout: result.stdout ?? "" };
}

const build = run("compile contracts", bin("hardhat"), ["build", "--quiet"]);
if (!build.ok) {
  console.log("\n0 passed, 1 failed");
  process.exit(1);
}

if (extraArgs.length === 0) {
  const sol = run("Solidity tests (fuzz, invariants)", bin("hardhat"), ["test", "solidity"]);
  // Hardhat prints "N passing" / "N failing"; count a crash without a summary as one failure.
  const plain = sol.stdout.replace(/\x1b\[[0-9;]*m/g, "");
  const passing = Number(/(\d+) passing/.exec(plain)?.[1] ?? 0);
  const failing = Number(/(\d+) failing/.exec(plain)?.[1] ?? 0);
  passed += passing;
  failed += failing + (sol.ok || failing > 0 ? 0 : 1);
}

const report = path.join(cache, "vitest-report.json");
rmSync(report, { force: true });
const vitest = run("vitest suites", bin("vitest"), ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...extraArgs]);
try {
  const summary = JSON.parse(readFileSync(report, "utf8"));
  // A file that fails before its tests run (import error, failing beforeAll) counts as one failure.
  const brokenFiles = summary.testResults.filter(
    (file) => file.status === "failed" && file.assertionResults.every((test) => test.status !== "failed"),
  ).length;
  passed += summary.numPassedTests;
  failed += summary.numFailedTests + brokenFiles + (vitest.ok || summary.numFailedTests + brokenFiles > 0 ? 0 : 1);
} catch {
  failed += 1;
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
