/**
 * JSON Schema (draft 2020-12) of WIT values, in the JSON encoding the executor accepts and returns
 * (runtime/sandbox/values.ts): what an agent, an MCP client or an x402 catalog needs to build a call
 * without reading WIT. Descriptions come from the WIT `///` doc comments.
 *
 * The schemas carry no `$schema` and no `$ref` (every named type is inlined: WIT types cannot be
 * recursive), so they can be embedded anywhere (an MCP tool, a Bazaar extension) and validated by
 * validators of older drafts without a false rejection; `withDialect` names the dialect for a
 * standalone document. Input and output differ where the executor is lenient on input: a u64/s64
 * argument may be a safe JSON integer or a decimal string, a result is always a decimal string.
 */
import type { DocumentedType, FunctionSignature, InterfaceDocumentation, WitType } from "./wit.ts";
import { formatWitType, unalias } from "./wit.ts";

export type JsonSchema = { [keyword: string]: unknown };

export const JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";

/** The annotation keyword that records the WIT parameters' positional order on an input schema. */
export const PARAMETER_ORDER_KEYWORD = "x-wit-parameters";

/** Arguments go to the executor (lenient encodings accepted); results come back (canonical encodings). */
export type ValueDirection = "input" | "output";

const INT_RANGES: Record<string, [number, number]> = {
  s8: [-128, 127],
  s16: [-32768, 32767],
  s32: [-2147483648, 2147483647],
  u8: [0, 255],
  u16: [0, 65535],
  u32: [0, 4294967295],
};

const U64_MAX = 2n ** 64n - 1n;
const S64_MAX = 2n ** 63n - 1n;

/**
 * A regular expression (no anchors, no sign) matching exactly the decimal numerals 1..max without
 * leading zeros: shorter numerals, then for each digit of `max` the numerals that share its prefix
 * and are smaller at that digit, then `max` itself.
 */
export function positiveDecimalUpTo(max: bigint): string {
  if (max < 1n) throw new RangeError("max must be at least 1");
  const digits = max.toString();
  const n = digits.length;
  const alternatives: string[] = [];
  if (n >= 2) alternatives.push(n === 2 ? "[1-9]" : `[1-9][0-9]{0,${n - 2}}`);
  for (let i = 0; i < n; i++) {
    const digit = Number(digits[i]);
    const lowest = i === 0 ? 1 : 0;
    if (digit <= lowest) continue;
    const rest = n - i - 1;
    const range = digit - 1 === lowest ? String(lowest) : `[${lowest}-${digit - 1}]`;
    alternatives.push(`${digits.slice(0, i)}${range}${rest === 0 ? "" : rest === 1 ? "[0-9]" : `[0-9]{${rest}}`}`);
  }
  alternatives.push(digits);
  return `(?:${alternatives.join("|")})`;
}

/** Exactly the canonical decimal strings of a u64: 0..18446744073709551615. */
export const U64_DECIMAL_PATTERN = `^(?:0|${positiveDecimalUpTo(U64_MAX)})$`;
/** Exactly the canonical decimal strings of an s64: -9223372036854775808..9223372036854775807. */
export const S64_DECIMAL_PATTERN = `^(?:0|${positiveDecimalUpTo(S64_MAX)}|-${positiveDecimalUpTo(S64_MAX + 1n)})$`;

const NON_FINITE = ["NaN", "Infinity", "-Infinity"];

/** Named types of the interface by name, for their doc comments. */
function typeDocs(docs: InterfaceDocumentation | undefined): Map<string, DocumentedType> {
  return new Map((docs?.types ?? []).map((t) => [t.name, t]));
}

function describe(schema: JsonSchema, ...parts: (string | undefined)[]): JsonSchema {
  const text = parts.filter((p): p is string => Boolean(p && p.trim())).join("\n");
  return text ? { ...schema, description: schema.description ? `${text}\n${String(schema.description)}` : text } : schema;
}

class SchemaBuilder {
  private readonly docs: Map<string, DocumentedType>;
  constructor(
    private readonly direction: ValueDirection,
    docs: InterfaceDocumentation | undefined,
  ) {
    this.docs = typeDocs(docs);
  }

  /** The doc comments of a named type and of its members, when the interface documents it. */
  private named(name: string): DocumentedType | undefined {
    return this.docs.get(name);
  }

  schema(type: WitType): JsonSchema {
    if (type.kind === "alias") {
      const doc = this.named(type.name);
      return { ...describe(this.schema(type.target), doc?.docs), title: type.name };
    }
    switch (type.kind) {
      case "bool":
        return { type: "boolean" };
      case "s8":
      case "s16":
      case "s32":
      case "u8":
      case "u16":
      case "u32": {
        const [minimum, maximum] = INT_RANGES[type.kind]!;
        return { type: "integer", minimum, maximum, description: `${type.kind}: an integer in ${minimum}..${maximum}` };
      }
      case "u64":
      case "s64":
        return this.int64(type.kind);
      case "f32":
      case "f64":
        return {
          anyOf: [{ type: "number" }, { enum: NON_FINITE }],
          description: `${type.kind}: a JSON number; NaN and the infinities as the strings "NaN", "Infinity", "-Infinity"${type.kind === "f32" ? " (rounded to 32-bit precision)" : ""}`,
        };
      case "char":
        return { type: "string", minLength: 1, maxLength: 1, description: "char: exactly one Unicode scalar value" };
      case "string":
        return { type: "string" };
      case "list":
        return { type: "array", items: this.schema(type.element) };
      case "tuple":
        // No `items: false`: min/maxItems already bound the length, and older drafts read `items: false` as "no items".
        return { type: "array", prefixItems: type.items.map((item) => this.schema(item)), minItems: type.items.length, maxItems: type.items.length };
      case "option":
        return this.option(type.some);
      case "result":
        return this.result(type.ok, type.err);
      case "record":
        return this.record(type);
      case "variant":
        return this.variant(type);
      case "enum": {
        const doc = this.named(type.name);
        const caseDocs = (doc?.members ?? []).filter((m) => m.docs).map((m) => `- ${m.name}: ${m.docs}`);
        return describe({ title: type.name, type: "string", enum: [...type.cases] }, doc?.docs, ...caseDocs);
      }
      case "flags": {
        const doc = this.named(type.name);
        const flagDocs = (doc?.members ?? []).filter((m) => m.docs).map((m) => `- ${m.name}: ${m.docs}`);
        return describe(
          { title: type.name, type: "array", items: { type: "string", enum: [...type.flags] }, uniqueItems: true },
          doc?.docs,
          "The names of the flags that are set.",
          ...flagDocs,
        );
      }
    }
  }

  private int64(kind: "u64" | "s64"): JsonSchema {
    const [min, max] = kind === "u64" ? [0n, U64_MAX] : [-(S64_MAX + 1n), S64_MAX];
    const decimal = { type: "string", pattern: kind === "u64" ? U64_DECIMAL_PATTERN : S64_DECIMAL_PATTERN };
    if (this.direction === "output") return { ...decimal, description: `${kind}: a decimal string in ${min}..${max}` };
    return {
      anyOf: [decimal, { type: "integer", minimum: kind === "u64" ? 0 : -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }],
      description: `${kind}: a decimal string in ${min}..${max} (or a JSON integer within ±(2^53-1))`,
    };
  }

  private option(some: WitType): JsonSchema {
    const inner = this.schema(some);
    // option<option<T>>: some(x) is {"some": x}, so that none and some(none) stay apart.
    const present = unalias(some).kind === "option" ? { type: "object", properties: { some: inner }, required: ["some"], additionalProperties: false } : inner;
    return { anyOf: [{ type: "null" }, present], description: `option<${formatWitType(some)}>: null for none` };
  }

  private result(ok: WitType | null, err: WitType | null): JsonSchema {
    const branch = (key: "ok" | "error", type: WitType | null): JsonSchema => ({
      type: "object",
      properties: { [key]: type ? this.schema(type) : { type: "null" } },
      required: [key],
      additionalProperties: false,
    });
    return { oneOf: [branch("ok", ok), branch("error", err)], description: `result<${formatWitType(ok)}, ${formatWitType(err)}>: {"ok": ...} or {"error": ...}` };
  }

  private record(type: Extract<WitType, { kind: "record" }>): JsonSchema {
    const doc = this.named(type.name);
    const properties: Record<string, JsonSchema> = {};
    for (const field of type.fields) {
      const member = doc?.members.find((m) => m.name === field.name);
      properties[field.name] = describe(this.schema(field.type), member?.docs);
    }
    return describe(
      { title: type.name, type: "object", properties, required: type.fields.map((f) => f.name), additionalProperties: false },
      doc?.docs,
    );
  }

  private variant(type: Extract<WitType, { kind: "variant" }>): JsonSchema {
    const doc = this.named(type.name);
    const cases = type.cases.map((c) => {
      const member = doc?.members.find((m) => m.name === c.name);
      const properties: Record<string, JsonSchema> = { tag: { const: c.name } };
      if (c.type) properties.val = this.schema(c.type);
      return describe({ title: c.name, type: "object", properties, required: c.type ? ["tag", "val"] : ["tag"], additionalProperties: false }, member?.docs);
    });
    return describe({ title: type.name, oneOf: cases }, doc?.docs, `A variant: {"tag": "<case>", "val": <payload>} ("val" only for cases with a payload).`);
  }
}

/** The schema of one WIT type, in the given direction, with descriptions from `docs` when given. */
export function witTypeSchema(type: WitType, direction: ValueDirection, docs?: InterfaceDocumentation): JsonSchema {
  return new SchemaBuilder(direction, docs).schema(type);
}

/** True for parameters an MCP caller may leave out: an absent option is none (null). */
export function isOptionalParameter(type: WitType): boolean {
  return unalias(type).kind === "option";
}

/**
 * A function's arguments as one JSON object keyed by parameter name (option parameters may be left
 * out), with the positional order in `x-wit-parameters`.
 */
export function functionInputSchema(fn: FunctionSignature, docs?: InterfaceDocumentation): JsonSchema {
  const builder = new SchemaBuilder("input", docs);
  const properties: Record<string, JsonSchema> = {};
  for (const param of fn.params) properties[param.name] = { ...builder.schema(param.type) };
  return {
    type: "object",
    properties,
    required: fn.params.filter((p) => !isOptionalParameter(p.type)).map((p) => p.name),
    additionalProperties: false,
    [PARAMETER_ORDER_KEYWORD]: fn.params.map((p) => p.name),
  };
}

/**
 * A function's answer as a JSON object `{"result": <value>}` (MCP structured content is an object;
 * the value is exactly what the executor returns and the receipt's outputHash covers).
 */
export function functionOutputSchema(fn: FunctionSignature, docs?: InterfaceDocumentation): JsonSchema {
  const result = fn.result ? witTypeSchema(fn.result, "output", docs) : { type: "null", description: "The function returns nothing." };
  return { type: "object", properties: { result }, required: ["result"], additionalProperties: false };
}

/** The schema as a standalone document naming its dialect. */
export function withDialect(schema: JsonSchema): JsonSchema {
  return { $schema: JSON_SCHEMA_DIALECT, ...schema };
}

export class ArgumentsError extends Error {
  override name = "ArgumentsError";
}

/**
 * Named arguments (an MCP tool call) to the positional array the executor and the receipt's
 * inputHash take; an absent option parameter is none. Unknown or missing parameters are refused
 * here, by name: the values themselves are checked by the executor.
 */
export function toPositionalArguments(fn: FunctionSignature, args: Record<string, unknown> | undefined): unknown[] {
  const given = args ?? {};
  const names = new Set(fn.params.map((p) => p.name));
  const unknown = Object.keys(given).filter((key) => !names.has(key));
  if (unknown.length > 0) {
    throw new ArgumentsError(`${fn.name} has no parameter ${unknown.map((u) => `"${u}"`).join(", ")} (parameters: ${fn.params.map((p) => p.name).join(", ") || "none"}).`);
  }
  const missing = fn.params.filter((p) => !(p.name in given) && !isOptionalParameter(p.type)).map((p) => p.name);
  if (missing.length > 0) throw new ArgumentsError(`${fn.name} needs the parameter${missing.length > 1 ? "s" : ""} ${missing.map((m) => `"${m}"`).join(", ")}.`);
  return fn.params.map((p) => (p.name in given ? given[p.name] : null));
}
