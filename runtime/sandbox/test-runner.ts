/**
 * Runs language-neutral test vectors (sdk/test-vectors.ts) against a prepared component, through
 * a pool when given one (isolated, the executor's upload check) or in-process (CLI, tests).
 */
import { parseTestVectors, type JsonValue, type TestCase, type TestVectors } from "../../sdk/test-vectors.ts";
import { unalias, type FunctionSignature, type WitType } from "../../sdk/wit.ts";
import { ComponentRuntimeError } from "../errors.ts";
import { callComposed, type DependencyLink } from "./composition.ts";
import { DEFAULT_LIMITS, LoadedComponent, type CallLimits } from "./instance.ts";
import type { ComponentPool } from "./pool.ts";
import type { PreparedComponent } from "./prepare.ts";
import { ValueConversionError, guestToJson, jsonToGuest } from "./values.ts";

export type CaseOutcome = { ok: JsonValue } | { error: JsonValue } | { failure: { code: string; message: string } };

export interface TestCaseReport {
  name: string;
  function: string;
  passed: boolean;
  expected: TestCase["expect"];
  actual: CaseOutcome;
  fuelUsed?: number;
  /** Why it failed, in words. */
  reason?: string;
}

export interface TestReport {
  world: string;
  interface: string;
  total: number;
  passed: number;
  failed: number;
  cases: TestCaseReport[];
}

export interface RunTestOptions {
  pool?: ComponentPool;
  limits?: Partial<CallLimits>;
  /** Dependencies to link into every call (a component that imports other capabilities). */
  dependencies?: DependencyLink[];
}

/** Canonical JSON of `value` as type `type` (so 5 and "5" compare equal for a u64). */
function canonical(type: WitType | null, value: JsonValue): JsonValue {
  if (type === null) return value;
  return guestToJson(type, jsonToGuest(type, value, "expected"));
}

function stableStringify(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(value[k]!)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

function judge(fn: FunctionSignature | undefined, expect: TestCase["expect"], actual: CaseOutcome): string | undefined {
  const resultType = fn?.result ? unalias(fn.result) : null;
  const isResult = resultType?.kind === "result";
  if ("failure" in actual) {
    if ("error" in expect && typeof expect.error === "string" && (actual.failure.code === expect.error || actual.failure.message.includes(expect.error))) return undefined;
    return `the call failed (${actual.failure.code}): ${actual.failure.message}`;
  }
  try {
    if ("ok" in expect) {
      if (!("ok" in actual)) return `expected ok ${stableStringify(expect.ok)} but got error ${stableStringify((actual as { error: JsonValue }).error)}`;
      const okType = isResult && resultType.kind === "result" ? resultType.ok : fn?.result ?? null;
      const want = canonical(okType, expect.ok);
      return stableStringify(want) === stableStringify(actual.ok) ? undefined : `expected ${stableStringify(want)} but got ${stableStringify(actual.ok)}`;
    }
    if (!("error" in actual)) return `expected error ${stableStringify(expect.error)} but got ok ${stableStringify(actual.ok)}`;
    const errType = isResult && resultType.kind === "result" ? resultType.err : null;
    const want = canonical(errType, expect.error);
    return stableStringify(want) === stableStringify(actual.error) ? undefined : `expected error ${stableStringify(want)} but got error ${stableStringify(actual.error)}`;
  } catch (error) {
    if (error instanceof ValueConversionError) return `the expected value does not fit the function's result type: ${error.message}`;
    throw error;
  }
}

/** Runs every case; never throws for a failing case (the report says why), only for unusable vectors. */
export async function runTestVectors(prepared: PreparedComponent, vectorsInput: TestVectors | string | unknown, options: RunTestOptions = {}): Promise<TestReport> {
  const vectors = parseTestVectors(typeof vectorsInput === "string" ? vectorsInput : vectorsInput);
  const iface = prepared.interface;
  if (vectors.interface && vectors.interface !== iface.name && vectors.interface !== iface.qualifiedName) {
    throw new Error(`The test vectors target interface "${vectors.interface}" but the component implements "${iface.name}".`);
  }
  const limits: CallLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const local = options.pool ? undefined : await LoadedComponent.load(prepared);
  const dependencies = options.dependencies ?? [];
  const loadedDependencies = new Map<string, Promise<LoadedComponent>>();
  const loadDependency = (p: PreparedComponent): Promise<LoadedComponent> => {
    let entry = loadedDependencies.get(p.dir);
    if (!entry) loadedDependencies.set(p.dir, (entry = LoadedComponent.load(p)));
    return entry;
  };
  const cases: TestCaseReport[] = [];
  for (const testCase of vectors.cases) {
    const fn = iface.functions.find((f) => f.name === testCase.function);
    let actual: CaseOutcome;
    let fuelUsed: number | undefined;
    try {
      const fuel = testCase.fuel ?? limits.fuel;
      const outcome = options.pool
        ? await options.pool.call(prepared, { function: testCase.function, args: testCase.args, fuel, maxOutputBytes: limits.maxOutputBytes, grants: limits.grants, dependencies })
        : dependencies.length > 0
          ? await callComposed(local!, dependencies, loadDependency, testCase.function, testCase.args, { ...limits, fuel })
          : await local!.call(testCase.function, testCase.args, { ...limits, fuel });
      fuelUsed = outcome.fuelUsed;
      const resultType = fn?.result ? unalias(fn.result) : null;
      const value = outcome.value;
      if (resultType?.kind === "result" && value !== null && typeof value === "object" && !Array.isArray(value)) {
        actual = "ok" in value ? { ok: value.ok! } : { error: value.error! };
      } else {
        actual = { ok: value };
      }
    } catch (error) {
      if (!(error instanceof ComponentRuntimeError)) throw error;
      actual = { failure: { code: error.code, message: error.message } };
      fuelUsed = error.fuelUsed;
    }
    const reason = judge(fn, testCase.expect, actual);
    const report: TestCaseReport = { name: testCase.name, function: testCase.function, passed: reason === undefined, expected: testCase.expect, actual };
    if (fuelUsed !== undefined) report.fuelUsed = fuelUsed;
    if (reason !== undefined) report.reason = reason;
    cases.push(report);
  }
  const passed = cases.filter((c) => c.passed).length;
  return { world: vectors.world, interface: iface.qualifiedName, total: cases.length, passed, failed: cases.length - passed, cases };
}

/** Human-readable report: one line per case, details for failures, a summary line. */
export function formatTestReport(report: TestReport): string {
  const lines = [`Test vectors for ${report.interface} (world ${report.world})`];
  for (const c of report.cases) {
    const fuel = c.fuelUsed !== undefined ? ` [fuel ${c.fuelUsed}]` : "";
    lines.push(`  ${c.passed ? "PASS" : "FAIL"}  ${c.name} (${c.function})${fuel}`);
    if (!c.passed) lines.push(`        ${c.reason}`);
  }
  lines.push(`${report.passed}/${report.total} passed${report.failed ? `, ${report.failed} failed` : ""}`);
  return lines.join("\n");
}
