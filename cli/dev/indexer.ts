import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import path from "node:path";
import type { Deployment } from "../../sdk/deployment.ts";
import { REPO_ROOT } from "../config.ts";
import { freePort } from "./ports.ts";
import { waitFor } from "./wait.ts";
// The repository's own install (ponder's exports map hides both package.json and a require entry).
const PONDER_BIN = path.join(REPO_ROOT, "node_modules/ponder/dist/esm/bin/ponder.js");

export type IndexerDatabase = { kind: "pglite"; directory: string } | { kind: "postgres"; url: string };

export interface IndexerOptions {
  rpcUrl: string;
  deployment: Deployment;
  database: IndexerDatabase;
  /** Ponder's database schema: fresh per chain (a reset chain leaves old rows behind). */
  schema: string;
  /** Extra environment (e.g. GLASSBOX_POLLING_MS). */
  env?: Record<string, string>;
  /** Port to try first (default: any free one); Ponder may still move, the real port is read back. */
  port?: number;
  /** Also append every log line to this file. */
  logFile?: string;
}

export interface RunningIndexer {
  url: string;
  port: number;
  /** Every log line so far (JSON log format), for diagnostics when a test fails. */
  logs: string[];
  /** GET `path` and parse the JSON body; throws with the status and body on a non-2xx answer. */
  get<T = unknown>(pathAndQuery: string): Promise<T>;
  /** GET `path` and return the status and parsed body without throwing. */
  request(pathAndQuery: string): Promise<{ status: number; body: unknown }>;
  /** How the process ended, or undefined while it runs (Ponder exits on unrecoverable errors). */
  exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  stop(): Promise<void>;
}

/** The environment the indexer (indexer/ponder.config.ts) reads, for a deployment and a database. */
export function indexerEnv(options: Omit<IndexerOptions, "schema">): Record<string, string> {
  const { deployment, database } = options;
  return {
    GLASSBOX_RPC_URL: options.rpcUrl,
    GLASSBOX_CHAIN_ID: String(deployment.chainId),
    GLASSBOX_REGISTRY: deployment.contracts.registry,
    GLASSBOX_SETTLEMENT: deployment.contracts.settlement,
    GLASSBOX_START_BLOCK: String(deployment.startBlock),
    ...(database.kind === "postgres" ? { DATABASE_URL: database.url } : { GLASSBOX_INDEXER_DIR: database.directory }),
    PONDER_TELEMETRY_DISABLED: "true",
    ...options.env,
  };
}

/**
 * Starts the real Ponder app (`ponder start` in indexer/) on 127.0.0.1 and a free port, and resolves
 * once its HTTP server answers. It does not wait for rows: poll the API for what you expect.
 */
export async function startIndexer(options: IndexerOptions): Promise<RunningIndexer> {
  const port = await freePort(options.port ?? 0);
  const logStream = options.logFile ? createWriteStream(options.logFile, { flags: "a" }) : undefined;
  const env: NodeJS.ProcessEnv = { ...process.env, ...indexerEnv(options) };
  // The caller's DATABASE_URL must not leak into a PGlite run.
  if (options.database.kind === "pglite") delete env.DATABASE_URL;
  const child: ChildProcess = spawn(
    process.execPath,
    [PONDER_BIN, "start", "--schema", options.schema, "--port", String(port), "--hostname", "127.0.0.1", "--log-format", "json"],
    // cwd = the app root: Ponder writes generated/schema.graphql under the working directory.
    { cwd: path.join(REPO_ROOT, "indexer"), env, stdio: ["ignore", "pipe", "pipe"] },
  );
  const logs: string[] = [];
  let listeningPort: number | undefined;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const partial = { stdout: "", stderr: "" };
  const onData = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
    // A chunk may end mid-line: keep the tail until its newline arrives.
    const lines = (partial[stream] + chunk.toString("utf8")).split("\n");
    partial[stream] = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() === "") continue;
      logs.push(line);
      logStream?.write(`${line}\n`);
      if (logs.length > 2_000) logs.shift();
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        // Ponder moves to the next port silently when its port is taken: read back the real one.
        if (entry.msg === "Created HTTP server" && typeof entry.port === "number") listeningPort = entry.port;
      } catch {
        // not a JSON log line (e.g. a stack trace)
      }
    }
  };
  child.stdout?.on("data", onData("stdout"));
  child.stderr?.on("data", onData("stderr"));
  const exitPromise = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      logStream?.end();
      resolve();
    }),
  );

  const stop = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exitPromise;
    clearTimeout(killer);
  };

  try {
    await waitFor(
      () => {
        if (exited) throw new Error(`ponder exited (code ${exited.code}, signal ${exited.signal}):\n${logs.slice(-30).join("\n")}`);
        return listeningPort;
      },
      { timeoutMs: 120_000, what: "the Ponder HTTP server" },
    );
  } catch (error) {
    await stop();
    throw error instanceof Error && exited ? error : new Error(`${(error as Error).message}\n${logs.slice(-30).join("\n")}`);
  }
  const url = `http://127.0.0.1:${listeningPort}`;
  const request = async (pathAndQuery: string) => {
    const response = await fetch(`${url}${pathAndQuery}`);
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: response.status, body };
  };
  return {
    url,
    port: listeningPort as number,
    logs,
    request,
    async get<T>(pathAndQuery: string): Promise<T> {
      const { status, body } = await request(pathAndQuery);
      if (status < 200 || status > 299) throw new Error(`GET ${pathAndQuery} answered ${status}: ${JSON.stringify(body)}`);
      return body as T;
    },
    exitStatus: () => exited,
    stop,
  };
}
