import path from "node:path";
import type { Command } from "commander";
import type { CapabilityFiles } from "../../sdk/client/publish.ts";
import { formatTestReport } from "../../runtime/sandbox/index.ts";
import { outputFor } from "../context.ts";
import { buildProject, capabilityFiles, componentBytes, loadProject, testProject, type CapabilityProject, type ProjectTestReport } from "../project.ts";
import { CliError, count, dim, ExitCode, green, red, type Output } from "../ui.ts";

export async function build(dir: string, command: Command): Promise<void> {
  const out = outputFor(command);
  const capability = await loadProject(dir);
  const result = await out.step(`Building ${capability.manifest.name} (${capability.manifest.source?.backend ?? "qjs"})`, () => buildProject(capability));
  out.result(
    `${green("Built")} ${path.relative(process.cwd(), result.outputPath)} ${dim(`${(result.bytes.length / 1024).toFixed(0)} KiB · sha256 ${result.componentHash}${result.cached ? " · from cache" : ""}`)}`,
    { component: result.outputPath, componentHash: result.componentHash, bytes: result.bytes.length, backend: result.backend, cached: result.cached },
  );
}

export async function test(dir: string, opts: { build: boolean }, command: Command): Promise<void> {
  const out = outputFor(command);
  const capability = await loadProject(dir);
  const bytes = await out.step(`Building ${capability.manifest.name}`, () => componentBytes(capability, opts.build));
  const report = await runTests(out, capability, bytes);
  out.result(report.failed === 0 ? `${green(`${report.passed} passed`)}, 0 failed` : `${report.passed} passed, ${red(`${report.failed} failed`)}`, report);
  if (report.failed > 0) process.exitCode = ExitCode.invalid;
}

/** Runs the project's test vectors behind a progress step and prints one PASS/FAIL line per case. */
export async function runTests(out: Output, capability: CapabilityProject, bytes: Uint8Array): Promise<ProjectTestReport> {
  const report = await out.step(`Running ${capability.manifest.tests} against the component`, () => testProject(capability, bytes));
  out.info(
    formatTestReport(report)
      .split("\n")
      .map((line) => line.replace(/^(\s+)PASS/, `$1${green("PASS")}`).replace(/^(\s+)FAIL/, `$1${red("FAIL")}`))
      .join("\n"),
  );
  if (report.deferred.length > 0) {
    out.info(
      dim(
        `  ${count(report.deferred.length, "case")} call a dependency with no local copy (${[...new Set(report.deferred.map((d) => d.dependency))].join(", ")}): ` +
          "the executor runs them at upload with the dependency linked, and refuses the component if one fails.",
      ),
    );
  }
  return report;
}

/** Builds the component and runs the public tests: a version whose tests fail is never published or packed. */
export async function builtAndTested(out: Output, capability: CapabilityProject, verb: "publish" | "pack"): Promise<CapabilityFiles> {
  const { manifest } = capability;
  const bytes = await out.step(`Building ${manifest.name}@${manifest.version}`, () => componentBytes(capability, true));
  const report = await runTests(out, capability, bytes);
  if (report.failed > 0) {
    throw new CliError(`${report.failed} of ${count(report.total, "test vector")} fail: refusing to ${verb} ${manifest.name}@${manifest.version}.`, ExitCode.invalid, "Fix the implementation (or the vectors) and run `glassbox test`.");
  }
  return capabilityFiles(capability, bytes);
}
