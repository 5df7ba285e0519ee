import type { Logger } from "pino";
import type { Hex } from "viem";
import type { FunctionSignature } from "../sdk/wit.ts";
import { refKey, type ArgumentProblem, type ComponentHost, type ComponentRef, type PrepareInput, type PreparedInfo } from "./host.ts";
import {
  ComponentPool,
  ComponentRuntimeError,
  TestsFailedError,
  argumentsToGuest,
  formatTestReport,
  grantedCapabilities,
  prepareComponent,
  runTestVectors,
  verifyComponent,
  type JsonValue,
  type PoolOptions,
  type PreparedComponent,
} from "../runtime/sandbox/index.ts";

export interface RuntimeHostOptions {
  /** Where prepared (fuel-instrumented) components are cached by hash. */
  cacheDir: string;
  /** The package a version's manifest belongs to: its calls share one fair-queueing key in the pool. */
  packageOf?: (manifestHash: Hex) => string | undefined;
  /** WASI interfaces the operator allows (intersected with each manifest's requested capabilities). */
  allowedCapabilities: string[];
  pool?: PoolOptions;
  log: Logger;
}

interface ReadyComponent {
  prepared: PreparedComponent;
  grants: string[];
}

/** The ComponentHost backed by the runtime library: verify + prepare at upload, a worker pool for calls. */
export async function createRuntimeHost(options: RuntimeHostOptions): Promise<ComponentHost> {
  const pool = new ComponentPool(options.pool ?? {});
  const { cacheDir } = options;
  const ready = new Map<string, ReadyComponent>();
  const functionOf = (ref: ComponentRef, name: string): FunctionSignature | undefined =>
    ready.get(refKey(ref))?.prepared.interface.functions.find((f) => f.name === name);

  return {
    async prepare(input: PrepareInput): Promise<PreparedInfo> {
      const verified = await verifyComponent({
        bytes: input.component,
        expectedHash: input.componentHash,
        witSource: input.witSource,
        world: input.world,
        interfaceName: input.interfaceName,
        requestedCapabilities: input.capabilities,
        allowedCapabilities: options.allowedCapabilities,
      });
      const prepared = await prepareComponent(input.component, {
        witSource: input.witSource,
        world: input.world,
        interfaceName: input.interfaceName,
        cacheDir,
      });
      await pool.warm(prepared);
      let tests: PreparedInfo["tests"];
      if (input.testsJson !== undefined) {
        // The published test vectors must pass against the uploaded bytes.
        const report = await runTestVectors(prepared, input.testsJson, { pool });
        tests = { total: report.total, passed: report.passed, failed: report.failed };
        if (report.failed > 0) throw new TestsFailedError(report.failed, report.total, formatTestReport(report));
      }
      const grants = grantedCapabilities(input.capabilities, options.allowedCapabilities);
      ready.set(refKey(input), { prepared, grants });
      options.log.info({ componentHash: input.componentHash, functions: prepared.interface.functions.length, grants, snapshot: prepared.snapshot }, "component prepared");
      return { functions: prepared.interface.functions, imports: verified.imports, ...(tests ? { tests } : {}) };
    },

    isReady: (ref) => ready.has(refKey(ref)),

    functions: (ref) => ready.get(refKey(ref))?.prepared.interface.functions,

    checkArguments(ref, functionName, args): ArgumentProblem | undefined {
      const fn = functionOf(ref, functionName);
      if (!fn) return { kind: "unknown_function", parameter: null, message: `The component has no function "${functionName}".` };
      const { problem } = argumentsToGuest(fn, args as JsonValue[] | Record<string, JsonValue>);
      if (!problem) return undefined;
      return {
        kind: "invalid_arguments",
        parameter: problem.parameter,
        message: problem.parameter === null ? `Invalid arguments for "${functionName}": ${problem.message}` : `Invalid argument "${problem.parameter}" for "${functionName}": ${problem.message}`,
      };
    },

    async call(ref, functionName, args) {
      const entry = ready.get(refKey(ref));
      if (!entry) throw new Error(`component ${ref.componentHash} is not prepared against WIT ${ref.witHash}`);
      // Per package, not per component: several packages may publish the same bytes.
      const packageName = (ref.manifestHash && options.packageOf?.(ref.manifestHash)) ?? ref.componentHash;
      const started = performance.now();
      try {
        const outcome = await pool.call(entry.prepared, {
          function: functionName,
          args: args as JsonValue[] | Record<string, JsonValue>,
          grants: entry.grants,
          key: packageName,
        });
        return { result: outcome.value, fuelUsed: BigInt(outcome.fuelUsed) };
      } catch (error) {
        // One line per failed call: what failed and its cost, never the arguments.
        options.log.warn(
          {
            component: ref.componentHash,
            package: packageName,
            function: functionName,
            class: error instanceof ComponentRuntimeError ? error.code : "unexpected",
            fuel: error instanceof ComponentRuntimeError ? (error.fuelUsed ?? null) : null,
            ms: Math.round((performance.now() - started) * 10) / 10,
          },
          "call failed",
        );
        throw error;
      }
    },

    close: () => pool.close(),
  };
}
