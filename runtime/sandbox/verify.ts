/**
 * Upload-time verification of a component blob, before anything of it runs (callers use
 * verifyComponent from toolchain.ts, which runs this in the toolchain worker):
 * 1. its sha256 equals the registered componentHash;
 * 2. every import is a capability the manifest requests AND the operator allows (policy.ts);
 * 3. it exports the published interface with exactly the published function types (extra
 *    exports allowed). The check is exact: a consumer component importing the published
 *    interface is spliced onto the blob and instantiated with the blob's export, and the
 *    component validator performs the subtype check. On failure each function is checked alone
 *    so the error names it.
 */
import { componentEmbed, componentNew, componentWit } from "@bytecodealliance/jco";
import { describeInterface, formatSignature, parseWit, printInterfaceWit, type FunctionSignature, type InterfaceDescription } from "../../sdk/wit.ts";
import { readComponentTopLevel, spliceConsumer, type ComponentTopLevel } from "./component-binary.ts";
import { InvalidComponentError, WitMismatchError } from "../errors.ts";
import { checkImports, unversioned } from "./policy.ts";

export interface VerifyOptions {
  bytes: Uint8Array;
  /** Registered componentHash (0x-prefixed sha256). */
  expectedHash: string;
  /** Published WIT source and world (and interface, when the world exports several). */
  witSource: string;
  world: string;
  interfaceName?: string;
  /** Capabilities the manifest requests, e.g. ["wasi:clocks/wall-clock"] ("wasi:io/*" covers a package, "wasi:*" a namespace). */
  requestedCapabilities?: string[];
  /** Capabilities this executor's operator allows (same syntax). */
  allowedCapabilities?: string[];
  /** Interfaces the declared dependencies provide (`acme:slug/slug@1.0.0`): importing them is allowed, they are linked at run time. */
  dependencyInterfaces?: string[];
}

export interface VerifiedComponent {
  componentHash: `0x${string}`;
  interface: InterfaceDescription;
  /** Every top-level import name of the component (versioned, as in the binary). */
  imports: string[];
}

/**
 * Checks 2 and 3 in the calling thread (it loads jco); check 1 is the caller's (toolchain.ts
 * hashes on its own thread: sdk/ids.ts is not loadable by type stripping).
 */
export async function verifyInline(options: VerifyOptions, componentHash: `0x${string}`): Promise<VerifiedComponent> {
  let top: ComponentTopLevel;
  try {
    top = readComponentTopLevel(options.bytes);
  } catch (error) {
    throw new InvalidComponentError(`The blob is not a readable WebAssembly component: ${(error as Error).message}.`);
  }
  const imports = top.imports.map((i) => i.name);
  checkImports(imports, options.requestedCapabilities ?? [], options.allowedCapabilities ?? [], options.dependencyInterfaces ?? []);
  const iface = describeInterface(options.witSource, options.world, options.interfaceName);
  await checkWitConformance(options.bytes, top, options.witSource, iface);
  return { componentHash, interface: iface, imports };
}

async function consumerComponent(packageName: string, iface: InterfaceDescription, functions: FunctionSignature[]): Promise<Uint8Array> {
  const witSource = `package ${packageName};\n\n${printInterfaceWit(iface.name, functions)}\nworld glassbox-consumer {\n  import ${iface.name};\n}\n`;
  const embedded = await componentEmbed({ dummy: true, witSource, world: "glassbox-consumer" });
  return await componentNew(embedded, undefined);
}

/** Validation error text, or null when the spliced component validates. */
async function validationProblem(blob: Uint8Array, top: ComponentTopLevel, consumer: Uint8Array, importName: string, exportIndex: number): Promise<string | null> {
  try {
    await componentWit(spliceConsumer(blob, top, consumer, importName, exportIndex));
    return null;
  } catch (error) {
    return String((error as Error).message ?? error).replace(/\s+/g, " ").trim();
  }
}

export async function checkWitConformance(blob: Uint8Array, top: ComponentTopLevel, witSource: string, iface: InterfaceDescription): Promise<void> {
  const packageName = parseWit(witSource).packageName;
  const exported = top.exports.find((e) => e.name === iface.qualifiedName && e.sort === 0x05);
  if (!exported) {
    const sameInterface = top.exports.find((e) => unversioned(e.name) === unversioned(iface.qualifiedName));
    const found = top.exports.map((e) => e.name).join(", ") || "nothing";
    throw new WitMismatchError(
      sameInterface
        ? `The component exports "${sameInterface.name}" but the published WIT says "${iface.qualifiedName}": rebuild against the published WIT version.`
        : `The component does not export the published interface "${iface.qualifiedName}" (it exports: ${found}).`,
      { interface: iface.qualifiedName },
    );
  }
  const whole = await validationProblem(blob, top, await consumerComponent(packageName, iface, iface.functions), iface.qualifiedName, exported.index);
  if (whole === null) return;
  try {
    await componentWit(blob);
  } catch (error) {
    throw new InvalidComponentError(`The blob does not validate as a component: ${String((error as Error).message ?? error).replace(/\s+/g, " ").trim()}`);
  }
  for (const fn of iface.functions) {
    const problem = await validationProblem(blob, top, await consumerComponent(packageName, iface, [fn]), iface.qualifiedName, exported.index);
    if (problem !== null) {
      const missing = /missing|not found|no export/i.test(problem);
      throw new WitMismatchError(
        missing
          ? `The component's "${iface.qualifiedName}" has no function "${fn.name}" (published: ${fn.name}: ${formatSignature(fn)}).`
          : `Function "${fn.name}" of "${iface.qualifiedName}" does not have the published type ${fn.name}: ${formatSignature(fn)} (validator: ${problem}).`,
        { interface: iface.qualifiedName, function: fn.name, expected: formatSignature(fn) },
      );
    }
  }
  throw new WitMismatchError(`The component's "${iface.qualifiedName}" does not match the published interface (validator: ${whole}).`, { interface: iface.qualifiedName });
}
