import { getAddress, isAddress, type Address } from "viem";
import { assertPackageName, InvalidPackageNameError } from "../sdk/ids.ts";
import { CliError, ExitCode } from "./ui.ts";

/** A package name argument, refused with exit code 2 when malformed. */
export function checkName(name: string): void {
  try {
    assertPackageName(name);
  } catch (error) {
    if (error instanceof InvalidPackageNameError) throw new CliError(error.message, ExitCode.usage);
    throw error;
  }
}

/** An address argument, checksummed. */
export function resolveAddress(text: string): Address {
  if (!isAddress(text, { strict: false })) throw new CliError(`"${text}" is not an address.`, ExitCode.usage, "Pass a 0x-prefixed 20-byte address.");
  return getAddress(text);
}

/** A USDC amount given in base units on the command line (e.g. --deposit 50000 = 0.05 USDC). */
export function parseBaseUnits(text: string, flag: string): bigint {
  if (!/^\d+$/.test(text.trim())) throw new CliError(`${flag} takes a whole number of USDC base units (1 USDC = 1000000), not "${text}".`, ExitCode.usage);
  return BigInt(text.trim());
}
