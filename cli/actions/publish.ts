import type { Command } from "commander";
import { assertClaimableSplits } from "../../sdk/client/publish.ts";
import { DEV_ROLES, LOCAL_CHAIN_ID } from "../../sdk/dev-accounts.ts";
import type { Manifest } from "../../sdk/manifest.ts";
import type { BlobKind } from "../../sdk/protocol.ts";
import { parseTestVectors } from "../../sdk/test-vectors.ts";
import { formatCallArg } from "../call-args.ts";
import { connect, outputFor } from "../context.ts";
import { capabilityFiles, componentBytes, loadProject } from "../project.ts";
import { bold, CliError, cyan, dim, ExitCode, green } from "../ui.ts";
import { formatUsdc } from "../../sdk/units.ts";
import { builtAndTested } from "./build.ts";

export async function publish(dir: string, opts: { upload: boolean }, command: Command): Promise<void> {
  const out = outputFor(command);
  const capability = await loadProject(dir);
  const { manifest } = capability;
  // Wallet, chain and recipients first: a publish that cannot go through fails before the build.
  const { glassbox, connection } = await connect(command, { wallet: "required" });
  assertClaimableSplits(manifest, glassbox.deployment);
  const executorUrl = opts.upload ? connection.executorUrl : undefined;
  if (opts.upload && !executorUrl) {
    throw new CliError("No executor to upload to.", ExitCode.usage, "Pass --executor URL (or --no-upload to register on-chain only, then `glassbox upload`).");
  }
  const files = await builtAndTested(out, capability, "publish");
  const result = await glassbox.publish(files, { ...(executorUrl ? { executorUrl } : {}), progress: (label, work) => out.step(label, work) });
  const example = exampleCall(manifest, files.tests, glassbox.deployment.chainId);
  out.result(
    [
      result.alreadyRegistered
        ? `${green("Already registered")} ${bold(`${result.name}@${result.version}`)} with these exact files ${dim(result.versionId)}`
        : `${green("Published")} ${bold(`${result.name}@${result.version}`)} ${dim(result.versionId)}`,
      `  price ${manifest.access.mode === "free" ? "free" : formatUsdc(manifest.access.price)} · component ${result.hashes.componentHash}`,
      result.uploadedTo ? `  served by ${result.uploadedTo} ${dim(uploadedLabel(result.uploaded ?? []))}` : dim("  not uploaded to an executor yet: `glassbox upload --executor URL`"),
      "",
      `Try: ${cyan(`glassbox call ${result.name}@${result.version} ${example}`)}`,
    ].join("\n"),
    result,
  );
}

export async function upload(dir: string, command: Command): Promise<void> {
  const out = outputFor(command);
  const capability = await loadProject(dir);
  const { glassbox, connection } = await connect(command, { wallet: "required" });
  if (!connection.executorUrl) throw new CliError("No executor to upload to.", ExitCode.usage, "Pass --executor URL, or start the local stack (`npm start`).");
  const executorUrl = connection.executorUrl;
  // Rebuilt from source (a cache hit when unchanged), so what is uploaded is what the source builds.
  const bytes = await out.step(`Building ${capability.manifest.name}@${capability.manifest.version}`, () => componentBytes(capability, true));
  const result = await glassbox.upload(await capabilityFiles(capability, bytes), { executorUrl, progress: (label, work) => out.step(label, work) });
  out.result(`${green("Served")} ${bold(`${result.name}@${result.version}`)} by ${result.uploadedTo} ${dim(uploadedLabel(result.uploaded))}`, result);
}

function uploadedLabel(uploaded: BlobKind[]): string {
  return uploaded.length > 0 ? `(uploaded ${uploaded.join(", ")})` : "(it had every file already)";
}

/** "fn args --wallet" for the Try: line: a passing test vector's call, with a wallet flag if it is paid. */
function exampleCall(manifest: Manifest, tests: Uint8Array, chainId: number): string {
  const cases = parseTestVectors(new TextDecoder().decode(tests)).cases;
  const example = cases.find((c) => "ok" in c.expect && Array.isArray(c.args)) ?? cases[0];
  const args = example && Array.isArray(example.args) ? example.args.map(formatCallArg) : ["<args...>"];
  return `${[example?.function ?? "<function>", ...args].join(" ")}${payerFlag(manifest, chainId)}`;
}

/**
 * The wallet a caller pays with (the local stack's agent account, else a keystore) and the channel deposit
 * its first call makes: 0.10 USDC, or ten calls' royalties when that is more.
 */
function payerFlag(manifest: Manifest, chainId: number): string {
  if (manifest.access.mode === "free") return "";
  const tenCalls = BigInt(manifest.access.price) * 10n;
  const deposit = tenCalls > 100_000n ? tenCalls : 100_000n;
  return `${chainId === LOCAL_CHAIN_ID ? ` --dev-account ${DEV_ROLES.agent}` : " --keystore <file>"} --deposit ${deposit}`;
}
