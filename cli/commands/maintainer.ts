import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import type { TestReport } from "../../runtime/sandbox/index.ts";
import { canonicalJson } from "../../sdk/canonical-json.ts";
import { parsePackageRef } from "../../sdk/ids.ts";
import { encryptKeystore } from "../../sdk/keystore.ts";
import { connect, outputFor } from "../context.ts";
import type { CapabilityProject } from "../project.ts";
import { scaffoldFiles, writeScaffold } from "../scaffold.ts";
import { bold, CliError, cyan, dim, ExitCode, formatUsdc, green, parseShare, red, type Output } from "../ui.ts";
import { checkName } from "./catalog.ts";

// The runtime (jco, binaryen, esbuild) loads only for commands that build or run components.
const project = () => import("../project.ts");

async function reportLines(report: TestReport): Promise<string> {
  const { formatTestReport } = await import("../../runtime/sandbox/index.ts");
  return formatTestReport(report)
    .split("\n")
    .map((line) => line.replace(/^(\s+)PASS/, `$1${green("PASS")}`).replace(/^(\s+)FAIL/, `$1${red("FAIL")}`))
    .join("\n");
}

async function runTests(out: Output, capability: CapabilityProject, bytes: Uint8Array): Promise<TestReport> {
  const { testProject } = await project();
  const report = await out.step(`Running ${capability.manifest.tests} against the component`, () => testProject(capability, bytes));
  out.info(await reportLines(report));
  return report;
}

export function registerMaintainerCommands(program: Command): void {
  program
    .command("init")
    .description("Scaffold a capability: WIT spec, TypeScript implementation, test vectors, glassbox.json")
    .argument("<scope/name>", "package name, e.g. acme/word-tools")
    .option("--dir <dir>", "folder to create (default: the name part)")
    .option("--owner <address>", "revenue recipient in the splits (default: your wallet, if set)")
    .action(async (name: string, opts, command: Command) => {
      const out = outputFor(command);
      checkName(name);
      const dir = path.resolve(opts.dir ?? name.split("/")[1]!);
      let owner = opts.owner as string | undefined;
      if (!owner && process.env.GLASSBOX_PRIVATE_KEY) owner = privateKeyToAccount(process.env.GLASSBOX_PRIVATE_KEY as Hex).address;
      const files = await writeScaffold(dir, scaffoldFiles(name, (owner ?? "0x0000000000000000000000000000000000000001") as Hex));
      out.result(
        [
          `${green("Created")} ${name} in ${dir}`,
          ...files.map((f) => `  ${f}`),
          "",
          `Next: edit ${cyan("wit/world.wit")} and ${cyan("src/index.ts")}, add cases to ${cyan("tests.json")}, set the price and splits in ${cyan("glassbox.json")}${owner ? "" : dim(" (the recipient is a placeholder: put your address)")},`,
          `then ${cyan(`cd ${path.relative(process.cwd(), dir) || "."} && glassbox build && glassbox test && glassbox publish`)}`,
        ].join("\n"),
        { name, dir, files },
      );
    });

  program
    .command("build")
    .description("Build the component from source (cached by input hash)")
    .argument("[dir]", "capability folder", ".")
    .action(async (dir: string, _opts, command: Command) => {
      const out = outputFor(command);
      const { loadProject, buildProject } = await project();
      const capability = await loadProject(dir);
      const result = await out.step(`Building ${capability.manifest.name} (${capability.manifest.source?.backend ?? "qjs"})`, () => buildProject(capability));
      out.result(
        `${green("Built")} ${path.relative(process.cwd(), result.outputPath)} ${dim(`${(result.bytes.length / 1024).toFixed(0)} KiB · sha256 ${result.componentHash}${result.cached ? " · from cache" : ""}`)}`,
        { component: result.outputPath, componentHash: result.componentHash, bytes: result.bytes.length, backend: result.backend, cached: result.cached },
      );
    });

  program
    .command("test")
    .description("Run the public test vectors against the built component")
    .argument("[dir]", "capability folder", ".")
    .option("--no-build", "test the component as built, without rebuilding")
    .action(async (dir: string, opts, command: Command) => {
      const out = outputFor(command);
      const { loadProject, componentBytes } = await project();
      const capability = await loadProject(dir);
      const bytes = await out.step(`Building ${capability.manifest.name}`, () => componentBytes(capability, opts.build !== false));
      const report = await runTests(out, capability, bytes);
      out.result(report.failed === 0 ? `${green(`${report.passed} passed`)}, 0 failed` : `${report.passed} passed, ${red(`${report.failed} failed`)}`, report);
      if (report.failed > 0) process.exitCode = ExitCode.invalid;
    });

  program
    .command("publish")
    .description("Validate, build, test, register on-chain from your wallet and upload to an executor")
    .argument("[dir]", "capability folder", ".")
    .option("--no-upload", "register on-chain only; upload the blobs later")
    .action(async (dir: string, opts, command: Command) => {
      const out = outputFor(command);
      const { loadProject, componentBytes } = await project();
      const capability = await loadProject(dir);
      const { manifest } = capability;
      const bytes = await out.step(`Building ${manifest.name}@${manifest.version}`, () => componentBytes(capability, true));
      const report = await runTests(out, capability, bytes);
      if (report.failed > 0) {
        throw new CliError(`${report.failed} of ${report.total} test vectors fail: refusing to publish ${manifest.name}@${manifest.version}.`, ExitCode.invalid, "Fix the implementation (or the vectors) and run `glassbox test`.");
      }
      const { glassbox, connection } = await connect(command, { wallet: "required" });
      const executorUrl = opts.upload === false ? undefined : connection.executorUrl;
      if (opts.upload !== false && !executorUrl) {
        throw new CliError("No executor to upload to.", ExitCode.usage, "Pass --executor URL (or --no-upload to register on-chain only).");
      }
      const files = {
        manifest,
        component: bytes,
        wit: new TextEncoder().encode(capability.witSource),
        tests: new Uint8Array(await readFile(capability.path(manifest.tests))),
      };
      const result = await glassbox.publish(files, { ...(executorUrl ? { executorUrl } : {}), progress: (label, work) => out.step(label, work) });
      out.result(
        [
          `${green("Published")} ${bold(`${result.name}@${result.version}`)} ${dim(result.versionId)}`,
          `  price ${manifest.access.mode === "free" ? "free" : formatUsdc(manifest.access.price)} · component ${result.hashes.componentHash}`,
          result.uploadedTo ? `  served by ${result.uploadedTo}` : dim("  not uploaded to an executor yet"),
          "",
          `Try: ${cyan(`glassbox call ${result.name}@${result.version} ${manifest.functions?.[0]?.name ?? "<function>"} ...`)}`,
        ].join("\n"),
        result,
      );
    });

  program
    .command("fork")
    .description("Register a fork of a published version in your scope, owing the upstream a share of every paid call")
    .argument("<parent>", "scope/name@version to fork")
    .argument("<new-name>", "your package, e.g. you/markdown-plus")
    .requiredOption("--upstream-share <share>", "share of every royalty sent upstream, e.g. 20%")
    .option("--min-fork-share <share>", "what forks of your fork must pay you", "10%")
    .option("--dir <dir>", "also scaffold a folder with the parent's public WIT and tests and a fork manifest")
    .action(async (parentRef: string, newName: string, opts, command: Command) => {
      const out = outputFor(command);
      checkName(newName);
      const upstreamShareBps = parseShare(opts.upstreamShare);
      const minForkShareBps = parseShare(opts.minForkShare);
      const { glassbox, connection, account } = await connect(command, { wallet: "required" });
      const parent = parsePackageRef(parentRef);
      const parentVersion = await glassbox.registry.resolveVersion(parent.name, parent.version);
      const parentPackage = await glassbox.registry.getPackage(parent.name);
      if (parentPackage && upstreamShareBps < parentPackage.minForkShareBps) {
        throw new CliError(
          `${parent.name} requires forks to pay at least ${parentPackage.minForkShareBps / 100}% upstream; you offered ${upstreamShareBps / 100}%.`,
          ExitCode.refused,
          `Use --upstream-share ${parentPackage.minForkShareBps / 100}% or more.`,
        );
      }
      const fork = await out.step(`Registering ${newName} as a fork of ${parent.name}@${parentVersion.version}`, () =>
        glassbox.fork(`${parent.name}@${parentVersion.version}`, newName, upstreamShareBps, minForkShareBps),
      );
      let scaffolded: string | undefined;
      if (opts.dir) {
        if (!connection.executorUrl) throw new CliError("--dir needs an executor to read the parent's public WIT and tests from.", ExitCode.usage, "Pass --executor URL.");
        const { manifest: parentManifest } = await glassbox.registry.getManifest(parentVersion.versionId);
        const blob = async (hash: string) => {
          const response = await fetch(`${connection.executorUrl}/v1/blobs/${hash}`);
          if (!response.ok) throw new CliError(`The executor does not serve blob ${hash} (${response.status}).`, ExitCode.unavailable);
          return response.text();
        };
        const manifest = {
          ...parentManifest,
          name: newName,
          version: "0.1.0",
          description: `Fork of ${parent.name}@${parentVersion.version}: ${parentManifest.description}`,
          fork: { parent: `${parent.name}@${parentVersion.version}`, upstreamShareBps },
          minForkShareBps,
          splits: [{ recipient: account!.address, bps: 10_000 }],
          source: { entry: "src/index.ts", backend: parentManifest.source?.backend ?? "qjs" },
          functions: undefined,
        };
        const files = {
          [parentManifest.wit.file]: await blob(parentVersion.hashes.witHash),
          [parentManifest.tests]: await blob(parentVersion.hashes.testsHash),
          "glassbox.json": `${JSON.stringify(JSON.parse(canonicalJson(manifest)), null, 2)}\n`,
          "src/index.ts": `// Implement the ${parentManifest.wit.interface} interface of ${parentManifest.wit.file} (the upstream's source is not published:\n// its spec and tests are). Then glassbox build && glassbox test && glassbox publish.\n`,
        };
        scaffolded = path.resolve(opts.dir);
        await writeScaffold(scaffolded, files);
      }
      out.result(
        [
          `${green("Registered fork")} ${bold(newName)} of ${parent.name}@${parentVersion.version}: ${upstreamShareBps / 100}% of every royalty goes upstream`,
          dim(`  transaction ${fork.transaction}`),
          scaffolded ? `  scaffolded ${scaffolded} with the parent's public WIT and tests` : "",
          `Next: publish a version whose glassbox.json has "fork": { "parent": "${parent.name}@${parentVersion.version}", "upstreamShareBps": ${upstreamShareBps} }`,
        ]
          .filter(Boolean)
          .join("\n"),
        { name: newName, packageId: fork.packageId, parentVersionId: fork.parentVersionId, upstreamShareBps, minForkShareBps, transaction: fork.transaction, dir: scaffolded ?? null },
      );
    });

  program
    .command("yank")
    .description("Yank a version: it stays on record but is no longer callable")
    .argument("<scope/name@version>", "exact version")
    .action(async (ref: string, _opts, command: Command) => {
      const out = outputFor(command);
      const { glassbox } = await connect(command, { wallet: "required" });
      const transaction = await out.step(`Yanking ${ref}`, () => glassbox.yank(ref));
      out.result(`${green("Yanked")} ${ref} ${dim(transaction)}`, { yanked: ref, transaction });
    });

  program
    .command("keystore")
    .description("Write an encrypted keystore file (from GLASSBOX_PRIVATE_KEY, or a new key)")
    .argument("<file>", "where to write it")
    .action(async (file: string, _opts, command: Command) => {
      const out = outputFor(command);
      const password = process.env.GLASSBOX_KEYSTORE_PASSWORD;
      if (!password) throw new CliError("Set GLASSBOX_KEYSTORE_PASSWORD to the password that will protect the file.", ExitCode.usage);
      const key = (process.env.GLASSBOX_PRIVATE_KEY as Hex | undefined) ?? generatePrivateKey();
      const keystore = encryptKeystore(key, password);
      await writeFile(file, `${JSON.stringify(keystore, null, 2)}\n`, { mode: 0o600 });
      const address = privateKeyToAccount(key).address;
      out.result(`${green("Wrote")} ${file} for ${bold(address)} ${dim("(use it with --keystore)")}`, { file, address });
    });
}

