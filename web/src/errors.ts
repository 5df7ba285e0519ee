import { BaseError, ChainMismatchError, UserRejectedRequestError } from "viem";
import { GlassboxError } from "../../sdk/client/errors.ts";
import { ManifestError } from "../../sdk/manifest.ts";
import { PackError } from "../../sdk/pack.ts";
import { WitParseError } from "../../sdk/wit.ts";

/** What a person is told about a failure: what happened, and what to do. */
export interface Explanation {
  code: string;
  message: string;
  hint?: string;
}

/** viem (and the SDK, which keeps viem's short message) word a refused wallet request this way. */
const REFUSAL = /user rejected|user denied|rejected the request|code 4001/i;

function isRefusal(error: unknown): boolean {
  if (error instanceof BaseError && error.walk((e) => e instanceof UserRejectedRequestError || (e as { code?: unknown }).code === 4001)) return true;
  if (typeof error === "object" && error !== null && (error as { code?: unknown }).code === 4001) return true;
  if (error instanceof GlassboxError) return REFUSAL.test(error.message) || REFUSAL.test(JSON.stringify(error.details ?? ""));
  return error instanceof Error && REFUSAL.test(error.message);
}

export function explain(error: unknown): Explanation {
  if (isRefusal(error)) {
    return { code: "WALLET_REFUSED", message: "You declined the request in your wallet: nothing was signed, sent or paid.", hint: "Start again when you are ready." };
  }
  if (error instanceof BaseError && error.walk((e) => e instanceof ChainMismatchError)) {
    return { code: "WRONG_CHAIN", message: "Your wallet is on another network than this catalog.", hint: "Use “Switch network” in the header, then try again." };
  }
  if (error instanceof GlassboxError) {
    if (error.code === "PAYMENT_ABOVE_LIMIT") {
      return { code: error.code, message: "The executor asked for more than the price shown here: nothing was signed or paid.", hint: "Reload the page to see its current price, or pick another executor." };
    }
    if (error.code === "PAYMENT_UNDERFUNDED") {
      return { code: "INSUFFICIENT_USDC", message: `Too little USDC in your wallet for this call: ${error.message}`, hint: "Add USDC to this wallet; nothing was charged." };
    }
    return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  }
  if (error instanceof ManifestError) return { code: "INVALID_MANIFEST", message: error.message };
  if (error instanceof PackError) return { code: "INVALID_PACK", message: error.message, hint: "Make the file with `glassbox pack` in the capability's folder." };
  if (error instanceof WitParseError) return { code: "INVALID_WIT", message: error.message };
  if (error instanceof BaseError) return { code: "CHAIN_ERROR", message: error.shortMessage };
  if (error instanceof TypeError && /fetch/i.test(error.message)) {
    return { code: "UNREACHABLE", message: `A service did not answer: ${error.message}`, hint: "Check your connection, or that the catalog's services are running." };
  }
  return { code: "ERROR", message: error instanceof Error ? error.message : String(error) };
}
