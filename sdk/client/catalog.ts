import type { Address } from "viem";
import type { AccountResponse, ActivityResponse, ExecutorsResponse, PackageResponse, SearchResponse } from "../catalog-api.ts";
import { GlassboxError } from "./errors.ts";

export interface SearchFilters {
  access?: "free" | "per-call" | "per-fuel";
  maxPrice?: bigint;
  license?: string;
  hasForks?: boolean;
  /** Only for catalogs that index composition (see CatalogClient.supports). */
  hasDependencies?: boolean;
  limit?: number;
  offset?: number;
}

/** Read-only client of the indexer's catalog API (docs/indexer-api.md has the JSON shapes). */
export class CatalogClient {
  constructor(readonly baseUrl: string) {}

  search<T = SearchResponse>(query: string, filters: SearchFilters = {}): Promise<T> {
    const params = new URLSearchParams();
    if (query) params.set("q", query);
    for (const [key, value] of Object.entries(filters)) if (value !== undefined) params.set(key, String(value));
    return this.get<T>(`/search?${params}`);
  }

  package<T = PackageResponse>(name: string): Promise<T> {
    return this.get<T>(`/packages/${name}`);
  }

  /** Settled calls of a package over time, in buckets of `intervalSeconds`. */
  activity(name: string, intervalSeconds: number): Promise<ActivityResponse> {
    return this.get<ActivityResponse>(`/packages/${name}/activity?interval=${intervalSeconds}`);
  }

  executors<T = ExecutorsResponse>(): Promise<T> {
    return this.get<T>("/executors");
  }

  account<T = AccountResponse>(address: Address): Promise<T> {
    return this.get<T>(`/accounts/${address}`);
  }

  /**
   * Whether the catalog accepts a search parameter (it answers 400 naming an unknown one), e.g.
   * "hasDependencies" once it indexes composition.
   */
  async supports(searchParameter: string): Promise<boolean> {
    const response = await fetch(`${this.baseUrl}/search?${searchParameter}=false&limit=1`).catch(() => undefined);
    return response?.ok ?? false;
  }

  private async get<T>(path: string): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    let response: Response;
    try {
      response = await fetch(url);
    } catch (error) {
      throw new GlassboxError("INDEXER_UNREACHABLE", `Cannot reach the indexer at ${this.baseUrl}: ${(error as Error).message}`, "Start the local stack with `npm start`, or pass --indexer URL.");
    }
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!response.ok) {
      const error = body?.error;
      const message = typeof error === "string" ? error : ((error as { message?: string })?.message ?? `${url} answered ${response.status}`);
      throw new GlassboxError(response.status === 404 ? "NOT_FOUND" : response.status === 400 ? "BAD_REQUEST" : `HTTP_${response.status}`, message);
    }
    return body as T;
  }
}
