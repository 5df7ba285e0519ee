// Leading YAML front matter: detection, stripping, and the flat `key: value` subset.

// "---" on the first line, closed by "---" or "..." on a line of its own.
const FRONT_MATTER = /^\uFEFF?---[ \t]*\r?\n(?:([\s\S]*?)\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/;
const FIELD = /^([A-Za-z0-9_][A-Za-z0-9_.-]*)[ \t]*:(?:[ \t]+(.*))?$/;

export interface SplitDocument {
  /** The raw front-matter lines (null when the document has none). */
  frontMatter: string | null;
  body: string;
}

export function splitFrontMatter(markdown: string): SplitDocument {
  const match = FRONT_MATTER.exec(markdown);
  if (match === null) return { frontMatter: null, body: markdown };
  return { frontMatter: match[1] ?? "", body: markdown.slice(match[0].length) };
}

function unquote(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')) {
    return trimmed.slice(1, -1).replace(/\\(["\\])/g, "$1").replace(/\\n/g, "\n");
  }
  if (trimmed.length >= 2 && trimmed.startsWith("'") && trimmed.endsWith("'")) return trimmed.slice(1, -1).replace(/''/g, "'");
  return trimmed.replace(/[ \t]+#.*$/, "");
}

/** Parses flat `key: value` front matter; a thrown string names the offending line (the WIT `err`). */
export function parseFrontMatter(raw: string): [string, string][] {
  const fields: [string, string][] = [];
  raw.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const field = FIELD.exec(line);
    if (field === null) {
      // +2: the opening "---" is line 1.
      throw `front matter line ${index + 2} is not a flat "key: value" pair: ${JSON.stringify(line.slice(0, 60))} (nested YAML, lists and multi-line values are not supported)`;
    }
    fields.push([field[1]!, unquote(field[2] ?? "")]);
  });
  return fields;
}
