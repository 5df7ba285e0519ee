import type { ExecutorEntry } from "../../sdk/catalog-api.ts";
import { ROUTES, type InfoBody } from "../../sdk/protocol.ts";

/** The part of an executor's GET /v1/info the catalog shows. */
type ExecutorInfo = Pick<InfoBody, "unsettledRoyalties" | "schemes" | "bond" | "settleWindowSeconds"> & {
  packages: { name: string; version: string; versionId: `0x${string}` }[];
};

export interface ExecutorStatus {
  entry: ExecutorEntry;
  /** What GET /v1/health said, or that it did not answer. */
  health: "ok" | "degraded" | "unreachable";
  /** Versions it holds and runs (empty when unreachable). */
  serves: ExecutorInfo["packages"];
  /** What it says it owes and has not settled yet, and how it takes payment (absent when unreachable). */
  info?: Omit<ExecutorInfo, "packages">;
}

async function probe(entry: ExecutorEntry): Promise<ExecutorStatus> {
  const get = (path: string) => fetch(`${entry.endpoint}${path}`, { signal: AbortSignal.timeout(5_000) });
  const health: ExecutorStatus["health"] = await get(ROUTES.health).then(
    (r) => (r.ok ? "ok" : "degraded"),
    () => "unreachable",
  );
  const info = health === "unreachable" ? undefined : await get(ROUTES.info).then((r) => r.json() as Promise<ExecutorInfo>).catch(() => undefined);
  const status: ExecutorStatus = { entry, health, serves: info?.packages ?? [] };
  if (info) status.info = { unsettledRoyalties: info.unsettledRoyalties, schemes: info.schemes, bond: info.bond, settleWindowSeconds: info.settleWindowSeconds };
  return status;
}

/** Health and served versions of every listed executor, asked directly (an executor may hold only some blobs). */
export function probeExecutors(entries: ExecutorEntry[]): Promise<ExecutorStatus[]> {
  return Promise.all(entries.map(probe));
}
