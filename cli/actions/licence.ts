import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import type { Address } from "viem";
import { formatUsdc } from "../../sdk/units.ts";
import { connect, outputFor } from "../context.ts";
import { bold, CliError, dim, ExitCode, green } from "../ui.ts";
import { parseBaseUnits, resolveAddress } from "../validate.ts";

const label = (v: { name: string; version: string }) => `${v.name}@${v.version}`;

/** `glassbox licence status <ref>`: the offer, and whether the wallet (or --holder) holds one. */
export async function status(ref: string, opts: { holder?: string }, command: Command): Promise<void> {
  const out = outputFor(command);
  const { glassbox } = await connect(command, { wallet: opts.holder ? "none" : "required" });
  const s = await glassbox.licenceStatus(ref, opts.holder ? resolveAddress(opts.holder) : undefined);
  out.result(
    () =>
      [
        `${bold(label(s.version))} ${s.price > 0n ? `offers a licence to run it locally for ${bold(formatUsdc(s.price))}` : dim("offers no licence (call it through an executor)")}`,
        s.held ? `${green("✔")} ${s.holder} holds a licence: glassbox run ${label(s.version)} <function> [args]` : dim(`${s.holder} holds none${s.price > 0n ? `: glassbox licence buy ${label(s.version)}` : ""}`),
      ].join("\n"),
    { package: s.version.name, version: s.version.version, versionId: s.version.versionId, price: s.price.toString(), offered: s.price > 0n, holder: s.holder, held: s.held },
  );
}

/** `glassbox licence buy <ref>`: pays the current price once (asked on a terminal; --yes or --max-price otherwise). */
export async function buy(ref: string, opts: { maxPrice?: string; holder?: string; yes?: boolean }, command: Command): Promise<void> {
  const out = outputFor(command);
  const { glassbox } = await connect(command, { wallet: "required" });
  const holder: Address | undefined = opts.holder ? resolveAddress(opts.holder) : undefined;
  const s = await glassbox.licenceStatus(ref, holder);
  let maxPrice = opts.maxPrice !== undefined ? parseBaseUnits(opts.maxPrice, "--max-price") : undefined;
  if (maxPrice === undefined && s.price > 0n && !s.held) {
    if (opts.yes) maxPrice = s.price;
    else if (process.stdin.isTTY && !out.json) maxPrice = (await confirm(`Buy a licence to run ${label(s.version)} locally for ${formatUsdc(s.price)} (${s.price} base units)? [y/N] `)) ? s.price : undefined;
    if (maxPrice === undefined) {
      throw new CliError(`Not bought: a licence for ${label(s.version)} costs ${formatUsdc(s.price)}, and nothing agreed to pay it.`, ExitCode.refused, "Answer yes on a terminal, or pass --yes (today's price) or --max-price UNITS.");
    }
  }
  const bought = await out.step(`Buying a licence for ${label(s.version)}`, () => glassbox.buyLicence(`${s.version.name}@${s.version.version}`, { ...(holder ? { holder } : {}), ...(maxPrice !== undefined ? { maxPrice } : {}) }));
  out.result(
    () =>
      [
        `${green("✔")} Bought a licence for ${bold(label(bought.version))} for ${formatUsdc(bought.price)} ${dim(`(${bought.transaction})`)}`,
        dim(`  holder ${holder ?? glassbox.address}; run it with: glassbox run ${label(bought.version)} <function> [args]`),
      ].join("\n"),
    { package: bought.version.name, version: bought.version.version, versionId: bought.version.versionId, holder: holder ?? glassbox.address, price: bought.price.toString(), transaction: bought.transaction, approval: bought.approval ?? null },
  );
}

/** `glassbox licence offer <ref> <units>`: the package owner offers, reprices or withdraws (0). */
export async function offer(ref: string, units: string, command: Command): Promise<void> {
  const out = outputFor(command);
  const price = parseBaseUnits(units, "<units>");
  const { glassbox } = await connect(command, { wallet: "required" });
  const transaction = await out.step(price === 0n ? `Withdrawing the licence offer of ${ref}` : `Offering a licence for ${ref} at ${formatUsdc(price)}`, () => glassbox.setLicencePrice(ref, price));
  out.result(price === 0n ? `${green("✔")} ${ref} offers no licence now ${dim(`(${transaction})`)}` : `${green("✔")} ${ref} offers a licence for ${bold(formatUsdc(price))} ${dim(`(${transaction})`)}`, {
    ref,
    price: price.toString(),
    offered: price > 0n,
    transaction,
  });
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
