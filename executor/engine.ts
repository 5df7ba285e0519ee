import type { Logger } from "pino";
import type { Hex } from "viem";
import { isDeepStrictEqual } from "node:util";
import { describeImportedInterface, describeWorld, formatSignature, type FunctionSignature, type InterfaceDescription } from "../sdk/wit.ts";
import type { VersionRecord } from "./chain.ts";
import { resolveDependencies, type DependencyCatalog } from "./dependencies.ts";
import { ApiError } from "./errors.ts";
import { refKey, type ArgumentProblem, type ComponentHost, type ComponentRef, type PrepareInput, type PreparedInfo, type ResolvedDependency, type RunResult } from "./host.ts";
import {
  ComponentPool,
  ComponentRuntimeError,
  TestsFailedError,
  WitMismatchError,
  argumentsToGuest,
  formatTestReport,
  grantedCapabilities,
  prepareComponent,
  runTestVectors,
  verifyComponent,
  unversioned,
  type DependencyLink,
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
  /** The registry, for resolving dependencies (composition). Without it, a version that declares dependencies cannot run. */
  catalog?: DependencyCatalog & { versionOfManifest(manifestHash: Hex): VersionRecord | undefined };
  pool?: PoolOptions;
  log: Logger;
}

interface ReadyComponent {
  prepared: PreparedComponent;
  grants: string[];
}

/**
 * Each imported dependency interface, as the dependent's WIT declares it (a nested package block),
 * must match the dependency's published interface function for function: otherwise values would
 * cross the link under two different types.
 */
function checkDependencyTypes(input: PrepareInput, interfaceOf: (ref: ComponentRef) => InterfaceDescription | undefined): void {
  const imports = new Set(describeWorld(input.witSource, input.world).imports.map(unversioned));
  for (const dependency of input.dependencies ?? []) {
    if (!imports.has(unversioned(dependency.interfaceName))) continue;
    const label = `${dependency.name}@${dependency.version}`;
    const declared = describeImportedInterface(input.witSource, dependency.interfaceName);
    if (!declared) {
      throw new WitMismatchError(`The WIT imports "${dependency.interfaceName}" (${label}) but does not declare it: add its interface in a nested "package ... { }" block, as published by ${label}.`, { interface: dependency.interfaceName });
    }
    const provided = interfaceOf(dependency.hashes);
    for (const fn of declared.functions) {
      const actual = provided?.functions.find((f) => f.name === fn.name);
      if (!actual) {
        throw new WitMismatchError(`The WIT imports "${fn.name}" from "${dependency.interfaceName}", which ${label} does not export.`, { interface: dependency.interfaceName, function: fn.name, dependency: dependency.name });
      }
      if (!isDeepStrictEqual({ params: fn.params, result: fn.result }, { params: actual.params, result: actual.result })) {
        throw new WitMismatchError(
          `The WIT imports ${fn.name}: ${formatSignature(fn)} from "${dependency.interfaceName}", but ${label} exports ${fn.name}: ${formatSignature(actual)}.`,
          { interface: dependency.interfaceName, function: fn.name, dependency: dependency.name, expected: formatSignature(actual) },
        );
      }
    }
  }
}

/** The ComponentHost backed by the runtime library: verify + prepare at upload, a worker pool for calls. */
export async function createRuntimeHost(options: RuntimeHostOptions): Promise<ComponentHost> {
  const pool = new ComponentPool(options.pool ?? {});
  const { cacheDir } = options;
  const ready = new Map<string, ReadyComponent>();
  const functionOf = (ref: ComponentRef, name: string): FunctionSignature | undefined =>
    ready.get(refKey(ref))?.prepared.interface.functions.find((f) => f.name === name);
  const heldInterface = (ref: ComponentRef): string | undefined => ready.get(refKey(ref))?.prepared.interface.qualifiedName;

  const resolve = async (version: VersionRecord): Promise<ResolvedDependency[]> => {
    if (!version.manifest?.dependencies?.length) return [];
    if (!options.catalog) throw new Error("this component host has no registry to resolve dependencies with");
    return resolveDependencies(version, options.catalog, heldInterface);
  };

  /** The runtime's links for the dependencies a component imports (declared but unimported ones are not instantiated). */
  const linksFor = (imports: string[], dependencies: ResolvedDependency[]): DependencyLink[] => {
    const imported = new Map(imports.map((name) => [unversioned(name), name]));
    return dependencies
      .filter((d) => imported.has(unversioned(d.interfaceName)))
      .map((d) => {
        const entry = ready.get(refKey(d.hashes));
        if (!entry) {
          throw new ApiError(409, "DEPENDENCY_MISSING", `The dependency ${d.name}@${d.version} is not prepared on this executor.`, `Its maintainer uploads it here first (glassbox upload).`, { dependency: d.name, version: d.version });
        }
        return { importName: imported.get(unversioned(d.interfaceName))!, ref: d.versionId, prepared: entry.prepared, grants: entry.grants, dependencies: linksFor(entry.prepared.imports, d.dependencies) };
      });
  };

  /** The calling version's dependencies, resolved now (a yanked or vanished dependency fails the call, uncharged). */
  const dependenciesOf = async (ref: ComponentRef, prepared: PreparedComponent): Promise<ResolvedDependency[]> => {
    if (prepared.imports.every((name) => name.startsWith("wasi:"))) return [];
    const version = ref.manifestHash ? options.catalog?.versionOfManifest(ref.manifestHash) : undefined;
    if (!version) throw new Error(`component ${ref.componentHash} imports other capabilities but no published version names it (manifest ${ref.manifestHash ?? "unknown"})`);
    return resolve(version);
  };

  const run = async (ref: ComponentRef, functionName: string, args: unknown, dependencies?: ResolvedDependency[]): Promise<RunResult> => {
    const entry = ready.get(refKey(ref));
    if (!entry) throw new Error(`component ${ref.componentHash} is not prepared against WIT ${ref.witHash}`);
    // Per package, not per component: several packages may publish the same bytes.
    const packageName = (ref.manifestHash && options.packageOf?.(ref.manifestHash)) ?? ref.componentHash;
    const started = performance.now();
    try {
      const links = linksFor(entry.prepared.imports, dependencies ?? (await dependenciesOf(ref, entry.prepared)));
      const outcome = await pool.call(entry.prepared, {
        function: functionName,
        args: args as JsonValue[] | Record<string, JsonValue>,
        grants: entry.grants,
        key: packageName,
        dependencies: links,
      });
      return {
        result: outcome.value,
        fuelUsed: BigInt(outcome.fuelUsed),
        dependencyUsage: outcome.dependencyUsage.map((u) => ({ versionId: u.ref as Hex, calls: u.calls, fuel: BigInt(u.fuel) })),
      };
    } catch (error) {
      // One line per failed call: what failed and its cost, never the arguments.
      options.log.warn(
        {
          component: ref.componentHash,
          package: packageName,
          function: functionName,
          class: error instanceof ComponentRuntimeError ? error.code : error instanceof ApiError ? error.code : "unexpected",
          fuel: error instanceof ComponentRuntimeError ? (error.fuelUsed ?? null) : null,
          ...(error instanceof ComponentRuntimeError && error.details.dependency ? { dependency: error.details.dependency } : {}),
          ms: Math.round((performance.now() - started) * 10) / 10,
        },
        "call failed",
      );
      throw error;
    }
  };

  return {
    async prepare(input: PrepareInput): Promise<PreparedInfo> {
      checkDependencyTypes(input, (ref) => ready.get(refKey(ref))?.prepared.interface);
      const verified = await verifyComponent({
        bytes: input.component,
        expectedHash: input.componentHash,
        witSource: input.witSource,
        world: input.world,
        interfaceName: input.interfaceName,
        requestedCapabilities: input.capabilities,
        allowedCapabilities: options.allowedCapabilities,
        dependencyInterfaces: (input.dependencies ?? []).map((d) => d.interfaceName),
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
        const report = await runTestVectors(prepared, input.testsJson, { pool, dependencies: linksFor(prepared.imports, input.dependencies ?? []) });
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

    resolveDependencies: resolve,

    run,

    async call(ref, functionName, args) {
      const entry = ready.get(refKey(ref));
      return run(ref, functionName, args, entry ? await dependenciesOf(ref, entry.prepared) : []);
    },

    close: () => pool.close(),
  };
}
