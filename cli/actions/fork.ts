import path from "node:path";
import type { Command } from "commander";
import type { Hex } from "viem";
import { readPublicBlob } from "../../sdk/client/blobs.ts";
import { parsePackageRef } from "../../sdk/ids.ts";
import { connect, globalOptions, outputFor } from "../context.ts";
import { assertEmptyDir, forkFromSourceFiles, forkScaffoldFiles, wrapForkScaffoldFiles, writeScaffold } from "../scaffold.ts";
import { blobSources, publishedSource } from "./source.ts";
import { bold, CliError, cyan, dim, ExitCode, green, parseShare } from "../ui.ts";
import { checkName } from "../validate.ts";
import { walletFlag } from "../wallet.ts";

export interface ForkOptions {
  upstreamShare: string;
  minForkShare: string;
  dir?: string;
  wrap?: boolean;
}

export async function fork(parentRef: string, newName: string, opts: ForkOptions, command: Command): Promise<void> {
  const out = outputFor(command);
  checkName(newName);
  const upstreamShareBps = parseShare(opts.upstreamShare);
  const minForkShareBps = parseShare(opts.minForkShare);
  if (opts.wrap && !opts.dir) throw new CliError("--wrap scaffolds a folder: pass --dir DIR too.", ExitCode.usage);
  const { glassbox, connection, account } = await connect(command, { wallet: "required" });
  const parent = parsePackageRef(parentRef);
  const parentVersion = await glassbox.registry.resolveVersion(parent.name, parent.version);
  const parentLabel = `${parent.name}@${parentVersion.version}`;
  const parentPackage = await glassbox.registry.getPackage(parent.name);
  if (parentPackage && upstreamShareBps < parentPackage.minForkShareBps) {
    throw new CliError(
      `${parent.name} requires forks to pay at least ${parentPackage.minForkShareBps / 100}% upstream; you offered ${upstreamShareBps / 100}%.`,
      ExitCode.refused,
      `Use --upstream-share ${parentPackage.minForkShareBps / 100}% or more.`,
    );
  }

  // Everything --dir needs is read and checked before the fork is registered: registering is irreversible.
  let scaffold: { dir: string; files: Record<string, string | Uint8Array>; from: "wrap" | "source" | "stubs" } | undefined;
  if (opts.dir) {
    const executorUrl = connection.executorUrl;
    if (!executorUrl) throw new CliError("--dir needs an executor to read the parent's public WIT and tests from.", ExitCode.usage, "Pass --executor URL.");
    const dir = path.resolve(opts.dir);
    await assertEmptyDir(dir);
    const { manifest } = await glassbox.registry.getManifest(parentVersion.versionId);
    const [wit, tests] = await Promise.all([publicBlob(executorUrl, parentVersion.hashes.witHash), publicBlob(executorUrl, parentVersion.hashes.testsHash)]);
    const args = { parentRef: parentLabel, parent: manifest, wit, tests, name: newName, owner: account!.address, upstreamShareBps, minForkShareBps };
    if (opts.wrap) scaffold = { dir, files: wrapForkScaffoldFiles(args), from: "wrap" };
    else if (manifest.sourceHash) {
      const source = await publishedSource(parentLabel, manifest, await blobSources(glassbox, executorUrl));
      scaffold = { dir, files: forkFromSourceFiles(source, forkScaffoldFiles(args)), from: "source" };
    } else scaffold = { dir, files: forkScaffoldFiles(args), from: "stubs" };
  }

  const registered = await out.step(`Registering ${newName} as a fork of ${parentLabel}`, () => glassbox.fork(parentLabel, newName, upstreamShareBps, minForkShareBps));
  if (scaffold) await writeScaffold(scaffold.dir, scaffold.files);
  const cd = scaffold ? path.relative(process.cwd(), scaffold.dir) || "." : undefined;
  out.result(
    [
      `${green("Registered fork")} ${bold(newName)} of ${parentLabel}: ${upstreamShareBps / 100}% of every royalty goes upstream`,
      dim(`  transaction ${registered.transaction}`),
      ...(scaffold && cd
        ? [
            scaffold.from === "wrap"
              ? `  scaffolded ${scaffold.dir}: a wrapping fork (imports ${parentLabel}, delegates every function to it), its tests, glassbox.json`
              : scaffold.from === "source"
                ? `  scaffolded ${scaffold.dir}: the parent's published source, its WIT and tests, and your glassbox.json`
                : `  scaffolded ${scaffold.dir}: the parent's public WIT and tests, glassbox.json, and src/index.ts with one stub per function`,
            "",
            scaffold.from === "wrap"
              ? "Next: replace the functions you change in src/index.ts, add your own test vectors, then"
              : scaffold.from === "source"
                ? "Next: change what you fork it for, then"
                : `Next: implement src/index.ts (the parent's source is not published), then`,
            `  ${cyan(`cd ${cd} && glassbox build && glassbox test && glassbox publish${walletFlag(globalOptions(command))}`)}`,
          ]
        : [`Next: publish a version whose glassbox.json has "fork": { "parent": "${parentLabel}", "upstreamShareBps": ${upstreamShareBps} }`]),
    ].join("\n"),
    {
      name: newName,
      packageId: registered.packageId,
      parentVersionId: registered.parentVersionId,
      upstreamShareBps,
      minForkShareBps,
      transaction: registered.transaction,
      dir: scaffold?.dir ?? null,
      scaffold: scaffold?.from ?? null,
    },
  );
}

/** A public file of the parent (WIT or tests) from the executor, checked against its registered hash. */
async function publicBlob(executorUrl: string, hash: Hex): Promise<string> {
  const text = await readPublicBlob([executorUrl], hash);
  if (text === undefined) throw new CliError(`The executor ${executorUrl} does not serve the parent's file ${hash}.`, ExitCode.unavailable, "Pass --executor URL of an executor that serves the parent.");
  return text;
}
