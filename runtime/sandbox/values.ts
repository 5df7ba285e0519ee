/**
 * JSON <-> WIT value conversion (the JSON side is what callers send and receive; the guest side is
 * jco's JavaScript representation of component values).
 *
 * JSON encoding of WIT values (documented for callers, test vectors and the catalog):
 * - bool: true/false. s8..s32, u8..u32: JSON integers in range.
 * - s64/u64: accepted as a JSON integer within +-(2^53-1) or a decimal string; always returned as a
 *   decimal string (so the type of a result never depends on its magnitude).
 * - f32/f64: JSON numbers; NaN and the infinities as the strings "NaN", "Infinity", "-Infinity".
 * - char: a string holding exactly one Unicode scalar value. string: a string.
 * - list<T>: array. tuple<...>: array of the exact length.
 * - record: object keyed by the WIT (kebab-case) field names; every field required, no extras.
 * - variant: { "tag": "<case>", "val": <payload> } ("val" omitted for cases without payload).
 * - enum: the case name as a string. flags: array of the set flag names.
 * - option<T>: null for none, the value for some (option<option<T>>: some(x) is { "some": x }).
 * - result<T, E>: { "ok": <T or null> } or { "error": <E or null> }.
 */
import type { JsonValue } from "../../sdk/test-vectors.ts";
import { unalias, type FunctionSignature, type WitType } from "../../sdk/wit.ts";

export type { JsonValue };

export class ValueConversionError extends Error {
  override name = "ValueConversionError";
  path: string;
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.path = path;
  }
}

/** kebab-case -> lowerCamelCase, the way jco names functions, record fields and flags. */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const INT_RANGES: Record<string, [number, number]> = {
  s8: [-128, 127],
  s16: [-32768, 32767],
  s32: [-2147483648, 2147483647],
  u8: [0, 255],
  u16: [0, 65535],
  u32: [0, 4294967295],
};

/** jco passes lists of numbers as typed arrays. */
function typedArray(kind: WitType["kind"], items: unknown[]): ArrayLike<unknown> | undefined {
  const number = (item: unknown): number => Number(item);
  const big = (item: unknown): bigint => (typeof item === "bigint" ? item : BigInt(Number(item)));
  switch (kind) {
    case "u8":
      return Uint8Array.from(items, number);
    case "s8":
      return Int8Array.from(items, number);
    case "u16":
      return Uint16Array.from(items, number);
    case "s16":
      return Int16Array.from(items, number);
    case "u32":
      return Uint32Array.from(items, number);
    case "s32":
      return Int32Array.from(items, number);
    case "f32":
      return Float32Array.from(items, number);
    case "f64":
      return Float64Array.from(items, number);
    case "u64":
      return BigUint64Array.from(items, big);
    case "s64":
      return BigInt64Array.from(items, big);
    default:
      return undefined;
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "..." : value)}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

function isPlainObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** JSON -> jco guest value, throwing ValueConversionError with the path of the offending part. */
export function jsonToGuest(type: WitType, value: JsonValue | undefined, path: string): unknown {
  const t = unalias(type);
  const fail = (expected: string): never => {
    throw new ValueConversionError(path, `expected ${expected}, got ${value === undefined ? "nothing" : describe(value)}`);
  };
  switch (t.kind) {
    case "bool":
      return typeof value === "boolean" ? value : fail("a boolean");
    case "s8":
    case "s16":
    case "s32":
    case "u8":
    case "u16":
    case "u32": {
      const [min, max] = INT_RANGES[t.kind]!;
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) return fail(`an integer in ${min}..${max} (${t.kind})`);
      return value;
    }
    case "s64":
    case "u64": {
      let big: bigint | undefined;
      if (typeof value === "number" && Number.isSafeInteger(value)) big = BigInt(value);
      else if (typeof value === "string" && /^-?\d{1,20}$/.test(value)) big = BigInt(value);
      const [min, max] = t.kind === "u64" ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
      if (big === undefined || big < min || big > max) return fail(`a ${t.kind} as a decimal string or a safe JSON integer`);
      return big;
    }
    case "f32":
    case "f64":
      if (typeof value === "number") return value;
      if (value === "NaN") return NaN;
      if (value === "Infinity") return Infinity;
      if (value === "-Infinity") return -Infinity;
      return fail(`a number (${t.kind})`);
    case "char":
      if (typeof value !== "string" || [...value].length !== 1) return fail("a single character");
      if (/^[\uD800-\uDFFF]$/.test(value)) return fail("a Unicode scalar value (not a lone surrogate)");
      return value;
    case "string":
      if (typeof value !== "string") return fail("a string");
      // JSON can carry lone surrogates; UTF-8 cannot (the glue would silently replace them).
      if (LONE_SURROGATE.test(value)) return fail("a well-formed Unicode string (it holds a lone surrogate)");
      return value;
    case "list": {
      if (!Array.isArray(value)) return fail(`a list (JSON array) of ${formatKind(t.element)}`);
      const items = value.map((item, i) => jsonToGuest(t.element, item, `${path}[${i}]`));
      return typedArray(unalias(t.element).kind, items) ?? items;
    }
    case "tuple": {
      if (!Array.isArray(value) || value.length !== t.items.length) return fail(`a tuple (JSON array) of ${t.items.length} items`);
      return t.items.map((item, i) => jsonToGuest(item, value[i], `${path}[${i}]`));
    }
    case "record": {
      if (!isPlainObject(value)) return fail(`a record ${t.name} (JSON object)`);
      const known = new Set(t.fields.map((f) => f.name));
      for (const key of Object.keys(value)) {
        if (!known.has(key)) throw new ValueConversionError(`${path}.${key}`, `record ${t.name} has no field "${key}" (fields: ${[...known].join(", ")})`);
      }
      const out: Record<string, unknown> = {};
      for (const field of t.fields) {
        if (!(field.name in value)) throw new ValueConversionError(`${path}.${field.name}`, `missing field of record ${t.name}`);
        out[camelCase(field.name)] = jsonToGuest(field.type, value[field.name], `${path}.${field.name}`);
      }
      return out;
    }
    case "variant": {
      if (!isPlainObject(value) || typeof value.tag !== "string") return fail(`a variant ${t.name} as {"tag": "<case>", "val": ...}`);
      const variantCase = t.cases.find((c) => c.name === value.tag);
      if (!variantCase) throw new ValueConversionError(`${path}.tag`, `variant ${t.name} has no case "${value.tag}" (cases: ${t.cases.map((c) => c.name).join(", ")})`);
      if (!variantCase.type) return { tag: variantCase.name };
      return { tag: variantCase.name, val: jsonToGuest(variantCase.type, value.val, `${path}.val`) };
    }
    case "enum":
      if (typeof value !== "string" || !t.cases.includes(value)) return fail(`one of ${t.cases.map((c) => JSON.stringify(c)).join(", ")} (enum ${t.name})`);
      return value;
    case "flags": {
      if (!Array.isArray(value)) return fail(`an array of flag names of ${t.name}`);
      const out: Record<string, boolean> = {};
      for (const flag of t.flags) out[camelCase(flag)] = false;
      value.forEach((flag, i) => {
        if (typeof flag !== "string" || !t.flags.includes(flag)) {
          throw new ValueConversionError(`${path}[${i}]`, `flags ${t.name} has no flag ${JSON.stringify(flag)} (flags: ${t.flags.join(", ")})`);
        }
        out[camelCase(flag)] = true;
      });
      return out;
    }
    case "option": {
      if (value === null || value === undefined) return unalias(t.some).kind === "option" ? { tag: "none" } : undefined;
      if (unalias(t.some).kind === "option") {
        if (!isPlainObject(value) || !("some" in value)) return fail(`null or {"some": ...} for a nested option`);
        return { tag: "some", val: jsonToGuest(t.some, value.some, `${path}.some`) };
      }
      return jsonToGuest(t.some, value, path);
    }
    case "result": {
      if (isPlainObject(value) && "ok" in value && Object.keys(value).length === 1) {
        return { tag: "ok", val: t.ok ? jsonToGuest(t.ok, value.ok, `${path}.ok`) : undefined };
      }
      if (isPlainObject(value) && "error" in value && Object.keys(value).length === 1) {
        return { tag: "err", val: t.err ? jsonToGuest(t.err, value.error, `${path}.error`) : undefined };
      }
      return fail(`a result as {"ok": ...} or {"error": ...}`);
    }
  }
}

function formatKind(type: WitType): string {
  const t = unalias(type);
  return "name" in t ? t.name : t.kind;
}

/** jco guest value -> JSON. Types come from the published WIT, so shapes are trusted but still checked cheaply. */
export function guestToJson(type: WitType, value: unknown): JsonValue {
  const t = unalias(type);
  switch (t.kind) {
    case "bool":
      return Boolean(value);
    case "s8":
    case "s16":
    case "s32":
    case "u8":
    case "u16":
    case "u32":
      return Number(value);
    case "s64":
    case "u64":
      return BigInt(value as bigint).toString();
    case "f32":
    case "f64": {
      const n = Number(value);
      return Number.isFinite(n) ? n : String(n);
    }
    case "char":
    case "string":
      return String(value);
    case "list":
      return Array.from(value as ArrayLike<unknown>, (item) => guestToJson(t.element, item));
    case "tuple": {
      const items = value as unknown[];
      return t.items.map((item, i) => guestToJson(item, items[i]));
    }
    case "record": {
      const record = value as Record<string, unknown>;
      const out: Record<string, JsonValue> = {};
      for (const field of t.fields) out[field.name] = guestToJson(field.type, record[camelCase(field.name)]);
      return out;
    }
    case "variant": {
      const variant = value as { tag: string; val?: unknown };
      const variantCase = t.cases.find((c) => c.name === variant.tag);
      if (!variantCase?.type) return { tag: variant.tag };
      return { tag: variant.tag, val: guestToJson(variantCase.type, variant.val) };
    }
    case "enum":
      return String(value);
    case "flags": {
      const flags = value as Record<string, boolean>;
      return t.flags.filter((flag) => flags[camelCase(flag)]);
    }
    case "option": {
      if (unalias(t.some).kind === "option") {
        const nested = value as { tag: string; val?: unknown } | undefined | null;
        if (!nested || nested.tag === "none") return null;
        return { some: guestToJson(t.some, nested.val) };
      }
      return value === undefined || value === null ? null : guestToJson(t.some, value);
    }
    case "result": {
      const result = value as { tag: string; val?: unknown };
      if (result.tag === "ok") return { ok: t.ok ? guestToJson(t.ok, result.val) : null };
      return { error: t.err ? guestToJson(t.err, result.val) : null };
    }
    default:
      throw new ValueConversionError("result", `unsupported WIT type ${(t as { kind: string }).kind}`);
  }
}

/**
 * Converts call arguments (positional array, or object keyed by parameter name) to guest values.
 * Throws ValueConversionError whose path starts with the parameter name.
 */
export function argumentsToGuest(fn: FunctionSignature, args: JsonValue[] | Record<string, JsonValue>): { values: unknown[]; problem?: { parameter: string | null; message: string } } {
  let positional: (JsonValue | undefined)[];
  if (Array.isArray(args)) {
    if (args.length !== fn.params.length) {
      return { values: [], problem: { parameter: null, message: `expected ${fn.params.length} argument(s) (${fn.params.map((p) => p.name).join(", ")}), got ${args.length}` } };
    }
    positional = args;
  } else if (isPlainObject(args)) {
    const names = new Set(fn.params.map((p) => p.name));
    const extra = Object.keys(args).find((key) => !names.has(key));
    if (extra !== undefined) return { values: [], problem: { parameter: extra, message: `no such parameter (parameters: ${[...names].join(", ") || "none"})` } };
    const missing = fn.params.find((p) => !(p.name in args));
    if (missing) return { values: [], problem: { parameter: missing.name, message: "missing" } };
    positional = fn.params.map((p) => args[p.name]);
  } else {
    return { values: [], problem: { parameter: null, message: "arguments must be a JSON array (positional) or object (by parameter name)" } };
  }
  const values: unknown[] = [];
  for (let i = 0; i < fn.params.length; i++) {
    const param = fn.params[i]!;
    try {
      values.push(jsonToGuest(param.type, positional[i], param.name));
    } catch (error) {
      if (error instanceof ValueConversionError) return { values: [], problem: { parameter: param.name, message: error.message } };
      throw error;
    }
  }
  return { values };
}
