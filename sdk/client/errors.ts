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

/**
 * A call that failed after its payment was signed and sent to `executorUrl`. It is never retried on
 * another executor (that could pay twice): the executor that holds the payment answers for it, and a
 * result it took payment for is read back from it (Glassbox.recoverPaidCall). Code, message, hint
 * and details are the underlying failure's; `answered` is false when no answer came back at all
 * (the connection dropped or the executor died mid-call).
 */
export class PaymentSignedError extends GlassboxError {
  override name = "PaymentSignedError";
  constructor(
    readonly executorUrl: string,
    /** The x402 payment payload that was sent (exact: an EIP-3009 authorization; batch-settlement: a voucher). */
    readonly payment: { accepted: { scheme: string }; payload: Record<string, unknown> },
    readonly answered: boolean,
    cause: unknown,
  ) {
    const base = cause instanceof GlassboxError ? cause : undefined;
    super(
      base?.code ?? "CALL_FAILED",
      base?.message ?? `Calling ${executorUrl} failed after the payment was sent: ${(cause as Error).message}`,
      answered
        ? base?.hint
        : `The payment went to ${executorUrl} and no answer came back; it is not retried elsewhere. If it was taken, the result is journaled there: read it back (SDK: glassbox.recoverPaidCall) once that executor is up.`,
      base?.details,
    );
    this.cause = cause;
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
  InvalidSplits: "Splits need 1-8 distinct non-zero recipients whose bps sum to 10000.",
  NothingToClaim: "This account has no balance to claim yet.",
  VersionYanked: "That version was yanked by its maintainer: call another version.",
  LicencePriceAboveMax: "The owner raised the licence price in the meantime; nothing was charged. Check the new price and agree to it.",
  LicenceNotOffered: "The version offers no licence (the owner may have withdrawn it); nothing was charged.",
  LicenceVersionYanked: "The version was yanked: it sells no new licence; nothing was charged.",
  AlreadyLicensed: "The holder has this licence already; nothing was charged twice.",
  VersionIsYanked: "A yanked version cannot offer a licence.",
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
