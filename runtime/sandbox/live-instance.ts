/**
 * One live instance of a component: its interface exports, its counters (fuel, memory pages) and
 * the state a snapshot restores. A snapshot holds every memory and mutable global the instance's
 * core modules export or import (prepare exports the internal ones); JavaScript-side state (the
 * glue's, the host's) is not in it, so any JavaScript import called during a call makes the
 * instance non-resettable (`hostCalls`).
 *
 * Loaded by worker threads through Node's type stripping: no TypeScript-only syntax here.
 */
import type { CapabilityDeniedError } from "../errors.ts";
import type { ResultChecker } from "./lifting.ts";

export const PAGE = 65536;

export type InterfaceExports = Record<string, unknown>;

interface Snapshot {
  memories: { memory: WebAssembly.Memory; bytes: Uint8Array }[];
  globals: { global: WebAssembly.Global; value: unknown }[];
  pages: bigint;
}

/** One live instance of a component: its exports, counters, state and snapshot. */
export class LiveInstance {
  readonly exports: InterfaceExports;
  readonly fuel: WebAssembly.Global;
  readonly pages: WebAssembly.Global;
  readonly grantsKey: string;
  /** JavaScript imports (glue trampolines, host functions) called since the last reset. */
  hostCalls = 0;
  denied: CapabilityDeniedError | undefined;
  /** Set for the duration of a call: checks the results the core exports return. */
  checker: ResultChecker | undefined;
  /** Memories of the core instances (exported or imported), all counted against the cap. */
  readonly memories: Set<WebAssembly.Memory>;
  /** LLVM shadow-stack pointers of the core instances. */
  readonly stackPointers: WebAssembly.Global[];
  private readonly globals: Set<WebAssembly.Global>;
  private snapshot: Snapshot | undefined;
  /** A call ran since the last reset. */
  dirty = false;

  constructor(init: {
    exports: InterfaceExports;
    fuel: WebAssembly.Global;
    pages: WebAssembly.Global;
    grantsKey: string;
    memories: Set<WebAssembly.Memory>;
    globals: Set<WebAssembly.Global>;
    stackPointers: WebAssembly.Global[];
  }) {
    this.exports = init.exports;
    this.fuel = init.fuel;
    this.pages = init.pages;
    this.grantsKey = init.grantsKey;
    this.memories = init.memories;
    this.globals = init.globals;
    this.stackPointers = init.stackPointers;
  }

  /** A shadow stack that ran below address 0: the out-of-bounds access it causes is a stack overflow. */
  shadowStackOverflowed(): boolean {
    return this.stackPointers.some((pointer) => (Number(pointer.value) | 0) < 0);
  }

  /** The denial a host import reported during the current call (set from host callbacks). */
  deniedCapability(): CapabilityDeniedError | undefined {
    return this.denied;
  }

  memoryBytes(): number {
    let total = 0;
    for (const memory of this.memories) total += memory.buffer.byteLength;
    return total;
  }

  /** Bytes kept alive by this instance (its memories and its snapshot). */
  retainedBytes(): number {
    return this.memoryBytes() + (this.snapshot ? this.snapshot.memories.reduce((n, m) => n + m.bytes.length, 0) : 0);
  }

  /** Captures memories and mutable globals. Returns false when some state cannot be captured. */
  takeSnapshot(): boolean {
    const globals: Snapshot["globals"] = [];
    for (const global of this.globals) {
      if (global === this.fuel || global === this.pages) continue;
      let value: unknown;
      try {
        value = global.value;
      } catch {
        return false; // v128: JavaScript cannot read it, so it cannot be restored
      }
      try {
        global.value = value;
      } catch {
        continue; // immutable
      }
      globals.push({ global, value });
    }
    const memories = [...this.memories].map((memory) => ({ memory, bytes: new Uint8Array(memory.buffer).slice() }));
    this.snapshot = { memories, globals, pages: BigInt(memories.reduce((n, m) => n + m.bytes.length, 0) / PAGE) };
    this.hostCalls = 0;
    return true;
  }

  /** Pages in use at the start of every call. */
  basePages(): bigint {
    return this.snapshot?.pages ?? BigInt(this.memoryBytes() / PAGE);
  }

  /** Whether the last call left only state the snapshot restores. */
  resettable(): boolean {
    return this.snapshot !== undefined && this.hostCalls === 0 && this.denied === undefined && this.memoryBytes() === Number(this.snapshot.pages) * PAGE;
  }

  /** Restores the snapshot. Returns false (the instance must be dropped) when it cannot. */
  reset(): boolean {
    if (!this.resettable()) return false;
    for (const { memory, bytes } of this.snapshot!.memories) new Uint8Array(memory.buffer).set(bytes);
    for (const { global, value } of this.snapshot!.globals) global.value = value;
    this.dirty = false;
    return true;
  }
}
