/** Shared by the indexing functions and the API: names of enum values and the text search recipe. */
export { ACCESS_MODES, type AccessMode } from "../../sdk/manifest.ts";

/** Settlement.CreditKind, in enum order. */
export const CREDIT_KINDS = ["royalty", "upstream", "bounty", "refund", "licence"] as const;
export type CreditKindName = (typeof CREDIT_KINDS)[number];

/** Settlement.SlashReason, in enum order. */
export const SLASH_REASONS = ["overdue", "mismatch", "overcharge"] as const;

/**
 * What full-text search matches: the package name (whole and split into words), description, keywords
 * and WIT function names (also split: `render-html` matches "render" and "html").
 */
export function searchTextOf(name: string, description: string | null, keywords: readonly string[], functionNames: readonly string[]): string {
  const words = (s: string) => s.replace(/[/_\-.:]+/g, " ");
  return [name, words(name), description ?? "", keywords.join(" "), functionNames.join(" "), functionNames.map(words).join(" ")]
    .filter((part) => part.length > 0)
    .join(" \n ");
}
