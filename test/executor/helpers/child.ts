import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Deployment } from "../../../sdk/deployment.ts";
import { freePort } from "../../../cli/dev/ports.ts";
import { waitFor } from "../../../cli/dev/wait.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface ChildExecutor {
  url: string;
  port: number;
  process: ChildProcess;
  output: () => string;
  /** SIGKILL: no cleanup, no flush (the crash case). */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs `executor/main.ts` as a separate process (node --import tsx: one process, so SIGKILL hits the
 * executor itself) against the given chain and data dir.
 */
export async function spawnExecutor(opts: {
  rpcUrl: string;
  deployment: Deployment;
  operatorKey: string;
  dataDir: string;
  port?: number;
  args?: string[];
}): Promise<ChildExecutor> {
  const deploymentsFile = path.join(opts.dataDir, "..", `deployment-${opts.deployment.chainId}-${path.basename(opts.dataDir)}.json`);
  await writeFile(deploymentsFile, JSON.stringify(opts.deployment));
  const port = opts.port ?? (await freePort());
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "executor/main.ts", "--rpc", opts.rpcUrl, "--deployments", deploymentsFile, "--data-dir", opts.dataDir, "--port", String(port), ...(opts.args ?? [])],
    { cwd: ROOT, env: { ...process.env, GLASSBOX_OPERATOR_KEY: opts.operatorKey, LOG_LEVEL: "info" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`executor exited with ${child.exitCode}: ${output}`);
        const response = await fetch(`${url}/v1/health`);
        return response.ok ? true : undefined;
      },
      { timeoutMs: 90_000, what: "the executor child to become healthy" },
    );
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n${output}`);
  }
  return {
    url,
    port,
    process: child,
    output: () => output,
    kill9: async () => {
      child.kill("SIGKILL");
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
