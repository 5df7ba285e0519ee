/**
 * Tiny DOM helpers. Text always goes in as text nodes (never innerHTML): names, descriptions, WIT,
 * results and every other value come from strangers.
 */
export type Child = Node | string | number | bigint | null | undefined | false | Child[];
type AttrValue = string | number | boolean | null | undefined;
export type Attrs = { [name: string]: AttrValue | ((event: Event) => void) };

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function setAttrs(el: Element, attrs: Attrs | null | undefined): void {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === "function") el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, "");
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
}

/** `h("a", { href: "#/x", onclick: fn }, "text", child)`: attributes starting with "on" are listeners. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Replaces the children of `el`. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

let ids = 0;
/** A document-unique id for label/aria wiring. */
export function uid(prefix: string): string {
  return `${prefix}-${++ids}`;
}

/** A status line screen readers announce (role=status), or an alert for errors. */
export function statusLine(kind: "info" | "ok" | "error", ...children: Child[]): HTMLElement {
  return h("p", { class: `status ${kind}`, role: kind === "error" ? "alert" : "status" }, ...children);
}
