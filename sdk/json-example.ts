/**
 * Example JSON values of WIT types (in the executor's encoding), for discovery metadata that wants
 * an example when no test vector shows one; and test-vector arguments keyed by parameter name.
 */
import type { JsonValue } from "./test-vectors.ts";
import { unalias, type FunctionSignature, type WitType } from "./wit.ts";

/** A simple valid value of `type`: zero, the empty string, the first case, an empty list, none. */
export function exampleValue(type: WitType): JsonValue {
  const t = unalias(type);
  switch (t.kind) {
    case "bool":
      return false;
    case "s8":
    case "s16":
    case "s32":
    case "u8":
    case "u16":
    case "u32":
    case "f32":
    case "f64":
      return 0;
    case "s64":
    case "u64":
      return "0";
    case "char":
      return "a";
    case "string":
      return "";
    case "list":
      return [];
    case "tuple":
      return t.items.map(exampleValue);
    case "option":
      return null;
    case "result":
      return { ok: t.ok ? exampleValue(t.ok) : null };
    case "record":
      return Object.fromEntries(t.fields.map((f) => [f.name, exampleValue(f.type)]));
    case "variant": {
      const first = t.cases[0]!;
      return first.type ? { tag: first.name, val: exampleValue(first.type) } : { tag: first.name };
    }
    case "enum":
      return t.cases[0]!;
    case "flags":
      return [];
    case "alias":
      return exampleValue(t.target);
  }
}

/** Example arguments of `fn`, keyed by parameter name. */
export function exampleArguments(fn: FunctionSignature): Record<string, JsonValue> {
  return Object.fromEntries(fn.params.map((p) => [p.name, exampleValue(p.type)]));
}

/** Test-vector arguments (positional or named) keyed by parameter name; undefined when they do not fit the signature. */
export function argumentsToNamed(fn: FunctionSignature, args: JsonValue[] | { [name: string]: JsonValue }): Record<string, JsonValue> | undefined {
  if (!Array.isArray(args)) return fn.params.every((p) => p.name in args) && Object.keys(args).length === fn.params.length ? { ...args } : undefined;
  if (args.length !== fn.params.length) return undefined;
  return Object.fromEntries(fn.params.map((p, i) => [p.name, args[i]!]));
}
