import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { BuildResult } from "../runtime/builder/index.ts";
import type { TestReport } from "../runtime/sandbox/index.ts";
import type { CapabilityFiles } from "../sdk/client/publish.ts";
import { sha256Hex } from "../sdk/ids.ts";
import { parseManifest, type Manifest } from "../sdk/manifest.ts";
import { REPO_ROOT } from "./config.ts";
import { CliError, ExitCode } from "./ui.ts";

// The component runtime (jco, binaryen, esbuild) loads only when a project is built or tested.
const builder = () => import("../runtime/builder/index.ts");
const sandbox = () => import("../runtime/sandbox/index.ts");

/** A capability on disk: glassbox.json and the files it names, relative to its folder. */
export interface CapabilityProject {
  dir: string;
  manifest: Manifest;
  manifestPath: string;
  witSource: string;
  path(relative: string): string;
}

export async function loadProject(dir = "."): Promise<CapabilityProject> {
  const root = path.resolve(dir);
  const manifestPath = path.join(root, "glassbox.json");
  let text: string;
  try {
    text = await readFile(manifestPath, "utf8");
  } catch {
    throw new CliError(`No glassbox.json in ${root}.`, ExitCode.usage, "Run this inside a capability folder, pass its path, or create one with `glassbox init scope/name`.");
  }
  const manifest = parseManifest(text, manifestPath);
  const resolvePath = (relative: string) => path.resolve(root, relative);
  const witSource = await readRequired(resolvePath(manifest.wit.file), "wit.file");
  return { dir: root, manifest, manifestPath, witSource, path: resolvePath };
}

export async function readRequired(file: string, field: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch {
    throw new CliError(`${field} points at ${file}, which cannot be read.`, ExitCode.usage, `Fix "${field}" in glassbox.json.`);
  }
}

/** Builds the component from `source.entry` and writes it where `component` says. */
export async function buildProject(project: CapabilityProject): Promise<BuildResult & { outputPath: string }> {
  const { manifest } = project;
  if (!manifest.source) {
    throw new CliError(`${manifest.name} has no "source" in glassbox.json, so there is nothing to build.`, ExitCode.usage, 'Add "source": { "entry": "src/index.ts" }, or ship a prebuilt component.');
  }
  const entry = project.path(manifest.source.entry);
  const source = await readRequired(entry, "source.entry");
  const { buildComponent } = await builder();
  const result = await buildComponent({
    witSource: project.witSource,
    world: manifest.wit.world,
    source,
    sourcePath: entry,
    ...(manifest.source.backend ? { backend: manifest.source.backend } : {}),
    cacheDir: path.join(project.dir, ".glassbox", "cache", "builds"),
  });
  const outputPath = project.path(manifest.component);
  await mkdir(path.dirname(outputPath), { recursive: true });
  await writeFile(outputPath, result.bytes);
  return { ...result, outputPath };
}

/**
 * A test report; `deferred` are the cases that reach a dependency with no local copy: the executor
 * runs them at upload with the dependency linked (and refuses the component if one fails).
 */
export type ProjectTestReport = TestReport & { deferred: { name: string; dependency: string }[] };

/** Verifies the built component against the WIT and the manifest's imports, then runs tests.json (dependencies linked from local copies). */
export async function testProject(project: CapabilityProject, bytes: Uint8Array): Promise<ProjectTestReport> {
  const { manifest } = project;
  const testsText = await readRequired(project.path(manifest.tests), "tests");
  const { prepareComponent, runTestVectors, verifyComponent } = await sandbox();
  const { TestVectorFormatError } = await import("../sdk/test-vectors.ts");
  const { describeWorld } = await import("../sdk/wit.ts");
  // Locally the project's WIT is trusted for what its dependencies provide; the executor checks it on-chain.
  const dependencyInterfaces = manifest.dependencies?.length ? describeWorld(project.witSource, manifest.wit.world).imports.filter((name) => !name.startsWith("wasi:")) : [];
  await verifyComponent({
    bytes,
    expectedHash: sha256Hex(bytes),
    witSource: project.witSource,
    world: manifest.wit.world,
    interfaceName: manifest.wit.interface,
    requestedCapabilities: manifest.capabilities,
    allowedCapabilities: manifest.capabilities,
    dependencyInterfaces,
  });
  const prepared = await prepareComponent(bytes, {
    witSource: project.witSource,
    world: manifest.wit.world,
    interfaceName: manifest.wit.interface,
    cacheDir: path.join(project.dir, ".glassbox", "cache", "prepared"),
  });
  const { links, missing } = await localDependencyLinks(project, prepared.imports, [project.dir]);
  let report: TestReport;
  try {
    report = await runTestVectors(prepared, testsText, { dependencies: links });
  } catch (error) {
    if (error instanceof TestVectorFormatError) throw new CliError(`${manifest.tests}: ${error.message}`, ExitCode.invalid);
    throw error;
  }
  // A case that called a dependency with no local copy was denied it: the executor runs it at upload.
  const deferredCase = (c: TestReport["cases"][number]): string | undefined => {
    if (!("failure" in c.actual) || c.actual.failure.code !== "capability_denied") return undefined;
    const message = c.actual.failure.message;
    return missing.find((m) => message.includes(`"${m.interfaceName}"`))?.package;
  };
  const deferred = report.cases.flatMap((c) => {
    const dependency = deferredCase(c);
    return dependency ? [{ name: c.name, dependency }] : [];
  });
  const cases = report.cases.filter((c) => deferredCase(c) === undefined);
  const passed = cases.filter((c) => c.passed).length;
  return { ...report, cases, total: cases.length, passed, failed: cases.length - passed, deferred };
}

/**
 * Links the project's dependencies from local copies: a sibling folder (next to the project) whose
 * glassbox.json names the dependency at a version in range, built and prepared here (and its own
 * dependencies likewise). A dependency without a local copy is `missing`.
 */
async function localDependencyLinks(
  project: CapabilityProject,
  imports: string[],
  trail: string[],
): Promise<{ links: import("../runtime/sandbox/index.ts").DependencyLink[]; missing: { package: string; interfaceName: string }[] }> {
  const declared = project.manifest.dependencies ?? [];
  const links: import("../runtime/sandbox/index.ts").DependencyLink[] = [];
  const missing: { package: string; interfaceName: string }[] = [];
  if (declared.length === 0) return { links, missing };
  const { prepareComponent, unversioned } = await sandbox();
  const { satisfiesRange } = await import("../sdk/semver.ts");
  const { describeWorld } = await import("../sdk/wit.ts");
  const parentDir = path.dirname(project.dir);
  const siblings = (await readdir(parentDir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => path.join(parentDir, e.name));
  const importedInterfaces = describeWorld(project.witSource, project.manifest.wit.world).imports.filter((name) => !name.startsWith("wasi:"));
  for (const dependency of declared) {
    let copy: CapabilityProject | undefined;
    for (const dir of siblings) {
      if (trail.includes(dir)) continue;
      const candidate = await loadProject(dir).catch(() => undefined);
      if (candidate?.manifest.name === dependency.package && satisfiesRange(candidate.manifest.version, dependency.version)) copy = candidate;
    }
    if (!copy) {
      // Which import it provides is known from its published WIT only; locally, any import nothing else provides.
      for (const name of importedInterfaces) missing.push({ package: dependency.package, interfaceName: unversioned(name) });
      continue;
    }
    const bytes = await componentBytes(copy, true);
    const prepared = await prepareComponent(bytes, {
      witSource: copy.witSource,
      world: copy.manifest.wit.world,
      interfaceName: copy.manifest.wit.interface,
      cacheDir: path.join(project.dir, ".glassbox", "cache", "prepared"),
    });
    const importName = imports.find((name) => unversioned(name) === unversioned(prepared.interface.qualifiedName));
    if (!importName) continue;
    const nested = await localDependencyLinks(copy, prepared.imports, [...trail, copy.dir]);
    missing.push(...nested.missing);
    links.push({ importName, ref: `${copy.manifest.name}@${copy.manifest.version}`, prepared, grants: [], dependencies: nested.links });
  }
  return { links, missing };
}

/** The component bytes: built from source when there is a source, else read from `component`. */
export async function componentBytes(project: CapabilityProject, build: boolean): Promise<Uint8Array> {
  if (build && project.manifest.source) return (await buildProject(project)).bytes;
  try {
    return new Uint8Array(await readFile(project.path(project.manifest.component)));
  } catch {
    throw new CliError(`No built component at ${project.manifest.component}.`, ExitCode.usage, "Run `glassbox build` first.");
  }
}

/** What publish and upload send: the manifest, the component bytes, the public WIT and tests files, and the source when published. */
export async function capabilityFiles(project: CapabilityProject, component: Uint8Array): Promise<CapabilityFiles> {
  return {
    manifest: project.manifest,
    component,
    wit: new TextEncoder().encode(project.witSource),
    tests: new Uint8Array(await readFile(project.path(project.manifest.tests))),
    ...(project.manifest.source?.publish ? { source: await sourceArchive(project) } : {}),
  };
}

/** Outputs, caches and dependencies are not source. */
const NOT_SOURCE = /(^|\/)(dist|\.glassbox|node_modules|\.git)(\/|$)/;

/** The project's files as published source (`source.publish`): everything but outputs, caches, dependencies and the built component. */
export async function sourceArchive(project: CapabilityProject): Promise<Uint8Array> {
  const { packSource, SourceArchiveError } = await import("../sdk/source-archive.ts");
  const component = path.relative(project.dir, project.path(project.manifest.component)).split(path.sep).join("/");
  const entries = await readdir(project.dir, { recursive: true, withFileTypes: true });
  const files = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const relative = path.relative(project.dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/");
    if (NOT_SOURCE.test(relative) || relative === component) continue;
    files.push({ path: relative, bytes: new Uint8Array(await readFile(path.join(entry.parentPath, entry.name))) });
  }
  try {
    return packSource(files);
  } catch (error) {
    if (error instanceof SourceArchiveError) throw new CliError(`The source of ${project.manifest.name} cannot be published: ${error.message}`, ExitCode.invalid, 'Remove the offending files, or set "source.publish" to false.');
    throw error;
  }
}

/** What a build and test of the project depends on, as one hash (see verifiedComponent). */
async function inputsHash(project: CapabilityProject): Promise<string> {
  const hash = createHash("sha256");
  const add = async (file: string) => hash.update(`${path.relative(REPO_ROOT, file)}\0`).update(await readFile(file)).update("\0");
  // The project's own files (not its outputs), the lockfile pinning its npm imports and the
  // toolchain, and the compiled CLI whose build and test code made the component.
  const ownFiles = (await readdir(project.dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .filter((file) => !/(^|[\\/])(dist|\.glassbox|node_modules)([\\/]|$)/.test(path.relative(project.dir, file)));
  const cliFiles = (await readdir(path.join(REPO_ROOT, "dist", "cli")).catch(() => [] as string[])).filter((f) => f.endsWith(".js")).map((f) => path.join(REPO_ROOT, "dist", "cli", f));
  for (const file of [...ownFiles, path.join(REPO_ROOT, "package-lock.json"), ...cliFiles].sort()) await add(file);
  return hash.digest("hex");
}

const stampPath = (project: CapabilityProject) => path.join(project.dir, ".glassbox", "cache", "verified.json");

interface VerificationStamp {
  inputs: string;
  componentHash: string;
  passed: number;
}

/**
 * The built component and its passing test count when neither the project's inputs nor the built
 * file changed since a build and test recorded them (recordVerification): nothing to redo.
 */
export async function verifiedComponent(project: CapabilityProject): Promise<{ bytes: Uint8Array; passed: number } | undefined> {
  const stamp = await readFile(stampPath(project), "utf8").then((text) => JSON.parse(text) as VerificationStamp, () => undefined);
  if (!stamp || stamp.inputs !== (await inputsHash(project))) return undefined;
  const bytes = await readFile(project.path(project.manifest.component)).then((b) => new Uint8Array(b), () => undefined);
  return bytes && sha256Hex(bytes) === stamp.componentHash ? { bytes, passed: stamp.passed } : undefined;
}

/** Records a build whose every test vector passed, for verifiedComponent. */
export async function recordVerification(project: CapabilityProject, bytes: Uint8Array, report: TestReport): Promise<void> {
  if (report.failed > 0) return;
  const stamp: VerificationStamp = { inputs: await inputsHash(project), componentHash: sha256Hex(bytes), passed: report.passed };
  await mkdir(path.dirname(stampPath(project)), { recursive: true });
  await writeFile(stampPath(project), JSON.stringify(stamp, null, 2));
}
