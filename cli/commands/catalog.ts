import type { Command } from "commander";
import { getAddress, isAddress, type Address, type Hex } from "viem";
import type { AccountResponse, ExecutorEntry, PackageResponse } from "../../sdk/catalog-api.ts";
import { fetchPublicBlob } from "../../sdk/client/blobs.ts";
import { assertPackageName, InvalidPackageNameError } from "../../sdk/ids.ts";
import { connect, outputFor } from "../context.ts";
import { bold, CliError, cyan, dim, ExitCode, green, yellow } from "../ui.ts";
import { formatUsdc } from "../../sdk/units.ts";

function priceLabel(mode: string | null, price: string | null): string {
  if (!mode) return dim("no callable version");
  if (mode === "free") return green("free");
  return `${formatUsdc(price ?? "0")}${mode === "per-fuel" ? " + fuel" : ""} per call`;
}

export function registerCatalogCommands(program: Command): void {
  program
    .command("search")
    .description("Search the catalog by name, description, keywords and function names")
    .argument("[query...]", "words to search for (empty: everything, by usage)")
    .option("--access <mode>", "only free | per-call | per-fuel")
    .option("--max-price <units>", "only versions costing at most this (USDC base units)")
    .option("--license <id>", "only this license, e.g. MIT")
    .option("--has-forks", "only packages that have forks")
    .option("--limit <n>", "results per page", "20")
    .option("--offset <n>", "skip this many results", "0")
    .action(async (words: string[], opts, command: Command) => {
      const out = outputFor(command);
      const { glassbox } = await connect(command, { wallet: "none" });
      const query = words.join(" ");
      const response = await glassbox.search(query, {
        ...(opts.access ? { access: opts.access } : {}),
        ...(opts.maxPrice ? { maxPrice: BigInt(opts.maxPrice) } : {}),
        ...(opts.license ? { license: opts.license } : {}),
        ...(opts.hasForks ? { hasForks: true } : {}),
        limit: Number(opts.limit),
        offset: Number(opts.offset),
      });
      out.result(() => {
        if (response.results.length === 0) return `No capabilities match ${query ? `"${query}"` : "your filters"}.`;
        const lines = response.results.map((p) => {
          const version = p.callableVersion ? `@${p.callableVersion.version}` : "";
          const fork = p.fork ? dim(` (fork, ${p.fork.upstreamShareBps / 100}% upstream)`) : "";
          return [
            `${bold(p.name)}${cyan(version)}${fork}  ${priceLabel(p.accessMode, p.price)}`,
            `  ${p.description ?? dim("no description")}`,
            `  ${dim(`functions: ${p.functionNames.join(", ") || "-"} · ${p.usage.paidCalls} paid calls by ${p.usage.distinctPayers} payers · ${p.forkCount} forks`)}`,
          ].join("\n");
        });
        return `${lines.join("\n\n")}\n\n${dim(`${response.results.length} of ${response.total} shown`)}`;
      }, response);
    });

  program
    .command("info")
    .description("Show a package: spec, test vectors, versions, prices, forks, executors")
    .argument("<scope/name>", "package name")
    .action(async (name: string, _opts, command: Command) => {
      const out = outputFor(command);
      checkName(name);
      const { glassbox, connection } = await connect(command, { wallet: "none" });
      const info = await glassbox.info(name);
      const executors = await glassbox.catalog!.executors().catch(() => ({ executors: [] }));
      // The spec and the tests are public: read them from an executor that holds them.
      const latest = info.versions.find((v) => v.latest) ?? info.versions.at(-1);
      const sources = [connection.executorUrl, ...executors.executors.filter((e) => e.active).map((e) => e.endpoint)].filter((u): u is string => Boolean(u));
      const text = async (hash: Hex) => {
        const bytes = await fetchPublicBlob(sources, hash);
        return bytes && new TextDecoder().decode(bytes);
      };
      const spec = latest ? await text(latest.hashes.witHash) : undefined;
      const testsText = latest ? await text(latest.hashes.testsHash) : undefined;
      const tests = testsText ? (JSON.parse(testsText) as { cases?: unknown[] }) : undefined;
      out.result(() => formatInfo(info, executors.executors, spec, tests?.cases?.length), { ...info, executors: executors.executors, spec: spec ?? null, tests: tests ?? null });
    });

  program
    .command("earnings")
    .description("Show what an address earned per package and what it can claim")
    .argument("[address]", "account (default: your wallet)")
    .action(async (address: string | undefined, _opts, command: Command) => {
      const out = outputFor(command);
      const { glassbox, account } = await connect(command, { wallet: address ? "none" : "required" });
      const who = resolveAddress(address ?? account!.address);
      const { claimable, account: history } = await glassbox.earnings(who);
      out.result(() => formatEarnings(who, claimable, history), { address: who, claimable: claimable.toString(), account: history ?? null });
    });

  program
    .command("claim")
    .description("Withdraw your whole earned balance from Settlement in USDC")
    .option("--to <address>", "pay out to another address")
    .action(async (opts, command: Command) => {
      const out = outputFor(command);
      const { glassbox, account } = await connect(command, { wallet: "required" });
      const to = opts.to ? resolveAddress(opts.to) : undefined;
      const { amount, transaction } = await out.step(`Claiming earnings of ${account!.address}`, () => glassbox.claim(to));
      out.result(`${green("Claimed")} ${formatUsdc(amount)} to ${to ?? account!.address}\n${dim(`transaction ${transaction}`)}`, {
        claimed: amount.toString(),
        to: to ?? account!.address,
        transaction,
      });
    });
}

export function checkName(name: string): void {
  try {
    assertPackageName(name);
  } catch (error) {
    if (error instanceof InvalidPackageNameError) throw new CliError(error.message, ExitCode.usage);
    throw error;
  }
}

function resolveAddress(text: string): Address {
  if (!isAddress(text, { strict: false })) throw new CliError(`"${text}" is not an address.`, ExitCode.usage, "Pass a 0x-prefixed 20-byte address.");
  return getAddress(text);
}

function formatInfo(info: PackageResponse, executors: ExecutorEntry[], spec?: string, testCases?: number): string {
  const latest = info.versions.find((v) => v.latest) ?? info.versions.at(-1);
  const pkg = info.package;
  const lines = [bold(pkg.name), `  owner ${pkg.owner} · forks must pay upstream ≥ ${pkg.minForkShareBps / 100}%`];
  if (latest) {
    lines.push(`  ${latest.manifest.description ?? ""}`, `  license ${latest.manifest.license ?? "-"}`);
    lines.push("", bold("Functions") + dim(` (@${latest.version})`));
    for (const fn of latest.manifest.functions) lines.push(`  ${cyan(fn.signature ?? fn.name)}`);
    lines.push("", bold("Public spec and tests") + dim(" (free to read: GET <executor>/v1/blobs/<hash>)"));
    lines.push(`  wit   ${latest.hashes.witHash}`, `  tests ${latest.hashes.testsHash}${testCases !== undefined ? dim(` (${testCases} test vectors)`) : ""}`);
    if (spec) lines.push("", bold("WIT") + dim(` (@${latest.version})`), ...spec.trimEnd().split("\n").map((l) => `  ${dim("│")} ${l}`));
  }
  lines.push("", bold("Versions"));
  for (const v of info.versions) {
    const state = v.yanked ? yellow("yanked") : v.latest ? green("latest") : "";
    lines.push(`  ${v.version.padEnd(10)} ${priceLabel(v.accessMode, v.price).padEnd(24)} ${dim(`${v.usage.paidCalls} paid calls`)} ${state}`);
  }
  if (info.upstream?.length) lines.push("", bold("Upstream"), ...info.upstream.map((u) => `  ${u.name}@${u.version} gets ${u.upstreamShareBps / 100}%`));
  if (info.forks?.length) lines.push("", bold("Forks"), ...info.forks.map((f) => `  ${f.name} pays ${f.upstreamShareBps / 100}% upstream`));
  const active = executors.filter((e) => e.active);
  lines.push("", bold("Executors"), ...(active.length ? active.map((e) => `  ${e.endpoint} ${dim(`fee ${formatUsdc(e.feePerCall)}`)}`) : [dim("  none registered")]));
  return lines.join("\n");
}

function formatEarnings(address: Address, claimable: bigint, history: AccountResponse | undefined): string {
  const lines = [bold(address), `  claimable now: ${green(formatUsdc(claimable))}`];
  if (history) {
    lines.push(`  earned in total: ${formatUsdc(history.credited)} · claimed: ${formatUsdc(history.claimed)}`);
    for (const e of history.earnings) {
      const parts = [
        BigInt(e.royalty) > 0n ? `royalty ${formatUsdc(e.royalty)}` : "",
        BigInt(e.upstream) > 0n ? `from forks ${formatUsdc(e.upstream)}` : "",
        BigInt(e.executorFee) > 0n ? `executor fees ${formatUsdc(e.executorFee)}` : "",
      ].filter(Boolean);
      lines.push(`  ${(e.name ?? e.packageId).padEnd(28)} ${formatUsdc(e.total).padEnd(14)} ${dim(parts.join(" · "))}`);
    }
  } else {
    lines.push(dim("  (no catalog connected: per-package history needs --indexer)"));
  }
  if (claimable > 0n) lines.push("", dim("Withdraw with `glassbox claim`."));
  return lines.join("\n");
}
