import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { DEV_ROLES, devAccount, MAX_DEV_EXECUTORS } from "../../sdk/dev-accounts.ts";
import { Glassbox, type CapabilityFiles } from "../../sdk/glassbox.ts";
import { devStatePath, REPO_ROOT, type DevState } from "../config.ts";
import { globalOptions, outputFor } from "../context.ts";
import type { DevServices } from "../dev-stack.ts";
import { capabilityFiles, componentBytes, loadProject, recordVerification, testProject, verifiedComponent, type CapabilityProject } from "../project.ts";
import { bold, CliError, count, cyan, dim, ExitCode, flushOutput, green, type Output } from "../ui.ts";
import { parseBaseUnits } from "../validate.ts";

export interface DevOptions {
  stateDir: string;
  samples: boolean;
  bond: string;
  settleWindow: string;
  executors: string;
}

/** Sample capabilities, upstreams before their forks (uploads also wait for dependencies: see publishSamples). */
async function sampleProjects(root: string): Promise<CapabilityProject[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const projects: CapabilityProject[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = path.join(root, entry.name);
    const hasManifest = await readFile(path.join(dir, "glassbox.json")).then(() => true, () => false);
    if (hasManifest) projects.push(await loadProject(dir));
  }
  return projects.sort((a, b) => Number(Boolean(a.manifest.fork)) - Number(Boolean(b.manifest.fork)) || a.manifest.name.localeCompare(b.manifest.name));
}

/** The dev account that receives a capability's first split (its maintainer), else the default maintainer. */
function ownerIndex(project: CapabilityProject): number {
  const recipient = project.manifest.splits[0]?.recipient.toLowerCase();
  for (let i = 0; i < 10; i++) if (devAccount(i).address.toLowerCase() === recipient) return i;
  return DEV_ROLES.maintainer;
}

/** The component of a sample: as built and tested before when its inputs are unchanged, else built and tested now. */
async function sampleComponent(project: CapabilityProject, out: Output): Promise<Uint8Array> {
  const label = `${project.manifest.name}@${project.manifest.version}`;
  const verified = await verifiedComponent(project);
  if (verified) {
    out.info(`${green("✔")} ${label} ${dim(`unchanged since its last build and test (${count(verified.passed, "test vector")} passed)`)}`);
    return verified.bytes;
  }
  const bytes = await out.step(`Building ${label}`, () => componentBytes(project, true));
  const report = await out.step(`Testing ${label} (${project.manifest.tests})`, () => testProject(project, bytes));
  if (report.failed > 0) throw new CliError(`${project.manifest.name}: ${count(report.failed, "test vector")} of ${report.total} fail; not publishing it.`, ExitCode.invalid);
  await recordVerification(project, bytes, report);
  return bytes;
}

/** Builds and tests the samples (skipping unchanged ones), registers them in order, then uploads them all at once. */
export async function publishSamples(services: DevServices, out: Output, root = path.join(REPO_ROOT, "capabilities")): Promise<string[]> {
  const projects = await sampleProjects(root);
  const published: { glassbox: Glassbox; files: CapabilityFiles; label: string }[] = [];
  for (const project of projects) {
    const files = await capabilityFiles(project, await sampleComponent(project, out));
    const glassbox = new Glassbox({ rpcUrl: services.rpcUrl, deployment: services.deployment, account: devAccount(ownerIndex(project)) });
    const label = `${project.manifest.name}@${project.manifest.version}`;
    // On-chain one at a time: a fork's parent must be registered before it.
    await out.step(`Publishing ${label} on-chain`, () => glassbox.publish(files));
    published.push({ glassbox, files, label });
  }
  // Each executor verifies and prepares each upload: independent work, done in parallel, in waves
  // (a dependent's component is accepted only once its dependencies are on the executor).
  const executorUrls = services.executors.map((e) => e.url);
  await out.step(`Uploading ${count(published.length, "sample")} to ${executorUrls.length === 1 ? "the executor" : `${executorUrls.length} executors`}`, async () => {
    const uploaded = new Set<string>();
    const samples = new Set(published.map((p) => p.files.manifest.name));
    let pending = published;
    while (pending.length > 0) {
      const ready = pending.filter((p) => (p.files.manifest.dependencies ?? []).every((d) => !samples.has(d.package) || uploaded.has(d.package)));
      if (ready.length === 0) throw new CliError(`The samples ${pending.map((p) => p.label).join(", ")} depend on each other in a cycle.`, ExitCode.invalid);
      await Promise.all(executorUrls.flatMap((executorUrl) => ready.map((p) => p.glassbox.upload(p.files, { executorUrl }))));
      for (const p of ready) uploaded.add(p.files.manifest.name);
      pending = pending.filter((p) => !ready.includes(p));
    }
  });
  return published.map((p) => p.label);
}

export async function dev(opts: DevOptions, command: Command): Promise<void> {
  const out = outputFor(command);
  const started = Date.now();
  if (globalOptions(command).json) throw new CliError("`glassbox dev` runs until Ctrl-C; --json is not supported here.", ExitCode.usage);
  const { startDevStack } = await import("../dev-stack.ts");

  // Ctrl-C during the start aborts it (every process started so far is stopped); afterwards it stops the stack.
  const aborter = new AbortController();
  let stopStack: (() => Promise<void>) | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    out.info(`\n${signal}: stopping the local stack…`);
    await rm(devStatePath(), { force: true });
    if (stopStack) await stopStack();
    else {
      aborter.abort();
      await starting.catch(() => {});
    }
    out.info("Stopped.");
    await flushOutput();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("Ctrl-C"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  let samples: string[] = [];
  out.info(`Starting the local stack ${dim(`(logs in ${path.join(path.resolve(opts.stateDir), "logs")})`)}`);
  const executors = Number(opts.executors);
  if (!/^\d+$/.test(opts.executors) || executors < 1 || executors > MAX_DEV_EXECUTORS) {
    throw new CliError(`--executors must be a whole number from 1 to ${MAX_DEV_EXECUTORS}, got "${opts.executors}".`, ExitCode.usage);
  }
  const starting = startDevStack({
    stateDir: opts.stateDir,
    executors,
    executorBond: parseBaseUnits(opts.bond, "--bond"),
    settleWindowSeconds: Number(parseBaseUnits(opts.settleWindow, "--settle-window")),
    signal: aborter.signal,
    log: (line) => out.info(`${green("✔")} ${line}`),
    whileIndexerStarts: async (services) => {
      if (opts.samples) samples = await publishSamples(services, out);
    },
  });
  const stack = await starting;
  stopStack = stack.stop;
  try {
    const state: DevState = {
      pid: process.pid,
      rpcUrl: stack.rpcUrl,
      chainId: stack.chainId,
      deploymentsFile: stack.deploymentsFile,
      indexerUrl: stack.indexerUrl,
      executorUrl: stack.executorUrl,
      executorUrls: stack.executors.map((e) => e.url),
      startedAt: new Date().toISOString(),
    };
    await mkdir(path.dirname(devStatePath()), { recursive: true });
    await writeFile(devStatePath(), JSON.stringify(state, null, 2));
    const agent = DEV_ROLES.agent;
    out.result(
      [
        "",
        `${green("Glassbox is running")} ${dim(`(ready in ${((Date.now() - started) / 1000).toFixed(1)}s)`)}`,
        `  chain     ${stack.rpcUrl}  ${dim(`chain id ${stack.chainId}`)}`,
        `  registry  ${stack.deployment.contracts.registry}`,
        `  settle    ${stack.deployment.contracts.settlement}`,
        `  usdc      ${stack.deployment.contracts.usdc}  ${dim("dev accounts 0-9 hold 1000 USDC each")}`,
        `  indexer   ${stack.indexerUrl}  ${dim(`(${stack.indexerUrl}/search?q=markdown · /graphql)`)}`,
        ...stack.executors.map(
          (e, i) => `  ${(i === 0 ? "executor" : `executor${i + 1}`).padEnd(9)} ${e.url}  ${dim(`operator ${e.operator} · fee ${e.fee} · bond ${e.bond} · MCP ${e.url}/mcp`)}`,
        ),
        ...(stack.webUrl ? [`  web       ${stack.webUrl}  ${dim("the catalog: browse for free; publish, try and claim with a browser wallet")}`] : []),
        `  logs      ${path.join(stack.stateDir, "logs")}`,
        samples.length ? `  published ${samples.join(", ")}` : "",
        "",
        bold("Try it (in another terminal; `npm link` once puts glassbox on your PATH):"),
        `  ${cyan("glassbox search markdown")}`,
        `  ${cyan(`glassbox call acme/markdown to-html "# Hello *agents*" --dev-account ${agent} --deposit 100000`)}`,
        `  ${cyan(`glassbox receipts --dev-account ${agent}`)}`,
        `  ${cyan(`glassbox licence buy acme/semver --dev-account ${agent} --yes`)}  ${dim("pay once, then run it locally:")}`,
        `  ${cyan(`glassbox run acme/semver satisfies 1.2.3 '^1.0.0' --dev-account ${agent}`)}`,
        `  ${cyan(`glassbox earnings ${devAccount(DEV_ROLES.maintainer).address}`)}`,
        "",
        dim("Ctrl-C stops everything."),
      ].join("\n"),
      state,
    );
  } catch (error) {
    await rm(devStatePath(), { force: true });
    await stack.stop();
    throw error;
  }
  await new Promise(() => {}); // run until a signal
}
