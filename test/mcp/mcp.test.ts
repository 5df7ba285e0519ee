/**
 * `glassbox mcp` end to end: the real installed CLI, driven by the stock MCP SDK Client over stdio
 * and over Streamable HTTP, against a real dev stack (chain, contracts, indexer, executor) with the
 * sample capabilities published. Paid calls go through the SDK's x402 payment path; every
 * spend-policy refusal is checked to happen before anything is signed: the payer's USDC balance
 * does not move and no receipt exists.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { ToolListChangedNotificationSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishSamples } from "../../cli/actions/dev.ts";
import { DEV_ROLES, REPO_ROOT, type DevStack } from "../../cli/dev-stack.ts";
import { waitFor } from "../../cli/dev/wait.ts";
import { Output } from "../../cli/ui.ts";
import { devAccount } from "../../sdk/dev-accounts.ts";
import { Glassbox } from "../../sdk/glassbox.ts";
import { functionInputSchema, functionOutputSchema, withDialect } from "../../sdk/json-schema.ts";
import { mcpToolName } from "../../sdk/mcp-tools.ts";
import { receiptFromJson, type ReceiptJson } from "../../sdk/receipt.ts";
import { documentInterface, type InterfaceDocumentation } from "../../sdk/wit.ts";
import { startTestStack } from "../helpers/dev-stack.ts";
import { connectHttp, connectStdio, stackFlags, startHttpServer, type McpProcess } from "../helpers/mcp.ts";

const agent = devAccount(DEV_ROLES.agent);
const MARKDOWN_PRICE = 2000n;
const EXECUTOR_FEE = 100n;
const MARKDOWN_COST = MARKDOWN_PRICE + EXECUTOR_FEE;

let stack: DevStack;
let home: string;
let sdk: Glassbox;
const open: McpProcess[] = [];

function sampleDocs(sample: string): InterfaceDocumentation {
  const dir = path.join(REPO_ROOT, "capabilities", sample);
  const manifest = JSON.parse(readFileSync(path.join(dir, "glassbox.json"), "utf8")) as { wit: { file: string; world: string; interface: string } };
  return documentInterface(readFileSync(path.join(dir, manifest.wit.file), "utf8"), manifest.wit.world, manifest.wit.interface);
}

async function mcp(args: string[]): Promise<McpProcess> {
  const server = await connectStdio([...args, ...stackFlags(stack)], home);
  open.push(server);
  return server;
}

const balance = () => sdk.usdcBalance(agent.address);
const text = (result: CallToolResult) => result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
const receiptMeta = (result: CallToolResult) => result._meta?.["glassbox/receipt"] as { paid: boolean; amount: string; receiptId: string | null; receipt: ReceiptJson | null } | undefined;

async function call(server: McpProcess, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await server.client.callTool({ name, arguments: args })) as CallToolResult;
}

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "glassbox-mcp-"));
  // Two executors (npm start --executors 2): calls choose the cheaper, the first (fee 100; the second's is 110).
  stack = await startTestStack({ stateDir: path.join(home, "stack"), web: false, executorFee: EXECUTOR_FEE, executors: 2 });
  await publishSamples(stack, new Output(true));
  sdk = new Glassbox({ rpcUrl: stack.rpcUrl, deployment: stack.deployment, indexerUrl: stack.indexerUrl, executorUrl: stack.executorUrl, account: agent });
  // The catalog lists the samples once the indexer has caught up.
  await waitFor(async () => ((await sdk.search<{ total: number }>("")).total >= 5 ? true : undefined), { what: "the samples in the catalog", timeoutMs: 90_000, intervalMs: 250 });
}, 600_000);

afterAll(async () => {
  for (const server of open) await server.close().catch(() => undefined);
  await stack?.stop();
  await rm(home, { recursive: true, force: true });
});

describe("glassbox mcp over stdio", () => {
  it("lists search, describe, add_capability and each configured function, with schemas generated from its WIT", async () => {
    const server = await mcp(["--tool", "acme/text-stats", "--tool", "acme/markdown@^1", "--dev-account", String(DEV_ROLES.agent), "--state-file", path.join(home, "list.json")]);
    const { tools } = await server.client.listTools();
    const names = tools.map((t) => t.name);
    expect(names.slice(0, 3)).toEqual(["search", "describe", "add_capability"]);
    for (const [sample, pkg] of [["text-stats", "acme/text-stats"], ["markdown", "acme/markdown"]] as const) {
      const docs = sampleDocs(sample);
      for (const fn of docs.functions) {
        const tool = tools.find((t) => t.name === mcpToolName(pkg, fn.name));
        expect(tool, `${pkg} ${fn.name}`).toBeDefined();
        expect(tool!.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
        expect(tool!.inputSchema).toEqual(functionInputSchema(fn, docs));
        expect(tool!.outputSchema).toEqual(functionOutputSchema(fn, docs));
        if (fn.docs) expect(tool!.description).toContain(fn.docs);
        // Every schema compiles under the 2020-12 dialect.
        new Ajv2020({ strict: false }).compile(withDialect(tool!.inputSchema));
      }
    }
    const toHtmlWith = tools.find((t) => t.name === "acme_markdown__to-html-with")!;
    const options = (toHtmlWith.inputSchema.properties as Record<string, { description?: string; properties: Record<string, { description?: string }> }>).options!;
    expect(options.description).toContain("Rendering switches");
    expect(options.properties.gfm!.description).toContain("GitHub Flavored Markdown");
  });

  it("search and describe are free and return the catalog and the spec", async () => {
    const server = await mcp([]);
    const before = await balance();
    const found = await call(server, "search", { query: "markdown" });
    const results = (found.structuredContent as { results: { name: string }[] }).results.map((r) => r.name);
    expect(results).toContain("acme/markdown");
    const described = await call(server, "describe", { package: "acme/semver@^1" });
    expect(described.isError).toBeFalsy();
    const spec = described.structuredContent as { version: string; price: string; wit: string; tests: unknown[]; executors: { endpoint: string; feePerCall: string }[]; functions: { tool: string }[] };
    expect(spec.version).toBe("1.0.0");
    expect(spec.price).toBe("500");
    expect(spec.wit).toContain("/// Does `version` satisfy `range`?");
    expect(spec.tests.length).toBeGreaterThan(5);
    expect(spec.executors).toEqual(stack.executors.map((e) => ({ endpoint: e.url, feePerCall: e.fee.toString() })));
    expect(spec.functions.map((f) => f.tool)).toContain("acme_semver__max-satisfying");
    expect(text(described)).toContain("## Test vectors");
    expect(await balance()).toBe(before);
  });

  it("calls a free capability: the result as structured content; a WIT result::err is a tool error", async () => {
    const server = await mcp(["--tool", "acme/text-stats"]);
    const ok = await call(server, "acme_text-stats__change-case", { text: "hello big world", style: "camel" });
    expect(ok.isError).toBeFalsy();
    expect(ok.structuredContent).toEqual({ result: "helloBigWorld" });
    expect(text(ok)).toBe("helloBigWorld");
    expect(receiptMeta(ok)).toMatchObject({ paid: false, receipt: null });
    // An option parameter left out is none.
    const analyzed = await call(server, "acme_text-stats__analyze", { text: "One two three." });
    expect((analyzed.structuredContent as { result: { ok: { words: number } } }).result.ok.words).toBe(3);
    const failed = await call(server, "acme_text-stats__analyze", { text: "x", "words-per-minute": 0 });
    expect(failed.isError).toBe(true);
    expect(failed.structuredContent).toEqual({ result: { error: expect.stringContaining("words-per-minute must be between 1 and 2000") } });
    expect(text(failed)).toContain("returned an error");
    const unknown = await call(server, "acme_text-stats__change-case", { text: "x", styl: "camel" });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain('no parameter "styl"');
  });

  it("calls a paid capability: result and the verified receipt in _meta, paid from the wallet", async () => {
    const server = await mcp(["--tool", "acme/markdown", "--dev-account", String(DEV_ROLES.agent), "--state-file", path.join(home, "paid.json")]);
    const before = await balance();
    const result = await call(server, "acme_markdown__to-html", { markdown: "# Hello *agents*" });
    expect(result.isError).toBeFalsy();
    expect((result.structuredContent as { result: string }).result).toContain("<h1>Hello <em>agents</em></h1>");
    const meta = receiptMeta(result)!;
    expect(meta.paid).toBe(true);
    expect(meta.amount).toBe(MARKDOWN_COST.toString());
    const receipt = receiptFromJson(meta.receipt!);
    expect(receipt.payer.toLowerCase()).toBe(agent.address.toLowerCase());
    expect(receipt.functionName).toBe("to-html");
    expect(receipt.royalty).toBe(MARKDOWN_PRICE);
    expect(meta.receiptId).toMatch(/^0x[0-9a-f]{64}$/);
    await waitFor(async () => ((await balance()) === before - MARKDOWN_COST ? true : undefined), { what: "the payment on-chain", timeoutMs: 30_000, intervalMs: 200 });
    const state = JSON.parse(await readFile(path.join(home, "paid.json"), "utf8")) as { days: Record<string, string> };
    expect(Object.values(state.days)).toEqual([MARKDOWN_COST.toString()]);
  });

  it("adds a capability at run time: tools/list_changed, then its tools are callable", async () => {
    const server = await mcp(["--dev-account", String(DEV_ROLES.agent), "--state-file", path.join(home, "added.json")]);
    let changed = 0;
    server.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    const added = await call(server, "add_capability", { package: "acme/semver@^1", functions: ["satisfies", "max-satisfying"] });
    expect(added.structuredContent).toEqual({ package: "acme/semver", version: "1.0.0", tools: ["acme_semver__satisfies", "acme_semver__max-satisfying"] });
    await waitFor(async () => (changed > 0 ? true : undefined), { what: "tools/list_changed", timeoutMs: 10_000, intervalMs: 50 });
    const names = (await server.client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("acme_semver__max-satisfying");
    expect(names).not.toContain("acme_semver__sort");
    const result = await call(server, "acme_semver__max-satisfying", { versions: ["1.2.0", "1.4.1", "2.0.0"], range: "^1.0.0" });
    expect(result.structuredContent).toEqual({ result: { ok: "1.4.1" } });
    expect(receiptMeta(result)!.amount).toBe("600");
  });
});

describe("the spend policy refuses before anything is signed", () => {
  async function refused(server: McpProcess, tool: string, args: Record<string, unknown>, limit: string, amounts: Record<string, string>): Promise<string> {
    const before = await balance();
    const result = await call(server, tool, args);
    expect(result.isError).toBe(true);
    expect(result._meta?.["glassbox/refusal"]).toEqual({ limit, amounts });
    expect(receiptMeta(result)).toBeUndefined();
    expect(await balance()).toBe(before);
    return text(result);
  }

  it("max per call: a price over the limit is refused outright", async () => {
    const server = await mcp(["--tool", "acme/markdown", "--dev-account", String(DEV_ROLES.agent), "--max-per-call", "1000", "--state-file", path.join(home, "per-call.json")]);
    const message = await refused(server, "acme_markdown__to-html", { markdown: "# x" }, "max-per-call", { price: "2000", limit: "1000" });
    expect(message).toContain("max-per-call");
    expect(message).toContain("0.002 USDC");
    expect(message).toContain("0.001 USDC");
  });

  it("max per call: a challenge asking more than the limit (royalty + fee) is not signed, and the message names its amount", async () => {
    const server = await mcp(["--tool", "acme/markdown", "--dev-account", String(DEV_ROLES.agent), "--max-per-call", MARKDOWN_PRICE.toString(), "--state-file", path.join(home, "per-call-2.json")]);
    const message = await refused(server, "acme_markdown__to-html", { markdown: "# y" }, "max-per-call", { price: "2100", limit: "2000" });
    expect(message).toContain("asks 0.0021 USDC");
    expect(message).toContain("per-call limit of 0.002 USDC");
    // Nothing was spent: the reservation was released.
    const state = JSON.parse(await readFile(path.join(home, "per-call-2.json"), "utf8")) as { days: Record<string, string> };
    expect(Object.values(state.days)).toEqual(["0"]);
  });

  it("max per day: the day's spending survives a restart of the server", async () => {
    const stateFile = path.join(home, "per-day.json");
    const flags = ["--tool", "acme/markdown", "--dev-account", String(DEV_ROLES.agent), "--max-per-day", (MARKDOWN_COST + 1000n).toString(), "--state-file", stateFile];
    const first = await mcp(flags);
    const paid = await call(first, "acme_markdown__to-html", { markdown: "once" });
    expect(receiptMeta(paid)!.paid).toBe(true);
    const message = await refused(first, "acme_markdown__to-html", { markdown: "twice" }, "max-per-day", { price: "2000", limit: "3100", spentToday: "2100", left: "1000" });
    expect(message).toContain("only 0.001 USDC of the daily limit of 0.0031 USDC is left (0.0021 USDC spent today)");
    await first.close();
    const restarted = await mcp(flags);
    await refused(restarted, "acme_markdown__to-html", { markdown: "after a restart" }, "max-per-day", { price: "2000", limit: "3100", spentToday: "2100", left: "1000" });
  });

  it("allowed packages: another package can be neither added nor called", async () => {
    const server = await mcp(["--dev-account", String(DEV_ROLES.agent), "--allow", "acme/*", "--state-file", path.join(home, "allowed.json")]);
    const result = await call(server, "add_capability", { package: "forker/markdown-plus" });
    expect(result.isError).toBe(true);
    expect(result._meta?.["glassbox/refusal"]).toEqual({ limit: "allowed-packages", amounts: {} });
    expect(text(result)).toContain("forker/markdown-plus is not in the allowed packages (acme/*)");
    const names = (await server.client.listTools()).tools.map((t) => t.name);
    expect(names.some((n) => n.startsWith("forker_"))).toBe(false);
    const allowed = await call(server, "add_capability", { package: "acme/text-stats" });
    expect(allowed.isError).toBeFalsy();
  });
});

describe("npm start --executors 2", () => {
  it("runs two executors, each registered on-chain with its own operator, fee and bond, both serving every sample", async () => {
    expect(stack.executors.map((e) => e.fee)).toEqual([EXECUTOR_FEE, EXECUTOR_FEE + 10n]);
    expect(new Set(stack.executors.map((e) => e.operator)).size).toBe(2);
    expect(new Set(stack.executors.map((e) => e.dataDir)).size).toBe(2);
    const version = await sdk.registry.resolveVersion("acme/markdown", "latest");
    for (const executor of stack.executors) {
      const info = (await (await fetch(`${executor.url}/v1/info`)).json()) as { address: string; registered: boolean; fee: string; bond: string; packages: { name: string }[] };
      expect(info).toMatchObject({ address: executor.operator, registered: true, fee: executor.fee.toString(), bond: executor.bond.toString() });
      expect(info.packages.map((p) => p.name)).toContain("acme/markdown");
    }
    // The SDK ranks them by fee: the cheaper first.
    expect(await sdk.executorsFor(version)).toEqual(stack.executors.map((e) => e.url));
  });
});

describe("glassbox mcp over Streamable HTTP", () => {
  it("serves sessions with their own tools; a paid call returns the result and the receipt", async () => {
    const server = await startHttpServer(["--tool", "acme/markdown", "--dev-account", String(DEV_ROLES.agent), "--state-file", path.join(home, "http.json"), ...stackFlags(stack)], home);
    try {
      const client = await connectHttp(server.url);
      const other = await connectHttp(server.url);
      const { tools } = await client.listTools();
      const docs = sampleDocs("markdown");
      for (const fn of docs.functions) expect(tools.find((t) => t.name === mcpToolName("acme/markdown", fn.name))!.inputSchema).toEqual(functionInputSchema(fn, docs));
      await client.callTool({ name: "add_capability", arguments: { package: "acme/text-stats" } });
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("acme_text-stats__slugify");
      expect((await other.listTools()).tools.map((t) => t.name)).not.toContain("acme_text-stats__slugify");
      const before = await balance();
      const result = (await client.callTool({ name: "acme_markdown__to-html-with", arguments: { markdown: "# T", options: { gfm: true, breaks: false, "heading-ids": true, "heading-id-prefix": "doc-" } } })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      expect((result.structuredContent as { result: { ok: string } }).result.ok).toContain('id="doc-t"');
      expect(receiptMeta(result)).toMatchObject({ paid: true, amount: MARKDOWN_COST.toString() });
      await waitFor(async () => ((await balance()) === before - MARKDOWN_COST ? true : undefined), { what: "the payment on-chain", timeoutMs: 30_000, intervalMs: 200 });
      // A host name other than the one it listens on is refused (DNS rebinding).
      const rebound = await new Promise<number>((resolve, reject) => {
        const req = request(server.url, { method: "POST", headers: { host: "evil.example", "content-type": "application/json", accept: "application/json, text/event-stream" } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } }));
      });
      expect(rebound).toBe(403);
      await client.close();
      await other.close();
    } finally {
      await server.stop();
    }
  });
});
