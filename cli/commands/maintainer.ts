import type { Command } from "commander";
import { WALLET_HELP } from "../ui.ts";

// Definitions only: each action imports its implementation when the command runs.

const PUBLISH_HELP = `
Needs a wallet: it signs the on-chain registration and the uploads.\n${WALLET_HELP}

Resumable: when name@version is already registered with the same files (same hashes), publish sends
nothing on-chain and uploads only what the executor is missing. When any file differs, it is refused
and the message names the file: published versions are immutable, bump "version" to publish new files.

Example:
  glassbox publish --dev-account 1`;

const FORK_HELP = `
A fork is a package in your scope, registered on-chain as a fork of one published version. Every
paid call of the fork sends --upstream-share of its royalty to the parent's recipients (at least
the parent's minimum, see \`glassbox info\`); your splits get the rest.

What a fork must ship (\`glassbox publish\` in the fork's folder):
  - the parent's public spec: its WIT world and interface, kept compatible (adding functions is
    fine) so callers and its test vectors still apply;
  - its own implementation of that spec: the parent's source and component are never published,
    only its WIT and test vectors, so a fork re-implements (then improves) what the parent does;
  - test vectors that pass: start from the parent's, add your own;
  - glassbox.json with "fork": { "parent": "scope/name@version", "upstreamShareBps": N }, and your
    address in "splits".
--dir writes all of that from the parent's public files, with src/index.ts holding one stub per
function to fill in; when the parent publishes its source, --dir starts from that source instead.

--wrap (with --dir) scaffolds a wrapping fork instead: its component imports the parent's
interface and exports the same one, delegating every function to the parent until you replace
it, so you write only what you change. Its tests are the parent's vectors plus your own. A
delegated call pays the parent its own price as a dependency of the call; your upstream share
applies to your own royalty only, so nobody is charged twice for the same work.

Needs a wallet: the fork is registered from it.\n${WALLET_HELP}

Example:
  glassbox fork acme/semver@1.0.0 you/semver --upstream-share 20% --dir semver-fork --dev-account 2
  cd semver-fork && glassbox build && glassbox test && glassbox publish --dev-account 2`;

export function registerMaintainerCommands(program: Command): void {
  program
    .command("init")
    .description("Scaffold a capability: WIT spec, TypeScript implementation, test vectors, glassbox.json")
    .argument("<scope/name>", "package name, e.g. acme/word-tools")
    .option("--dir <dir>", "folder to create (default: the name part)")
    .option("--owner <address>", "revenue recipient in the splits (default: your wallet's address)")
    .addHelpText(
      "after",
      "\nThe splits name your wallet's address (--keystore, GLASSBOX_PRIVATE_KEY or --dev-account N), or --owner.\n" +
        "Without either they name a placeholder, which publish refuses until you put your address there.",
    )
    .action(async (name: string, opts, command: Command) => (await import("../actions/init.ts")).init(name, opts, command));

  program
    .command("build")
    .description("Build the component from source (cached by input hash)")
    .argument("[dir]", "capability folder", ".")
    .action(async (dir: string, _opts, command: Command) => (await import("../actions/build.ts")).build(dir, command));

  program
    .command("test")
    .description("Run the public test vectors against the built component")
    .argument("[dir]", "capability folder", ".")
    .option("--no-build", "test the component as built, without rebuilding")
    .action(async (dir: string, opts, command: Command) => (await import("../actions/build.ts")).test(dir, opts, command));

  program
    .command("publish")
    .description("Validate, build, test, register on-chain from your wallet and upload to an executor (resumable)")
    .argument("[dir]", "capability folder", ".")
    .option("--no-upload", "register on-chain only; upload later with `glassbox upload`")
    .addHelpText("after", PUBLISH_HELP)
    .action(async (dir: string, opts, command: Command) => (await import("../actions/publish.ts")).publish(dir, opts, command));

  program
    .command("upload")
    .description("Upload a registered version's spec, tests and component to an executor (only what it is missing)")
    .argument("[dir]", "capability folder", ".")
    .addHelpText(
      "after",
      `\nFor a version registered with \`publish --no-upload\`, or to serve it from another executor\n` +
        `(--executor URL, else the local stack's). The files must be the registered ones (same hashes).\n` +
        `Needs the package owner's wallet: executors accept uploads signed by it.\n${WALLET_HELP}`,
    )
    .action(async (dir: string, _opts, command: Command) => (await import("../actions/publish.ts")).upload(dir, command));

  program
    .command("pack")
    .description("Build and test, then write one file (WIT, tests, manifest, component) to publish from the web catalog with a browser wallet")
    .argument("[dir]", "capability folder", ".")
    .option("--out <file>", "where to write it (default: <scope>-<name>-<version>.gbpack in the current folder)")
    .action(async (dir: string, opts, command: Command) => (await import("../actions/pack.ts")).pack(dir, opts, command));

  program
    .command("fork")
    .description("Register a fork of a published version in your scope, owing the upstream a share of every paid call")
    .argument("<parent>", "scope/name@version to fork")
    .argument("<new-name>", "your package, e.g. you/markdown-plus")
    .requiredOption("--upstream-share <share>", "share of every royalty sent upstream, e.g. 20%")
    .option("--min-fork-share <share>", "what forks of your fork must pay you", "10%")
    .option("--dir <dir>", "also scaffold a folder with the parent's public WIT and tests, a fork manifest and stubs (or the parent's published source)")
    .option("--wrap", "with --dir: scaffold a fork that imports its parent and delegates every function to it")
    .addHelpText("after", FORK_HELP)
    .action(async (parent: string, newName: string, opts, command: Command) => (await import("../actions/fork.ts")).fork(parent, newName, opts, command));

  program
    .command("source")
    .description("Print (or write to --out) the published source of a version: free to read")
    .argument("<scope/name[@version]>", "package, latest version by default")
    .option("--out <dir>", "write the files into this (new or empty) folder")
    .option("--file <path>", "print only this file")
    .action(async (ref: string, opts, command: Command) => (await import("../actions/source.ts")).source(ref, opts, command));

  program
    .command("yank")
    .description("Yank a version: it stays on record but is no longer callable")
    .argument("<scope/name@version>", "exact version")
    .addHelpText("after", `\nNeeds the package owner's wallet.\n${WALLET_HELP}`)
    .action(async (ref: string, _opts, command: Command) => (await import("../actions/yank.ts")).yank(ref, command));

  program
    .command("keystore")
    .description("Write an encrypted keystore file (from GLASSBOX_PRIVATE_KEY, or a new key)")
    .argument("<file>", "where to write it")
    .addHelpText("after", "\nThe password comes from GLASSBOX_KEYSTORE_PASSWORD. Use the file with --keystore FILE.")
    .action(async (file: string, _opts, command: Command) => (await import("../actions/keystore.ts")).keystore(file, command));
}
