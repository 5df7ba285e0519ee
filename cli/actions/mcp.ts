import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Command } from "commander";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { LocalAccount } from "viem";
import { parseCapabilityRef } from "../../sdk/capability-spec.ts";
import { Glassbox } from "../../sdk/glassbox.ts";
import { SpendPolicy } from "../../sdk/spend-policy.ts";
import { formatUsdc } from "../../sdk/units.ts";
import { resolveConnection } from "../config.ts";
import { globalOptions, loadDeploymentFile } from "../context.ts";
import { defaultStateFile, resolveMcpSettings, type McpFlags, type McpSettings } from "../mcp/options.ts";
import { McpSession, SpecCache, type McpContext } from "../mcp/server.ts";
import { CliError, ExitCode } from "../ui.ts";
import { loadAccount, walletGiven } from "../wallet.ts";

// stdout carries the stdio transport: everything for the operator goes to stderr.
const log = (line: string) => void process.stderr.write(`glassbox mcp: ${line}\n`);

async function context(settings: McpSettings): Promise<{ context: McpContext; account?: LocalAccount; stateFile?: string }> {
  const connection = resolveConnection(settings.globals);
  const deployment = await loadDeploymentFile(connection.deploymentsFile);
  const account = walletGiven(settings.globals) ? await loadAccount(settings.globals, deployment.chainId) : undefined;
  if (!connection.indexerUrl) throw new CliError("glassbox mcp needs the catalog (indexer) URL for search and describe.", ExitCode.usage, "Pass --indexer URL, set GLASSBOX_INDEXER_URL, or start the local stack.");
  const glassbox = new Glassbox({
    rpcUrl: connection.rpcUrl,
    deployment,
    indexerUrl: connection.indexerUrl,
    ...(account ? { account } : {}),
    ...(connection.executorUrl ? { executorUrl: connection.executorUrl } : {}),
  });
  const stateFile = settings.stateFile ?? (account ? defaultStateFile(account.address, deployment.chainId) : undefined);
  const policy = new SpendPolicy(settings.policy, stateFile ? { stateFile } : {});
  const payment = settings.payment.scheme === "channel" ? { scheme: "channel" as const, deposit: settings.payment.deposit } : { scheme: "exact" as const };
  return { context: { glassbox, policy, log, payment }, ...(account ? { account } : {}), ...(stateFile ? { stateFile } : {}) };
}

/** Serves MCP over Streamable HTTP at /mcp: one session (and tool set) per client. */
async function serveHttp(settings: NonNullable<McpSettings["http"]>, newSession: () => McpSession): Promise<void> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const fail = (status: number, message: string) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }));
    };
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname !== "/mcp") return fail(404, `No route ${url.pathname}: the MCP endpoint is /mcp.`);
      const sessionId = req.headers["mcp-session-id"];
      const existing = typeof sessionId === "string" ? transports.get(sessionId) : undefined;
      if (existing) return await existing.handleRequest(req, res);
      if (typeof sessionId === "string") return fail(404, `Unknown MCP session ${sessionId}: initialize a new one.`);
      if (req.method !== "POST") return fail(400, "Initialize a session with a POST first.");
      const port = (server.address() as AddressInfo).port;
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void transports.set(id, transport),
        onsessionclosed: (id) => void transports.delete(id),
        // It spends the wallet's money: refuse requests addressed to another host name (DNS rebinding).
        enableDnsRebindingProtection: true,
        allowedHosts: [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${settings.host}:${port}`],
      });
      transport.onclose = () => {
        if (transport.sessionId) transports.delete(transport.sessionId);
      };
      await newSession().server.connect(transport);
      await transport.handleRequest(req, res);
    } catch (error) {
      log(`HTTP request failed: ${(error as Error).message}`);
      if (!res.headersSent) fail(500, (error as Error).message);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  log(`Streamable HTTP on http://${settings.host.includes(":") ? `[${settings.host}]` : settings.host}:${port}/mcp`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      for (const transport of transports.values()) void transport.close();
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

export async function mcp(flags: McpFlags, command: Command): Promise<void> {
  const settings = await resolveMcpSettings(flags, globalOptions(command));
  for (const ref of settings.tools) parseCapabilityRef(ref);
  const { context: ctx, account, stateFile } = await context(settings);
  for (const ref of settings.tools) ctx.policy.checkPackage(parseCapabilityRef(ref).name);
  const specs = new SpecCache(ctx.glassbox);
  const initial = await Promise.all(settings.tools.map(async (ref) => ({ spec: await specs.load(ref) })));
  const { maxPerCall, maxPerDay, allowedPackages } = settings.policy;
  log(
    `wallet ${account?.address ?? "none (free capabilities only)"}; policy: at most ${formatUsdc(maxPerCall ?? 0n)} a call and ${formatUsdc(maxPerDay ?? 0n)} a day` +
      `${allowedPackages ? `, packages ${allowedPackages.join(", ")}` : ""}${stateFile ? `; spending kept in ${stateFile}` : ""}`,
  );
  log(`tools: search, describe, add_capability${initial.length ? `, and ${initial.map((i) => `${i.spec.name}@${i.spec.version.version}`).join(", ")}` : ""}`);
  const newSession = () => new McpSession(ctx, specs, initial);
  if (settings.http) return serveHttp(settings.http, newSession);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once("end", () => resolve());
  });
  await newSession().server.connect(transport);
  log("serving over stdio");
  await closed;
}
