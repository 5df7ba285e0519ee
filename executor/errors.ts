import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Stable error codes of the executor API. Bodies are always
 * `{ "error": { "code", "message", "hint"? } }`; clients switch on `code`, humans read `message`.
 */
export type ErrorCode =
  | "MALFORMED_JSON"
  | "BODY_TOO_LARGE"
  | "INVALID_REFERENCE"
  | "UNKNOWN_PACKAGE"
  | "UNKNOWN_VERSION"
  | "VERSION_YANKED"
  | "UNKNOWN_FUNCTION"
  | "INVALID_ARGUMENTS"
  | "COMPONENT_NOT_AVAILABLE"
  | "PAYMENT_REQUIRED"
  | "PAYMENT_INVALID"
  | "PAYMENT_REPLAYED"
  | "PAYMENT_EXPIRED"
  | "PAYMENT_UNDERFUNDED"
  | "PAYMENT_WRONG_AMOUNT"
  | "PAYMENT_WRONG_PAYEE"
  | "PAYMENT_WRONG_VERSION"
  | "SETTLEMENT_FAILED"
  | "EXECUTION_FAILED"
  | "OUT_OF_FUEL"
  | "TIMEOUT"
  | "OUT_OF_MEMORY"
  | "COMPONENT_TRAP"
  | "INVALID_BLOB"
  | "BLOB_HASH_MISMATCH"
  | "BLOB_NOT_REGISTERED"
  | "UPLOAD_UNAUTHORIZED"
  | "BLOB_NOT_FOUND"
  | "BLOB_NOT_PUBLIC"
  | "COMPONENT_REJECTED"
  | "RECEIPT_NOT_FOUND"
  | "NOT_THE_PAYER"
  | "NOT_FOUND"
  | "CHAIN_UNAVAILABLE"
  | "EXECUTOR_NOT_REGISTERED"
  | "INTERNAL";

export interface ErrorBody {
  error: { code: ErrorCode; message: string; hint?: string; details?: Record<string, unknown> };
}

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
