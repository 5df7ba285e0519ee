/** Query-parameter parsing for the API: every failure names the parameter and what it accepts. */
export class BadParameterError extends Error {
  constructor(readonly parameter: string, message: string) {
    super(message);
  }
}

export function rejectUnknown(query: Record<string, string>, allowed: readonly string[]): void {
  for (const key of Object.keys(query)) {
    if (!allowed.includes(key)) {
      throw new BadParameterError(key, `Unknown parameter "${key}": accepted parameters are ${allowed.join(", ")}.`);
    }
  }
}

export function integerParam(query: Record<string, string>, name: string, fallback: number, min: number, max: number): number {
  const raw = query[name];
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new BadParameterError(name, `"${name}" must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}.`);
  }
  return Number(raw);
}

/** Token amounts in base units (USDC has 6 decimals): arbitrary size, so bigint. */
export function amountParam(query: Record<string, string>, name: string): bigint | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  if (!/^\d{1,78}$/.test(raw)) {
    throw new BadParameterError(name, `"${name}" must be a non-negative integer amount in USDC base units (6 decimals), got ${JSON.stringify(raw)}.`);
  }
  return BigInt(raw);
}

export function booleanParam(query: Record<string, string>, name: string): boolean | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  if (raw !== "true" && raw !== "false") throw new BadParameterError(name, `"${name}" must be "true" or "false", got ${JSON.stringify(raw)}.`);
  return raw === "true";
}

export function enumParam<T extends string>(query: Record<string, string>, name: string, values: readonly T[]): T | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  if (!(values as readonly string[]).includes(raw)) {
    throw new BadParameterError(name, `"${name}" must be one of ${values.join(", ")}, got ${JSON.stringify(raw)}.`);
  }
  return raw as T;
}

/** A bytes32 id (a version or package id): lowercased so it compares with the indexed rows. */
export function bytes32Param(query: Record<string, string>, name: string): `0x${string}` | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  if (!/^0x[0-9a-fA-F]{64}$/.test(raw)) throw new BadParameterError(name, `"${name}" must be 0x followed by 64 hex digits, got ${JSON.stringify(raw)}.`);
  return raw.toLowerCase() as `0x${string}`;
}

export function textParam(query: Record<string, string>, name: string, maxLength: number): string | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  if (raw.length > maxLength) throw new BadParameterError(name, `"${name}" must be at most ${maxLength} characters, got ${raw.length}.`);
  return raw;
}

/** Words of a search query as a prefix-matching tsquery: every word must match, each as a prefix. */
export function prefixTsQuery(q: string): string {
  const words = q.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  if (words.length === 0) throw new BadParameterError("q", `"q" must contain at least one letter or digit, got ${JSON.stringify(q)}.`);
  return words.slice(0, 16).map((w) => `${w}:*`).join(" & ");
}
