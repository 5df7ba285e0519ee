/**
 * The x402 `bazaar` discovery extension for a capability function (built with @x402/extensions'
 * declareDiscoveryExtension), so a facilitator or an x402 catalog lists it as it lists any x402
 * resource: the remote MCP tool's name and transport, its input JSON Schema and an example, and its
 * output schema with an example, all generated from the WIT (sdk/json-schema.ts). The executor puts
 * it on every 402 challenge (`extensions` of the PaymentRequired).
 */
import { declareDiscoveryExtension, type DiscoveryExtension, type McpDiscoveryExtension } from "@x402/extensions/bazaar";
import { argumentsToNamed, exampleArguments, exampleValue } from "./json-example.ts";
import { functionInputSchema, functionOutputSchema } from "./json-schema.ts";
import { mcpToolName } from "./mcp-tools.ts";
import type { TestVectors } from "./test-vectors.ts";
import { formatSignature, unalias, type DocumentedFunction, type InterfaceDocumentation } from "./wit.ts";

export interface BazaarVersion {
  /** `scope/name`. */
  name: string;
  version: string;
  description?: string | null;
}

export interface BazaarOptions {
  /** The interface's documentation (types' doc comments for the schemas). */
  docs: InterfaceDocumentation;
  /** The public test vectors: the first passing case of the function is the example. */
  tests?: TestVectors;
  /** The remote MCP endpoint's transport (the executor serves Streamable HTTP). */
  transport?: "streamable-http" | "sse";
  /** The remote tool's name when it is not the package-level mcpToolName (e.g. a versioned tool on an executor). */
  toolName?: string;
}

/** The example call of `fn`: its first test vector with an answer, else a value of each type. */
function example(fn: DocumentedFunction, tests: TestVectors | undefined): { input: Record<string, unknown>; result: unknown } {
  const resultKind = fn.result ? unalias(fn.result).kind : null;
  for (const testCase of tests?.cases ?? []) {
    if (testCase.function !== fn.name || !("ok" in testCase.expect)) continue;
    const input = argumentsToNamed(fn, testCase.args);
    if (!input) continue;
    return { input, result: resultKind === "result" ? { ok: testCase.expect.ok } : testCase.expect.ok };
  }
  return { input: exampleArguments(fn), result: fn.result ? exampleValue(fn.result) : null };
}

/** The `bazaar` extension (as `{ bazaar: ... }`, ready to spread into a PaymentRequired's `extensions`). */
const isMcpExtension = (extension: DiscoveryExtension | undefined): extension is McpDiscoveryExtension => extension?.info.input.type === "mcp";

export function bazaarExtensionFor(version: BazaarVersion, fn: DocumentedFunction, opts: BazaarOptions): { bazaar: McpDiscoveryExtension } {
  const { input, result } = example(fn, opts.tests);
  const description = [
    `${version.name}@${version.version} ${fn.name}: ${fn.docs ?? formatSignature(fn)}`,
    version.description ? `Package: ${version.description}` : undefined,
  ]
    .filter(Boolean)
    .join("\n");
  const extensions = declareDiscoveryExtension({
    toolName: opts.toolName ?? mcpToolName(version.name, fn.name),
    description,
    transport: opts.transport ?? "streamable-http",
    inputSchema: functionInputSchema(fn, opts.docs),
    example: input,
    output: { example: { result }, schema: functionOutputSchema(fn, opts.docs) },
  });
  const bazaar = extensions.bazaar;
  if (!isMcpExtension(bazaar)) throw new Error("@x402/extensions declared no MCP bazaar extension");
  return { bazaar };
}
