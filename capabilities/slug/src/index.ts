// acme/slug: GitHub-style heading slugs. Kept small on purpose: it is a dependency of other
// capabilities (acme/toc), paid per call made to it.

/** Lowercase; letters, digits, spaces, dashes and underscores kept (Unicode letters too); spaces to dashes. */
export function slugOf(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

export const slug = {
  slugify(text: string): string {
    return slugOf(text);
  },

  unique(texts: string[]): string[] {
    const seen = new Map<string, number>();
    return texts.map((text) => {
      const base = slugOf(text);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      return count === 0 ? base : `${base}-${count}`;
    });
  },
};
