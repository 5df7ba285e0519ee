/** Components from WebAssembly text: test fixtures and hand-written components. */
import { componentEmbed, componentNew, parse } from "@bytecodealliance/jco";
import { BuildError } from "../errors.ts";

export interface BuildWatOptions {
  /** Component text (`(component ...)`) or a core module (`(module ...)`) using canonical-ABI export names. */
  wat: string;
  /** Required for a core module: the WIT it implements. */
  witSource?: string;
  world?: string;
}

/** WAT -> component. A core module is embedded with its WIT (componentEmbed) and wrapped (componentNew). */
export async function buildWatComponent(options: BuildWatOptions): Promise<Uint8Array> {
  let binary: Uint8Array;
  try {
    binary = await parse(options.wat);
  } catch (error) {
    throw new BuildError(`WAT does not parse: ${(error as Error).message}`);
  }
  if (/^\s*(\(;[^]*?;\)\s*|;;[^\n]*\n\s*)*\(component\b/.test(options.wat)) return binary;
  if (!options.witSource || !options.world) throw new BuildError("A core-module WAT needs witSource and world to become a component.");
  try {
    const embedded = await componentEmbed({ binary, witSource: options.witSource, world: options.world });
    return await componentNew(embedded, undefined);
  } catch (error) {
    throw new BuildError(`Wrapping the WAT module as a component of world "${options.world}" failed: ${(error as Error).message}`);
  }
}
