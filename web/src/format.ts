import { parseUnits } from "viem";
import type { AccessMode } from "../../sdk/manifest.ts";
import { formatShare, formatUsdc } from "../../sdk/units.ts";

export { formatShare, formatUsdc };

/** 0x1234…abcd */
export function shortHex(value: string, keep = 4): string {
  return value.length <= 2 + keep * 2 + 1 ? value : `${value.slice(0, 2 + keep)}…${value.slice(-keep)}`;
}

/** A unix time (seconds, decimal string or number) as local date and time. */
export function formatTime(unix: string | number | bigint): string {
  return new Date(Number(unix) * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function priceLabel(mode: AccessMode | null, price: string | null, fuelPricePerMillion?: string | null): string {
  if (!mode) return "no callable version";
  if (mode === "free") return "free";
  if (mode === "per-fuel") return `${formatUsdc(price ?? "0")} + ${formatUsdc(fuelPricePerMillion ?? "0")} per million fuel, per call`;
  return `${formatUsdc(price ?? "0")} per call`;
}

/** "0.005" (USDC) -> 5000n base units; undefined for an empty field. Throws on anything else. */
export function parseUsdc(text: string): bigint | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  if (!/^\d+(\.\d{1,6})?$/.test(trimmed)) throw new Error(`"${text}" is not a USDC amount (up to 6 decimals, e.g. 0.005).`);
  return parseUnits(trimmed, 6);
}

/** Decimal string counts, e.g. "1234" -> "1,234". */
export function formatCount(value: string | number | bigint): string {
  return BigInt(value).toLocaleString();
}
