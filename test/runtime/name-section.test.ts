/**
 * Label names (name subsection 3) are removed before binaryen reads a core module: binaryen ignores
 * them anyway, so it builds the same module, but it no longer prints "unknown name subsection with
 * id 3" for every module it reads. Real jco (WAT with labels), real binaryen in a separate process
 * (its warnings go straight to the process's stderr).
 */
import { execFile } from "node:child_process";
import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "@bytecodealliance/jco";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withoutLabelNames } from "../../runtime/sandbox/name-section.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const run = promisify(execFile);

/** A loop with labels and a named function: jco writes function, local and label names. */
const WAT = `(module
  (func $spin (export "spin") (param $n i32) (result i32)
    (block $done (loop $turn
      local.get $n i32.eqz br_if $done
      local.get $n i32.const 1 i32.sub local.set $n
      br $turn))
    local.get $n))`;

let dir: string;
let labelled: Uint8Array;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "glassbox-names-"));
  labelled = await parse(WAT);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Name subsection ids of the module's "name" section, in order. */
function nameSubsections(bytes: Uint8Array): number[] {
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  const [section] = WebAssembly.Module.customSections(module, "name");
  if (!section) return [];
  const view = new Uint8Array(section);
  const ids: number[] = [];
  let offset = 0;
  const u32 = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = view[offset++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
  };
  while (offset < view.length) {
    ids.push(u32());
    const size = u32();
    offset += size;
  }
  return ids;
}

/** The module binaryen builds from `bytes` (its text and binary) and what it prints to stderr meanwhile, in its own process. */
async function binaryenRead(bytes: Uint8Array, file: string): Promise<{ module: string; stderr: string }> {
  const target = path.join(dir, file);
  await writeFile(target, bytes);
  const script = [
    `import binaryen from "binaryen"; import { readFileSync } from "node:fs";`,
    `const module = binaryen.readBinary(readFileSync(process.argv[1]));`,
    `process.stdout.write(module.emitText() + Buffer.from(module.emitBinary()).toString("hex"));`,
    `module.dispose();`,
  ].join("\n");
  const { stdout, stderr } = await run(process.execPath, ["--input-type=module", "-e", script, target], { cwd: ROOT });
  return { module: stdout, stderr };
}

describe("label names are stripped before binaryen reads a module", () => {
  it("removes only subsection 3, keeping the function and local names binaryen uses", () => {
    expect(nameSubsections(labelled)).toContain(3);
    const stripped = withoutLabelNames(labelled);
    expect(nameSubsections(stripped)).toEqual(nameSubsections(labelled).filter((id) => id !== 3));
    expect(new WebAssembly.Instance(new WebAssembly.Module(stripped as Uint8Array<ArrayBuffer>)).exports.spin).toBeTypeOf("function");
  });

  it("binaryen builds the same module from it, without the warning", async () => {
    const before = await binaryenRead(labelled, "labelled.wasm");
    const after = await binaryenRead(withoutLabelNames(labelled), "stripped.wasm");
    expect(before.stderr).toMatch(/unknown name subsection with id 3/);
    expect(after.stderr).toBe("");
    expect(after.module).toBe(before.module);
    expect(after.module).toContain("$spin");
  });

  it("leaves a module without label names, or one it cannot parse, as it is (binaryen reports what is wrong)", () => {
    const stripped = withoutLabelNames(labelled);
    expect(withoutLabelNames(stripped)).toBe(stripped);
    const truncated = labelled.subarray(0, labelled.length - 3);
    expect(withoutLabelNames(truncated)).toBe(truncated);
  });
});
