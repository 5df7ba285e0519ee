import type { PublishedFunction } from "../sdk/manifest.ts";
import type { JsonValue } from "../sdk/test-vectors.ts";

/** The argument rule, as `call --help` states it. */
export const CALL_ARGS_HELP = `Arguments: each one that is valid JSON is parsed as JSON; anything else is taken as a plain
string. For a string parameter, a JSON string is unquoted and any other text stays as typed.

  JSON   glassbox call acme/semver max-satisfying '["1.2.0","1.4.1"]' '"^1.0.0"'
           a list of strings, then the string ^1.0.0 written as JSON
  plain  glassbox call acme/semver satisfies 1.2.3 '^1.0.0'
           neither is JSON: both are taken as typed
         glassbox call acme/markdown to-html "# Hello"
  both   glassbox call acme/semver clean 1.2 and glassbox call acme/semver clean '"1.2"'
           pass the same string "1.2": the parameter is a string`;

/**
 * Command-line arguments to WIT values: valid JSON is parsed as JSON, anything else is a plain
 * string. For a string parameter only a JSON string literal is decoded: `7992739871`, `true` or
 * `[1]` stay text, since a string is what the parameter takes.
 */
export function parseCallArgs(tokens: string[], fn: PublishedFunction | undefined): JsonValue[] {
  return tokens.map((token, i) => {
    const parsed = parseJson(token);
    if (fn?.params[i]?.type === "string") return typeof parsed.value === "string" ? parsed.value : token;
    return parsed.ok ? parsed.value : token;
  });
}

/** A value written as a shell word that parseCallArgs reads back as the same value. */
export function formatCallArg(value: unknown): string {
  const text = typeof value === "string" && !parseJson(value).ok ? value : JSON.stringify(value);
  return /^[\w@%+=:,./^-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

function parseJson(token: string): { ok: true; value: JsonValue } | { ok: false; value?: undefined } {
  try {
    return { ok: true, value: JSON.parse(token) as JsonValue };
  } catch {
    return { ok: false };
  }
}

/** A WIT result's answer ({"ok": ...} or {"error": ...}) as its case and value; undefined for any other type. */
export function resultCase(result: unknown, witResultType: string | null | undefined): { ok: boolean; value: unknown } | undefined {
  if (!witResultType?.startsWith("result") || typeof result !== "object" || result === null) return undefined;
  const entries = Object.entries(result);
  const [key, value] = entries[0] ?? [];
  return entries.length === 1 && (key === "ok" || key === "error") ? { ok: key === "ok", value } : undefined;
}

/** A result as a person reads it: text as is, anything else as indented JSON. */
export function showValue(value: unknown): string {
  return typeof value === "string" ? value.trimEnd() : JSON.stringify(value, null, 2);
}
