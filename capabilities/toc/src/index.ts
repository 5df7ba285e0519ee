// acme/toc: tables of contents for Markdown. The anchors come from acme/slug, imported through its
// WIT interface and linked by the executor at run time: this component never holds slug's code, and
// each call to it pays acme/slug its own price. One `unique` call per document, whatever its size.
import { unique } from "glassbox:slug/slug@1.0.0";

interface Entry {
  level: number;
  text: string;
  anchor: string;
}

function checkDepth(maxDepth: number): void {
  if (maxDepth < 1 || maxDepth > 6) throw `max-depth must be 1 to 6, got ${maxDepth}`;
}

/** ATX headings outside fenced code blocks, trailing #s and inline markup markers removed. */
function headingLines(markdown: string): { level: number; text: string }[] {
  const found: { level: number; text: string }[] = [];
  let fence: string | null = null;
  for (const line of markdown.split(/\r?\n/)) {
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch) {
      if (fence === null) fence = fenceMatch[1]![0]!;
      else if (fenceMatch[1]![0] === fence) fence = null;
      continue;
    }
    if (fence !== null) continue;
    const heading = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (heading) found.push({ level: heading[1]!.length, text: heading[2]!.replace(/[*_`]/g, "").trim() });
  }
  return found;
}

function entries(markdown: string, maxDepth: number): Entry[] {
  checkDepth(maxDepth);
  // Anchors are numbered over every heading (as in the rendered page), then filtered by depth.
  const all = headingLines(markdown);
  const anchors = all.length > 0 ? unique(all.map((h) => h.text)) : [];
  return all.map((h, i) => ({ level: h.level, text: h.text, anchor: anchors[i]! })).filter((e) => e.level <= maxDepth);
}

export const toc = {
  headings(markdown: string, maxDepth: number): Entry[] {
    return entries(markdown, maxDepth);
  },

  tocMarkdown(markdown: string, maxDepth: number): string {
    const list = entries(markdown, maxDepth);
    const top = Math.min(...list.map((e) => e.level));
    return list.map((e) => `${"  ".repeat(e.level - top)}- [${e.text}](#${e.anchor})`).join("\n");
  },
};
