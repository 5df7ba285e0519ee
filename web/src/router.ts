/** Hash routes (`#/packages/acme/markdown`), so any static host serves every page without rewrites. */
export interface Route {
  path: string[];
  query: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path = "", query = ""] = hash.split("?", 2);
  return { path: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

export function href(path: string, query?: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined && value !== "") params.set(key, value);
  const search = params.toString();
  return `#/${path}${search ? `?${search}` : ""}`;
}

export const routes = {
  search: (query?: Record<string, string | undefined>) => href("search", query),
  package: (name: string) => href(`packages/${name}`),
  account: (address?: string) => href(address ? `accounts/${address}` : "account"),
  executors: () => href("executors"),
  publish: () => href("publish"),
};
