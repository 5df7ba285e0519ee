import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../../cli/config.ts";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is JSON (commands run with --json). */
  json: any;
}

/** Runs the real `glassbox` bin (cli/glassbox.mjs) in a child process. */
export function runGlassbox(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, "cli", "glassbox.mjs"), ...args], {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: "1", GLASSBOX_PRIVATE_KEY: "", GLASSBOX_KEYSTORE: "", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
  });
}

/** A fresh GLASSBOX_HOME for CLI runs, holding the deployments file the runs pass with --deployments. */
export async function cliHome(prefix: string, deployment: unknown): Promise<{ home: string; deploymentsFile: string }> {
  const home = await mkdtemp(path.join(tmpdir(), prefix));
  const deploymentsFile = path.join(home, "deployments.json");
  await writeFile(deploymentsFile, JSON.stringify(deployment));
  return { home, deploymentsFile };
}
