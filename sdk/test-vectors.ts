/**
 * Language-neutral JSON test vectors (DESIGN.md, "Tests format"), shared by the CLI, the executor
 * (at upload) and the catalog:
 *
 * {
 *   "world": "markdown",                  // WIT world the vectors target
 *   "interface": "render",                // optional: exported interface (when the world has several)
 *   "cases": [
 *     { "name": "adds", "function": "add", "args": [1, 2], "expect": { "ok": 3 } },
 *     { "name": "by name", "function": "add", "args": { "a": 1, "b": 2 }, "expect": { "ok": 3 } },
 *     { "name": "div by zero", "function": "divide", "args": [1, 0], "expect": { "error": "division by zero" } },
 *     { "name": "bad input", "function": "add", "args": [1], "expect": { "error": "invalid_arguments" } }
 *   ]
 * }
 *
 * Values use the runtime's JSON encoding of WIT values (see runtime/sandbox/values.ts: u64/s64 as
 * decimal strings or safe integers, variants as {"tag","val"}, options as null/value, results as
 * {"ok"}/{"error"}). `expect.ok` is the returned value (for a function returning result<T, E>, the
 * T payload). `expect.error` is the E payload of a function returning result<T, E>; for a call
 * that fails (trap, out of fuel, invalid arguments...) it is a string equal to the runtime error
 * code or contained in its message. Optional per-case "fuel" sets the budget.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type TestExpectation = { ok: JsonValue } | { error: JsonValue };

export interface TestCase {
  name: string;
  function: string;
  args: JsonValue[] | { [parameter: string]: JsonValue };
  expect: TestExpectation;
  fuel?: number;
}

export interface TestVectors {
  world: string;
  interface?: string;
  cases: TestCase[];
}

export class TestVectorFormatError extends Error {
  override name = "TestVectorFormatError";
  /** JSON path of the offending field, e.g. `cases[2].expect`. */
  path: string;
  constructor(path: string, problem: string) {
    super(`Invalid test vectors at ${path}: ${problem}`);
    this.path = path;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function caseLabel(index: number, value: unknown): string {
  return isObject(value) && typeof value.name === "string" ? `cases[${index}] ("${value.name}")` : `cases[${index}]`;
}

/** Parses and validates test vectors (a JSON string or an already-parsed value). */
export function parseTestVectors(input: string | unknown): TestVectors {
  let data: unknown = input;
  if (typeof input === "string") {
    try {
      data = JSON.parse(input);
    } catch (error) {
      throw new TestVectorFormatError("(root)", `not valid JSON (${(error as Error).message})`);
    }
  }
  if (!isObject(data)) throw new TestVectorFormatError("(root)", "expected a JSON object with world and cases");
  if (typeof data.world !== "string" || data.world.length === 0) throw new TestVectorFormatError("world", "expected the WIT world name (non-empty string)");
  if (data.interface !== undefined && typeof data.interface !== "string") throw new TestVectorFormatError("interface", "expected a string (the exported interface name) or nothing");
  if (!Array.isArray(data.cases)) throw new TestVectorFormatError("cases", "expected an array of test cases");
  const known = new Set(["world", "interface", "cases", "$schema", "description"]);
  for (const key of Object.keys(data)) if (!known.has(key)) throw new TestVectorFormatError(key, `unknown field (allowed: ${[...known].join(", ")})`);
  const names = new Set<string>();
  const cases = data.cases.map((raw: unknown, index: number): TestCase => {
    const at = caseLabel(index, raw);
    if (!isObject(raw)) throw new TestVectorFormatError(at, "expected an object with name, function, args and expect");
    for (const key of Object.keys(raw)) {
      if (!["name", "function", "args", "expect", "fuel", "description"].includes(key)) throw new TestVectorFormatError(`${at}.${key}`, "unknown field (allowed: name, function, args, expect, fuel, description)");
    }
    if (typeof raw.name !== "string" || raw.name.length === 0) throw new TestVectorFormatError(`${at}.name`, "expected a non-empty string");
    if (names.has(raw.name)) throw new TestVectorFormatError(`${at}.name`, `duplicate case name "${raw.name}"`);
    names.add(raw.name);
    if (typeof raw.function !== "string" || !/^[a-z][a-z0-9-]*$/.test(raw.function)) throw new TestVectorFormatError(`${at}.function`, "expected a WIT function name (kebab-case)");
    if (!Array.isArray(raw.args) && !isObject(raw.args)) throw new TestVectorFormatError(`${at}.args`, "expected an array (positional) or an object (by parameter name)");
    const expect = raw.expect;
    if (!isObject(expect) || Object.keys(expect).length !== 1 || !("ok" in expect || "error" in expect)) {
      throw new TestVectorFormatError(`${at}.expect`, 'expected exactly one of {"ok": value} or {"error": value-or-message}');
    }
    if (raw.fuel !== undefined && (typeof raw.fuel !== "number" || !Number.isSafeInteger(raw.fuel) || raw.fuel <= 0)) {
      throw new TestVectorFormatError(`${at}.fuel`, "expected a positive integer fuel budget");
    }
    const testCase: TestCase = { name: raw.name, function: raw.function, args: raw.args as TestCase["args"], expect: expect as TestExpectation };
    if (raw.fuel !== undefined) testCase.fuel = raw.fuel as number;
    return testCase;
  });
  const vectors: TestVectors = { world: data.world, cases };
  if (typeof data.interface === "string") vectors.interface = data.interface;
  return vectors;
}
