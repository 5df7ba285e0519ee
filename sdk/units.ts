/** USDC amounts and basis-point shares as people write and read them (CLI and web alike). */

/** USDC base units (6 decimals) as "0.002 USDC". */
export function formatUsdc(amount: bigint | string): string {
  const units = BigInt(amount);
  const sign = units < 0n ? "-" : "";
  const abs = units < 0n ? -units : units;
  const whole = abs / 1_000_000n;
  const fraction = (abs % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return `${sign}${whole}${fraction ? `.${fraction}` : ""} USDC`;
}

/** Basis points as a percentage: 2000 -> "20%", 1250 -> "12.5%". */
export function formatShare(bps: number): string {
  return `${bps / 100}%`;
}

export class ShareFormatError extends Error {
  override name = "ShareFormatError";
  constructor(
    readonly input: string,
    readonly problem: "syntax" | "range",
  ) {
    super(
      problem === "syntax"
        ? `Invalid share "${input}": write it as a percentage like "20%" or as basis points like "2000bps".`
        : `Invalid share "${input}": must be between 0% and 100%.`,
    );
  }
}

/** Parses "20%", "20", "0.2%" or "2000bps" into basis points (0-10000). */
export function parseShareBps(text: string): number {
  const trimmed = text.trim();
  const bps = /^(\d+)\s*bps$/i.exec(trimmed);
  const percent = /^(\d+(?:\.\d{1,2})?)\s*%?$/.exec(trimmed);
  if (!bps && !percent) throw new ShareFormatError(text, "syntax");
  const value = bps ? Number(bps[1]) : Math.round(Number(percent![1]) * 100);
  if (!Number.isInteger(value) || value < 0 || value > 10_000) throw new ShareFormatError(text, "range");
  return value;
}
