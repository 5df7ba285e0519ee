import { BaseError, ContractFunctionRevertedError } from "viem";

/** The custom error name (and args) of a contract revert, or undefined when it was not a revert. */
export function revertReason(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(revert instanceof ContractFunctionRevertedError)) return undefined;
  if (revert.data?.errorName) {
    const args = (revert.data.args ?? []).map((a) => String(a)).join(", ");
    return `${revert.data.errorName}(${args})`;
  }
  return revert.reason ?? revert.shortMessage;
}
