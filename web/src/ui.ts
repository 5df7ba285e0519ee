import { h, replace, statusLine, type Child } from "./dom.ts";
import { explain } from "./errors.ts";

/** An error as a person reads it: what happened, then what to do. */
export function errorLine(error: unknown): HTMLElement {
  const { message, hint } = explain(error);
  return statusLine("error", h("strong", null, message), hint ? h("span", { class: "hint" }, ` ${hint}`) : null);
}

/**
 * Runs one user action from a button: the button is disabled while it runs (no double submit), the
 * status element says what is happening, then the outcome (text or inline nodes; null clears it) or the
 * explained error.
 */
export async function runAction(button: HTMLButtonElement, status: HTMLElement, busy: string, work: () => Promise<Child>): Promise<boolean> {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  status.replaceChildren(statusLine("info", busy));
  try {
    const outcome = await work();
    replace(status, outcome === null || outcome === undefined || outcome === "" ? null : statusLine("ok", outcome));
    return true;
  } catch (error) {
    console.error(error);
    status.replaceChildren(errorLine(error));
    return false;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** Doc comment text: `code` spans in backticks, paragraphs on blank lines. */
export function docText(text: string | undefined, cls = "docs"): HTMLElement | null {
  if (!text) return null;
  const paragraphs = text.split(/\n\s*\n/);
  return h(
    "div",
    { class: cls },
    paragraphs.map((paragraph) => h("p", null, paragraph.split(/(`[^`]+`)/).map((part) => (part.startsWith("`") && part.endsWith("`") && part.length > 1 ? h("code", null, part.slice(1, -1)) : part)))),
  );
}

export function section(id: string, title: string, ...children: Child[]): HTMLElement {
  return h("section", { class: "card", "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, title), ...children);
}

/** A "label: value" list. */
export function facts(rows: [string, Child][]): HTMLElement {
  return h("dl", { class: "facts" }, rows.map(([label, value]) => [h("dt", null, label), h("dd", null, value)]));
}
