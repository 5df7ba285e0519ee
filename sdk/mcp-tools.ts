/**
 * A capability function as an MCP tool: its stable name, its description from the WIT doc comments,
 * and its input and output JSON Schemas. Shared by `glassbox mcp`, the Bazaar metadata (which names
 * the remote tool) and any other MCP surface, so every one of them names a tool the same way.
 */
import { sha256Hex } from "./ids.ts";
import { functionInputSchema, functionOutputSchema, type JsonSchema } from "./json-schema.ts";
import { formatSignature, type DocumentedFunction, type InterfaceDocumentation } from "./wit.ts";

/** The longest tool name most agents accept (OpenAI function names: 64). */
export const MAX_TOOL_NAME_LENGTH = 64;

/**
 * `acme/markdown` + `to-html` -> `acme_markdown__to-html`. Scopes, names and WIT functions hold no
 * `_`, so the name is unambiguous; it is deterministic, so it survives restarts. A name longer than
 * 64 characters keeps its start and ends with a hash of the whole.
 */
export function mcpToolName(packageName: string, functionName: string): string {
  const [scope, name] = packageName.split("/");
  const full = `${scope}_${name}__${functionName}`;
  if (full.length <= MAX_TOOL_NAME_LENGTH) return full;
  const hash = sha256Hex(new TextEncoder().encode(full)).slice(2, 10);
  return `${full.slice(0, MAX_TOOL_NAME_LENGTH - hash.length - 1)}_${hash}`;
}

/**
 * The tool of one exact version: `acme/markdown` 1.2.0 `to-html` -> `acme_markdown__to-html__v1.2.0`
 * (characters outside MCP's tool-name alphabet become `_`), shortened like mcpToolName. An executor
 * serves several versions of a package side by side, and a 402's resource names one version.
 */
export function mcpVersionedToolName(packageName: string, version: string, functionName: string): string {
  const [scope, name] = packageName.split("/");
  const full = `${scope}_${name}__${functionName}__v${version.replace(/[^A-Za-z0-9.-]/g, "_")}`;
  if (full.length <= MAX_TOOL_NAME_LENGTH) return full;
  const hash = sha256Hex(new TextEncoder().encode(full)).slice(2, 10);
  return `${full.slice(0, MAX_TOOL_NAME_LENGTH - hash.length - 1)}_${hash}`;
}

/** What an MCP tool list entry holds for one capability function. */
export interface CapabilityToolDefinition {
  name: string;
  title: string;
  description: string;
  inputSchema: JsonSchema & { type: "object" };
  outputSchema: JsonSchema & { type: "object" };
  annotations: { title: string; readOnlyHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
}

export interface ToolPackage {
  name: string;
  version: string;
  /** e.g. "free", "0.002 USDC per call", "0.0001 USDC + fuel per call". */
  priceLabel: string;
}

/** The tool for `fn` of the package version `pkg`, whose interface is documented by `docs`. */
export function capabilityTool(pkg: ToolPackage, fn: DocumentedFunction, docs: InterfaceDocumentation): CapabilityToolDefinition {
  const title = `${pkg.name} ${fn.name}`;
  const description = [
    fn.docs ?? `${fn.name} of ${pkg.name}.`,
    "",
    `WIT: ${fn.name}: ${formatSignature(fn)} (${pkg.name}@${pkg.version}, ${pkg.priceLabel}).`,
    "The answer is {\"result\": <value>}; a WIT result's error case comes back as a tool error.",
  ].join("\n");
  return {
    name: mcpToolName(pkg.name, fn.name),
    title,
    description,
    inputSchema: { ...functionInputSchema(fn, docs), type: "object" },
    outputSchema: { ...functionOutputSchema(fn, docs), type: "object" },
    // Capabilities are pure functions of their input (no ambient authority, deterministic clocks).
    annotations: { title, readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  };
}
