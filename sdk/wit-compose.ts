import { parseWit } from "./wit.ts";

/**
 * WIT text surgery for composition: a dependent's WIT carries the interface it imports as a nested
 * `package ns:name@version { ... }` block (wit-parser resolves a foreign import from it, and
 * componentize builds against it), so a world can `import ns:name/iface@version;`.
 */

/** One top-level item of a WIT file, with the comments and doc comments before it. */
export interface WitItem {
  kind: "package-declaration" | "nested-package" | "world" | "other";
  text: string;
}

/** Splits WIT source into its top-level items (brace- and comment-aware). */
export function topLevelItems(source: string): WitItem[] {
  const items: WitItem[] = [];
  let start = 0;
  let depth = 0;
  let i = 0;
  const push = (end: number) => {
    const text = source.slice(start, end);
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/[^\n]*/g, "").replace(/@[a-z]+(\([^)]*\))?/g, "").trim();
    const keyword = /^[a-z]+/.exec(code)?.[0];
    const kind: WitItem["kind"] =
      keyword === "package" ? (code.endsWith("}") ? "nested-package" : "package-declaration") : keyword === "world" ? "world" : "other";
    items.push({ kind, text: text.replace(/^\s*\n/, "").trimEnd() });
    start = end;
  };
  while (i < source.length) {
    const two = source.slice(i, i + 2);
    if (two === "//") {
      const end = source.indexOf("\n", i);
      i = end < 0 ? source.length : end + 1;
      continue;
    }
    if (two === "/*") {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? source.length : end + 2;
      continue;
    }
    const c = source[i]!;
    if (c === "{") depth++;
    else if (c === "}") {
      depth--;
      if (depth === 0) push(i + 1);
    } else if (c === ";" && depth === 0) push(i + 1);
    i++;
  }
  const rest = source.slice(start).trim();
  if (rest.replace(/\/\/[^\n]*/g, "").trim().length > 0) items.push({ kind: "other", text: rest });
  return items;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => (line.length > 0 ? `  ${line}` : line))
    .join("\n");
}

/**
 * The WIT of a wrapping fork: the parent's interfaces (and types) imported from the parent's package
 * as a nested block, the same interfaces declared again in the fork's own package, and a world that
 * imports the parent's `interfaceName` and exports the fork's.
 */
export function wrappingForkWit(args: { parentWit: string; interfaceName: string; forkPackage: string; forkWorld: string; parentLabel: string }): string {
  const parentPackage = parseWit(args.parentWit).packageName;
  if (!parentPackage) throw new Error("The parent's WIT has no package declaration, so its interface cannot be imported by name.");
  const items = topLevelItems(args.parentWit);
  const nested = items.filter((i) => i.kind === "nested-package").map((i) => i.text);
  const definitions = items.filter((i) => i.kind === "other").map((i) => i.text);
  const at = parentPackage.indexOf("@");
  const importName = at < 0 ? `${parentPackage}/${args.interfaceName}` : `${parentPackage.slice(0, at)}/${args.interfaceName}${parentPackage.slice(at)}`;
  return [
    `package ${args.forkPackage};`,
    ...nested,
    `/// The parent, ${args.parentLabel}: its public interface, imported. Each call to it pays the parent its price.\npackage ${parentPackage} {\n${indent(definitions.join("\n\n"))}\n}`,
    ...definitions,
    `world ${args.forkWorld} {\n  import ${importName};\n  export ${args.interfaceName};\n}`,
  ].join("\n\n") + "\n";
}
