import { formatSignature, formatWitType, type DocumentedType, type InterfaceDocumentation } from "../../sdk/wit.ts";
import { h } from "./dom.ts";
import { docText } from "./ui.ts";

function typeHeading(type: DocumentedType): string {
  if (type.usedFrom) return `use ${type.usedFrom}.{${type.name}}`;
  if (type.kind === "alias") return `type ${type.name} = ${formatWitType(type.target ?? null)}`;
  return `${type.kind} ${type.name}`;
}

function renderType(type: DocumentedType): HTMLElement {
  return h(
    "article",
    { class: "wit-item" },
    h("h4", null, h("code", null, typeHeading(type))),
    docText(type.docs),
    type.members.length > 0
      ? h(
          "dl",
          { class: "wit-members" },
          type.members.map((member) => [
            h("dt", null, h("code", null, member.type ? `${member.name}${type.kind === "variant" ? `(${formatWitType(member.type)})` : `: ${formatWitType(member.type)}`}` : member.name)),
            h("dd", null, docText(member.docs) ?? h("span", { class: "muted" }, "—")),
          ]),
        )
      : null,
  );
}

/** The published interface with its doc comments, types and function signatures; the source below it. */
export function renderWit(doc: InterfaceDocumentation, source: string): HTMLElement {
  return h(
    "div",
    { class: "wit" },
    h("p", { class: "muted" }, "Interface ", h("code", null, doc.qualifiedName)),
    docText(doc.docs),
    h("h3", null, "Functions"),
    doc.functions.map((fn) => h("article", { class: "wit-item" }, h("h4", null, h("code", null, `${fn.name}: ${formatSignature(fn)}`)), docText(fn.docs))),
    doc.types.length > 0 ? [h("h3", null, "Types"), doc.types.map(renderType)] : null,
    h("details", null, h("summary", null, "WIT source"), h("pre", { class: "source", tabindex: 0 }, h("code", null, source))),
  );
}
