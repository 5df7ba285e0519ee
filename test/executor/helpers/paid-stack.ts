import type { Hex } from "viem";
import { buildWatComponent } from "../../../runtime/builder/index.ts";
import { startExecutor, type ExecutorConfig, type RunningExecutor } from "../../../executor/service.ts";
import type { CallResponseBody, ErrorBody } from "../../../sdk/protocol.ts";
import { devAccount, devPrivateKey } from "../../helpers/chain.ts";
import type { CalcArtifacts, TestStack } from "./stack.ts";

const WIT = `package glassbox:meter@1.0.0;

interface meter {
  add: func(a: s32, b: s32) -> s32;
  div: func(a: s32, b: s32) -> s32;
  spin: func(n: s32) -> s32;
}

world meter-world {
  export meter;
}
`;

const PREFIX = "glassbox:meter/meter@1.0.0#";

/**
 * A tiny WAT component for payment tests: `add` (instant), `div` (traps on a zero divisor: a failed run
 * that must never be charged) and `spin(n)` (n loop turns: a slow run whose fuel grows with n).
 */
export async function buildMeter(): Promise<CalcArtifacts> {
  const wat = `(module
    (func (export "${PREFIX}add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
    (func (export "${PREFIX}div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
    (func (export "${PREFIX}spin") (param $n i32) (result i32)
      (block $done (loop $turn
        local.get $n i32.eqz br_if $done
        local.get $n i32.const 1 i32.sub local.set $n
        br $turn))
      local.get $n)
    (memory (export "memory") 1))`;
  const component = await buildWatComponent({ wat, witSource: WIT, world: "meter-world" });
  const tests = JSON.stringify({
    world: "meter-world",
    interface: "meter",
    cases: [
      { name: "adds", function: "add", args: [2, 3], expect: { ok: 5 } },
      { name: "divides", function: "div", args: [7, 2], expect: { ok: 3 } },
      { name: "spins", function: "spin", args: [10], expect: { ok: 0 } },
    ],
  });
  return { wit: WIT, component, tests };
}

export const METER = { world: "meter-world", interfaceName: "meter" } as const;

/**
 * An executor registered with `fee`, bonded with `bond` (the operator is funded for it first); the
 * operator is dev account `operatorIndex` (default: the stack's operator).
 */
export async function startPaidExecutor(
  stack: TestStack,
  opts: Partial<ExecutorConfig> & { fee: bigint; bond: bigint; dataDir?: string; operatorIndex?: number },
): Promise<RunningExecutor> {
  const { operatorIndex, ...config } = opts;
  const operatorKey = operatorIndex === undefined ? stack.operatorKey : devPrivateKey(operatorIndex);
  const operator = operatorIndex === undefined ? stack.operator.address : devAccount(operatorIndex).address;
  const bonded = await stack.bondOf(operator);
  if (opts.bond > bonded) await stack.mint(operator, opts.bond - bonded);
  return startExecutor({
    rpcUrl: stack.chain.rpcUrl,
    deployment: stack.deployment,
    operatorKey,
    dataDir: opts.dataDir ?? (await stack.tempDir()),
    port: 0,
    register: true,
    logLevel: "warn",
    // Settled by hand in tests (drain), so counts are exact.
    settleIntervalMs: 3_600_000,
    claimIntervalMs: 3_600_000,
    ...config,
  });
}

export async function callJson(response: Response): Promise<CallResponseBody> {
  const text = await response.text();
  if (response.status !== 200) throw new Error(`expected 200, got ${response.status}: ${text}`);
  return JSON.parse(text) as CallResponseBody;
}

export async function errorJson(response: Response): Promise<ErrorBody["error"] & { status: number }> {
  const text = await response.text();
  const body = JSON.parse(text) as Partial<ErrorBody>;
  if (!body.error) throw new Error(`expected an error body, got ${response.status}: ${text}`);
  return { status: response.status, ...body.error };
}

export function post(fetcher: typeof fetch, url: string, args: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetcher(url, { method: "POST", body: JSON.stringify(args), headers: { "content-type": "application/json", ...headers } });
}

export type { Hex };
