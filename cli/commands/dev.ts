import { readdir, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { DEV_ROLES, devAccount } from "../../sdk/dev-accounts.ts";
import { Glassbox } from "../../sdk/glassbox.ts";
import { devStatePath, REPO_ROOT, type DevState } from "../config.ts";
import { globalOptions, outputFor } from "../context.ts";
import type { DevStack } from "../dev-stack.ts";
import type { CapabilityProject } from "../project.ts";
import { bold, CliError, cyan, dim, ExitCode, green, type Output } from "../ui.ts";

/** Sample capabilities, upstreams before their forks. */
async function sampleProjects(root: string): Promise<CapabilityProject[]> {
  const { loadProject } = await import("../project.ts");
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

export async function publishSamples(stack: DevStack, out: Output, root = path.join(REPO_ROOT, "capabilities")): Promise<string[]> {
  const { componentBytes, testProject } = await import("../project.ts");
  const published: string[] = [];
  for (const project of await sampleProjects(root)) {
    const { manifest } = project;
    const bytes = await out.step(`Building ${manifest.name}@${manifest.version}`, () => componentBytes(project, true));
    const report = await out.step(`Testing ${manifest.name} (${manifest.tests})`, () => testProject(project, bytes));
    if (report.failed > 0) throw new CliError(`${manifest.name}: ${report.failed} test vectors fail; not publishing it.`, ExitCode.invalid);
    const glassbox = new Glassbox({ rpcUrl: stack.rpcUrl, deployment: stack.deployment, account: devAccount(ownerIndex(project)), executorUrl: stack.executorUrl });
    const files = {
      manifest,
      component: bytes,
      wit: new TextEncoder().encode(project.witSource),
      tests: new Uint8Array(await readFile(project.path(manifest.tests))),
    };
    await out.step(`Publishing ${manifest.name}@${manifest.version} and uploading it`, () => glassbox.publish(files));
    published.push(`${manifest.name}@${manifest.version}`);
  }
  return published;
}

export function registerDevCommand(program: Command): void {
  program
    .command("dev")
    .description("Start the whole local stack: chain, contracts, funded wallets, indexer, executor, sample capabilities")
    .option("--state-dir <dir>", "where logs and databases go (wiped at start)", path.join(REPO_ROOT, ".glassbox", "dev"))
    .option("--no-samples", "do not publish the sample capabilities")
    .option("--settlement <mode>", "executor settlement: batched | immediate", "batched")
    .action(async (opts, command: Command) => {
      const out = outputFor(command);
      const started = Date.now();
      if (globalOptions(command).json) throw new CliError("`glassbox dev` runs until Ctrl-C; --json is not supported here.", ExitCode.usage);
      const { startDevStack } = await import("../dev-stack.ts");
      const stack = await out.step("Starting chain, contracts, indexer and executor", () =>
        startDevStack({ stateDir: opts.stateDir, settlementMode: opts.settlement, log: (line) => out.info(dim(`  ${line}`)) }),
      );
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        out.info(`\n${signal}: stopping the local stack…`);
        await rm(devStatePath(), { force: true });
        await stack.stop();
        out.info("Stopped.");
        process.exit(0);
      };
      process.on("SIGINT", () => void shutdown("Ctrl-C"));
      process.on("SIGTERM", () => void shutdown("SIGTERM"));

      try {
        const samples = opts.samples === false ? [] : await publishSamples(stack, out);
        const state: DevState = {
          pid: process.pid,
          rpcUrl: stack.rpcUrl,
          chainId: stack.chainId,
          deploymentsFile: stack.deploymentsFile,
          indexerUrl: stack.indexerUrl,
          executorUrl: stack.executorUrl,
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
            `  executor  ${stack.executorUrl}`,
            stack.webUrl ? `  web       ${stack.webUrl}  ${dim("the catalog: browse for free; publish, try and claim with a browser wallet")}` : "",
            `  logs      ${path.join(stack.stateDir, "logs")}`,
            samples.length ? `  published ${samples.join(", ")}` : "",
            "",
            bold("Try it (in another terminal):"),
            `  ${cyan("npx glassbox search markdown")}`,
            `  ${cyan(`npx glassbox call acme/markdown to-html "# Hello *agents*" --dev-account ${agent}`)}`,
            `  ${cyan(`npx glassbox earnings ${devAccount(DEV_ROLES.maintainer).address}`)}`,
            "",
            dim("Ctrl-C stops everything."),
          ]
            .filter((line) => line !== undefined)
            .join("\n"),
          state,
        );
      } catch (error) {
        await rm(devStatePath(), { force: true });
        await stack.stop();
        throw error;
      }
      await new Promise(() => {}); // run until a signal
    });
}
