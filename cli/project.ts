import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { buildComponent, type BuildResult } from "../runtime/builder/index.ts";
import { prepareComponent, runTestVectors, TestVectorFormatError, verifyComponent, type TestReport } from "../runtime/sandbox/index.ts";
import { sha256Hex } from "../sdk/ids.ts";
import { parseManifest, type Manifest } from "../sdk/manifest.ts";
import { CliError, ExitCode } from "./ui.ts";

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
