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

/** Verifies the built component against the WIT and the manifest's imports, then runs tests.json. */
export async function testProject(project: CapabilityProject, bytes: Uint8Array): Promise<TestReport> {
  const { manifest } = project;
  const testsText = await readRequired(project.path(manifest.tests), "tests");
  const { prepareComponent, runTestVectors, verifyComponent } = await sandbox();
  const { TestVectorFormatError } = await import("../sdk/test-vectors.ts");
  await verifyComponent({
    bytes,
    expectedHash: sha256Hex(bytes),
    witSource: project.witSource,
    world: manifest.wit.world,
    interfaceName: manifest.wit.interface,
    requestedCapabilities: manifest.capabilities,
    allowedCapabilities: manifest.capabilities,
  });
  const prepared = await prepareComponent(bytes, {
    witSource: project.witSource,
    world: manifest.wit.world,
    interfaceName: manifest.wit.interface,
    cacheDir: path.join(project.dir, ".glassbox", "cache", "prepared"),
  });
  try {
    return await runTestVectors(prepared, testsText);
  } catch (error) {
    if (error instanceof TestVectorFormatError) throw new CliError(`${manifest.tests}: ${error.message}`, ExitCode.invalid);
    throw error;
  }
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

/** What publish and upload send: the manifest, the component bytes and the public WIT and tests files. */
export async function capabilityFiles(project: CapabilityProject, component: Uint8Array): Promise<CapabilityFiles> {
  return {
    manifest: project.manifest,
    component,
    wit: new TextEncoder().encode(project.witSource),
    tests: new Uint8Array(await readFile(project.path(project.manifest.tests))),
  };
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
