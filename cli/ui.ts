import { stderr, stdout } from "node:process";
import { parseShareBps, ShareFormatError } from "../sdk/units.ts";

/** Exit codes a script can branch on. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  invalid: 3, // manifest, arguments or test vectors rejected
  unavailable: 4, // chain, indexer or executor unreachable
  refused: 5, // on-chain or payment refusal (ownership, price, balance, yanked)
  notFound: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

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

/** Output for one command run: human text to stdout, progress to stderr, or one JSON document. */
export class Output {
  constructor(readonly json: boolean) {}

  /** Prints the human form, or the machine form when --json. */
  result(human: string | (() => string), machine: unknown): void {
    if (this.json) stdout.write(`${JSON.stringify(machine, jsonReplacer, 2)}\n`);
    else stdout.write(`${typeof human === "function" ? human() : human}\n`);
  }

  info(text: string): void {
    if (!this.json) stderr.write(`${text}\n`);
  }

  /** Runs a long step behind a spinner (TTY) or a single progress line; --json stays silent. */
  async step<T>(label: string, work: () => Promise<T>): Promise<T> {
    if (this.json) return work();
    const started = Date.now();
    const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    let frame = 0;
    const tty = stderr.isTTY;
    const timer = tty
      ? setInterval(() => stderr.write(`\r${cyan(frames[frame++ % frames.length]!)} ${label} ${dim(seconds(started))}`), 80)
      : undefined;
    if (!tty) stderr.write(`… ${label}\n`);
    try {
      const value = await work();
      if (timer) clearInterval(timer);
      stderr.write(`${tty ? "\r\x1b[2K" : ""}${green("✔")} ${label} ${dim(seconds(started))}\n`);
      return value;
    } catch (error) {
      if (timer) clearInterval(timer);
      stderr.write(`${tty ? "\r\x1b[2K" : ""}${red("✖")} ${label}\n`);
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

/** Parses "20%", "20", "0.2%" or "2000bps" into basis points. */
export function parseShare(text: string): number {
  try {
    return parseShareBps(text);
  } catch (error) {
    if (!(error instanceof ShareFormatError)) throw error;
    throw new CliError(error.message, ExitCode.usage);
  }
}
