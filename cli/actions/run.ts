import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import type { Hex } from "viem";
import type { ComponentCache, LicensedCapability } from "../../sdk/client/licences.ts";
import { parsePackageRef } from "../../sdk/ids.ts";
import { parseCallArgs, resultCase, showValue } from "../call-args.ts";
import { licensedComponentsDir } from "../config.ts";
import { connect, outputFor } from "../context.ts";
import { bold, CliError, dim, ExitCode, red, write } from "../ui.ts";
import type { DependencyLink } from "../../runtime/sandbox/index.ts";

const label = (v: { name: string; version: string }) => `${v.name}@${v.version}`;

/** Downloaded components on disk, by componentHash (the caller checks the hash of what it reads). */
class FileComponentCache implements ComponentCache {
  constructor(private readonly dir: string) {}

  private file(hash: Hex): string {
    return path.join(this.dir, `${hash.slice(2).toLowerCase()}.wasm`);
  }

  async get(hash: Hex): Promise<Uint8Array | undefined> {
    return readFile(this.file(hash)).then((b) => new Uint8Array(b), () => undefined);
  }

  async put(hash: Hex, bytes: Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.file(hash)}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, this.file(hash));
  }
}

/**
 * `glassbox run <ref> <fn> [args]`: a licensed version (and its licensed dependencies) run on this machine
 * in the runtime's sandbox, with the executor's default limits and no WASI capability unless granted.
 */
export async function run(ref: string, functionName: string, tokens: string[], opts: { allowCapability?: string[] }, command: Command): Promise<void> {
  const out = outputFor(command);
  const { glassbox } = await connect(command, { wallet: "required" });
  const { name, version: requested } = parsePackageRef(ref);
  const dir = licensedComponentsDir();
  const licensed = await out.step(`Fetching the licensed component of ${name}@${requested}`, () =>
    glassbox.fetchLicensed(`${name}@${requested}`, { cache: new FileComponentCache(dir) }),
  );
  const fn = licensed.manifest.functions?.find((f) => f.name === functionName);
  if (licensed.manifest.functions && !fn) {
    throw new CliError(`${label(licensed.version)} has no function "${functionName}".`, ExitCode.notFound, `Its functions: ${licensed.manifest.functions.map((f) => f.name).join(", ")}.`);
  }
  const args = parseCallArgs(tokens, fn);
  const sandbox = await import("../../runtime/sandbox/index.ts");
  const allowed = opts.allowCapability ?? [];
  const cacheDir = path.join(dir, "prepared");

  const prepare = (capability: LicensedCapability) =>
    sandbox.prepareComponent(capability.component, {
      witSource: capability.witSource,
      world: capability.manifest.wit.world,
      interfaceName: capability.manifest.wit.interface,
      cacheDir,
    });
  // The dependency tree as the runtime links it: each dependency fills the dependent's import of its interface.
  const linksOf = async (capability: LicensedCapability, imports: string[]): Promise<DependencyLink[]> => {
    const links: DependencyLink[] = [];
    for (const dependency of capability.dependencies) {
      const prepared = await prepare(dependency);
      const importName = imports.find((i) => sandbox.unversioned(i) === sandbox.unversioned(prepared.interface.qualifiedName));
      if (!importName) throw new CliError(`${label(capability.version)} declares ${label(dependency.version)} as a dependency but imports no interface it exports (${prepared.interface.qualifiedName}).`, ExitCode.invalid);
      links.push({ importName, ref: label(dependency.version), prepared, grants: sandbox.grantedCapabilities(dependency.manifest.capabilities, allowed), dependencies: await linksOf(dependency, prepared.imports) });
    }
    return links;
  };

  const outcome = await out.step(`Running ${label(licensed.version)} ${functionName} locally`, async () => {
    const prepared = await prepare(licensed);
    const links = await linksOf(licensed, prepared.imports);
    const root = await sandbox.LoadedComponent.load(prepared);
    const limits = { ...sandbox.DEFAULT_LIMITS, grants: sandbox.grantedCapabilities(licensed.manifest.capabilities, allowed) };
    if (links.length === 0) return { ...(await root.call(functionName, args, limits)), dependencyUsage: [] };
    return sandbox.callComposed(root, links, (p) => sandbox.LoadedComponent.load(p), functionName, args, limits);
  });
  const answer = resultCase(outcome.value, fn?.result);
  const failed = answer !== undefined && !answer.ok;
  out.result(
    () => [...(failed ? [] : [showValue(answer ? answer.value : outcome.value), ""]), dim(`fuel ${outcome.fuelUsed} · ran locally under your licence · nothing paid per call`)].join("\n"),
    {
      package: licensed.version.name,
      version: licensed.version.version,
      function: functionName,
      outcome: failed ? "error" : "ok",
      result: outcome.value,
      fuelUsed: outcome.fuelUsed,
      dependencies: outcome.dependencyUsage,
      local: true,
    },
  );
  if (failed) {
    if (!out.json) write(process.stderr, `${red(bold("Error:"))} ${label(licensed.version)} ${functionName} returned an error: ${showValue(answer.value)}\n`);
    process.exitCode = ExitCode.capabilityError;
  }
}
