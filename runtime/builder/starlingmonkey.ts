/// <reference path="./componentize-js.d.ts" />
/**
 * The StarlingMonkey backend (componentize-js). Its SpiderMonkey is built without ICU, so bundled
 * sources are adapted first (see adaptSourceForStarlingMonkey), and the engine's own WASI features
 * are disabled unless the world imports them.
 */
import { createRequire } from "node:module";
import { parse as parseJs, type Node as JsNode } from "acorn";
import { describeWorld } from "../../sdk/wit.ts";
import { BuildError } from "../errors.ts";

const require = createRequire(import.meta.url);

/** componentize-js build of an (adapted) bundled source. */
export async function componentizeStarlingMonkey(witSource: string, world: string, source: string): Promise<Uint8Array> {
  const { componentize } = await import("@bytecodealliance/componentize-js");
  try {
    // The WIT goes in as a string: the splicer cannot read files here (its WASI has no preopens).
    // componentize-js types only its file-based options: componentize-js.d.ts types this inline form.
    const result = await componentize(source, witSource, {
      worldName: world,
      sourceName: "component.js",
      // No engine-provided WASI beyond what the world itself imports: the component imports only
      // what its world declares (an engine feature left on would pull its WASI interfaces in).
      disableFeatures: starlingMonkeyDisabledFeatures(describeWorld(witSource, world).imports),
    });
    return result.component;
  } catch (error) {
    const message = (error as Error).message;
    throw new BuildError(`StarlingMonkey componentize failed for world "${world}": ${message}${starlingMonkeyHint(message)}`, error);
  }
}

/** SpiderMonkey's regex parser reports a Unicode property escape it cannot resolve (no ICU) like this. */
const PROPERTY_ESCAPE_FAILURE = /(invalid|unknown) (class )?property name/i;

function starlingMonkeyHint(message: string): string {
  if (!PROPERTY_ESCAPE_FAILURE.test(message)) return "";
  return (
    ". StarlingMonkey's engine has no ICU, so it cannot evaluate Unicode property escapes (\\p{...}); the build rewrites them " +
    "in regex literals and in RegExp(\"...\", \"...\") calls with literal strings, but not in patterns assembled at run time. " +
    'Write that pattern as a regex literal, or build with backend "qjs"'
  );
}

/**
 * Adapts bundled source to StarlingMonkey, whose SpiderMonkey is built without ICU:
 * - Unicode property escapes (`\p{L}`, `\P{Script=Greek}`, v-mode sets) make the whole module fail
 *   to parse, so they are lowered to explicit code point classes (regexpu-core), in regex literals
 *   and in `RegExp("pattern", "flags")` calls with literal strings (esbuild emits v-flag literals
 *   that way). Strings, comments and templates are left alone: only parsed nodes are edited.
 * - String.prototype.normalize does not exist there: a call such as `.normalize("NFC")` would trap
 *   at run time, so it fails the build now with a BuildError (unless the source feature-detects it).
 */
export function adaptSourceForStarlingMonkey(source: string): string {
  const mayUsePropertyEscapes = /\\[pP]\{/.test(source);
  if (!mayUsePropertyEscapes && !source.includes(".normalize(")) return source;
  let program: JsNode;
  try {
    program = parseJs(source, { ecmaVersion: "latest", sourceType: "module" });
  } catch (error) {
    // An invalid pattern is reported here, where it can be located; any other syntax error is left
    // to componentize, which reports it with its location too.
    const { message, pos } = error as { message: string; pos?: number };
    if (/regular expression/i.test(message) && pos !== undefined) throw new BuildError(`${message.replace(/ \(\d+:\d+\)$/, "")} ${describePosition(source, pos)}. Fix the pattern.`);
    return source;
  }
  const edits: { start: number; end: number; text: string }[] = [];
  const normalizeCalls: { start: number; form: string }[] = [];
  const normalizeCount = { members: 0, callees: 0, featureChecks: 0 };
  visitNodes(program, (node) => {
    const literal = regexLiteral(node);
    if (literal && needsLowering(literal.flags, literal.pattern)) {
      const lowered = lowerPattern(source, node.start, literal.pattern, literal.flags);
      edits.push({ start: node.start, end: node.end, text: `/${lowered.pattern}/${lowered.flags}` });
      return;
    }
    const constructed = regExpConstruction(node);
    if (constructed && needsLowering(constructed.flags.value, constructed.pattern.value)) {
      const lowered = lowerPattern(source, node.start, constructed.pattern.value, constructed.flags.value);
      edits.push({ start: constructed.pattern.start, end: constructed.pattern.end, text: JSON.stringify(lowered.pattern) });
      edits.push({ start: constructed.flags.start, end: constructed.flags.end, text: JSON.stringify(lowered.flags) });
      return;
    }
    const normalize = normalizeUse(node);
    if (normalize === "member") normalizeCount.members++;
    else if (normalize === "feature-check") normalizeCount.featureChecks++;
    else if (normalize) {
      normalizeCount.callees++;
      if (normalize !== "callee") normalizeCalls.push({ start: node.start, form: normalize.call });
    }
  });
  const featureChecked = normalizeCount.featureChecks > 0 || normalizeCount.members > normalizeCount.callees;
  const unguarded = normalizeCalls[0];
  if (unguarded && !featureChecked) {
    throw new BuildError(
      `StarlingMonkey has no String.prototype.normalize (its engine is built without ICU), but the source calls .normalize(${JSON.stringify(unguarded.form)}) ` +
        `${describePosition(source, unguarded.start)}: every call reaching it would trap. Build with backend "qjs" (QuickJS has normalize), ` +
        `or drop the normalization or guard it with a feature check (typeof "".normalize === "function").`,
    );
  }
  let adapted = source;
  for (const edit of edits.sort((a, b) => b.start - a.start)) adapted = adapted.slice(0, edit.start) + edit.text + adapted.slice(edit.end);
  return adapted;
}

type RewritePattern = (pattern: string, flags: string, options: { unicodePropertyEscapes: "transform"; unicodeSetsFlag: "transform"; onNewFlags: (flags: string) => void }) => string;

/** regexpu-core (jco's own dependency for this same rewrite) ships no types; this is the one function used. */
let rewritePattern: RewritePattern | undefined;

function needsLowering(flags: string, pattern: string): boolean {
  // Without u or v, \p{...} is just an escaped "p": nothing to lower.
  return /[uv]/.test(flags) && /\\[pP]\{/.test(pattern);
}

function lowerPattern(source: string, position: number, pattern: string, flags: string): { pattern: string; flags: string } {
  rewritePattern ??= require("regexpu-core") as RewritePattern;
  let newFlags = flags;
  try {
    const lowered = rewritePattern(pattern, flags, { unicodePropertyEscapes: "transform", unicodeSetsFlag: "transform", onNewFlags: (value) => (newFlags = value) });
    return { pattern: lowered, flags: newFlags };
  } catch (error) {
    throw new BuildError(`Regular expression /${pattern}/${flags} ${describePosition(source, position)} is invalid: ${(error as Error).message}. Fix the pattern.`);
  }
}

function visitNodes(node: JsNode, visit: (node: JsNode) => void): void {
  visit(node);
  for (const value of Object.values(node) as unknown[]) {
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) visitNodes(item, visit);
    } else if (isNode(value)) visitNodes(value, visit);
  }
}

function isNode(value: unknown): value is JsNode {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

interface StringLiteral {
  value: string;
  start: number;
  end: number;
}

function stringLiteral(node: unknown): StringLiteral | undefined {
  const literal = node as { type?: string; value?: unknown; start: number; end: number } | undefined;
  return literal?.type === "Literal" && typeof literal.value === "string" ? { value: literal.value, start: literal.start, end: literal.end } : undefined;
}

function regexLiteral(node: JsNode): { pattern: string; flags: string } | undefined {
  return node.type === "Literal" ? (node as unknown as { regex?: { pattern: string; flags: string } }).regex : undefined;
}

/** `new RegExp("...", "...")` or `RegExp("...", "...")` with literal strings. */
function regExpConstruction(node: JsNode): { pattern: StringLiteral; flags: StringLiteral } | undefined {
  if (node.type !== "NewExpression" && node.type !== "CallExpression") return undefined;
  const call = node as unknown as { callee: { type: string; name?: string }; arguments: unknown[] };
  if (call.callee.type !== "Identifier" || call.callee.name !== "RegExp") return undefined;
  const pattern = stringLiteral(call.arguments[0]);
  const flags = stringLiteral(call.arguments[1]);
  return pattern && flags ? { pattern, flags } : undefined;
}

/**
 * What a node says about String.prototype.normalize: a `.normalize("NF…")` call (its form), a
 * `.normalize` member that is not called (a feature check like `typeof s.normalize`, once calls
 * are subtracted), the string "normalize" (`"normalize" in String.prototype`), or nothing.
 * Calls without a literal form are ignored: `.normalize()` is also a common vector/path method.
 */
function normalizeUse(node: JsNode): { call: string } | "callee" | "member" | "feature-check" | undefined {
  if (stringLiteral(node)?.value === "normalize") return "feature-check";
  if (node.type === "MemberExpression" && (node as unknown as { property: { name?: string } }).property.name === "normalize") return "member";
  if (node.type !== "CallExpression") return undefined;
  const call = node as unknown as { callee: { type: string; property?: { name?: string } }; arguments: unknown[] };
  if (call.callee.type !== "MemberExpression" || call.callee.property?.name !== "normalize") return undefined;
  const form = stringLiteral(call.arguments[0])?.value;
  return form && /^NFK?[CD]$/.test(form) ? { call: form } : "callee";
}

/** "in src/index.ts (bundled line 120)": esbuild marks each inlined module with a `// path` comment. */
function describePosition(source: string, offset: number): string {
  const before = source.slice(0, offset);
  const line = before.split("\n").length;
  const module = [...before.matchAll(/^\/\/ (\S+\.[cm]?[jt]sx?)$/gm)].at(-1)?.[1];
  return module ? `in ${module} (bundled line ${line})` : `at bundled line ${line}`;
}

/** Engine features whose WASI interfaces the world imports stay enabled; all others are disabled. */
function starlingMonkeyDisabledFeatures(worldImports: string[]): ("stdio" | "random" | "clocks" | "http" | "fetch-event")[] {
  const imports = worldImports.map((name) => name.replace(/@.*$/, ""));
  const uses = (prefix: string): boolean => imports.some((name) => name.startsWith(prefix));
  const disabled: ("stdio" | "random" | "clocks" | "http" | "fetch-event")[] = ["fetch-event"];
  if (!uses("wasi:cli/std")) disabled.push("stdio");
  if (!uses("wasi:random/")) disabled.push("random");
  if (!uses("wasi:clocks/")) disabled.push("clocks");
  if (!uses("wasi:http/")) disabled.push("http");
  return disabled;
}
