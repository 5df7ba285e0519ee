import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { REPO_ROOT } from "../../cli/config.ts";
import type { DevStack } from "../../cli/dev-stack.ts";

const BIN = path.join(REPO_ROOT, "cli", "glassbox.mjs");

/** The connection flags of a running stack (the wallet and policy flags come from the test). */
export function stackFlags(stack: DevStack): string[] {
  return ["--rpc", stack.rpcUrl, "--deployments", stack.deploymentsFile, "--indexer", stack.indexerUrl, "--executor", stack.executorUrl];
}

function childEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return { ...env, NO_COLOR: "1", GLASSBOX_PRIVATE_KEY: "", GLASSBOX_KEYSTORE: "", GLASSBOX_HOME: home };
}

export interface McpProcess {
  client: Client;
  /** What the server wrote to stderr so far (its log). */
  stderr: () => string;
  close(): Promise<void>;
}

/** The real installed `glassbox mcp`, spawned by the stock MCP SDK's stdio client transport. */
export async function connectStdio(args: string[], home: string): Promise<McpProcess> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, "mcp", ...args], env: childEnv(home), stderr: "pipe", cwd: REPO_ROOT });
  let log = "";
  transport.stderr?.on("data", (chunk) => (log += String(chunk)));
  const client = new Client({ name: "glassbox-test", version: "1.0.0" });
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`glassbox mcp did not start: ${(error as Error).message}\n${log}`);
  }
  return { client, stderr: () => log, close: () => client.close() };
}

/** `glassbox mcp --http 0` as a child process; resolves with its URL once it listens. */
export function startHttpServer(args: string[], home: string): Promise<{ url: string; child: ChildProcess; stderr: () => string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [BIN, "mcp", "--http", "0", ...args], { env: childEnv(home), stdio: ["ignore", "pipe", "pipe"], cwd: REPO_ROOT });
  let log = "";
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (chunk) => {
      log += String(chunk);
      const match = /Streamable HTTP on (http:\/\/\S+\/mcp)/.exec(log);
      if (match) resolve({ url: match[1]!, child, stderr: () => log, stop });
    });
    child.once("exit", (code) => reject(new Error(`glassbox mcp --http exited (code ${code}):\n${log}`)));
  });
}

/** A stock MCP client over Streamable HTTP. */
export async function connectHttp(url: string): Promise<Client> {
  const client = new Client({ name: "glassbox-test-http", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}
