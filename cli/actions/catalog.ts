import type { Command } from "commander";
import type { PackageResponse } from "../../sdk/catalog-api.ts";
import { ACCESS_MODES, type AccessMode } from "../../sdk/manifest.ts";
import { readPublicBlob } from "../../sdk/client/blobs.ts";
import { connect, outputFor } from "../context.ts";
import { bold, CliError, count, cyan, dim, ExitCode, green, yellow } from "../ui.ts";
import { formatUsdc } from "../../sdk/units.ts";
import { checkName } from "../validate.ts";

function priceLabel(mode: string | null, price: string | null): string {
  if (!mode) return dim("no callable version");
  if (mode === "free") return green("free");
  return `${formatUsdc(price ?? "0")}${mode === "per-fuel" ? " + fuel" : ""} per call`;
}

export interface SearchOptions {
  access?: string;
  maxPrice?: string;
  license?: string;
  hasForks?: boolean;
  limit: string;
  offset: string;
}

function accessMode(text: string): AccessMode {
  const mode = ACCESS_MODES.find((m) => m === text);
  if (!mode) throw new CliError(`--access must be one of ${ACCESS_MODES.join(", ")}, not "${text}".`, ExitCode.usage);
  return mode;
}

export async function search(words: string[], opts: SearchOptions, command: Command): Promise<void> {
  const out = outputFor(command);
  const { glassbox } = await connect(command, { wallet: "none" });
  const query = words.join(" ");
  const response = await glassbox.search(query, {
    ...(opts.access ? { access: accessMode(opts.access) } : {}),
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
        `  ${dim(`functions: ${p.functionNames.join(", ") || "-"} · ${count(p.usage.paidCalls, "paid call")} settled · ${count(p.forkCount, "fork")}`)}`,
      ].join("\n");
    });
    return `${lines.join("\n\n")}\n\n${dim(`${response.results.length} of ${response.total} shown`)}`;
  }, response);
}

export async function info(name: string, command: Command): Promise<void> {
  const out = outputFor(command);
  checkName(name);
  const { glassbox, connection } = await connect(command, { wallet: "none" });
  const info = await glassbox.info(name);
  const executors = await glassbox.catalog!.executors().catch(() => ({ executors: [] }));
  // The spec and the tests are public: read them from an executor that holds them.
  const latest = info.versions.find((v) => v.latest) ?? info.versions.at(-1);
  const sources = [connection.executorUrl, ...executors.executors.filter((e) => e.active).map((e) => e.endpoint)].filter((u): u is string => Boolean(u));
  const spec = latest ? await readPublicBlob(sources, latest.hashes.witHash) : undefined;
  const testsText = latest ? await readPublicBlob(sources, latest.hashes.testsHash) : undefined;
  const tests = testsText ? (JSON.parse(testsText) as { cases?: unknown[] }) : undefined;
  // Payments v2 facts per executor, from the chain (fee, bond) and the executor itself (royalties it owes and has not settled).
  const payments: ExecutorPayments[] = [];
  for (const e of executors.executors.filter((x) => x.active)) {
    const standing = await glassbox.executorStanding(e.address).catch(() => undefined);
    const live = await glassbox.executorInfo(e.endpoint);
    const pending = live?.unsettledRoyalties.versions.filter((v) => v.name === info.package.name) ?? null;
    payments.push({
      endpoint: e.endpoint,
      operator: e.address,
      fee: standing?.fee.toString() ?? e.feePerCall,
      bond: standing?.bond.toString() ?? null,
      schemes: live?.schemes ?? null,
      pendingRoyalties: pending ? pending.reduce((sum, v) => sum + BigInt(v.amount), 0n).toString() : null,
    });
  }
  out.result(() => formatInfo(info, payments, spec, tests?.cases?.length), { ...info, executors: executors.executors, payments, spec: spec ?? null, tests: tests ?? null });
}

/** An executor as a payer judges it: fee, bond behind its receipts, schemes, royalties of this package it still owes. */
interface ExecutorPayments {
  endpoint: string;
  operator: string;
  fee: string;
  bond: string | null;
  schemes: string[] | null;
  pendingRoyalties: string | null;
}

function formatInfo(info: PackageResponse, executors: ExecutorPayments[], spec?: string, testCases?: number): string {
  const latest = info.versions.find((v) => v.latest) ?? info.versions.at(-1);
  const pkg = info.package;
  const lines = [bold(pkg.name), `  owner ${pkg.owner} · forks must pay upstream ≥ ${pkg.minForkShareBps / 100}%`];
  if (latest) {
    lines.push(`  ${latest.manifest.description ?? ""}`, `  license ${latest.manifest.license ?? "-"}`);
    lines.push("", bold("Functions") + dim(` (@${latest.version})`));
    for (const fn of latest.manifest.functions) lines.push(`  ${cyan(fn.signature ?? fn.name)}`);
    lines.push("", bold("Public spec and tests") + dim(" (free to read: GET <executor>/v1/blobs/<hash>)"));
    lines.push(`  wit   ${latest.hashes.witHash}`, `  tests ${latest.hashes.testsHash}${testCases !== undefined ? dim(` (${count(testCases, "test vector")})`) : ""}`);
    if (spec) lines.push("", bold("WIT") + dim(` (@${latest.version})`), ...spec.trimEnd().split("\n").map((l) => `  ${dim("│")} ${l}`));
  }
  lines.push("", bold("Versions"));
  for (const v of info.versions) {
    const state = v.yanked ? yellow("yanked") : v.latest ? green("latest") : "";
    const licence = v.licencePrice && !v.yanked ? dim(` · licence ${formatUsdc(v.licencePrice)} (${count(v.licenceCount, "holder")})`) : "";
    lines.push(`  ${v.version.padEnd(10)} ${priceLabel(v.accessMode, v.price).padEnd(24)} ${dim(count(v.usage.paidCalls, "paid call"))}${licence} ${state}`);
  }
  const licensed = info.versions.filter((v) => v.licencePrice && !v.yanked).at(-1);
  if (licensed) lines.push("", bold("Run it locally") + dim(` (pay once: glassbox licence buy ${pkg.name}@${licensed.version}, then glassbox run ${pkg.name}@${licensed.version} <function> [args])`));
  if (info.upstream?.length) lines.push("", bold("Upstream"), ...info.upstream.map((u) => `  ${u.name}@${u.version} gets ${u.upstreamShareBps / 100}%`));
  if (info.forks?.length) lines.push("", bold("Forks"), ...info.forks.map((f) => `  ${f.name} pays ${f.upstreamShareBps / 100}% upstream`));
  if (info.dependencies?.length) {
    lines.push("", bold("Dependencies") + dim(" (each call to one pays it its own price)"));
    lines.push(...info.dependencies.map((d) => `  ${d.name}@${d.version} ${dim(`range ${d.range} · at most ${formatUsdc(d.maxRoyaltyPerCall)} per call${d.versionId ? "" : " · no published version in range"}`)}`));
  }
  if (info.dependents?.length) lines.push("", bold("Used by"), ...info.dependents.map((d) => `  ${d.name}@${d.version} ${dim(`(range ${d.range})`)}`));
  if (latest?.manifest.sourceHash) lines.push("", bold("Source") + dim(` published: glassbox source ${info.package.name}@${latest.version} (free to read)`));
  lines.push(
    "",
    bold("Executors"),
    ...(executors.length
      ? executors.map((e) => {
          const facts = [`fee ${formatUsdc(e.fee)}`, e.bond !== null ? `bond ${formatUsdc(e.bond)}` : "", e.schemes ? e.schemes.join(" + ") : "unreachable", e.pendingRoyalties !== null ? `royalties owed, not settled yet: ${formatUsdc(e.pendingRoyalties)}` : ""];
          return `  ${e.endpoint} ${dim(facts.filter(Boolean).join(" · "))}`;
        })
      : [dim("  none registered")]),
  );
  return lines.join("\n");
}
