/**
 * The toolchains (jco, componentize-qjs) write label names (subsection 3 of the "name" custom section,
 * from the extended-name-section proposal) into the core modules they emit. binaryen does not read
 * that subsection: it skips it and prints "warning: unknown name subsection with id 3" to stderr, once
 * per module it reads. Removing just that subsection first gives binaryen the same module it would
 * build anyway (labels are not names it keeps), without the noise; any other warning or error it
 * has about a module still shows.
 */
import { concatBytes, uleb128 } from "./wasm-bytes.ts";

const CUSTOM_SECTION = 0;
const NAME_SECTION = "name";
const LABEL_NAMES = 3;
const WASM_HEADER_BYTES = 8;

/** `coreModule` without label names in its name section; the same array when it has none (or is not well formed: binaryen then reports it). */
export function withoutLabelNames(coreModule: Uint8Array): Uint8Array {
  try {
    return stripLabelNames(coreModule) ?? coreModule;
  } catch (error) {
    if (error instanceof MalformedModule) return coreModule;
    throw error;
  }
}

class MalformedModule extends Error {}

function stripLabelNames(bytes: Uint8Array): Uint8Array | undefined {
  let offset = WASM_HEADER_BYTES;
  while (offset < bytes.length) {
    const sectionStart = offset;
    const id = bytes[offset++]!;
    const size = readU32(bytes, offset);
    const payloadStart = size.next;
    const payloadEnd = payloadStart + size.value;
    if (payloadEnd > bytes.length) throw new MalformedModule();
    offset = payloadEnd;
    if (id !== CUSTOM_SECTION) continue;
    const nameLength = readU32(bytes, payloadStart);
    const nameEnd = nameLength.next + nameLength.value;
    if (nameEnd > payloadEnd) throw new MalformedModule();
    if (new TextDecoder().decode(bytes.subarray(nameLength.next, nameEnd)) !== NAME_SECTION) continue;

    const kept: Uint8Array[] = [bytes.subarray(payloadStart, nameEnd)];
    let removed = false;
    let cursor = nameEnd;
    while (cursor < payloadEnd) {
      const subsectionId = readU32(bytes, cursor);
      const subsectionSize = readU32(bytes, subsectionId.next);
      const subsectionEnd = subsectionSize.next + subsectionSize.value;
      if (subsectionEnd > payloadEnd) throw new MalformedModule();
      if (subsectionId.value === LABEL_NAMES) removed = true;
      else kept.push(bytes.subarray(cursor, subsectionEnd));
      cursor = subsectionEnd;
    }
    if (!removed) return undefined;
    const payloadLength = kept.reduce((sum, part) => sum + part.length, 0);
    return concatBytes([bytes.subarray(0, sectionStart), Uint8Array.of(CUSTOM_SECTION, ...uleb128(payloadLength)), ...kept, bytes.subarray(payloadEnd)]);
  }
  return undefined;
}

function readU32(bytes: Uint8Array, offset: number): { value: number; next: number } {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (offset >= bytes.length) throw new MalformedModule();
    const byte = bytes[offset++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: offset };
  }
  throw new MalformedModule();
}
