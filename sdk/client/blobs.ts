import type { Hex } from "viem";
import { sha256Hex } from "../ids.ts";
import { ROUTES } from "../protocol.ts";

/** A public blob (WIT, tests, manifest) as text from the first executor that serves it with the right hash. */
export async function readPublicBlob(executorUrls: string[], hash: Hex): Promise<string | undefined> {
  for (const url of executorUrls) {
    const response = await fetch(`${url}${ROUTES.blob(hash)}`).catch(() => undefined);
    if (!response?.ok) continue;
    const text = await response.text();
    if (sha256Hex(text) === hash) return text;
  }
  return undefined;
}

/** True when the executor serves this public blob already (HEAD: nothing is downloaded). */
export async function publicBlobServed(executorUrl: string, hash: Hex): Promise<boolean> {
  const response = await fetch(`${executorUrl}${ROUTES.blob(hash)}`, { method: "HEAD" }).catch(() => undefined);
  return response?.status === 200;
}
