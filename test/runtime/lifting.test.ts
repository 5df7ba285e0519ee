/**
 * Strict lifting (runtime/sandbox/lifting.ts) against a hand-written WAT component whose functions
 * return exactly the raw values a test asks for, through a real pool: every canonical ABI trap is
 * an InvalidResultError naming its rule and where in the result it happened, never a result; where
 * the spec normalizes instead (bool, flag bits), the spec's value comes back.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeInterface, type FunctionSignature } from "../../sdk/wit.ts";
import { alignment, flatten, size } from "../../runtime/sandbox/lifting.ts";
import { buildWatComponent } from "../../runtime/builder/index.ts";
import { ComponentPool, InvalidComponentError, InvalidResultError, prepareComponent, type JsonValue, type PreparedComponent } from "../../runtime/sandbox/index.ts";
import { LIFTING_WIT, buildLiftingComponent } from "../fixtures/components/fixtures.ts";

let cacheDir: string;
let prepared: PreparedComponent;
let pool: ComponentPool;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "glassbox-runtime-lifting-"));
  prepared = await prepareComponent(await buildLiftingComponent(), { witSource: LIFTING_WIT, world: "lifting", cacheDir });
  pool = new ComponentPool({ size: 1, maxOutputBytes: 100_000 });
});

afterAll(async () => {
  await pool?.close();
  await rm(cacheDir, { recursive: true, force: true });
});

const call = async (fn: string, ...args: JsonValue[]) => (await pool.call(prepared, { function: fn, args })).value;

async function violation(fn: string, args: JsonValue[]): Promise<{ rule: unknown; path: unknown; message: string }> {
  const error = await pool.call(prepared, { function: fn, args }).then(
    (result) => {
      throw new Error(`expected ${fn}(${JSON.stringify(args)}) to fail, got ${JSON.stringify(result.value)}`);
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidResultError);
  const typed = error as InvalidResultError;
  expect(typed.code).toBe("invalid_result");
  return { rule: typed.details.rule, path: typed.details.path, message: typed.message };
}

describe("strings", () => {
  it("lifts valid UTF-8 and traps on invalid UTF-8, encoded surrogates included", async () => {
    expect(await call("text", [0x68, 0xc3, 0xa9])).toBe("hé");
    expect(await violation("text", [[0xff]])).toMatchObject({ rule: "utf8", path: "result", message: expect.stringMatching(/"text" returned an invalid value at result: the string is not valid UTF-8/) });
    expect(await violation("text", [[0x61, 0xed, 0xa0, 0x80]])).toMatchObject({ rule: "utf8" });
    expect(await violation("text", [[0xc3]])).toMatchObject({ rule: "utf8" }); // truncated sequence
  });

  it("checks UTF-8 inside lists too, naming the element", async () => {
    expect(await call("words", [0x6f, 0x6b])).toEqual(["ok"]);
    expect(await violation("words", [[0xc3, 0x28]])).toMatchObject({ rule: "utf8", path: "result[0]" });
  });

  it("traps on a string outside guest memory or longer than the canonical ABI allows", async () => {
    expect(await call("text-at", 65535, 1)).toBe("\u0000"); // the last byte of memory is fine
    expect(await violation("text-at", [65530, 100])).toMatchObject({ rule: "bounds", message: expect.stringMatching(/100 bytes at 65530.*65536-byte guest memory/) });
    expect(await violation("text-at", [4294967295, 2])).toMatchObject({ rule: "bounds" });
    expect(await violation("text-at", [0, 2 ** 28])).toMatchObject({ rule: "length" });
  });
});

describe("lists", () => {
  it("traps on a misaligned or out-of-bounds list", async () => {
    expect(await call("numbers-at", 1024, 2)).toEqual([1024, 0]); // the return area itself: ptr, len
    expect(await violation("numbers-at", [1, 2])).toMatchObject({ rule: "alignment", message: expect.stringMatching(/list at 1 is not aligned to 2/) });
    expect(await violation("numbers-at", [65534, 2])).toMatchObject({ rule: "bounds" });
    expect(await violation("numbers-at", [0, 2 ** 27])).toMatchObject({ rule: "length" });
  });

  it("traps on a return area that is misaligned or outside memory", async () => {
    expect(await violation("return-area", [1025])).toMatchObject({ rule: "alignment", message: expect.stringMatching(/return area at 1025/) });
    expect(await violation("return-area", [0xfffffff0])).toMatchObject({ rule: "bounds" });
  });
});

describe("chars, bools, flags", () => {
  it("traps on a char that is not a Unicode scalar value", async () => {
    expect(await call("letter", 0x1f600)).toBe("😀");
    expect(await violation("letter", [0xd800])).toMatchObject({ rule: "char", message: expect.stringMatching(/0xd800 is a surrogate/) });
    expect(await violation("letter", [0x110000])).toMatchObject({ rule: "char", message: expect.stringMatching(/not a Unicode code point/) });
    expect(await violation("labelled", [1, 0xdfff])).toMatchObject({ rule: "char", path: "result.letter" });
  });

  it("lifts any non-zero bool as true, flat or in memory, as the canonical ABI says", async () => {
    expect([await call("truth", 0), await call("truth", 1), await call("truth", 2), await call("truth", 0xffffffff)]).toEqual([false, true, true, true]);
    expect(await call("labelled", 0, 0x41)).toEqual({ on: false, letter: "A" });
    expect(await call("labelled", 7, 0x42)).toEqual({ on: true, letter: "B" });
  });

  it("ignores flag bits beyond the last label, as the canonical ABI says", async () => {
    expect(await call("access", 0b101)).toEqual(["read", "exec"]);
    expect(await call("access", 0b1010)).toEqual(["write"]);
    expect(await call("access", 0xfffffff8)).toEqual([]);
  });
});

describe("enums, variants, options, results", () => {
  it("traps on an enum discriminant out of range", async () => {
    expect(await call("paint", 2)).toBe("blue");
    expect(await violation("paint", [3])).toMatchObject({ rule: "discriminant", message: expect.stringMatching(/case 3 does not exist \(color has 3: red, green, blue\)/) });
    expect(await violation("paint", [0x80000000])).toMatchObject({ rule: "discriminant" });
  });

  it("traps on a variant, option or result case out of range, and checks the payload of a valid one", async () => {
    expect(await call("figure", 1, 7)).toEqual({ tag: "circle", val: 7 });
    expect(await call("figure", 2, 2000)).toEqual({ tag: "label", val: "" });
    expect(await violation("figure", [3, 0])).toMatchObject({ rule: "discriminant", message: expect.stringMatching(/shape has 3: none, circle, label/) });
    expect([await call("maybe", 1, 5), await call("maybe", 0, 9)]).toEqual([5, null]);
    expect(await violation("maybe", [2, 0])).toMatchObject({ rule: "discriminant" });
    expect([await call("outcome", 0), await call("outcome", 1)]).toEqual([{ ok: 7 }, { error: "no" }]);
    expect(await violation("outcome", [2])).toMatchObject({ rule: "discriminant" });
  });

  it("keeps serving after every violation", async () => {
    for (const bytes of [[0xff], [0xc3]]) await violation("text", [bytes]);
    expect(await call("text", [0x6f, 0x6b])).toBe("ok");
  });
});

describe("failing closed", () => {
  it("refuses to run a component whose results it could not check (core exports without the canonical ABI's names)", async () => {
    const wit = "package glassbox:odd@0.1.0;\n\ninterface api {\n  get: func() -> u32;\n}\n\nworld odd {\n  export api;\n}\n";
    const wat = `(component
      (core module $m (func (export "some-other-name") (result i32) (i32.const 1)))
      (core instance $i (instantiate $m))
      (func $get (result u32) (canon lift (core func $i "some-other-name")))
      (instance $api (export "get" (func $get)))
      (export "glassbox:odd/api@0.1.0" (instance $api)))`;
    const odd = await prepareComponent(await buildWatComponent({ wat }), { witSource: wit, world: "odd", cacheDir });
    const warm = pool.warm(odd);
    await expect(warm).rejects.toBeInstanceOf(InvalidComponentError);
    await expect(warm).rejects.toThrow(/"glassbox:odd\/api@0\.1\.0#get".*cannot check those results/);
    await expect(pool.call(odd, { function: "get", args: [] })).rejects.toBeInstanceOf(InvalidComponentError);
  });
});

describe("canonical ABI layout", () => {
  const fn = (name: string): FunctionSignature => describeInterface(LIFTING_WIT, "lifting").functions.find((f) => f.name === name)!;
  it("matches the spec for the fixture's types", () => {
    expect([size(fn("figure").result!), alignment(fn("figure").result!), flatten(fn("figure").result!)]).toEqual([12, 4, ["i32", "i32", "i32"]]);
    expect([size(fn("labelled").result!), alignment(fn("labelled").result!), flatten(fn("labelled").result!)]).toEqual([8, 4, ["i32", "i32"]]);
    expect([size(fn("access").result!), alignment(fn("access").result!), flatten(fn("access").result!)]).toEqual([1, 1, ["i32"]]);
    expect([size(fn("outcome").result!), flatten(fn("outcome").result!)]).toEqual([12, ["i32", "i32", "i32"]]);
    expect(flatten({ kind: "variant", name: "v", cases: [{ name: "a", type: { kind: "f32" } }, { name: "b", type: { kind: "u64" } }] })).toEqual(["i32", "i64"]);
    expect(flatten({ kind: "option", some: { kind: "f32" } })).toEqual(["i32", "f32"]);
    expect(size({ kind: "tuple", items: [{ kind: "u8" }, { kind: "u64" }, { kind: "u16" }] })).toBe(24);
  });
});
