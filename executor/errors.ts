import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorBody, ErrorCode } from "../sdk/protocol.ts";

export type { ErrorBody, ErrorCode };

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.hint ? { hint: this.hint } : {}),
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/** The chain (RPC) could not be reached: nothing was charged or lost, the caller may retry. */
export class ChainUnavailableError extends ApiError {
  constructor(cause: unknown) {
    super(
      503,
      "CHAIN_UNAVAILABLE",
      `The chain RPC is unavailable (${shortMessage(cause)}); nothing was charged.`,
      "Retry later; the executor keeps every accepted receipt and settles it when the chain is back.",
    );
  }
}

export function shortMessage(error: unknown): string {
  if (error && typeof error === "object" && "shortMessage" in error && typeof error.shortMessage === "string") {
    return error.shortMessage;
  }
  if (error instanceof Error) return error.message.split("\n")[0] ?? error.message;
  return String(error);
}
