/**
 * A minimal reader/writer for the top level of a component binary: enough to list its imports and
 * exports and to append sections (used to splice a consumer component onto a blob for the exact
 * WIT conformance check). Nested components and core modules are skipped, never parsed.
 */

import { concatBytes, uleb128 } from "./wasm-bytes.ts";

const SECTION = { component: 4, instance: 5, alias: 6, import: 10, export: 11 } as const;
const SORT = { coreOrOther: 0x00, func: 0x01, value: 0x02, type: 0x03, component: 0x04, instance: 0x05 } as const;

export interface ComponentTopLevel {
  imports: { name: string; sort: number }[];
  exports: { name: string; sort: number; index: number }[];
  /** Size of the component and instance index spaces (the next index a new definition gets). */
  componentCount: number;
  instanceCount: number;
}

class Reader {
  offset: number;
  private bytes: Uint8Array;
  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = bytes;
    this.offset = offset;
  }
  byte(): number {
    if (this.offset >= this.bytes.length) throw new Error("unexpected end of component binary");
    return this.bytes[this.offset++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Error("malformed LEB128 in component binary");
    }
  }
  string(): string {
    const length = this.u32();
    const text = new TextDecoder().decode(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return text;
  }
  /** importname'/exportname': 0x00 name | 0x01 name versionsuffix */
  externName(): string {
    const kind = this.byte();
    const name = this.string();
    if (kind === 0x01) this.string();
    else if (kind !== 0x00) throw new Error(`unsupported extern name encoding 0x${kind.toString(16)}`);
    return name;
  }
  /** Returns the sort the descriptor defines. */
  externDesc(): number {
    const kind = this.byte();
    switch (kind) {
      case 0x00:
        this.byte(); // 0x11 core module
        this.u32();
        return -1;
      case 0x01:
      case 0x04:
      case 0x05:
        this.u32();
        return kind;
      case 0x02:
        this.byte();
        this.u32();
        return kind;
      case 0x03:
        if (this.byte() === 0x00) this.u32();
        return kind;
      default:
        throw new Error(`unsupported extern descriptor 0x${kind.toString(16)}`);
    }
  }
  sort(): number {
    const sort = this.byte();
    if (sort === SORT.coreOrOther) {
      this.byte();
      return -1;
    }
    return sort;
  }
}

const PREAMBLE = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

export function isComponentBinary(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PREAMBLE.every((b, i) => bytes[i] === b);
}

/** Reads the top-level imports/exports and index-space sizes of a component. */
export function readComponentTopLevel(bytes: Uint8Array): ComponentTopLevel {
  if (!isComponentBinary(bytes)) throw new Error("not a WebAssembly component (bad preamble: a core module or another file?)");
  const info: ComponentTopLevel = { imports: [], exports: [], componentCount: 0, instanceCount: 0 };
  const count = (sort: number): void => {
    if (sort === SORT.component) info.componentCount++;
    else if (sort === SORT.instance) info.instanceCount++;
  };
  const reader = new Reader(bytes, 8);
  while (reader.offset < bytes.length) {
    const id = reader.byte();
    const size = reader.u32();
    const end = reader.offset + size;
    if (end > bytes.length) throw new Error("component section runs past the end of the binary");
    if (id === SECTION.component) {
      info.componentCount++;
    } else if (id === SECTION.instance) {
      info.instanceCount += reader.u32();
    } else if (id === SECTION.import) {
      for (let n = reader.u32(); n > 0; n--) {
        const name = reader.externName();
        const sort = reader.externDesc();
        info.imports.push({ name, sort });
        count(sort);
      }
    } else if (id === SECTION.alias) {
      for (let n = reader.u32(); n > 0; n--) {
        const sort = reader.sort();
        const target = reader.byte();
        if (target === 0x00 || target === 0x01) {
          reader.u32();
          reader.string();
        } else {
          reader.u32();
          reader.u32();
        }
        count(sort);
      }
    } else if (id === SECTION.export) {
      for (let n = reader.u32(); n > 0; n--) {
        const name = reader.externName();
        const sort = reader.sort();
        const index = reader.u32();
        if (reader.byte() === 0x01) reader.externDesc();
        info.exports.push({ name, sort, index });
        count(sort);
      }
    }
    reader.offset = end;
  }
  return info;
}

function section(id: number, contents: Uint8Array): Uint8Array {
  const header = [id, ...uleb128(contents.length)];
  const out = new Uint8Array(header.length + contents.length);
  out.set(header);
  out.set(contents, header.length);
  return out;
}

/**
 * Appends `consumer` as a nested component of `blob` and instantiates it with the blob's exported
 * instance `exportIndex` as the consumer's import `importName`. Validating the result checks the
 * blob's export against the consumer's (published, exact) import type.
 */
export function spliceConsumer(blob: Uint8Array, info: ComponentTopLevel, consumer: Uint8Array, importName: string, exportIndex: number): Uint8Array {
  const name = new TextEncoder().encode(importName);
  const instance = new Uint8Array([
    ...uleb128(1), // one instance
    0x00, // instantiate a component
    ...uleb128(info.componentCount), // the consumer, appended right before
    ...uleb128(1), // one argument
    ...uleb128(name.length),
    ...name,
    SORT.instance,
    ...uleb128(exportIndex),
  ]);
  return concatBytes([blob, section(SECTION.component, consumer), section(SECTION.instance, instance)]);
}
