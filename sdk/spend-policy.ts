/**
 * An agent's spend policy: the most per call, the most per day, and which packages it may call.
 * It is checked before anything is signed: a call is refused outright when even its registered
 * price breaks a limit, and otherwise it may pay at most what the limits leave (the x402 client is
 * given that cap, and refuses a dearer challenge without signing it).
 *
 * The day's spending lives in a small JSON state file so a restart does not reset it. Each paid call
 * first reserves its cap in the file and then settles to what it really paid: a crash between the
 * two over-counts the day, never under-counts it. Reservations are serialized within one process;
 * two processes sharing one state file are not coordinated.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { formatUsdc } from "./units.ts";

export interface SpendPolicyConfig {
  /** The most one call may pay (USDC base units). */
  maxPerCall?: bigint;
  /** The most all calls of one UTC day may pay together (USDC base units). */
  maxPerDay?: bigint;
  /** Packages that may be called, as globs over `scope/name` (`acme/*`, `*\/markdown`, `acme/text-*`); absent: all. */
  allowedPackages?: string[];
}

export type SpendLimit = "max-per-call" | "max-per-day" | "allowed-packages";

/** A call the policy refuses; `limit` names the limit it hit, the message the amounts. */
export class SpendPolicyError extends Error {
  override name = "SpendPolicyError";
  constructor(
    readonly limit: SpendLimit,
    message: string,
    readonly amounts: { price?: bigint; limit?: bigint; spentToday?: bigint; left?: bigint } = {},
  ) {
    super(message);
  }
}

const GLOB_PATTERN = /^[a-z0-9*-]+\/[a-z0-9*-]+$|^\*$/;

/** `acme/*` -> a RegExp over package names; `*` stays within one segment, a lone `*` matches all. */
export function packageGlob(glob: string): RegExp {
  if (!GLOB_PATTERN.test(glob)) {
    throw new SpendPolicyError("allowed-packages", `"${glob}" is not a package glob: expected scope/name with * wildcards (e.g. acme/*, */markdown), or * for every package.`);
  }
  if (glob === "*") return /^[a-z0-9-]+\/[a-z0-9-]+$/;
  return new RegExp(`^${glob.replace(/-/g, "\\-").replace(/\*/g, "[a-z0-9-]*")}$`);
}

/** The UTC day a spending counts towards, e.g. `2026-11-29`. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

interface StateFile {
  version: 1;
  /** USDC base units spent (and reserved) per UTC day; only recent days are kept. */
  days: Record<string, string>;
}

const DAYS_KEPT = 7;

/** What a paid call may spend, held against the day's limit until the call settles. */
export interface Reservation {
  /** The most the call may pay, or undefined when no limit applies. */
  cap?: bigint;
  /** Which limit sets the cap (for the refusal when a challenge asks more). */
  capLimit?: "max-per-call" | "max-per-day";
  day: string;
  reserved: bigint;
}

export class SpendPolicy {
  private readonly globs: RegExp[] | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private memoryState: StateFile = { version: 1, days: {} };

  constructor(
    readonly config: SpendPolicyConfig,
    private readonly options: { stateFile?: string; now?: () => Date } = {},
  ) {
    if (config.maxPerCall !== undefined && config.maxPerCall < 0n) throw new SpendPolicyError("max-per-call", "The per-call limit cannot be negative.");
    if (config.maxPerDay !== undefined && config.maxPerDay < 0n) throw new SpendPolicyError("max-per-day", "The daily limit cannot be negative.");
    this.globs = config.allowedPackages?.map(packageGlob);
  }

  /** Refuses a package the policy does not allow (free ones too: the list says what an agent may call). */
  checkPackage(name: string): void {
    if (this.globs && !this.globs.some((glob) => glob.test(name))) {
      throw new SpendPolicyError("allowed-packages", `${name} is not in the allowed packages (${this.config.allowedPackages!.join(", ") || "none"}).`);
    }
  }

  /** USDC base units spent (and reserved by calls in flight) today. */
  spentToday(): Promise<bigint> {
    return this.serialized(async () => BigInt((await this.load()).days[this.today()] ?? "0"));
  }

  /**
   * Before a paid call: refuses it when its price (the least it can cost: the registered royalty)
   * breaks a limit, else reserves the most it may pay against today's limit.
   */
  async reserve(name: string, price: bigint): Promise<Reservation> {
    this.checkPackage(name);
    return this.serialized(async () => {
      const { maxPerCall, maxPerDay } = this.config;
      if (maxPerCall !== undefined && price > maxPerCall) {
        throw new SpendPolicyError("max-per-call", `${name} costs at least ${formatUsdc(price)} a call, over the per-call limit of ${formatUsdc(maxPerCall)}.`, { price, limit: maxPerCall });
      }
      const day = this.today();
      const state = await this.load();
      const spent = BigInt(state.days[day] ?? "0");
      const left = maxPerDay === undefined ? undefined : maxPerDay > spent ? maxPerDay - spent : 0n;
      if (maxPerDay !== undefined && left !== undefined && price > left) {
        throw new SpendPolicyError(
          "max-per-day",
          `${name} costs at least ${formatUsdc(price)} a call, and only ${formatUsdc(left)} of the daily limit of ${formatUsdc(maxPerDay)} is left (${formatUsdc(spent)} spent today).`,
          { price, limit: maxPerDay, spentToday: spent, left },
        );
      }
      let cap: bigint | undefined;
      let capLimit: Reservation["capLimit"];
      if (maxPerCall !== undefined) [cap, capLimit] = [maxPerCall, "max-per-call"];
      if (left !== undefined && (cap === undefined || left < cap)) [cap, capLimit] = [left, "max-per-day"];
      const reserved = maxPerDay !== undefined && cap !== undefined ? cap : 0n;
      if (reserved > 0n) await this.save(day, spent + reserved, state);
      return { ...(cap !== undefined ? { cap } : {}), ...(capLimit ? { capLimit } : {}), day, reserved };
    });
  }

  /** The call paid `amount` (0 when it was not charged): the reservation becomes that amount. */
  settle(reservation: Reservation, amount: bigint): Promise<void> {
    return this.serialized(async () => {
      const state = await this.load();
      const spent = BigInt(state.days[reservation.day] ?? "0");
      const next = spent - reservation.reserved + amount;
      await this.save(reservation.day, next < 0n ? 0n : next, state);
    });
  }

  /** The refusal for a challenge that asked more than the reservation's cap (none was signed). */
  async refusal(name: string, reservation: Reservation, asked: bigint | undefined): Promise<SpendPolicyError> {
    const askedText = asked === undefined ? "more" : formatUsdc(asked);
    if (reservation.capLimit === "max-per-day") {
      const limit = this.config.maxPerDay!;
      const spentToday = (await this.spentToday()) - reservation.reserved;
      return new SpendPolicyError(
        "max-per-day",
        `${name} asks ${askedText} for this call, and only ${formatUsdc(reservation.cap ?? 0n)} of the daily limit of ${formatUsdc(limit)} is left (${formatUsdc(spentToday)} spent today).`,
        { ...(asked !== undefined ? { price: asked } : {}), limit, spentToday, left: reservation.cap ?? 0n },
      );
    }
    const limit = this.config.maxPerCall!;
    return new SpendPolicyError("max-per-call", `${name} asks ${askedText} for this call, over the per-call limit of ${formatUsdc(limit)}.`, {
      ...(asked !== undefined ? { price: asked } : {}),
      limit,
    });
  }

  private today(): string {
    return utcDay(this.options.now?.() ?? new Date());
  }

  /** One read-modify-write at a time, so concurrent calls cannot both take the last of the day. */
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<StateFile> {
    const file = this.options.stateFile;
    if (!file) return this.memoryState;
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, days: {} };
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`The spend state file ${file} is not JSON: fix or delete it (deleting it forgets what was spent today).`);
    }
    const days = (parsed as { days?: unknown }).days;
    if (typeof days !== "object" || days === null || Object.values(days).some((v) => typeof v !== "string" || !/^\d+$/.test(v))) {
      throw new Error(`The spend state file ${file} has no valid "days" map of decimal amounts: fix or delete it.`);
    }
    return { version: 1, days: days as Record<string, string> };
  }

  private async save(day: string, spent: bigint, state: StateFile): Promise<void> {
    const days = { ...state.days, [day]: spent.toString() };
    const recent = Object.keys(days).sort().slice(-DAYS_KEPT);
    const next: StateFile = { version: 1, days: Object.fromEntries(recent.map((d) => [d, days[d]!])) };
    const file = this.options.stateFile;
    if (!file) {
      this.memoryState = next;
      return;
    }
    // Write then rename: a crash leaves the old file or the new one, never half of one.
    await mkdir(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(next, null, 2) + "\n");
    await rename(temporary, file);
  }
}
