import { BaseError, ContractFunctionRevertedError } from "viem";

/** An SDK error with a stable code, a message naming the problem, and what to do about it. */
export class GlassboxError extends Error {
  override name = "GlassboxError";
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** What to tell a user for each registry/settlement custom error. */
const REVERT_HINTS: Record<string, string> = {
  NameTaken: "That package name is registered already: pick another name (or publish from its owner).",
  ScopeOwnedByAnother: "That scope belongs to another wallet: publish under your own scope.",
  NotScopeOwner: "Only the scope's owner may do this.",
  NotPackageOwner: "Only the package owner's wallet may do this.",
  VersionExists: "Versions are immutable: bump the version in glassbox.json.",
  UpstreamShareTooLow: "The upstream requires at least its minForkShareBps: raise --upstream-share.",
  ForkTooDeep: "Fork chains are bounded: fork a version nearer the original.",
  ParentYanked: "The parent version was yanked: fork another version.",
  UnknownVersion: "No such version on-chain: check the name and version.",
  UnknownPackage: "No such package on-chain: check the name.",
  InvalidSplits: "Splits need 1-16 distinct non-zero recipients whose bps sum to 10000.",
  NothingToClaim: "This account has no balance to claim yet.",
  VersionYanked: "That version was yanked by its maintainer: call another version.",
  InvalidName: "Scopes and names are lowercase letters, digits and dashes (no leading or trailing dash, at most 64 characters).",
};

/** Turns a viem contract revert into a GlassboxError that names the custom error and its args. */
export function explainRevert(error: unknown, action: string): unknown {
  if (!(error instanceof BaseError)) return error;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) {
    const name = reverted.data.errorName;
    const args = (reverted.data.args ?? []).map((a) => (typeof a === "bigint" ? a.toString() : String(a)));
    return new GlassboxError(
      `REVERT_${name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase()}`,
      `${action} was refused by the contract: ${name}(${args.join(", ")})`,
      REVERT_HINTS[name],
      { errorName: name, args },
    );
  }
  return new GlassboxError("CHAIN_ERROR", `${action} failed: ${error.shortMessage}`, "Is the chain RPC reachable?", { cause: error.message });
}
