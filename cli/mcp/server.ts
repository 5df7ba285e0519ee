/**
 * `glassbox mcp`: the catalog and its capabilities as Model Context Protocol tools. Free tools read
 * (`search`, `describe`); `add_capability` adds a package's functions as tools at run time; every
 * capability function is a tool whose schemas come from its WIT, paid through the SDK under the
 * agent's spend policy. One McpSession per connected client (its own tool set); the wallet, the
 * policy and the spec cache are shared by all of them.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from "@modelcontextprotocol/sdk/types.js";
import type { SearchResponse } from "../../sdk/catalog-api.ts";
import { loadCapabilitySpec, priceLabel, type CapabilitySpec } from "../../sdk/capability-spec.ts";
import { GlassboxError } from "../../sdk/client/errors.ts";
import { callWithinPolicy, type CallPaymentOptions } from "../../sdk/guarded-call.ts";
import type { Glassbox } from "../../sdk/glassbox.ts";
import { ArgumentsError, toPositionalArguments } from "../../sdk/json-schema.ts";
import { formatPackageText } from "../../sdk/llms-text.ts";
import { capabilityTool, type CapabilityToolDefinition } from "../../sdk/mcp-tools.ts";
import { receiptToJson } from "../../sdk/receipt.ts";
import { SpendPolicyError, type SpendPolicy } from "../../sdk/spend-policy.ts";
import { formatUsdc } from "../../sdk/units.ts";
import { unalias, type DocumentedFunction } from "../../sdk/wit.ts";
import { PACKAGE_VERSION } from "../../sdk/package-root.ts";

/** The `_meta` key of a call's verified receipt (and what it paid). */
export const RECEIPT_META_KEY = "glassbox/receipt";

export interface McpContext {
  glassbox: Glassbox;
  policy: SpendPolicy;
  /** How paid calls pay (channel with an agreed deposit, or exact); default the SDK's (a channel, no deposit agreed). */
  payment?: CallPaymentOptions;
  /** Progress and errors for the operator (stderr: stdout is the stdio transport). */
  log: (line: string) => void;
}

/** Specs by reference, loaded once per process: published versions are immutable. */
export class SpecCache {
  private readonly specs = new Map<string, Promise<CapabilitySpec>>();
  constructor(private readonly glassbox: Glassbox) {}
  load(ref: string): Promise<CapabilitySpec> {
    let spec = this.specs.get(ref);
    if (!spec) {
      spec = loadCapabilitySpec(this.glassbox, ref);
      this.specs.set(ref, spec);
      spec.catch(() => this.specs.delete(ref));
    }
    return spec;
  }
}

interface CapabilityToolEntry {
  spec: CapabilitySpec;
  fn: DocumentedFunction;
  tool: CapabilityToolDefinition;
}

const SEARCH_TOOL: Tool = {
  name: "search",
  title: "Search the Glassbox catalog",
  description:
    "Searches published capabilities (WebAssembly functions with a public WIT spec and test vectors) by name, description, keywords and function names. Free. " +
    "Then `describe` one to read its spec, and `add_capability` to call it as tools.",
  inputSchema: {
    type: "object",
    properties: {
      query: { type: "string", description: "words to search for; empty lists everything, by usage" },
      access: { type: "string", enum: ["free", "per-call", "per-fuel"], description: "only this access model" },
      maxPrice: { type: "string", pattern: "^[0-9]{1,30}$", description: "only versions whose royalty is at most this (USDC base units, 6 decimals)" },
      limit: { type: "integer", minimum: 1, maximum: 100, description: "at most this many results (default 10)" },
    },
    additionalProperties: false,
  },
  annotations: { title: "Search the Glassbox catalog", readOnlyHint: true, openWorldHint: true },
};

const DESCRIBE_TOOL: Tool = {
  name: "describe",
  title: "Read a capability's spec",
  description:
    "A package's public spec: its WIT with doc comments, each function's JSON Schemas and tool name, its test vectors, its price and the executors serving it. Free.",
  inputSchema: {
    type: "object",
    properties: { package: { type: "string", description: "scope/name, optionally @version or @range (e.g. acme/markdown@^1); default the latest version" } },
    required: ["package"],
    additionalProperties: false,
  },
  annotations: { title: "Read a capability's spec", readOnlyHint: true, openWorldHint: true },
};

const ADD_TOOL: Tool = {
  name: "add_capability",
  title: "Add a capability's functions as tools",
  description:
    "Adds a package's functions as tools of this server (the tool list changes: list the tools again). Calling them is paid per call when the package is, within the configured spend policy.",
  inputSchema: {
    type: "object",
    properties: {
      package: { type: "string", description: "scope/name, optionally @version or @range (e.g. acme/markdown@^1)" },
      functions: { type: "array", items: { type: "string" }, uniqueItems: true, description: "only these functions (WIT names); default all" },
    },
    required: ["package"],
    additionalProperties: false,
  },
  annotations: { title: "Add a capability's functions as tools", readOnlyHint: false, idempotentHint: true, openWorldHint: true },
};

function textResult(text: string, structuredContent?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text }], ...(structuredContent ? { structuredContent } : {}) };
}

function errorResult(text: string, meta?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text }], isError: true, ...(meta ? { _meta: meta } : {}) };
}

/** A thrown failure as the tool error an agent can act on (the limit hit, the executor's error code). */
function failureResult(error: unknown): CallToolResult {
  if (error instanceof SpendPolicyError) {
    const amounts = Object.fromEntries(Object.entries(error.amounts).map(([k, v]) => [k, v.toString()]));
    return errorResult(`Refused by the spend policy (${error.limit}): ${error.message} Nothing was signed or paid.`, { "glassbox/refusal": { limit: error.limit, amounts } });
  }
  if (error instanceof ArgumentsError) return errorResult(`Invalid arguments: ${error.message}`);
  if (error instanceof GlassboxError) return errorResult(`${error.code}: ${error.message}${error.hint ? ` (${error.hint})` : ""}`);
  return errorResult(`Failed: ${(error as Error).message}`);
}

/** Present when the WIT result is a `result` and the value its error case. */
function errorCase(fn: DocumentedFunction, value: unknown): { error: unknown } | undefined {
  if (!fn.result || unalias(fn.result).kind !== "result") return undefined;
  if (typeof value === "object" && value !== null && "error" in value && Object.keys(value).length === 1) return value as { error: unknown };
  return undefined;
}

const show = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

export class McpSession {
  readonly server: Server;
  private readonly tools = new Map<string, CapabilityToolEntry>();

  constructor(
    private readonly context: McpContext,
    private readonly specs: SpecCache,
    initial: { spec: CapabilitySpec; functions?: string[] }[],
  ) {
    this.server = new Server(
      { name: "glassbox", title: "Glassbox capabilities", version: PACKAGE_VERSION },
      {
        capabilities: { tools: { listChanged: true } },
        instructions:
          "Glassbox capabilities: open-source functions run as metered WebAssembly. Reading (search, describe) is free; calling a paid capability pays in USDC from the configured wallet, within its spend policy. A result's error case is a tool error; the verified receipt of a paid call is in _meta[\"glassbox/receipt\"].",
      },
    );
    for (const { spec, functions } of initial) this.addTools(spec, functions);
    this.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [SEARCH_TOOL, DESCRIBE_TOOL, ADD_TOOL, ...[...this.tools.values()].map((t) => t.tool as Tool)] }));
    this.server.setRequestHandler(CallToolRequestSchema, async (request) => {
      const { name, arguments: args } = request.params;
      try {
        if (name === "search") return await this.search(args ?? {});
        if (name === "describe") return await this.describe(args ?? {});
        if (name === "add_capability") return await this.add(args ?? {});
        const entry = this.tools.get(name);
        if (!entry) return errorResult(`No tool "${name}". Use search and add_capability to add capabilities as tools.`);
        return await this.callCapability(entry, args);
      } catch (error) {
        this.context.log(`${name}: ${(error as Error).message}`);
        return failureResult(error);
      }
    });
  }

  /** The tool names of this session's capability functions. */
  capabilityToolNames(): string[] {
    return [...this.tools.keys()];
  }

  private addTools(spec: CapabilitySpec, functions?: string[]): CapabilityToolDefinition[] {
    const known = spec.docs.functions.map((f) => f.name);
    const unknown = (functions ?? []).filter((f) => !known.includes(f));
    if (unknown.length > 0) throw new ArgumentsError(`${spec.name}@${spec.version.version} has no function ${unknown.join(", ")} (functions: ${known.join(", ")}).`);
    const pkg = { name: spec.name, version: spec.version.version, priceLabel: priceLabel(spec.version) };
    const added: CapabilityToolDefinition[] = [];
    for (const fn of spec.docs.functions) {
      if (functions && !functions.includes(fn.name)) continue;
      const tool = capabilityTool(pkg, fn, spec.docs);
      this.tools.set(tool.name, { spec, fn, tool });
      added.push(tool);
    }
    return added;
  }

  private async search(args: Record<string, unknown>): Promise<CallToolResult> {
    const query = typeof args.query === "string" ? args.query : "";
    const access = args.access === "free" || args.access === "per-call" || args.access === "per-fuel" ? args.access : undefined;
    const maxPrice = typeof args.maxPrice === "string" && /^\d{1,30}$/.test(args.maxPrice) ? BigInt(args.maxPrice) : undefined;
    const limit = typeof args.limit === "number" && Number.isInteger(args.limit) ? Math.min(100, Math.max(1, args.limit)) : 10;
    const response = await this.context.glassbox.search<SearchResponse>(query, { ...(access ? { access } : {}), ...(maxPrice !== undefined ? { maxPrice } : {}), limit });
    const results = response.results.map((p) => ({
      name: p.name,
      version: p.callableVersion?.version ?? null,
      description: p.description,
      access: p.accessMode,
      price: p.price,
      functions: p.functionNames,
      paidCalls: p.usage.paidCalls,
    }));
    const lines = results.map(
      (r) => `- ${r.name}${r.version ? `@${r.version}` : ""} (${r.access === "free" ? "free" : r.price !== null ? `${formatUsdc(r.price)}${r.access === "per-fuel" ? " + fuel" : ""} per call` : "not callable"}): ${r.description ?? ""} Functions: ${r.functions.join(", ")}.`,
    );
    const text = results.length ? `${lines.join("\n")}\n${results.length} of ${response.total} shown.` : `No capability matches ${query ? `"${query}"` : "these filters"}.`;
    return textResult(text, { total: response.total, results });
  }

  private async describe(args: Record<string, unknown>): Promise<CallToolResult> {
    if (typeof args.package !== "string") throw new ArgumentsError('describe needs "package": scope/name[@version].');
    const spec = await this.specs.load(args.package);
    const pkg = { name: spec.name, version: spec.version.version, priceLabel: priceLabel(spec.version) };
    const text = formatPackageText({
      name: spec.name,
      version: spec.version.version,
      description: spec.manifest.description,
      license: spec.manifest.license,
      keywords: spec.manifest.keywords,
      access: { mode: spec.version.accessMode, price: spec.version.price.toString(), fuelPricePerMillion: spec.version.fuelPricePerMillion.toString() },
      wit: spec.wit,
      docs: spec.docs,
      ...(spec.tests ? { tests: spec.tests } : {}),
      executors: spec.executors.map((e) => ({ endpoint: e.endpoint, ...(e.feePerCall !== undefined ? { feePerCall: e.feePerCall.toString() } : {}) })),
      fork: spec.manifest.fork ?? null,
    });
    return textResult(text, {
      name: spec.name,
      version: spec.version.version,
      description: spec.manifest.description,
      access: spec.version.accessMode,
      price: spec.version.price.toString(),
      fuelPricePerMillion: spec.version.fuelPricePerMillion.toString(),
      executors: spec.executors.map((e) => ({ endpoint: e.endpoint, feePerCall: e.feePerCall?.toString() ?? null })),
      functions: spec.docs.functions.map((fn) => {
        const tool = capabilityTool(pkg, fn, spec.docs);
        return { name: fn.name, docs: fn.docs ?? null, tool: tool.name, inputSchema: tool.inputSchema, outputSchema: tool.outputSchema };
      }),
      wit: spec.wit,
      tests: spec.tests?.cases ?? [],
    });
  }

  private async add(args: Record<string, unknown>): Promise<CallToolResult> {
    if (typeof args.package !== "string") throw new ArgumentsError('add_capability needs "package": scope/name[@version].');
    const functions = Array.isArray(args.functions) ? args.functions.filter((f): f is string => typeof f === "string") : undefined;
    const spec = await this.specs.load(args.package);
    // Reading is free for everyone, but the policy says what this agent may call: refuse early.
    this.context.policy.checkPackage(spec.name);
    const added = this.addTools(spec, functions);
    await this.server.sendToolListChanged();
    const label = `${spec.name}@${spec.version.version}`;
    return textResult(`Added ${added.length} tool${added.length === 1 ? "" : "s"} for ${label} (${priceLabel(spec.version)}): ${added.map((t) => t.name).join(", ")}.`, {
      package: spec.name,
      version: spec.version.version,
      tools: added.map((t) => t.name),
    });
  }

  private async callCapability(entry: CapabilityToolEntry, args: Record<string, unknown> | undefined): Promise<CallToolResult> {
    const { spec, fn } = entry;
    const positional = toPositionalArguments(fn, args);
    const outcome = await callWithinPolicy(this.context.glassbox, this.context.policy, spec.version, fn.name, positional, this.context.payment);
    const meta: Record<string, unknown> = {
      [RECEIPT_META_KEY]: {
        package: spec.name,
        version: spec.version.version,
        function: fn.name,
        executor: outcome.executor,
        fuelUsed: outcome.fuelUsed.toString(),
        paid: outcome.paid,
        amount: outcome.receipt ? (outcome.receipt.royalty + outcome.receipt.executorFee).toString() : "0",
        receiptId: outcome.receiptId ?? null,
        receipt: outcome.receipt ? receiptToJson(outcome.receipt) : null,
        signature: outcome.signature ?? null,
        payment: outcome.paymentResponse ?? null,
      },
    };
    const structuredContent = { result: outcome.result };
    const failed = errorCase(fn, outcome.result);
    if (failed) {
      // The capability's own answer: it ran (and was paid), so the receipt comes back with the error.
      return {
        content: [{ type: "text", text: `${spec.name}@${spec.version.version} ${fn.name} returned an error: ${show(failed.error)}` }],
        structuredContent,
        isError: true,
        _meta: meta,
      };
    }
    const value = fn.result && unalias(fn.result).kind === "result" ? (outcome.result as { ok: unknown }).ok : outcome.result;
    return { content: [{ type: "text", text: show(value ?? null) }], structuredContent, _meta: meta };
  }
}
