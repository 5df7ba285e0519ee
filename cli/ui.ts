import { stderr, stdout } from "node:process";
import { parseShareBps, ShareFormatError } from "../sdk/units.ts";

/** Exit codes a script can branch on (README, `glassbox --help`). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  invalid: 3, // manifest, arguments or test vectors rejected
  unavailable: 4, // chain, indexer or executor unreachable
  refused: 5, // on-chain or payment refusal (ownership, price, balance, yanked)
  notFound: 6,
  capabilityError: 7, // the capability answered a WIT result::err: the call ran and was paid
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP =
  "Exit codes: 0 ok, 1 failure, 2 usage, 3 invalid input or failing tests, 4 service unavailable, 5 refused,\n" +
  "6 not found, 7 the capability returned an error (WIT result::err; the call ran and was paid).";

export const WALLET_HELP =
  "Wallet: --keystore FILE (Web3 Secret Storage v3; password from GLASSBOX_KEYSTORE_PASSWORD or a prompt),\n" +
  "or GLASSBOX_PRIVATE_KEY, or --dev-account N on the local chain. Keys are never printed.";

/** An error the CLI prints as-is (no stack), with what to do next and the exit code. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.failure,
    readonly hint?: string,
    readonly code = "ERROR",
  ) {
    super(message);
  }
}

const color = stderr.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
export const bold = paint(1);
export const dim = paint(2);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);
export const cyan = paint(36);

// Writes to pipes are asynchronous on POSIX: when stdout and stderr share one log, a progress line
// could land after the result it preceded. Every write waits for the previous one to be handed over.
let written: Promise<void> = Promise.resolve();

/** Writes `text` to `stream` after everything written before it, on either stream. */
export function write(stream: NodeJS.WriteStream, text: string): void {
  written = written.then(() => new Promise<void>((resolve) => void stream.write(text, () => resolve())));
}

/** Resolves once every write so far has been handed to the OS. */
export function flushOutput(): Promise<void> {
  return written;
}

/** Output for one command run: human text to stdout, progress to stderr, or one JSON document. */
export class Output {
  private spinning = false;

  constructor(readonly json: boolean) {}

  /** Prints the human form, or the machine form when --json. */
  result(human: string | (() => string), machine: unknown): void {
    if (this.json) write(stdout, `${JSON.stringify(machine, jsonReplacer, 2)}\n`);
    else write(stdout, `${typeof human === "function" ? human() : human}\n`);
  }

  /** A line of progress or advice on stderr (silent with --json). */
  info(text: string): void {
    if (this.json) return;
    // Over a running spinner: clear its line first; its next frame redraws it below.
    write(stderr, `${this.spinning ? "\r\x1b[2K" : ""}${text}\n`);
  }

  /** Runs a long step behind a spinner (only on a terminal) or a start and an end line; --json stays silent. */
  async step<T>(label: string, work: () => Promise<T>): Promise<T> {
    if (this.json) return work();
    const started = Date.now();
    const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    let frame = 0;
    const tty = Boolean(stderr.isTTY);
    const timer = tty ? setInterval(() => write(stderr, `\r${cyan(frames[frame++ % frames.length]!)} ${label} ${dim(seconds(started))}`), 80) : undefined;
    this.spinning = tty;
    if (!tty) write(stderr, `… ${label}\n`);
    const done = (mark: string, suffix: string) => {
      clearInterval(timer);
      this.spinning = false;
      write(stderr, `${tty ? "\r\x1b[2K" : ""}${mark} ${label}${suffix}\n`);
    };
    try {
      const value = await work();
      done(green("✔"), ` ${dim(seconds(started))}`);
      return value;
    } catch (error) {
      done(red("✖"), "");
      throw error;
    }
  }
}

function seconds(started: number): string {
  return `${((Date.now() - started) / 1000).toFixed(1)}s`;
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/** "1 fork", "2 forks"; `plural` defaults to the word + "s". */
export function count(n: number | bigint | string, singular: string, plural = `${singular}s`): string {
  return `${n} ${BigInt(n) === 1n ? singular : plural}`;
}

/** Parses "20%", "20", "0.2%" or "2000bps" into basis points. */
export function parseShare(text: string): number {
  try {
    return parseShareBps(text);
  } catch (error) {
    if (!(error instanceof ShareFormatError)) throw error;
    throw new CliError(error.message, ExitCode.usage);
  }
}
