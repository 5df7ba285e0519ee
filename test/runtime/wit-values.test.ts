/** The WIT reader (sdk/wit.ts), JSON <-> WIT value conversion and the test-vector format. */
import { describe, expect, it } from "vitest";
import { describeInterface, describeWorld, formatSignature, parseWit, printInterfaceWit, WitParseError, type WitType } from "../../sdk/wit.ts";
import { parseTestVectors, TestVectorFormatError } from "../../sdk/test-vectors.ts";
import { guestToJson, jsonToGuest, ValueConversionError, type JsonValue } from "../../runtime/sandbox/values.ts";
import { TEXT_WIT, TINY_WIT } from "../fixtures/components/fixtures.ts";

describe("WIT reader", () => {
  it("describes the exported interface with resolved function signatures", () => {
    const iface = describeInterface(TEXT_WIT, "text-tools");
    expect(iface.qualifiedName).toBe("glassbox:text/text@0.1.0");
    const byName = new Map(iface.functions.map((f) => [f.name, formatSignature(f)]));
    expect(byName.get("analyze")).toBe("func(words: list<string>) -> stats");
    expect(byName.get("parse-number")).toBe("func(s: string) -> result<f64, string>");
    expect(byName.get("pair")).toBe("func(t: tuple<u8, char>) -> tuple<char, u8>");
    const analyze = iface.functions.find((f) => f.name === "analyze")!;
    expect(analyze.result).toEqual({
      kind: "record",
      name: "stats",
      fields: [
        { name: "words", type: { kind: "u32" } },
        { name: "longest", type: { kind: "option", some: { kind: "string" } } },
        { name: "total-chars", type: { kind: "u32" } },
      ],
    });
  });

  it("lists world imports and skips nested dependency packages", () => {
    const world = describeWorld(TINY_WIT, "tiny-with-imports");
    expect(world.imports).toEqual(["wasi:random/random@0.2.3", "wasi:cli/environment@0.2.3", "wasi:clocks/wall-clock@0.2.3"]);
    expect(world.exports.map((e) => e.qualifiedName)).toEqual(["glassbox:tiny/calc@0.1.0"]);
  });

  it("resolves use, aliases and gates", () => {
    const wit = `package a:b@1.0.0;
      interface types { record point { x: s32, y: s32 } }
      interface api {
        use types.{point as pt};
        type id = u64;
        @since(version = 1.0.0)
        move: func(p: pt, by: id) -> pt;
      }
      world w { export api; }`;
    const fn = describeInterface(wit, "w").functions[0]!;
    expect(formatSignature(fn)).toBe("func(p: point, by: id) -> point");
    expect(printInterfaceWit("api", [fn])).toContain("type id = u64;");
  });

  it("reports errors with line numbers and what is unsupported", () => {
    expect(() => parseWit("package a:b;\ninterface x {\n  f: func(a: nope) -> u32;\n}\nworld w { export x; }")).not.toThrow();
    expect(() => describeWorld("package a:b;\ninterface x {\n  f: func(a: nope) -> u32;\n}\nworld w { export x; }", "w")).toThrow(/line 3: unknown type "nope"/);
    expect(() => parseWit("package a:b;\ninterface x {\n  resource r;\n}")).toThrow(WitParseError);
    expect(() => describeWorld(TINY_WIT, "missing")).toThrow(/no world "missing".*tiny, tiny-with-imports/);
  });
});

describe("JSON <-> WIT values", () => {
  const roundTrip = (type: WitType, json: JsonValue): JsonValue => guestToJson(type, jsonToGuest(type, json, "x"));

  it("round-trips every kind", () => {
    expect(roundTrip({ kind: "u64" }, "18446744073709551615")).toBe("18446744073709551615");
    expect(roundTrip({ kind: "s64" }, -5)).toBe("-5");
    expect(roundTrip({ kind: "f64" }, "NaN")).toBe("NaN");
    expect(roundTrip({ kind: "f32" }, 1.5)).toBe(1.5);
    expect(roundTrip({ kind: "char" }, "😀")).toBe("😀");
    expect(jsonToGuest({ kind: "list", element: { kind: "u8" } }, [1, 2], "x")).toBeInstanceOf(Uint8Array);
    expect(roundTrip({ kind: "list", element: { kind: "u8" } }, [1, 2])).toEqual([1, 2]);
    const flags: WitType = { kind: "flags", name: "f", flags: ["read", "write-all"] };
    expect(jsonToGuest(flags, ["write-all"], "x")).toEqual({ read: false, writeAll: true });
    expect(roundTrip(flags, ["write-all"])).toEqual(["write-all"]);
    const nested: WitType = { kind: "option", some: { kind: "option", some: { kind: "u8" } } };
    expect(roundTrip(nested, null)).toBe(null);
    expect(roundTrip(nested, { some: null })).toEqual({ some: null });
    expect(roundTrip(nested, { some: 3 })).toEqual({ some: 3 });
    const result: WitType = { kind: "result", ok: null, err: { kind: "string" } };
    expect(roundTrip(result, { ok: null })).toEqual({ ok: null });
    expect(roundTrip(result, { error: "bad" })).toEqual({ error: "bad" });
    const record: WitType = { kind: "record", name: "r", fields: [{ name: "total-chars", type: { kind: "u32" } }] };
    expect(jsonToGuest(record, { "total-chars": 1 }, "x")).toEqual({ totalChars: 1 });
  });

  it("rejects wrong values with the path of the offending part", () => {
    const list: WitType = { kind: "list", element: { kind: "record", name: "p", fields: [{ name: "x", type: { kind: "s8" } }] } };
    expect(() => jsonToGuest(list, [{ x: 1 }, { x: 200 }], "points")).toThrow(/points\[1\]\.x: expected an integer in -128\.\.127/);
    expect(() => jsonToGuest(list, [{ x: 1, y: 2 }], "points")).toThrow(/points\[0\]\.y: record p has no field "y"/);
    expect(() => jsonToGuest({ kind: "u64" }, 2 ** 60, "n")).toThrow(ValueConversionError);
    expect(() => jsonToGuest({ kind: "u64" }, "-1", "n")).toThrow(/n: expected a u64/);
    expect(() => jsonToGuest({ kind: "enum", name: "e", cases: ["a"] }, "b", "e")).toThrow(/one of "a"/);
    expect(() => jsonToGuest({ kind: "variant", name: "v", cases: [{ name: "a", type: null }] }, { tag: "z" }, "v")).toThrow(/v\.tag: variant v has no case "z"/);
    expect(() => jsonToGuest({ kind: "tuple", items: [{ kind: "bool" }] }, [true, false], "t")).toThrow(/tuple \(JSON array\) of 1 items/);
  });

  it("refuses strings with lone surrogates (UTF-8 cannot carry them; the glue would turn them into U+FFFD)", () => {
    expect(() => jsonToGuest({ kind: "string" }, "a\ud800b", "s")).toThrow(/s: expected a well-formed Unicode string \(it holds a lone surrogate\)/);
    expect(() => jsonToGuest({ kind: "string" }, "\udc00", "s")).toThrow(ValueConversionError);
    expect(jsonToGuest({ kind: "string" }, "a\ud83d\ude00b", "s")).toBe("a😀b");
  });
});

describe("test-vector format", () => {
  it("accepts a valid file", () => {
    const vectors = parseTestVectors('{"world":"w","cases":[{"name":"a","function":"f","args":[1],"expect":{"ok":2}}]}');
    expect(vectors.cases[0]!.expect).toEqual({ ok: 2 });
  });

  it("names the case and field of every problem", () => {
    const bad = (value: unknown) => () => parseTestVectors(value);
    expect(bad("{")).toThrow(/not valid JSON/);
    expect(bad({ cases: [] })).toThrow(/at world:/);
    expect(bad({ world: "w", cases: [{ name: "one", function: "f", args: [], expect: { ok: 1, error: 2 } }] })).toThrow(/cases\[0\] \("one"\)\.expect/);
    expect(bad({ world: "w", cases: [{ name: "one", function: "Bad_Name", args: [], expect: { ok: 1 } }] })).toThrow(/cases\[0\] \("one"\)\.function/);
    expect(bad({ world: "w", cases: [{ name: "one", function: "f", args: 5, expect: { ok: 1 } }] })).toThrow(/\.args/);
    expect(bad({ world: "w", cases: [{ name: "a", function: "f", args: [], expect: { ok: 1 } }, { name: "a", function: "f", args: [], expect: { ok: 1 } }] })).toThrow(/cases\[1\] \("a"\)\.name: duplicate/);
    expect(bad({ world: "w", cases: [{ name: "a", function: "f", args: [], expect: { ok: 1 }, fuel: -1 }] })).toThrow(TestVectorFormatError);
  });
});
