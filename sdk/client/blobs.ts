import type { Hex } from "viem";
import { sha256Hex } from "../ids.ts";
import { ROUTES } from "../protocol.ts";

/**
 * A public blob (WIT, tests, manifest) by hash from the first executor that serves it, checked
 * against the hash: any executor may hold it, none has to be trusted.
 */
export async function fetchPublicBlob(executorUrls: readonly string[], hash: Hex): Promise<Uint8Array | undefined> {
  for (const url of executorUrls) {
    const response = await fetch(`${url}${ROUTES.blob(hash)}`).catch(() => undefined);
    if (!response?.ok) continue;
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (sha256Hex(bytes) === hash.toLowerCase()) return bytes;
  }
  return undefined;
}

/** fetchPublicBlob, as text. */
export async function readPublicBlob(executorUrls: readonly string[], hash: Hex): Promise<string | undefined> {
  const bytes = await fetchPublicBlob(executorUrls, hash);
  return bytes && new TextDecoder().decode(bytes);
}

/** True when the executor serves this public blob already (HEAD: nothing is downloaded). */
export async function publicBlobServed(executorUrl: string, hash: Hex): Promise<boolean> {
  const response = await fetch(`${executorUrl}${ROUTES.blob(hash)}`, { method: "HEAD" }).catch(() => undefined);
  return response?.status === 200;
}
