// Sanitizing Markdown renderer on top of the npm `marked` parser.
// Shared with forks (capabilities/markdown-plus imports it), so keep it free of WIT glue.
import { Marked, type RendererObject, type Tokens } from "marked";

/** The WIT `options` record as componentize passes it (camelCase keys, option<T> as T | null). */
export interface RenderOptions {
  gfm: boolean;
  breaks: boolean;
  headingIds: boolean;
  headingIdPrefix?: string | null;
}

export const DEFAULT_OPTIONS: RenderOptions = { gfm: true, breaks: false, headingIds: false, headingIdPrefix: null };

const HEADING_ID_PREFIX = /^[a-z][a-z0-9-]{0,31}$/;

/** Returns a message naming the first bad option, or null when the options are usable. */
export function optionsProblem(options: RenderOptions): string | null {
  if (options.breaks && !options.gfm) {
    return "options.breaks needs options.gfm: line breaks as <br> are a GitHub Flavored Markdown extension; set gfm to true or breaks to false";
  }
  const prefix = options.headingIdPrefix;
  if (prefix !== null && prefix !== undefined) {
    if (!options.headingIds) {
      return "options.heading-id-prefix is set but options.heading-ids is false: enable heading-ids or leave the prefix out";
    }
    if (!HEADING_ID_PREFIX.test(prefix)) {
      return `options.heading-id-prefix must start with a lowercase letter and use only a-z, 0-9 and "-" (at most 32 characters), got ${JSON.stringify(prefix)}`;
    }
  }
  return null;
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const NAMED_ENTITIES: Record<string, string> = { colon: ":", tab: "\t", newline: "\n", amp: "&", sol: "/", lpar: "(", rpar: ")" };

/** What a browser would see as the URL: character references decoded, whitespace and controls removed. */
function normalizeUrl(href: string): string {
  return href
    .replace(/&#x([0-9a-f]+);?/gi, (_, hex: string) => String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff)))
    .replace(/&#(\d+);?/g, (_, dec: string) => String.fromCodePoint(Math.min(parseInt(dec, 10), 0x10ffff)))
    .replace(/&([a-z]+);/gi, (whole, name: string) => NAMED_ENTITIES[name.toLowerCase()] ?? whole)
    .replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
}

const LINK_SCHEMES = new Set(["http", "https", "mailto", "tel"]);
const IMAGE_SCHEMES = new Set(["http", "https"]);
const SAFE_DATA_IMAGE = /^data:image\/(png|gif|jpeg|webp);/i;

/** Relative URLs are safe; absolute ones only with an allowed scheme. */
export function isSafeUrl(href: string, kind: "link" | "image"): boolean {
  const url = normalizeUrl(href);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return true;
  if (kind === "image" && SAFE_DATA_IMAGE.test(url)) return true;
  return (kind === "link" ? LINK_SCHEMES : IMAGE_SCHEMES).has(scheme);
}

/** GitHub-style heading slugs; repeats get -1, -2, ... (one slugger per document). */
export function createSlugger(): (text: string) => string {
  const seen = new Map<string, number>();
  return (text) => {
    const base =
      text
        .toLowerCase()
        .trim()
        .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-") || "section";
    let slug = base;
    while (seen.has(slug)) {
      const count = (seen.get(base) ?? 0) + 1;
      seen.set(base, count);
      slug = `${base}-${count}`;
    }
    seen.set(slug, 0);
    return slug;
  };
}

/** Decodes the few entities marked's text renderer leaves in heading text. */
export function decodeBasicEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#34|#60|#62|#38);/g, (_, e: string) =>
    ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", "#34": '"', "#60": "<", "#62": ">", "#38": "&" })[e] ?? "",
  );
}

/** A rendered heading, as reported to `renderMarkdown`'s optional observer (forks build tables of contents from it). */
export interface RenderedHeading {
  level: number;
  text: string;
  id: string;
}

function sanitizingRenderer(options: RenderOptions, onHeading?: (heading: RenderedHeading) => void): RendererObject {
  const slug = createSlugger();
  const prefix = options.headingIdPrefix ?? "";
  return {
    // Raw HTML (block and inline) is shown as text, never interpreted.
    html(token: Tokens.HTML | Tokens.Tag): string {
      return token.block ? `<p>${escapeHtml(token.text.trim())}</p>\n` : escapeHtml(token.text);
    },
    link(token: Tokens.Link): string | false {
      return isSafeUrl(token.href, "link") ? false : this.parser.parseInline(token.tokens);
    },
    image(token: Tokens.Image): string | false {
      return isSafeUrl(token.href, "image") ? false : escapeHtml(token.text);
    },
    heading(token: Tokens.Heading): string | false {
      if (!options.headingIds) return false;
      const html = this.parser.parseInline(token.tokens);
      const plain = decodeBasicEntities(this.parser.parseInline(token.tokens, this.parser.textRenderer));
      const id = prefix + slug(plain);
      onHeading?.({ level: token.depth, text: plain, id });
      return `<h${token.depth} id="${escapeHtml(id)}">${html}</h${token.depth}>\n`;
    },
  };
}

/** Markdown to sanitized HTML. Call optionsProblem first: this assumes valid options. */
export function renderMarkdown(markdown: string, options: RenderOptions, onHeading?: (heading: RenderedHeading) => void): string {
  const marked = new Marked({ gfm: options.gfm, breaks: options.breaks, async: false });
  marked.use({ renderer: sanitizingRenderer(options, onHeading) });
  return marked.parse(markdown, { async: false });
}
