/**
 * Strict lifting of a component's results, by the canonical ABI (component-model
 * design/mvp/CanonicalABI.md, "Loading" and "Flat Lifting"). jco's glue lifts the value afterwards;
 * this runs first, on the raw core result and guest memory, and traps (InvalidResultError) exactly
 * where the spec traps and jco may not: invalid UTF-8, a char outside Unicode scalar values, a
 * variant, enum, option or result case out of range, a string or list (or the return area) that is
 * misaligned, too long or outside guest memory. Where the spec normalizes instead of trapping it
 * normalizes in place, so jco lifts the spec's value: any non-zero bool is true, flag bits beyond
 * the last label and integer bits beyond the type's width are ignored.
 *
 * It also counts the result's string bytes and list elements, a lower bound of its JSON size, so
 * an oversized result is refused before jco copies it into the JS heap.
 *
 * Loaded by worker threads through Node's type stripping: no TypeScript-only syntax here.
 */
import { isUtf8 } from "node:buffer";
import { unalias, type FunctionSignature, type WitType } from "../../sdk/wit.ts";
import { InvalidResultError, OutputTooLargeError, type LiftingRule } from "../errors.ts";

type FlatType = "i32" | "i64" | "f32" | "f64";

/** The spec's MAX_STRING_BYTE_LENGTH and MAX_LIST_BYTE_LENGTH. */
const MAX_BYTE_LENGTH = 2 ** 28 - 1;

function alignTo(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}

interface CaseLayout {
  cases: (WitType | null)[];
  labels: string[];
}

/** variant, enum, option and result are all variants in the canonical ABI. */
function variantCases(t: WitType): CaseLayout | undefined {
  switch (t.kind) {
    case "variant":
      return { cases: t.cases.map((c) => c.type), labels: t.cases.map((c) => c.name) };
    case "enum":
      return { cases: t.cases.map(() => null), labels: t.cases };
    case "option":
      return { cases: [null, t.some], labels: ["none", "some"] };
    case "result":
      return { cases: [t.ok, t.err], labels: ["ok", "error"] };
    default:
      return undefined;
  }
}

function discriminantSize(caseCount: number): number {
  return caseCount <= 256 ? 1 : caseCount <= 65536 ? 2 : 4;
}

function flagsSize(count: number): number {
  return count === 0 ? 0 : count <= 8 ? 1 : count <= 16 ? 2 : 4 * Math.ceil(count / 32);
}

export function alignment(type: WitType): number {
  const t = unalias(type);
  switch (t.kind) {
    case "bool":
    case "s8":
    case "u8":
      return 1;
    case "s16":
    case "u16":
      return 2;
    case "s32":
    case "u32":
    case "f32":
    case "char":
    case "string":
    case "list":
      return 4;
    case "s64":
    case "u64":
    case "f64":
      return 8;
    case "record":
      return Math.max(1, ...t.fields.map((f) => alignment(f.type)));
    case "tuple":
      return Math.max(1, ...t.items.map(alignment));
    case "flags":
      return Math.max(1, Math.min(4, flagsSize(t.flags.length)));
    default: {
      const layout = variantCases(t)!;
      return Math.max(discriminantSize(layout.cases.length), maxCaseAlignment(layout.cases));
    }
  }
}

function maxCaseAlignment(cases: (WitType | null)[]): number {
  return Math.max(1, ...cases.map((c) => (c ? alignment(c) : 1)));
}

export function size(type: WitType): number {
  const t = unalias(type);
  switch (t.kind) {
    case "bool":
    case "s8":
    case "u8":
      return 1;
    case "s16":
    case "u16":
      return 2;
    case "s32":
    case "u32":
    case "f32":
    case "char":
      return 4;
    case "s64":
    case "u64":
    case "f64":
    case "string":
    case "list":
      return 8;
    case "record":
    case "tuple": {
      const members = t.kind === "record" ? t.fields.map((f) => f.type) : t.items;
      let offset = 0;
      for (const member of members) offset = alignTo(offset, alignment(member)) + size(member);
      return alignTo(offset, alignment(t));
    }
    case "flags":
      return flagsSize(t.flags.length);
    default: {
      const layout = variantCases(t)!;
      let offset = discriminantSize(layout.cases.length);
      offset = alignTo(offset, maxCaseAlignment(layout.cases));
      offset += Math.max(0, ...layout.cases.map((c) => (c ? size(c) : 0)));
      return alignTo(offset, alignment(t));
    }
  }
}

function join(a: FlatType, b: FlatType): FlatType {
  if (a === b) return a;
  if ((a === "i32" && b === "f32") || (a === "f32" && b === "i32")) return "i32";
  return "i64";
}

export function flatten(type: WitType): FlatType[] {
  const t = unalias(type);
  switch (t.kind) {
    case "s64":
    case "u64":
      return ["i64"];
    case "f32":
      return ["f32"];
    case "f64":
      return ["f64"];
    case "string":
    case "list":
      return ["i32", "i32"];
    case "record":
      return t.fields.flatMap((f) => flatten(f.type));
    case "tuple":
      return t.items.flatMap(flatten);
    case "flags":
      return Array.from({ length: Math.max(1, Math.ceil(t.flags.length / 32)) }, (): FlatType => "i32");
    case "variant":
    case "enum":
    case "option":
    case "result": {
      const joined: FlatType[] = [];
      for (const c of variantCases(t)!.cases) {
        if (!c) continue;
        flatten(c).forEach((flat, i) => (joined[i] = i < joined.length ? join(joined[i]!, flat) : flat));
      }
      return ["i32", ...joined];
    }
    default:
      return ["i32"];
  }
}

const checked = new WeakMap<WitType, boolean>();

/** Whether a value of this type has anything to check or normalize in memory (ints and floats have not). */
function needsCheck(type: WitType): boolean {
  let known = checked.get(type);
  if (known === undefined) {
    const t = unalias(type);
    switch (t.kind) {
      case "record":
        known = t.fields.some((f) => needsCheck(f.type));
        break;
      case "tuple":
        known = t.items.some(needsCheck);
        break;
      case "s8":
      case "s16":
      case "s32":
      case "s64":
      case "u8":
      case "u16":
      case "u32":
      case "u64":
      case "f32":
      case "f64":
        known = false;
        break;
      default:
        known = true;
    }
    checked.set(type, known);
  }
  return known;
}

/** One call's result check, and the output budget it counts against. */
export class ResultChecker {
  private readonly fn: string;
  private readonly maxOutputBytes: number;
  private view!: DataView;
  private bytes!: Uint8Array;
  private outputBytes = 0;

  constructor(functionName: string, maxOutputBytes: number) {
    this.fn = functionName;
    this.maxOutputBytes = maxOutputBytes;
  }

  /**
   * Checks (and normalizes) the raw result of a core export: the single flat value when the result
   * flattens to one, else the pointer to the return area in `memory`. Returns what jco should lift.
   */
  check(fn: FunctionSignature, raw: unknown, memory: WebAssembly.Memory | undefined): unknown {
    if (fn.result === null) return raw;
    if (flatten(fn.result).length === 1) return this.flatSingle(fn.result, raw, "result");
    if (!memory) throw this.violation("bounds", "result", "the component returned data in memory but its memory cannot be found");
    const buffer = memory.buffer;
    this.view = new DataView(buffer);
    this.bytes = new Uint8Array(buffer);
    const pointer = Number(raw) >>> 0;
    this.range(pointer, size(fn.result), alignment(fn.result), "the return area", "result");
    this.load(fn.result, pointer, "result");
    return raw;
  }

  private violation(rule: LiftingRule, path: string, problem: string): InvalidResultError {
    return new InvalidResultError(this.fn, rule, path, problem);
  }

  private count(bytes: number): void {
    this.outputBytes += bytes;
    if (this.outputBytes > this.maxOutputBytes) throw new OutputTooLargeError(this.outputBytes, this.maxOutputBytes, true);
  }

  /** trap_if(ptr != align_to(ptr, alignment)); trap_if(ptr + length > len(memory)). */
  private range(pointer: number, byteLength: number, align: number, what: string, path: string): void {
    if (pointer % align !== 0) throw this.violation("alignment", path, `${what} at ${pointer} is not aligned to ${align}`);
    if (pointer + byteLength > this.bytes.length) throw this.violation("bounds", path, `${what} (${byteLength} bytes at ${pointer}) lies outside the ${this.bytes.length}-byte guest memory`);
  }

  private flatSingle(type: WitType, raw: unknown, path: string): unknown {
    const t = unalias(type);
    const value = typeof raw === "bigint" ? raw : Number(raw);
    switch (t.kind) {
      case "bool":
        return value === 0 ? 0 : 1;
      case "u8":
        return Number(value) & 0xff;
      case "s8":
        return (Number(value) << 24) >> 24;
      case "u16":
        return Number(value) & 0xffff;
      case "s16":
        return (Number(value) << 16) >> 16;
      case "char":
        this.char(Number(value) >>> 0, path);
        return raw;
      case "flags":
        return Number(value) & (2 ** t.flags.length - 1);
      case "record":
      case "tuple": {
        // Exactly one member flattens to a value; the others are empty.
        const members = t.kind === "record" ? t.fields.map((f) => ({ type: f.type, path: `${path}.${f.name}` })) : t.items.map((item, i) => ({ type: item, path: `${path}[${i}]` }));
        const member = members.find((m) => flatten(m.type).length === 1)!;
        return this.flatSingle(member.type, raw, member.path);
      }
      case "variant":
      case "enum": {
        // Only payload-free variants flatten to one value: the discriminant, as a whole i32.
        const cases = variantCases(t)!.labels;
        const index = Number(value) >>> 0;
        if (index >= cases.length) throw this.violation("discriminant", path, `case ${index} does not exist (${t.name} has ${cases.length}: ${cases.join(", ")})`);
        return raw;
      }
      default:
        return raw;
    }
  }

  private char(code: number, path: string): void {
    if (code >= 0x110000) throw this.violation("char", path, `0x${code.toString(16)} is not a Unicode code point`);
    if (code >= 0xd800 && code <= 0xdfff) throw this.violation("char", path, `0x${code.toString(16)} is a surrogate, not a Unicode scalar value`);
  }

  /** The spec's load(), checking and normalizing; `pointer` is aligned and in bounds. */
  private load(type: WitType, pointer: number, path: string): void {
    const t = unalias(type);
    switch (t.kind) {
      case "bool":
        if (this.bytes[pointer]! > 1) this.bytes[pointer] = 1;
        return;
      case "char":
        this.char(this.view.getUint32(pointer, true), path);
        return;
      case "string":
        this.string(this.view.getUint32(pointer, true), this.view.getUint32(pointer + 4, true), path);
        return;
      case "list":
        this.list(t.element, this.view.getUint32(pointer, true), this.view.getUint32(pointer + 4, true), path);
        return;
      case "record":
      case "tuple": {
        const members = t.kind === "record" ? t.fields.map((f) => ({ type: f.type, path: `${path}.${f.name}` })) : t.items.map((item, i) => ({ type: item, path: `${path}[${i}]` }));
        let offset = pointer;
        for (const member of members) {
          offset = alignTo(offset, alignment(member.type));
          if (needsCheck(member.type)) this.load(member.type, offset, member.path);
          offset += size(member.type);
        }
        return;
      }
      case "flags": {
        // Bits beyond the last label are ignored by the spec: clear them so jco reads the same flags.
        const byteSize = flagsSize(t.flags.length);
        if (byteSize === 1 || byteSize === 2) {
          const mask = 2 ** t.flags.length - 1;
          const read = byteSize === 1 ? this.view.getUint8(pointer) : this.view.getUint16(pointer, true);
          if (read & ~mask) byteSize === 1 ? this.view.setUint8(pointer, read & mask) : this.view.setUint16(pointer, read & mask, true);
          return;
        }
        for (let word = 0; word * 4 < byteSize; word++) {
          const labels = Math.min(32, t.flags.length - word * 32);
          const mask = labels === 32 ? 0xffffffff : 2 ** labels - 1;
          const read = this.view.getUint32(pointer + word * 4, true);
          if ((read & ~mask) >>> 0) this.view.setUint32(pointer + word * 4, (read & mask) >>> 0, true);
        }
        return;
      }
      case "variant":
      case "enum":
      case "option":
      case "result": {
        const layout = variantCases(t)!;
        const discriminant = discriminantSize(layout.cases.length);
        const index = discriminant === 1 ? this.view.getUint8(pointer) : discriminant === 2 ? this.view.getUint16(pointer, true) : this.view.getUint32(pointer, true);
        if (index >= layout.cases.length) {
          const name = "name" in t ? t.name : t.kind;
          throw this.violation("discriminant", path, `case ${index} does not exist (${name} has ${layout.cases.length}: ${layout.labels.join(", ")})`);
        }
        const payload = layout.cases[index];
        if (payload && needsCheck(payload)) this.load(payload, alignTo(pointer + discriminant, maxCaseAlignment(layout.cases)), `${path}.${layout.labels[index]}`);
        return;
      }
      default:
        return; // integers and floats: every bit pattern is a value
    }
  }

  private string(pointer: number, length: number, path: string): void {
    if (length > MAX_BYTE_LENGTH) throw this.violation("length", path, `a string of ${length} bytes is longer than the canonical ABI allows (${MAX_BYTE_LENGTH})`);
    this.range(pointer, length, 1, "the string", path);
    this.count(length + 2);
    if (!isUtf8(this.bytes.subarray(pointer, pointer + length))) throw this.violation("utf8", path, "the string is not valid UTF-8");
  }

  private list(element: WitType, pointer: number, length: number, path: string): void {
    const elementSize = size(element);
    if (length * elementSize > MAX_BYTE_LENGTH) throw this.violation("length", path, `a list of ${length} elements of ${elementSize} bytes is longer than the canonical ABI allows (${MAX_BYTE_LENGTH} bytes)`);
    this.range(pointer, length * elementSize, alignment(element), "the list", path);
    this.count(length + 2);
    if (!needsCheck(element)) return;
    for (let i = 0; i < length; i++) this.load(element, pointer + i * elementSize, `${path}[${i}]`);
  }
}
