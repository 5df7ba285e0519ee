// forker/markdown-plus: a fork of acme/markdown@1.0.0. The rendering is the upstream's own
// module (imported, not copied); this file adds front matter and tables of contents.
import { DEFAULT_OPTIONS, optionsProblem, renderMarkdown, type RenderedHeading, type RenderOptions } from "../../markdown/src/render.ts";
import { parseFrontMatter, splitFrontMatter } from "./front-matter.ts";

interface Document {
  frontMatter: [string, string][];
  toc: RenderedHeading[];
  html: string;
}

function requireValid(options: RenderOptions): void {
  const problem = optionsProblem(options);
  if (problem !== null) throw problem; // the WIT `err` case
}

function headingsOf(markdown: string, options: RenderOptions): { html: string; headings: RenderedHeading[] } {
  const headings: RenderedHeading[] = [];
  const html = renderMarkdown(markdown, { ...options, headingIds: true }, (h) => headings.push(h));
  return { html, headings };
}

export const render = {
  toHtml(markdown: string): string {
    return renderMarkdown(splitFrontMatter(markdown).body, DEFAULT_OPTIONS);
  },

  toHtmlWith(markdown: string, options: RenderOptions): string {
    requireValid(options);
    return renderMarkdown(splitFrontMatter(markdown).body, options);
  },

  tableOfContents(markdown: string, maxDepth: number): RenderedHeading[] {
    if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > 6) {
      throw `max-depth must be from 1 (only # headings) to 6 (all headings), got ${maxDepth}`;
    }
    const { headings } = headingsOf(splitFrontMatter(markdown).body, { ...DEFAULT_OPTIONS, headingIds: true });
    return headings.filter((h) => h.level <= maxDepth);
  },

  toDocument(markdown: string, options: RenderOptions): Document {
    const withIds = { ...options, headingIds: true };
    requireValid(withIds);
    const { frontMatter, body } = splitFrontMatter(markdown);
    const fields = frontMatter === null ? [] : parseFrontMatter(frontMatter);
    const { html, headings } = headingsOf(body, withIds);
    return { frontMatter: fields, toc: headings, html };
  },
};
