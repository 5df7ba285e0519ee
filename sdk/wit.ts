/**
 * A small WIT reader for the subset capabilities use: one package per source, interfaces with
 * records, variants, enums, flags, type aliases, `use` of sibling interfaces, and functions;
 * worlds that import/export interfaces. jco exposes no WIT parser with function signatures, so
 * the runtime, the indexer and the CLI share this one. Resources and async functions are
 * rejected with a clear message (the executor cannot run them yet).
 *
 * Kept free of TypeScript-only syntax (no enums, no parameter properties) so worker threads can
 * load it with Node's built-in type stripping.
 */

export type WitPrimitive =
  | "bool"
  | "s8"
  | "s16"
  | "s32"
  | "s64"
  | "u8"
  | "u16"
  | "u32"
  | "u64"
  | "f32"
  | "f64"
  | "char"
  | "string";

/** A fully resolved WIT type (named types keep their name for messages and printing). */
export type WitType =
  | { kind: WitPrimitive }
  | { kind: "list"; element: WitType }
  | { kind: "option"; some: WitType }
  | { kind: "result"; ok: WitType | null; err: WitType | null }
  | { kind: "tuple"; items: WitType[] }
  | { kind: "record"; name: string; fields: { name: string; type: WitType }[] }
  | { kind: "variant"; name: string; cases: { name: string; type: WitType | null }[] }
  | { kind: "enum"; name: string; cases: string[] }
  | { kind: "flags"; name: string; flags: string[] }
  | { kind: "alias"; name: string; target: WitType };

export interface WitParam {
  name: string;
  type: WitType;
}

export interface FunctionSignature {
  /** WIT (kebab-case) name, e.g. `to-html`. */
  name: string;
  params: WitParam[];
  result: WitType | null;
}

export interface InterfaceDescription {
  /** Interface name inside its package, e.g. `calc`. */
  name: string;
  /** Fully qualified name as it appears in component imports/exports, e.g. `demo:calc/calc@0.1.0`. */
  qualifiedName: string;
  functions: FunctionSignature[];
}

export interface WorldDescription {
  /** `namespace:name@version` of the package. */
  package: string;
  world: string;
  /** Exported interfaces with their function signatures. */
  exports: InterfaceDescription[];
  /** Imported interfaces, fully qualified (e.g. `wasi:clocks/wall-clock@0.2.3` or `demo:calc/host@0.1.0`). */
  imports: string[];
}

export class WitParseError extends Error {
  override name = "WitParseError";
  line: number;
  constructor(message: string, line: number) {
    super(`WIT line ${line}: ${message}`);
    this.line = line;
  }
}

interface Token {
  text: string;
  line: number;
  /** The `///` doc comment lines right before this token. */
  doc?: string;
}

const PUNCTUATION = new Set(["{", "}", "(", ")", "<", ">", ",", ":", ";", "=", ".", "/", "@", "*"]);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  let doc: string[] = [];
  const push = (text: string) => {
    tokens.push(doc.length > 0 ? { text, line, doc: doc.join("\n") } : { text, line });
    doc = [];
  };
  while (i < source.length) {
    const c = source[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (source.startsWith("//", i)) {
      const end = source.indexOf("\n", i);
      const comment = source.slice(i, end < 0 ? source.length : end);
      if (comment.startsWith("///") && !comment.startsWith("////")) doc.push(comment.slice(3).replace(/^ /, "").trimEnd());
      i += comment.length;
    } else if (source.startsWith("/*", i)) {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? source.length : end + 2;
      for (let j = i; j < stop; j++) if (source[j] === "\n") line++;
      i = stop;
    } else if (source.startsWith("->", i)) {
      push("->");
      i += 2;
    } else if (PUNCTUATION.has(c)) {
      push(c);
      i++;
    } else {
      const match = /^%?[A-Za-z0-9_][A-Za-z0-9_.+-]*/.exec(source.slice(i, i + 256));
      if (!match) throw new WitParseError(`unexpected character ${JSON.stringify(c)}`, line);
      // Identifiers are kebab-case; `.` only belongs to versions, which the parser reassembles.
      let text = match[0];
      const dot = text.indexOf(".");
      if (dot > 0 && !/^\d/.test(text)) text = text.slice(0, dot);
      push(text);
      i += text.length;
    }
  }
  return tokens;
}

type TypeRef =
  | { ref: "named"; name: string; line: number }
  | { ref: "primitive"; kind: WitPrimitive }
  | { ref: "list"; element: TypeRef }
  | { ref: "option"; some: TypeRef }
  | { ref: "result"; ok: TypeRef | null; err: TypeRef | null }
  | { ref: "tuple"; items: TypeRef[] };

type TypeDef = (
  | { def: "alias"; target: TypeRef }
  | { def: "record"; fields: { name: string; type: TypeRef; docs?: string }[] }
  | { def: "variant"; cases: { name: string; type: TypeRef | null; docs?: string }[] }
  | { def: "enum"; cases: string[]; caseDocs: (string | undefined)[] }
  | { def: "flags"; flags: string[]; caseDocs: (string | undefined)[] }
  | { def: "use"; from: string; name: string; line: number }
) & { docs?: string };

interface RawFunction {
  name: string;
  params: { name: string; type: TypeRef }[];
  result: TypeRef | null;
  docs?: string;
}

interface RawInterface {
  name: string;
  types: Map<string, TypeDef>;
  functions: RawFunction[];
  docs?: string;
}

interface RawWorldItem {
  direction: "import" | "export";
  /** Interface path as written: `calc` (local) or `wasi:clocks/wall-clock@0.2.3`. */
  path: string;
}

interface RawWorld {
  name: string;
  items: RawWorldItem[];
  functions: { direction: "import" | "export"; fn: RawFunction }[];
}

export interface WitDocument {
  packageName: string;
  interfaces: Map<string, RawInterface>;
  worlds: Map<string, RawWorld>;
  /** Nested `package ns:name@v { ... }` blocks (interfaces of other packages a world imports). */
  nested: Map<string, WitDocument>;
}

const PRIMITIVES: Record<string, WitPrimitive> = {
  bool: "bool",
  s8: "s8",
  s16: "s16",
  s32: "s32",
  s64: "s64",
  u8: "u8",
  u16: "u16",
  u32: "u32",
  u64: "u64",
  f32: "f32",
  f64: "f64",
  float32: "f32",
  float64: "f64",
  char: "char",
  string: "string",
};

class Parser {
  private pos = 0;
  private tokens: Token[];
  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }
  private get line(): number {
    return this.tokens[Math.min(this.pos, this.tokens.length - 1)]?.line ?? 1;
  }
  peek(offset = 0): string | undefined {
    return this.tokens[this.pos + offset]?.text;
  }
  next(): string {
    const token = this.tokens[this.pos++];
    if (!token) throw new WitParseError("unexpected end of input", this.line);
    return token.text;
  }
  expect(text: string): void {
    const got = this.next();
    if (got !== text) throw new WitParseError(`expected "${text}" but found "${got}"`, this.line);
  }
  accept(text: string): boolean {
    if (this.peek() === text) {
      this.pos++;
      return true;
    }
    return false;
  }
  ident(): string {
    const text = this.next();
    if (!/^%?[A-Za-z][A-Za-z0-9-]*$/.test(text)) throw new WitParseError(`expected an identifier but found "${text}"`, this.line);
    return text.startsWith("%") ? text.slice(1) : text;
  }
  done(): boolean {
    return this.pos >= this.tokens.length;
  }
  /** The doc comment before the next token, if any. */
  docs(): string | undefined {
    return this.tokens[this.pos]?.doc;
  }
  currentLine(): number {
    return this.line;
  }
  /** `@since(version = 0.2.0)`, `@unstable(feature = x)`, `@deprecated(...)`: feature gates, ignored. */
  skipGates(): void {
    while (this.peek() === "@") {
      this.next();
      this.ident();
      if (this.accept("(")) {
        let depth = 1;
        while (depth > 0) {
          const t = this.next();
          if (t === "(") depth++;
          else if (t === ")") depth--;
        }
      }
    }
  }
  /** `ns:pkg/iface@1.2.3` or `ns:pkg@1.2.3`: reassembled from tokens. */
  qualifiedPath(): string {
    let text = this.ident();
    if (this.accept(":")) text += ":" + this.ident();
    if (this.accept("/")) text += "/" + this.ident();
    if (this.accept("@")) text += "@" + this.version();
    return text;
  }
  version(): string {
    let version = this.next();
    // Pre-release / build parts were split on "-" boundaries only inside identifiers; keep simple semver.
    while (this.peek() === "." ) {
      this.next();
      version += "." + this.next();
    }
    return version;
  }
  typeRef(): TypeRef {
    const line = this.line;
    const name = this.ident();
    const primitive = PRIMITIVES[name];
    if (primitive) return { ref: "primitive", kind: primitive };
    if (name === "list") {
      this.expect("<");
      const element = this.typeRef();
      if (this.accept(",")) throw new WitParseError("fixed-size lists are not supported", line);
      this.expect(">");
      return { ref: "list", element };
    }
    if (name === "option") {
      this.expect("<");
      const some = this.typeRef();
      this.expect(">");
      return { ref: "option", some };
    }
    if (name === "result") {
      if (!this.accept("<")) return { ref: "result", ok: null, err: null };
      const ok = this.peek() === "_" ? (this.next(), null) : this.typeRef();
      const err = this.accept(",") ? this.typeRef() : null;
      this.expect(">");
      return { ref: "result", ok, err };
    }
    if (name === "tuple") {
      this.expect("<");
      const items: TypeRef[] = [];
      do items.push(this.typeRef());
      while (this.accept(","));
      this.expect(">");
      return { ref: "tuple", items };
    }
    if (name === "borrow" || name === "own" || name === "future" || name === "stream") {
      throw new WitParseError(`"${name}<...>" types are not supported by the Glassbox runtime`, line);
    }
    return { ref: "named", name, line };
  }
  functionType(name: string): RawFunction {
    if (this.peek() === "async") throw new WitParseError(`function "${name}": async functions are not supported`, this.line);
    this.expect("func");
    this.expect("(");
    const params: { name: string; type: TypeRef }[] = [];
    while (!this.accept(")")) {
      const paramName = this.ident();
      this.expect(":");
      params.push({ name: paramName, type: this.typeRef() });
      if (!this.accept(",")) {
        this.expect(")");
        break;
      }
    }
    let result: TypeRef | null = null;
    if (this.accept("->")) {
      if (this.peek() === "(") throw new WitParseError(`function "${name}": named multiple results are not supported`, this.line);
      result = this.typeRef();
    }
    this.expect(";");
    return { name, params, result };
  }
  nameList(): { names: string[]; docs: (string | undefined)[] } {
    this.expect("{");
    const names: string[] = [];
    const docs: (string | undefined)[] = [];
    while (!this.accept("}")) {
      docs.push(this.docs());
      this.skipGates();
      names.push(this.ident());
      if (!this.accept(",")) {
        this.expect("}");
        break;
      }
    }
    return { names, docs };
  }
  interfaceBody(name: string, docs: string | undefined): RawInterface {
    const iface: RawInterface = { name, types: new Map(), functions: [], ...(docs ? { docs } : {}) };
    this.expect("{");
    while (!this.accept("}")) {
      const itemDocs = this.docs();
      this.skipGates();
      const line = this.line;
      const keyword = this.peek();
      const define = (typeName: string, def: TypeDef): void => {
        if (iface.types.has(typeName)) throw new WitParseError(`type "${typeName}" is defined twice in interface "${name}"`, line);
        iface.types.set(typeName, itemDocs ? { ...def, docs: itemDocs } : def);
      };
      if (keyword === "use") {
        this.next();
        const from = this.qualifiedPath();
        this.expect(".");
        this.expect("{");
        while (!this.accept("}")) {
          const original = this.ident();
          const local = this.accept("as") ? this.ident() : original;
          define(local, { def: "use", from, name: original, line });
          if (!this.accept(",")) {
            this.expect("}");
            break;
          }
        }
        this.expect(";");
      } else if (keyword === "type") {
        this.next();
        const typeName = this.ident();
        this.expect("=");
        define(typeName, { def: "alias", target: this.typeRef() });
        this.expect(";");
      } else if (keyword === "record") {
        this.next();
        const typeName = this.ident();
        this.expect("{");
        const fields: { name: string; type: TypeRef; docs?: string }[] = [];
        while (!this.accept("}")) {
          const fieldDocs = this.docs();
          this.skipGates();
          const fieldName = this.ident();
          this.expect(":");
          fields.push({ name: fieldName, type: this.typeRef(), ...(fieldDocs ? { docs: fieldDocs } : {}) });
          if (!this.accept(",")) {
            this.expect("}");
            break;
          }
        }
        define(typeName, { def: "record", fields });
      } else if (keyword === "variant") {
        this.next();
        const typeName = this.ident();
        this.expect("{");
        const cases: { name: string; type: TypeRef | null; docs?: string }[] = [];
        while (!this.accept("}")) {
          const caseDocs = this.docs();
          this.skipGates();
          const caseName = this.ident();
          let type: TypeRef | null = null;
          if (this.accept("(")) {
            type = this.typeRef();
            this.expect(")");
          }
          cases.push({ name: caseName, type, ...(caseDocs ? { docs: caseDocs } : {}) });
          if (!this.accept(",")) {
            this.expect("}");
            break;
          }
        }
        define(typeName, { def: "variant", cases });
      } else if (keyword === "enum") {
        this.next();
        const typeName = this.ident();
        const { names, docs: caseDocs } = this.nameList();
        define(typeName, { def: "enum", cases: names, caseDocs });
      } else if (keyword === "flags") {
        this.next();
        const typeName = this.ident();
        const { names, docs: caseDocs } = this.nameList();
        define(typeName, { def: "flags", flags: names, caseDocs });
      } else if (keyword === "resource") {
        throw new WitParseError(`resources are not supported by the Glassbox runtime (interface "${name}")`, line);
      } else {
        const fnName = this.ident();
        this.expect(":");
        const fn = this.functionType(fnName);
        iface.functions.push(itemDocs ? { ...fn, docs: itemDocs } : fn);
      }
    }
    return iface;
  }
}

/** Parses one WIT package source (a single file, one `package` declaration, nested `package x { ... }` blocks kept in `nested`). */
export function parseWit(source: string): WitDocument {
  const parser = new Parser(tokenize(source));
  const doc: WitDocument = { packageName: "", interfaces: new Map(), worlds: new Map(), nested: new Map() };
  parser.skipGates();
  if (parser.accept("package")) {
    doc.packageName = parser.qualifiedPath();
    parser.expect(";");
  }
  parseItems(parser, doc, false);
  return doc;
}

/** Top-level items (interfaces, worlds, nested packages) until the end, or until `}` inside a nested package. */
function parseItems(parser: Parser, doc: WitDocument, nested: boolean): void {
  while (!parser.done()) {
    if (nested && parser.accept("}")) return;
    const docs = parser.docs();
    parser.skipGates();
    if (nested && parser.accept("}")) return;
    const line = parser.currentLine();
    const keyword = parser.next();
    if (keyword === "package") {
      // A nested `package ns:name@v { ... }` block defines a dependency's interfaces (e.g. WASI, or
      // another capability a world imports) for wit-parser; they are kept apart from this package's.
      const name = parser.qualifiedPath();
      parser.expect("{");
      if (nested) throw new WitParseError("a nested package cannot contain another package", line);
      const inner: WitDocument = { packageName: name, interfaces: new Map(), worlds: new Map(), nested: new Map() };
      parseItems(parser, inner, true);
      doc.nested.set(name, inner);
      continue;
    }
    if (keyword === "interface") {
      const name = parser.ident();
      if (doc.interfaces.has(name)) throw new WitParseError(`interface "${name}" is defined twice`, line);
      doc.interfaces.set(name, parser.interfaceBody(name, docs));
    } else if (keyword === "world") {
      const name = parser.ident();
      const world: RawWorld = { name, items: [], functions: [] };
      parser.expect("{");
      while (!parser.accept("}")) {
        const itemDocs = parser.docs();
        parser.skipGates();
        const itemLine = parser.currentLine();
        const direction = parser.next();
        if (direction === "include") throw new WitParseError("world `include` is not supported", itemLine);
        if (direction === "use") {
          // `use iface.{t}` in a world only brings types into scope; functions there are unsupported anyway.
          while (parser.next() !== ";");
          continue;
        }
        if (direction !== "import" && direction !== "export") {
          throw new WitParseError(`expected "import" or "export" in world "${name}" but found "${direction}"`, itemLine);
        }
        if (parser.peek(1) === ":" && parser.peek(2) === "func") {
          const fnName = parser.ident();
          parser.expect(":");
          world.functions.push({ direction, fn: parser.functionType(fnName) });
        } else if (parser.peek(1) === ":" && parser.peek(2) === "interface") {
          const ifaceName = parser.ident();
          parser.expect(":");
          parser.expect("interface");
          const iface = parser.interfaceBody(ifaceName, itemDocs);
          doc.interfaces.set(ifaceName, iface);
          world.items.push({ direction, path: ifaceName });
        } else {
          world.items.push({ direction, path: parser.qualifiedPath() });
          parser.expect(";");
        }
      }
      doc.worlds.set(name, world);
    } else {
      throw new WitParseError(`expected "interface" or "world" but found "${keyword}"`, line);
    }
  }
  if (nested) throw new WitParseError("a nested package is missing its closing }", parser.currentLine());
}

/**
 * An interface a world imports from another package, as a nested `package` block of this WIT
 * declares it (`acme:slug/slug@1.0.0`), or undefined when the WIT does not declare it.
 */
export function describeImportedInterface(witSource: string, qualifiedName: string): InterfaceDescription | undefined {
  const doc = parseWit(witSource);
  const slash = qualifiedName.indexOf("/");
  if (slash < 0) return undefined;
  const at = qualifiedName.indexOf("@", slash);
  const base = qualifiedName.slice(0, slash);
  const name = at < 0 ? qualifiedName.slice(slash + 1) : qualifiedName.slice(slash + 1, at);
  const version = at < 0 ? "" : qualifiedName.slice(at);
  const inner = doc.nested.get(`${base}${version}`) ?? [...doc.nested.values()].find((d) => splitPackage(d.packageName).base === base);
  const iface = inner?.interfaces.get(name);
  if (!inner || !iface) return undefined;
  return { name, qualifiedName: qualifyInterface(inner.packageName, name), functions: iface.functions.map((fn) => resolveFunction(inner, iface, fn)) };
}

function splitPackage(packageName: string): { base: string; version: string | undefined } {
  const at = packageName.indexOf("@");
  return at < 0 ? { base: packageName, version: undefined } : { base: packageName.slice(0, at), version: packageName.slice(at + 1) };
}

/** `calc` in package `demo:calc@0.1.0` -> `demo:calc/calc@0.1.0`; already-qualified paths pass through. */
export function qualifyInterface(packageName: string, path: string): string {
  if (path.includes(":")) return path;
  const { base, version } = splitPackage(packageName);
  return version ? `${base}/${path}@${version}` : `${base}/${path}`;
}

function resolveType(doc: WitDocument, iface: RawInterface, ref: TypeRef, seen: string[]): WitType {
  switch (ref.ref) {
    case "primitive":
      return { kind: ref.kind };
    case "list":
      return { kind: "list", element: resolveType(doc, iface, ref.element, seen) };
    case "option":
      return { kind: "option", some: resolveType(doc, iface, ref.some, seen) };
    case "result":
      return {
        kind: "result",
        ok: ref.ok ? resolveType(doc, iface, ref.ok, seen) : null,
        err: ref.err ? resolveType(doc, iface, ref.err, seen) : null,
      };
    case "tuple":
      return { kind: "tuple", items: ref.items.map((item) => resolveType(doc, iface, item, seen)) };
    case "named":
      return resolveNamed(doc, iface, ref.name, ref.line, seen);
  }
}

function resolveNamed(doc: WitDocument, iface: RawInterface, name: string, line: number, seen: string[]): WitType {
  const key = `${iface.name}.${name}`;
  if (seen.includes(key)) throw new WitParseError(`type "${name}" refers to itself`, line);
  const def = iface.types.get(name);
  if (!def) throw new WitParseError(`unknown type "${name}" in interface "${iface.name}"`, line);
  const inner = [...seen, key];
  switch (def.def) {
    case "use": {
      if (def.from.includes(":")) throw new WitParseError(`"use ${def.from}" refers to another package: only interfaces of the same package are supported`, def.line);
      const source = doc.interfaces.get(def.from);
      if (!source) throw new WitParseError(`"use ${def.from}": no interface "${def.from}" in this package`, def.line);
      return resolveNamed(doc, source, def.name, def.line, inner);
    }
    case "alias":
      return { kind: "alias", name, target: resolveType(doc, iface, def.target, inner) };
    case "record":
      return { kind: "record", name, fields: def.fields.map((f) => ({ name: f.name, type: resolveType(doc, iface, f.type, inner) })) };
    case "variant":
      return {
        kind: "variant",
        name,
        cases: def.cases.map((c) => ({ name: c.name, type: c.type ? resolveType(doc, iface, c.type, inner) : null })),
      };
    case "enum":
      return { kind: "enum", name, cases: def.cases };
    case "flags":
      return { kind: "flags", name, flags: def.flags };
  }
}

function resolveFunction(doc: WitDocument, iface: RawInterface, fn: RawFunction): FunctionSignature {
  return {
    name: fn.name,
    params: fn.params.map((p) => ({ name: p.name, type: resolveType(doc, iface, p.type, []) })),
    result: fn.result ? resolveType(doc, iface, fn.result, []) : null,
  };
}

/** Function signatures of every interface a world exports, plus the interfaces it imports. */
export function describeWorld(witSource: string, world: string): WorldDescription {
  const doc = parseWit(witSource);
  const raw = doc.worlds.get(world);
  if (!raw) {
    const known = [...doc.worlds.keys()].join(", ") || "none";
    throw new WitParseError(`no world "${world}" in this WIT (worlds: ${known})`, 1);
  }
  if (raw.functions.some((f) => f.direction === "export")) {
    throw new WitParseError(`world "${world}" exports bare functions: export them through an interface instead`, 1);
  }
  const exports: InterfaceDescription[] = [];
  const imports: string[] = [];
  for (const item of raw.items) {
    const qualifiedName = qualifyInterface(doc.packageName, item.path);
    if (item.direction === "import") {
      imports.push(qualifiedName);
      continue;
    }
    if (item.path.includes(":")) throw new WitParseError(`world "${world}" exports "${item.path}" from another package: export a local interface`, 1);
    const iface = doc.interfaces.get(item.path);
    if (!iface) throw new WitParseError(`world "${world}" exports unknown interface "${item.path}"`, 1);
    exports.push({ name: iface.name, qualifiedName, functions: iface.functions.map((fn) => resolveFunction(doc, iface, fn)) });
  }
  return { package: doc.packageName, world, exports, imports };
}

/**
 * The exported interface a capability publishes: `interfaceName` picks one when the world exports
 * several (by short or qualified name); with one export it may be omitted.
 */
export function describeInterface(witSource: string, world: string, interfaceName?: string): InterfaceDescription {
  const description = describeWorld(witSource, world);
  const candidates = interfaceName
    ? description.exports.filter((e) => e.name === interfaceName || e.qualifiedName === interfaceName)
    : description.exports;
  if (candidates.length === 1) return candidates[0]!;
  const names = description.exports.map((e) => e.name).join(", ") || "none";
  throw new WitParseError(
    interfaceName
      ? `world "${world}" does not export interface "${interfaceName}" (exports: ${names})`
      : `world "${world}" exports ${description.exports.length} interfaces (${names}): name the one to use`,
    1,
  );
}

/** A member of a documented type: a record field, a variant or enum case, or a flag. */
export interface DocumentedMember {
  name: string;
  /** The field's or the case's payload type (null for enum cases, flags and cases without payload). */
  type: WitType | null;
  docs?: string;
}

export interface DocumentedType {
  name: string;
  kind: "record" | "variant" | "enum" | "flags" | "alias";
  docs?: string;
  members: DocumentedMember[];
  /** What an alias stands for. */
  target?: WitType;
  /** The sibling interface a `use` brought this type from. */
  usedFrom?: string;
}

export interface DocumentedFunction extends FunctionSignature {
  docs?: string;
}

/** An exported interface as a reader sees it: its types and functions with their `///` doc comments. */
export interface InterfaceDocumentation {
  name: string;
  qualifiedName: string;
  docs?: string;
  types: DocumentedType[];
  functions: DocumentedFunction[];
}

const withDocs = <T extends object>(value: T, docs: string | undefined): T & { docs?: string } => (docs ? { ...value, docs } : value);

/** The exported interface a capability publishes (see describeInterface), with its doc comments. */
export function documentInterface(witSource: string, world: string, interfaceName?: string): InterfaceDocumentation {
  const described = describeInterface(witSource, world, interfaceName);
  const doc = parseWit(witSource);
  const iface = doc.interfaces.get(described.name)!;
  const types: DocumentedType[] = [];
  for (const [name, def] of iface.types) {
    const resolved = resolveNamed(doc, iface, name, 0, []);
    switch (def.def) {
      case "use":
        types.push(withDocs({ name, kind: "alias", members: [], target: resolved, usedFrom: def.from }, def.docs));
        break;
      case "alias":
        types.push(withDocs({ name, kind: "alias", members: [], target: resolved.kind === "alias" ? resolved.target : resolved }, def.docs));
        break;
      case "record": {
        const fields = resolved.kind === "record" ? resolved.fields : [];
        types.push(withDocs({ name, kind: "record", members: def.fields.map((f, i) => withDocs({ name: f.name, type: fields[i]!.type }, f.docs)) }, def.docs));
        break;
      }
      case "variant": {
        const cases = resolved.kind === "variant" ? resolved.cases : [];
        types.push(withDocs({ name, kind: "variant", members: def.cases.map((c, i) => withDocs({ name: c.name, type: cases[i]!.type }, c.docs)) }, def.docs));
        break;
      }
      case "enum":
        types.push(withDocs({ name, kind: "enum", members: def.cases.map((c, i) => withDocs({ name: c, type: null }, def.caseDocs[i])) }, def.docs));
        break;
      case "flags":
        types.push(withDocs({ name, kind: "flags", members: def.flags.map((f, i) => withDocs({ name: f, type: null }, def.caseDocs[i])) }, def.docs));
        break;
    }
  }
  const functions = described.functions.map((fn, i) => withDocs(fn, iface.functions[i]!.docs));
  return withDocs({ name: described.name, qualifiedName: described.qualifiedName, types, functions }, iface.docs);
}

/** Strips aliases: `type id = u32` behaves exactly like `u32`. */
export function unalias(type: WitType): WitType {
  let current = type;
  while (current.kind === "alias") current = current.target;
  return current;
}

/** WIT spelling of a type, e.g. `list<option<point>>`. */
export function formatWitType(type: WitType | null): string {
  if (type === null) return "_";
  switch (type.kind) {
    case "list":
      return `list<${formatWitType(type.element)}>`;
    case "option":
      return `option<${formatWitType(type.some)}>`;
    case "result":
      if (!type.ok && !type.err) return "result";
      return type.err ? `result<${formatWitType(type.ok)}, ${formatWitType(type.err)}>` : `result<${formatWitType(type.ok)}>`;
    case "tuple":
      return `tuple<${type.items.map(formatWitType).join(", ")}>`;
    case "record":
    case "variant":
    case "enum":
    case "flags":
    case "alias":
      return type.name;
    default:
      return type.kind;
  }
}

/** `func(a: s32, b: s32) -> s32` */
export function formatSignature(fn: FunctionSignature): string {
  const params = fn.params.map((p) => `${p.name}: ${formatWitType(p.type)}`).join(", ");
  return `func(${params})${fn.result ? ` -> ${formatWitType(fn.result)}` : ""}`;
}

function escapeIdent(name: string): string {
  const keywords = new Set(["use", "type", "func", "record", "enum", "flags", "variant", "resource", "interface", "world", "list", "option", "result", "tuple", "string", "char", "bool", "import", "export", "package", "include", "with", "as", "from", "static", "constructor", "async", "own", "borrow", "future", "stream", "_"]);
  return keywords.has(name) || PRIMITIVES[name] ? `%${name}` : name;
}

/**
 * Prints an interface (only the given functions and the named types they reach) as WIT.
 * Used to build exact-type consumer components for conformance checks.
 */
export function printInterfaceWit(name: string, functions: FunctionSignature[]): string {
  const definitions = new Map<string, string>();
  const visit = (type: WitType | null): void => {
    if (!type) return;
    switch (type.kind) {
      case "list":
        return visit(type.element);
      case "option":
        return visit(type.some);
      case "result":
        visit(type.ok);
        return visit(type.err);
      case "tuple":
        return type.items.forEach(visit);
      case "alias":
        visit(type.target);
        if (!definitions.has(type.name)) definitions.set(type.name, `  type ${escapeIdent(type.name)} = ${formatWitType(type.target)};`);
        return;
      case "record":
        type.fields.forEach((f) => visit(f.type));
        if (!definitions.has(type.name)) {
          definitions.set(type.name, `  record ${escapeIdent(type.name)} { ${type.fields.map((f) => `${escapeIdent(f.name)}: ${formatWitType(f.type)}`).join(", ")} }`);
        }
        return;
      case "variant":
        type.cases.forEach((c) => visit(c.type));
        if (!definitions.has(type.name)) {
          definitions.set(type.name, `  variant ${escapeIdent(type.name)} { ${type.cases.map((c) => (c.type ? `${escapeIdent(c.name)}(${formatWitType(c.type)})` : escapeIdent(c.name))).join(", ")} }`);
        }
        return;
      case "enum":
        if (!definitions.has(type.name)) definitions.set(type.name, `  enum ${escapeIdent(type.name)} { ${type.cases.map(escapeIdent).join(", ")} }`);
        return;
      case "flags":
        if (!definitions.has(type.name)) definitions.set(type.name, `  flags ${escapeIdent(type.name)} { ${type.flags.map(escapeIdent).join(", ")} }`);
        return;
      default:
        return;
    }
  };
  for (const fn of functions) {
    fn.params.forEach((p) => visit(p.type));
    visit(fn.result);
  }
  const fnLines = functions.map((fn) => {
    const params = fn.params.map((p) => `${escapeIdent(p.name)}: ${formatWitType(p.type)}`).join(", ");
    return `  ${escapeIdent(fn.name)}: func(${params})${fn.result ? ` -> ${formatWitType(fn.result)}` : ""};`;
  });
  return `interface ${escapeIdent(name)} {\n${[...definitions.values(), ...fnLines].join("\n")}\n}\n`;
}
