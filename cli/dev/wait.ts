/** Thrown by a probe to stop waiting at once (e.g. the process being waited on has died). */
export class WaitAbortedError extends Error {
  override name = "WaitAbortedError";
}

/**
 * Polls `probe` until it returns a value other than undefined (or stops throwing), or fails after
 * `timeoutMs` with the last problem seen; a probe throwing WaitAbortedError ends the wait at once. Use it instead of trusting readiness endpoints.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 60_000, intervalMs = 100, what = "condition" }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = undefined;
    } catch (error) {
      if (error instanceof WaitAbortedError) throw error;
      last = error;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? `: last error ${last.message}` : "";
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
