import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import type { Hex } from "viem";
import { fetchPublicBlob } from "../../sdk/client/blobs.ts";
import type { Glassbox } from "../../sdk/glassbox.ts";
import { parsePackageRef } from "../../sdk/ids.ts";
import type { Manifest } from "../../sdk/manifest.ts";
import { SourceArchiveError, unpackSource, type SourceFile } from "../../sdk/source-archive.ts";
import { connect, outputFor } from "../context.ts";
import { assertEmptyDir } from "../scaffold.ts";
import { bold, CliError, count, dim, ExitCode, green } from "../ui.ts";

/** The executors that may serve public blobs: the one configured, then every active one in the catalog. */
export async function blobSources(glassbox: Glassbox, executorUrl: string | undefined): Promise<string[]> {
  const executors = glassbox.catalog ? await glassbox.catalog.executors().catch(() => ({ executors: [] })) : { executors: [] };
  return [executorUrl, ...executors.executors.filter((e) => e.active).map((e) => e.endpoint)].filter((u): u is string => Boolean(u));
}

/** The published source files of a version, checked against the sha256 its on-chain manifest names. */
export async function publishedSource(label: string, manifest: Manifest, sources: string[]): Promise<SourceFile[]> {
  if (!manifest.sourceHash) {
    throw new CliError(`${label} does not publish its source.`, ExitCode.notFound, "Its WIT and test vectors are public (glassbox info); its maintainer may publish source in a later version.");
  }
  const bytes = await fetchPublicBlob(sources, manifest.sourceHash as Hex);
  if (!bytes) throw new CliError(`No executor serves the source of ${label} (${manifest.sourceHash}).`, ExitCode.unavailable, "Pass --executor URL of an executor its maintainer uploaded to.");
  try {
    return unpackSource(bytes);
  } catch (error) {
    if (error instanceof SourceArchiveError) throw new CliError(`The published source of ${label} is not a usable archive: ${error.message}`, ExitCode.invalid);
    throw error;
  }
}

function isText(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return !bytes.includes(0);
  } catch {
    return false;
  }
}

/** `glassbox source <pkg[@version]>`: print (or write to --out) the published source. Reading it is free. */
export async function source(ref: string, opts: { out?: string; file?: string }, command: Command): Promise<void> {
  const out = outputFor(command);
  const { glassbox, connection } = await connect(command, { wallet: "none" });
  const parsed = parsePackageRef(ref);
  const version = await glassbox.registry.resolveVersion(parsed.name, parsed.version);
  const label = `${parsed.name}@${version.version}`;
  const { manifest } = await glassbox.registry.getManifest(version.versionId);
  const files = await out.step(`Reading the source of ${label}`, async () => publishedSource(label, manifest, await blobSources(glassbox, connection.executorUrl)));
  const listing = files.map((f) => ({ path: f.path, bytes: f.bytes.length }));
  const json = { name: parsed.name, version: version.version, sourceHash: manifest.sourceHash, files: listing };

  if (opts.out) {
    const dir = path.resolve(opts.out);
    await assertEmptyDir(dir);
    for (const file of files) {
      const target = path.join(dir, file.path);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, file.bytes);
    }
    out.result(`${green("Wrote")} ${count(files.length, "file")} of ${label} to ${dir}`, { ...json, dir });
    return;
  }
  if (opts.file) {
    const file = files.find((f) => f.path === opts.file);
    if (!file) throw new CliError(`${label}'s source has no file "${opts.file}".`, ExitCode.notFound, `Files: ${files.map((f) => f.path).join(", ")}`);
    out.result(() => new TextDecoder().decode(file.bytes), { ...json, file: file.path, content: isText(file.bytes) ? new TextDecoder().decode(file.bytes) : null });
    return;
  }
  out.result(
    () =>
      [
        `${bold(label)} ${dim(`source ${manifest.sourceHash} · ${count(files.length, "file")} · free to read`)}`,
        ...files.flatMap((f) => ["", bold(`── ${f.path}`) + dim(` (${f.bytes.length} bytes)`), isText(f.bytes) ? new TextDecoder().decode(f.bytes).trimEnd() : dim("  (binary)")]),
      ].join("\n"),
    { ...json, files: files.map((f) => ({ path: f.path, bytes: f.bytes.length, content: isText(f.bytes) ? new TextDecoder().decode(f.bytes) : null })) },
  );
}
