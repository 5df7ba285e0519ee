import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { publicationOf } from "../../sdk/client/publish.ts";
import { encodePack, PACK_EXTENSION } from "../../sdk/pack.ts";
import { outputFor } from "../context.ts";
import { loadProject } from "../project.ts";
import { bold, dim, green } from "../ui.ts";
import { builtAndTested } from "./build.ts";

export async function pack(dir: string, opts: { out?: string }, command: Command): Promise<void> {
  const out = outputFor(command);
  const capability = await loadProject(dir);
  const files = await builtAndTested(out, capability, "pack");
  const { manifest, hashes, versionId } = publicationOf(files);
  const file = path.resolve(opts.out ?? `${manifest.name.replace("/", "-")}-${manifest.version}${PACK_EXTENSION}`);
  await writeFile(file, encodePack(files));
  out.result(
    [
      `${green("Packed")} ${bold(`${manifest.name}@${manifest.version}`)} into ${file}`,
      dim(`  component ${hashes.componentHash} · ${(files.component.length / 1024).toFixed(0)} KiB`),
      `Publish it from the web catalog (Publish page) with the wallet that owns the scope "${manifest.name.split("/")[0]}".`,
    ].join("\n"),
    { file, name: manifest.name, version: manifest.version, versionId, hashes },
  );
}
