/**
 * Whether an instance of a core module can be reset to a snapshot of its memories and mutable
 * globals and reused by another caller as if it were fresh. A few instructions change state such a
 * snapshot does not cover: table writes and growth, dropping data or element segments, and GC heap
 * objects. This scans the code section for them (a plain decoder of the instruction stream, no
 * binaryen: it runs on every core module at prepare time and must be fast on 12 MB modules).
 * Anything it cannot decode counts as unsafe: the component then gets a fresh instance per call.
 */

export interface SnapshotSafety {
  safe: boolean;
  /** Why not (the first instruction or construct found), when unsafe. */
  reason?: string;
}

class Cursor {
  offset: number;
  private readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array, offset: number) {
    this.bytes = bytes;
    this.offset = offset;
  }
  byte(): number {
    if (this.offset >= this.bytes.length) throw new Error("unexpected end of module");
    return this.bytes[this.offset++]!;
  }
  /** Skips one LEB128 number (signed or unsigned, any width). */
  skipLeb(): void {
    while (this.byte() & 0x80);
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Error("malformed LEB128");
    }
  }
  skip(n: number): void {
    this.offset += n;
  }
}

/** Value types that are one byte; 0x63/0x64 are followed by a heap type. */
function skipValueType(cursor: Cursor): void {
  const first = cursor.byte();
  if (first === 0x63 || first === 0x64) cursor.skipLeb();
}

function skipBlockType(cursor: Cursor): void {
  const first = cursor.byte();
  if (first === 0x40 || (first >= 0x69 && first <= 0x7f)) return; // empty, or a one-byte value type
  if (first === 0x63 || first === 0x64) {
    cursor.skipLeb(); // (ref null? ht)
    return;
  }
  // A type index as a signed 33-bit LEB whose first byte was just read.
  if (first & 0x80) cursor.skipLeb();
}

/** memarg: align (bit 6 set: a memory index follows), offset. */
function skipMemarg(cursor: Cursor): void {
  const align = cursor.u32();
  if (align & 0x40) cursor.skipLeb();
  cursor.skipLeb();
}

const UNSAFE_FC: Record<number, string> = {
  9: "data.drop",
  12: "table.init",
  13: "elem.drop",
  14: "table.copy",
  15: "table.grow",
  17: "table.fill",
};

/** Returns the name of the first unsafe instruction in one function body, or undefined. */
function scanBody(cursor: Cursor, end: number): string | undefined {
  for (let groups = cursor.u32(); groups > 0; groups--) {
    cursor.skipLeb();
    skipValueType(cursor);
  }
  while (cursor.offset < end) {
    const op = cursor.byte();
    if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x19 || op === 0x1a || op === 0x1b || op === 0x0a) continue;
    if (op >= 0x02 && op <= 0x04) skipBlockType(cursor);
    else if (op === 0x06) skipBlockType(cursor); // try (legacy exceptions)
    else if (op === 0x07 || op === 0x08 || op === 0x09 || op === 0x0c || op === 0x0d || op === 0x10 || op === 0x12 || op === 0x14 || op === 0x15 || op === 0x18) cursor.skipLeb();
    else if (op === 0x0e) {
      for (let n = cursor.u32() + 1; n > 0; n--) cursor.skipLeb();
    } else if (op === 0x11 || op === 0x13) {
      cursor.skipLeb();
      cursor.skipLeb();
    } else if (op === 0x1c) {
      for (let n = cursor.u32(); n > 0; n--) skipValueType(cursor);
    } else if (op === 0x1f) {
      skipBlockType(cursor);
      for (let n = cursor.u32(); n > 0; n--) {
        const kind = cursor.byte();
        if (kind <= 0x01) cursor.skipLeb();
        cursor.skipLeb();
      }
    } else if (op >= 0x20 && op <= 0x25) cursor.skipLeb();
    else if (op === 0x26) return "table.set";
    else if (op >= 0x28 && op <= 0x3e) skipMemarg(cursor);
    else if (op === 0x3f || op === 0x40) cursor.skipLeb();
    else if (op === 0x41 || op === 0x42) cursor.skipLeb();
    else if (op === 0x43) cursor.skip(4);
    else if (op === 0x44) cursor.skip(8);
    else if (op >= 0x45 && op <= 0xc4) continue;
    else if (op === 0xd0 || op === 0xd2 || op === 0xd5 || op === 0xd6) cursor.skipLeb();
    else if (op === 0xd1 || op === 0xd3 || op === 0xd4) continue;
    else if (op === 0xfc) {
      const sub = cursor.u32();
      const unsafe = UNSAFE_FC[sub];
      if (unsafe) return unsafe;
      if (sub <= 7) continue;
      if (sub === 8 || sub === 10) {
        cursor.skipLeb();
        cursor.skipLeb();
      } else if (sub === 11 || sub === 16) cursor.skipLeb();
      else return `0xfc ${sub}`;
    } else if (op === 0xfd) {
      const sub = cursor.u32();
      if (sub <= 11 || sub === 92 || sub === 93) skipMemarg(cursor);
      else if (sub === 12 || sub === 13) cursor.skip(16);
      else if (sub >= 21 && sub <= 34) cursor.skip(1);
      else if (sub >= 84 && sub <= 91) {
        skipMemarg(cursor);
        cursor.skip(1);
      }
    } else if (op === 0xfe) {
      const sub = cursor.u32();
      if (sub === 0x03) cursor.skip(1);
      else skipMemarg(cursor);
    } else if (op === 0xfb) return "a GC instruction";
    else return `opcode 0x${op.toString(16)}`;
  }
  return undefined;
}

const CODE_SECTION = 10;

export function snapshotSafety(module: Uint8Array): SnapshotSafety {
  try {
    const cursor = new Cursor(module, 8);
    while (cursor.offset < module.length) {
      const id = cursor.byte();
      const size = cursor.u32();
      const end = cursor.offset + size;
      if (id === CODE_SECTION) {
        for (let count = cursor.u32(); count > 0; count--) {
          const bodySize = cursor.u32();
          const bodyEnd = cursor.offset + bodySize;
          const unsafe = scanBody(cursor, bodyEnd);
          if (unsafe) return { safe: false, reason: `the code uses ${unsafe}` };
          // A decoder out of step with the body would miss instructions: refuse rather than guess.
          if (cursor.offset !== bodyEnd) return { safe: false, reason: "the code could not be scanned (a function body did not decode to its end)" };
        }
      }
      cursor.offset = end;
    }
    return { safe: true };
  } catch (error) {
    return { safe: false, reason: `the code could not be scanned (${(error as Error).message})` };
  }
}
