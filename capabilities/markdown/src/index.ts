// acme/markdown: the `render` interface of wit/world.wit.
import { DEFAULT_OPTIONS, optionsProblem, renderMarkdown, type RenderOptions } from "./render.ts";

export const render = {
  toHtml(markdown: string): string {
    return renderMarkdown(markdown, DEFAULT_OPTIONS);
  },

  /** result<string, string>: a thrown string is the `err` case. */
  toHtmlWith(markdown: string, options: RenderOptions): string {
    const problem = optionsProblem(options);
    if (problem !== null) throw problem;
    return renderMarkdown(markdown, options);
  },
};
