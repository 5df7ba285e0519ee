import type { Hex } from "viem";
import type { ExecutorEntry } from "../../sdk/catalog-api.ts";
import { ROUTES } from "../../sdk/protocol.ts";

/** The part of an executor's GET /v1/info the catalog shows. */
interface ExecutorInfo {
  packages: { name: string; version: string; versionId: Hex }[];
}

export interface ExecutorStatus {
  entry: ExecutorEntry;
  /** What GET /v1/health said, or that it did not answer. */
  health: "ok" | "degraded" | "unreachable";
  /** Versions it holds and runs (empty when unreachable). */
  serves: ExecutorInfo["packages"];
}

async function probe(entry: ExecutorEntry): Promise<ExecutorStatus> {
  const get = (path: string) => fetch(`${entry.endpoint}${path}`, { signal: AbortSignal.timeout(5_000) });
  const health: ExecutorStatus["health"] = await get(ROUTES.health).then(
    (r) => (r.ok ? "ok" : "degraded"),
    () => "unreachable",
  );
  const info = health === "unreachable" ? undefined : await get(ROUTES.info).then((r) => r.json() as Promise<ExecutorInfo>).catch(() => undefined);
  return { entry, health, serves: info?.packages ?? [] };
}

/** Health and served versions of every listed executor, asked directly (an executor may hold only some blobs). */
export function probeExecutors(entries: ExecutorEntry[]): Promise<ExecutorStatus[]> {
  return Promise.all(entries.map(probe));
}
