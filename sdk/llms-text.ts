/**
 * Plain text for LLMs (https://llmstxt.org): an index of the catalog and one page per package with
 * everything an agent needs to call it: the WIT with its doc comments, each function's JSON Schemas
 * and MCP tool name, the test vectors, the price and access, and the executors serving it. Served
 * free by the indexer (`/llms.txt`, `/llms/<scope>/<name>.txt`) and by `glassbox mcp`'s `describe`.
 */
import { functionInputSchema, functionOutputSchema } from "./json-schema.ts";
import { mcpToolName } from "./mcp-tools.ts";
import type { AccessMode } from "./manifest.ts";
import type { TestVectors } from "./test-vectors.ts";
import { formatUsdc } from "./units.ts";
import { formatSignature, type InterfaceDocumentation } from "./wit.ts";

export interface LlmsAccess {
  mode: AccessMode;
  /** USDC base units, decimal strings. */
  price: string;
  fuelPricePerMillion: string;
}

export interface LlmsIndexEntry {
  name: string;
  version: string | null;
  description: string | null;
  access: LlmsAccess | null;
  functionNames: string[];
  /** Absolute URL of the package's page. */
  url: string;
}

export interface LlmsPackage {
  name: string;
  version: string;
  description: string | null;
  license: string | null;
  keywords: string[];
  access: LlmsAccess;
  /** The WIT source (with its `///` doc comments), when an executor served it. */
  wit?: string;
  docs?: InterfaceDocumentation;
  tests?: TestVectors;
  executors: { endpoint: string; feePerCall?: string }[];
  fork?: { parent: string; upstreamShareBps: number } | null;
  yanked?: boolean;
  /** USDC base units a licence to run this version locally costs, when one is offered. */
  licencePrice?: string | null;
}

/** "free", "0.002 USDC per call + the executor's fee", "0.0001 USDC + 0.0005 USDC per million fuel per call + the executor's fee". */
export function accessText(access: LlmsAccess | null): string {
  if (!access) return "no callable version";
  if (access.mode === "free") return "free";
  const fuel = access.mode === "per-fuel" ? ` + ${formatUsdc(access.fuelPricePerMillion)} per million fuel` : "";
  return `${formatUsdc(access.price)}${fuel} per call + the executor's fee`;
}

const oneLine = (text: string | null | undefined): string => (text ?? "").replace(/\s+/g, " ").trim();

/** The catalog's llms.txt: one line per package with a link to its page. */
export function formatLlmsIndex(opts: { title: string; summary: string; details: string[]; packages: LlmsIndexEntry[] }): string {
  const lines = [`# ${opts.title}`, "", `> ${oneLine(opts.summary)}`, "", ...opts.details, "", "## Capabilities", ""];
  if (opts.packages.length === 0) lines.push("No capability is published yet.");
  for (const p of opts.packages) {
    const version = p.version ? `@${p.version}` : "";
    const functions = p.functionNames.length ? ` Functions: ${p.functionNames.join(", ")}.` : "";
    lines.push(`- [${p.name}${version}](${p.url}): ${oneLine(p.description) || "no description"} (${accessText(p.access)}).${functions}`);
  }
  return lines.join("\n") + "\n";
}

/** One package's page: spec, schemas, tests, price and executors, as plain text. */
export function formatPackageText(pkg: LlmsPackage): string {
  const lines = [`# ${pkg.name}@${pkg.version}`, "", `> ${oneLine(pkg.description) || "No description."}`, ""];
  lines.push(`- Access: ${accessText(pkg.access)}. Reading the spec and tests is free; running the capability is ${pkg.access.mode === "free" ? "free" : "paid per call in USDC over x402 (HTTP 402)"}.`);
  if (pkg.license) lines.push(`- License: ${pkg.license}`);
  if (pkg.keywords.length) lines.push(`- Keywords: ${pkg.keywords.join(", ")}`);
  if (pkg.fork) lines.push(`- Fork of ${pkg.fork.parent}, paying it ${pkg.fork.upstreamShareBps / 100}% of every royalty.`);
  if (pkg.yanked) lines.push("- This version was yanked by its maintainer.");
  if (pkg.licencePrice && !pkg.yanked) {
    lines.push(`- Licence to run locally: ${formatUsdc(pkg.licencePrice)}, paid once (\`glassbox licence buy ${pkg.name}@${pkg.version}\`, then \`glassbox run ${pkg.name}@${pkg.version} <function> [args]\` runs it on your machine with no per-call payment).`);
  }
  lines.push("", "## How to call", "");
  lines.push(
    `- HTTP: POST <executor>/v1/call/${pkg.name}@${pkg.version}/<function> with the arguments as a JSON array in WIT parameter order (or an object keyed by parameter name); paid versions answer 402 with an x402 v2 challenge. The answer is {"result": ..., "receipt": ...}.`,
    `- MCP: \`glassbox mcp --tool ${pkg.name}@${pkg.version}\` exposes each function as a tool (names below), paid under a spend policy.`,
    `- CLI: \`glassbox call ${pkg.name}@${pkg.version} <function> <args...>\`.`,
    "- JSON encoding of WIT values: u64/s64 as decimal strings (or safe integers on input), variants as {\"tag\", \"val\"}, options as null or the value, results as {\"ok\": ...} or {\"error\": ...}, flags as arrays of names, records as objects keyed by the WIT field names.",
  );
  lines.push("", "## Executors", "");
  if (pkg.executors.length === 0) lines.push("No running executor serves this version right now.");
  for (const e of pkg.executors) lines.push(`- ${e.endpoint}${e.feePerCall !== undefined ? ` (fee ${formatUsdc(e.feePerCall)} per call)` : ""}`);
  if (pkg.docs) {
    lines.push("", "## Functions", "");
    for (const fn of pkg.docs.functions) {
      lines.push(`### ${fn.name}`, "", `\`${fn.name}: ${formatSignature(fn)}\``, "");
      if (fn.docs) lines.push(fn.docs, "");
      lines.push(`MCP tool: \`${mcpToolName(pkg.name, fn.name)}\``, "");
      lines.push("Input (JSON Schema):", "", "```json", JSON.stringify(functionInputSchema(fn, pkg.docs)), "```", "");
      lines.push("Output (JSON Schema):", "", "```json", JSON.stringify(functionOutputSchema(fn, pkg.docs)), "```", "");
    }
  }
  lines.push("## WIT", "");
  lines.push(...(pkg.wit ? ["```wit", pkg.wit.trimEnd(), "```"] : ["No executor served the WIT right now (it is public: GET <executor>/v1/blobs/<witHash>)."]));
  lines.push("", "## Test vectors", "");
  if (!pkg.tests) lines.push("No executor served the test vectors right now.");
  else {
    lines.push(`${pkg.tests.cases.length} public test vectors (expect.ok is the returned value, or a result's ok payload; expect.error a result's error payload or a failure code):`, "");
    for (const c of pkg.tests.cases) lines.push(`- ${c.name}: ${c.function}(${JSON.stringify(c.args)}) -> ${JSON.stringify(c.expect)}`);
  }
  return lines.join("\n") + "\n";
}
