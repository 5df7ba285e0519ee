import type { Command } from "commander";
import { CALL_ARGS_HELP } from "../call-args.ts";
import { WALLET_HELP } from "../ui.ts";

// Definitions only: each action imports its implementation (viem, the runtime) when the command runs.

const LICENCE_HELP = `
Pay once, run locally. A version may offer a licence: pay its price once (in USDC, credited to its
maintainers through the same splits and fork shares as calls) and you may download its component from any
executor that holds it and run it on your machine with \`glassbox run\`, in the same sandbox executors use.

  status <pkg[@version]>          the current offer and whether your wallet holds a licence
  buy <pkg[@version]>             buy one (asks first on a terminal; --yes or --max-price in scripts)
  offer <pkg@version> <units>     (package owner) offer, reprice, or withdraw with 0

The price is read on-chain; buy refuses to pay more than what you agreed to, even if the owner reprices in
between. Without a licence the component bytes are never served.\n${WALLET_HELP}`;

const RUN_HELP = `
Runs a licensed version's component on this machine, in the same metered sandbox executors use: fuel and
memory limits hold, WASI capabilities are denied unless you grant them with --allow-capability (as an
operator does). Needs a licence for the version and for each dependency it links (\`glassbox licence buy\`).
The component is downloaded once from an executor with a request your wallet signs, checked against the
sha256 the chain pins, and kept in the config dir; later runs need no executor for it.

${CALL_ARGS_HELP}\n${WALLET_HELP}

Example:\n  glassbox licence buy acme/semver --dev-account 3 --yes\n  glassbox run acme/semver satisfies 1.2.3 '^1.0.0' --dev-account 3`;

export function registerLicenceCommands(program: Command): void {
  const licence = program.command("licence").description("Licences to run a version locally: status, buy, offer").addHelpText("after", LICENCE_HELP);
  licence
    .command("status")
    .description("Show a version's licence offer and whether your wallet holds one")
    .argument("<scope/name[@version]>", "package, optionally @version (default: latest)")
    .option("--holder <address>", "check this address instead of your wallet")
    .action(async (ref: string, opts, command: Command) => (await import("../actions/licence.ts")).status(ref, opts, command));
  licence
    .command("buy")
    .description("Buy a licence to run a version locally")
    .argument("<scope/name[@version]>", "package, optionally @version (default: latest)")
    .option("--max-price <units>", "pay at most this (USDC base units); agrees without asking")
    .option("--holder <address>", "buy it for this address (a gift) instead of your wallet")
    .option("--yes", "agree to the current price without asking")
    .action(async (ref: string, opts, command: Command) => (await import("../actions/licence.ts")).buy(ref, opts, command));
  licence
    .command("offer")
    .description("(package owner) Offer, reprice or withdraw (0) a licence for a version")
    .argument("<scope/name@version>", "the exact version")
    .argument("<units>", "price in USDC base units (0 withdraws the offer)")
    .action(async (ref: string, units: string, _opts, command: Command) => (await import("../actions/licence.ts")).offer(ref, units, command));

  program
    .command("run")
    .description("Run a licensed capability locally, in the same sandbox executors use")
    .argument("<scope/name[@version]>", "package, optionally @version (default: latest)")
    .argument("<function>", "function name from the WIT")
    .argument("[args...]", "arguments: JSON values, or plain text (see below)")
    .option("--allow-capability <name...>", "grant a WASI capability the manifest requests (default: none)")
    .addHelpText("after", RUN_HELP)
    .action(async (ref: string, functionName: string, tokens: string[], opts, command: Command) =>
      (await import("../actions/run.ts")).run(ref, functionName, tokens, opts, command),
    );
}
