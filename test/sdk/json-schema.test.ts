/**
 * JSON Schemas from WIT: one check per WIT type, validated with a real 2020-12 validator (ajv), and
 * agreement with the executor's own value conversion (runtime/sandbox/values.ts) on every sample
 * capability's test vectors: a vector's arguments fit the input schema exactly when the executor
 * accepts them, and every expected answer (what the component really returns) fits the output schema.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { argumentsToGuest, guestToJson, jsonToGuest } from "../../runtime/sandbox/values.ts";
import {
  ArgumentsError,
  functionInputSchema,
  functionOutputSchema,
  JSON_SCHEMA_DIALECT,
  positiveDecimalUpTo,
  S64_DECIMAL_PATTERN,
  toPositionalArguments,
  U64_DECIMAL_PATTERN,
  withDialect,
  witTypeSchema,
  type JsonSchema,
} from "../../sdk/json-schema.ts";
import { parseTestVectors, type JsonValue } from "../../sdk/test-vectors.ts";
import { documentInterface, unalias, type FunctionSignature, type WitType } from "../../sdk/wit.ts";
import { REPO_ROOT } from "../../cli/config.ts";

const ajv = new Ajv2020({ strict: true, allErrors: true, strictTuples: false });
ajv.addKeyword("x-wit-parameters");

function validator(schema: JsonSchema): (value: unknown) => boolean {
  const validate = ajv.compile(withDialect(schema));
  return (value) => validate(value) as boolean;
}

const WIT = `package demo:types@1.0.0;

interface all {
  /// A point on the plane.
  record point {
    /// Left to right.
    x: s32,
    y: s32,
  }
  /// A shape.
  variant shape {
    /// A circle of this radius.
    circle(u32),
    dot,
  }
  /// Directions.
  enum dir {
    /// Up the page.
    up,
    down,
  }
  /// Styles.
  flags style { bold, italic }
  /// Identifiers.
  type id = u64;

  /// Uses every type.
  every: func(a: bool, b: s8, c: s16, d: s32, e: u8, f: u16, g: u32, h: s64, i: u64, j: f32, k: f64, l: char, m: string,
    n: list<u8>, o: tuple<string, u32>, p: point, q: shape, r: dir, s: style, t: option<string>, u: option<option<u32>>,
    v: result<point, string>, w: result, x: id) -> result<list<point>, shape>;
  nothing: func();
}

world types { export all; }
`;

const docs = documentInterface(WIT, "types");
const every = docs.functions.find((f) => f.name === "every")!;
const paramType = (name: string): WitType => every.params.find((p) => p.name === name)!.type;
const input = (name: string) => validator(witTypeSchema(paramType(name), "input", docs));
const output = (name: string) => validator(witTypeSchema(paramType(name), "output", docs));

/** What the executor does with an argument: accept (true) or refuse (false). */
function executorAccepts(type: WitType, value: unknown): boolean {
  try {
    jsonToGuest(type, value as JsonValue, "x");
    return true;
  } catch {
    return false;
  }
}

/** Every case is checked against the schema and against the executor, which must agree. */
function agrees(name: string, accepted: unknown[], refused: unknown[]): void {
  const valid = input(name);
  for (const value of accepted) {
    expect(valid(value), `${name} schema accepts ${JSON.stringify(value)}`).toBe(true);
    expect(executorAccepts(paramType(name), value), `${name} executor accepts ${JSON.stringify(value)}`).toBe(true);
  }
  for (const value of refused) {
    expect(valid(value), `${name} schema refuses ${JSON.stringify(value)}`).toBe(false);
  }
}

describe("WIT types as JSON Schema", () => {
  it("bool", () => agrees("a", [true, false], [0, "true", null]));

  it("every integer width has its exact range", () => {
    const ranges: [string, number, number][] = [
      ["b", -128, 127],
      ["c", -32768, 32767],
      ["d", -2147483648, 2147483647],
      ["e", 0, 255],
      ["f", 0, 65535],
      ["g", 0, 4294967295],
    ];
    for (const [name, min, max] of ranges) {
      agrees(name, [min, max, 0], [min - 1, max + 1, 1.5, "1"]);
      expect(executorAccepts(paramType(name), min - 1)).toBe(false);
      expect(executorAccepts(paramType(name), max + 1)).toBe(false);
    }
  });

  it("u64 and s64: decimal strings of the exact range, or safe integers; results always strings", () => {
    agrees("i", ["0", "18446744073709551615", "42", 0, Number.MAX_SAFE_INTEGER], ["18446744073709551616", "-1", -1, "01", "1e3", 1.5, Number.MAX_SAFE_INTEGER + 2]);
    agrees("h", ["-9223372036854775808", "9223372036854775807", "0", -5, Number.MAX_SAFE_INTEGER], ["9223372036854775808", "-9223372036854775809", "-0", "+1", "00"]);
    expect(executorAccepts(paramType("i"), "18446744073709551616")).toBe(false);
    expect(executorAccepts(paramType("h"), "-9223372036854775809")).toBe(false);
    expect(output("i")("18446744073709551615")).toBe(true);
    expect(output("i")(5)).toBe(false);
    // An alias keeps its name as the title and its range.
    expect(witTypeSchema(paramType("x"), "output", docs).title).toBe("id");
    expect(output("x")("18446744073709551615")).toBe(true);
  });

  it("the decimal patterns match exactly the numerals in range (boundaries and random values)", () => {
    const u64 = new RegExp(U64_DECIMAL_PATTERN);
    const s64 = new RegExp(S64_DECIMAL_PATTERN);
    const inU64 = (n: bigint) => n >= 0n && n < 2n ** 64n;
    const inS64 = (n: bigint) => n >= -(2n ** 63n) && n < 2n ** 63n;
    const samples: bigint[] = [0n, 1n, 9n, 10n, 99n, 100n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 63n + 1n, -(2n ** 63n), -(2n ** 63n) - 1n, 2n ** 64n - 1n, 2n ** 64n, 10n ** 19n, 10n ** 20n, -1n];
    let seed = 7n;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
      const digits = Number(seed % 21n);
      const value = seed % 10n ** BigInt(Math.max(1, digits)) * (seed % 3n === 0n ? -1n : 1n);
      samples.push(value, 2n ** 64n - 1n - (seed % 1000n), 2n ** 64n + (seed % 1000n), 2n ** 63n - (seed % 1000n), 2n ** 63n + (seed % 1000n));
    }
    for (const n of samples) {
      expect(u64.test(n.toString()), `u64 ${n}`).toBe(inU64(n));
      expect(s64.test(n.toString()), `s64 ${n}`).toBe(inS64(n));
    }
    for (let max = 1n; max < 2000n; max += 1n) {
      const re = new RegExp(`^${positiveDecimalUpTo(max)}$`);
      for (const n of [max - 1n, max, max + 1n, max * 10n]) expect(re.test(n.toString()), `${n} <= ${max}`).toBe(n >= 1n && n <= max);
    }
  });

  it("floats: numbers, and the non-finite values as the executor spells them", () => {
    agrees("j", [1.5, 0, -3, "NaN", "Infinity", "-Infinity"], ["nan", "1.5", null]);
    agrees("k", [1e300, "NaN"], [true]);
  });

  it("char is one code point (also outside the BMP); string is any string", () => {
    agrees("l", ["a", "é", "😀"], ["", "ab", 1]);
    agrees("m", ["", "hello"], [1, null]);
  });

  it("lists and tuples", () => {
    agrees("n", [[], [0, 255]], [[256], "ab", [null]]);
    agrees("o", [["a", 1]], [["a"], ["a", 1, 2], [1, "a"]]);
  });

  it("records: every field required, no extras, field docs kept", () => {
    agrees("p", [{ x: 1, y: -2 }], [{ x: 1 }, { x: 1, y: 2, z: 3 }, [1, 2]]);
    const schema = witTypeSchema(paramType("p"), "input", docs) as { title: string; description: string; properties: Record<string, { description: string }> };
    expect(schema.title).toBe("point");
    expect(schema.description).toContain("A point on the plane.");
    expect(schema.properties.x!.description).toContain("Left to right.");
  });

  it("variants: {tag, val} with the payload only for cases that have one", () => {
    agrees("q", [{ tag: "circle", val: 3 }, { tag: "dot" }], [{ tag: "circle" }, { tag: "square" }, { tag: "dot", val: 1 }, "dot"]);
    const schema = witTypeSchema(paramType("q"), "input", docs) as { oneOf: { title: string; description?: string }[] };
    expect(schema.oneOf.find((c) => c.title === "circle")!.description).toContain("A circle of this radius.");
  });

  it("enums and flags: names only, case docs in the description", () => {
    agrees("r", ["up", "down"], ["left", 0]);
    expect(String(witTypeSchema(paramType("r"), "input", docs).description)).toContain("up: Up the page.");
    agrees("s", [[], ["bold"], ["bold", "italic"]], [["bold", "bold"], ["under"], "bold"]);
  });

  it("options: null for none; a nested option's some as {some: ...}", () => {
    agrees("t", [null, "x"], [1]);
    agrees("u", [null, { some: null }, { some: 3 }], [3, { some: "x" }]);
    expect(output("u")({ some: 3 })).toBe(true);
  });

  it("results: {ok} or {error}, an empty result's payloads null", () => {
    agrees("v", [{ ok: { x: 1, y: 2 } }, { error: "bad" }], [{ ok: 1 }, { ok: { x: 1, y: 2 }, error: "x" }, { err: "x" }]);
    agrees("w", [{ ok: null }, { error: null }], [{ ok: 1 }]);
  });
});

describe("function schemas", () => {
  it("input: an object keyed by parameter name, positional order recorded, options optional", () => {
    const schema = functionInputSchema(every, docs) as { type: string; required: string[]; properties: Record<string, unknown>; "x-wit-parameters": string[] };
    expect(schema.type).toBe("object");
    expect(schema["x-wit-parameters"]).toEqual(every.params.map((p) => p.name));
    expect(Object.keys(schema.properties)).toEqual(every.params.map((p) => p.name));
    expect(schema.required).not.toContain("t");
    expect(schema.required).not.toContain("u");
    expect(schema.required).toContain("a");
  });

  it("output: {result: value}; a function without a result answers null", () => {
    const valid = validator(functionOutputSchema(every, docs));
    expect(valid({ result: { ok: [{ x: 1, y: 2 }] } })).toBe(true);
    expect(valid({ result: { error: { tag: "dot" } } })).toBe(true);
    expect(valid({ result: { ok: [{ x: 1 }] } })).toBe(false);
    const nothing = docs.functions.find((f) => f.name === "nothing")!;
    expect(validator(functionOutputSchema(nothing, docs))({ result: null })).toBe(true);
  });

  it("named arguments to positional ones: absent options are none; unknown and missing names refused", () => {
    const fn: FunctionSignature = { name: "f", params: [{ name: "a", type: { kind: "string" } }, { name: "b", type: { kind: "option", some: { kind: "u32" } } }], result: null };
    expect(toPositionalArguments(fn, { a: "x" })).toEqual(["x", null]);
    expect(toPositionalArguments(fn, { b: 3, a: "x" })).toEqual(["x", 3]);
    expect(() => toPositionalArguments(fn, { a: "x", c: 1 })).toThrow(ArgumentsError);
    expect(() => toPositionalArguments(fn, { a: "x", c: 1 })).toThrow(/no parameter "c"/);
    expect(() => toPositionalArguments(fn, {})).toThrow(/needs the parameter "a"/);
  });

  it("a standalone document names the 2020-12 dialect", () => {
    expect(withDialect(functionInputSchema(every, docs)).$schema).toBe(JSON_SCHEMA_DIALECT);
  });
});

describe("the sample capabilities: schemas agree with the executor on every test vector", () => {
  const root = path.join(REPO_ROOT, "capabilities");
  const samples = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && readdirSync(path.join(root, e.name)).includes("glassbox.json"));

  it("finds the samples", () => expect(samples.length).toBeGreaterThanOrEqual(4));

  for (const sample of samples) {
    it(sample.name, () => {
      const dir = path.join(root, sample.name);
      const manifest = JSON.parse(readFileSync(path.join(dir, "glassbox.json"), "utf8")) as { wit: { file: string; world: string; interface?: string }; tests: string };
      const iface = documentInterface(readFileSync(path.join(dir, manifest.wit.file), "utf8"), manifest.wit.world, manifest.wit.interface);
      const vectors = parseTestVectors(readFileSync(path.join(dir, manifest.tests), "utf8"));
      let inputsChecked = 0;
      let outputsChecked = 0;
      for (const testCase of vectors.cases) {
        const fn = iface.functions.find((f) => f.name === testCase.function);
        if (!fn) continue;
        const args = testCase.args;
        const named = Array.isArray(args) ? Object.fromEntries(fn.params.map((p, i) => [p.name, args[i]])) : args;
        const schemaAccepts = Array.isArray(args) && args.length !== fn.params.length ? false : validator(functionInputSchema(fn, iface))(named);
        const executorAccepts = argumentsToGuest(fn, testCase.args).problem === undefined;
        expect(schemaAccepts, `${testCase.name}: schema and executor agree on ${JSON.stringify(testCase.args).slice(0, 200)}`).toBe(executorAccepts);
        inputsChecked++;
        if (!executorAccepts || !fn.result) continue;
        // The answer as the executor returns it (canonical encoding), built from the vector as the test runner does.
        const resultType = unalias(fn.result);
        let answer: JsonValue | undefined;
        if (resultType.kind === "result") {
          const [key, type] = "ok" in testCase.expect ? (["ok", resultType.ok] as const) : (["error", resultType.err] as const);
          const payload = "ok" in testCase.expect ? testCase.expect.ok : testCase.expect.error;
          try {
            answer = { [key]: type ? guestToJson(type, jsonToGuest(type, payload, "expected")) : null };
          } catch {
            answer = undefined; // an expected failure code (trap, out of fuel), not an error payload
          }
        } else if ("ok" in testCase.expect) {
          answer = guestToJson(fn.result, jsonToGuest(fn.result, testCase.expect.ok, "expected"));
        }
        if (answer === undefined) continue;
        expect(validator(functionOutputSchema(fn, iface))({ result: answer }), `${testCase.name}: output ${JSON.stringify(answer).slice(0, 200)}`).toBe(true);
        outputsChecked++;
      }
      expect(inputsChecked).toBeGreaterThan(0);
      expect(outputsChecked).toBeGreaterThan(0);
    });
  }
});
