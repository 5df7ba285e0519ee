/**
 * The maintainer's side of the runtime: build a component from WIT + JS/TS source (bundled with
 * esbuild, componentized with QuickJS or StarlingMonkey) or from WAT. Nothing here runs a
 * component: that is the sandbox's job (runtime/sandbox).
 */
export { buildComponent, bundleSource, DEFAULT_BACKEND } from "./build.ts";
export type { BuildComponentOptions, BuildResult, ComponentBackend } from "./build.ts";
export { adaptSourceForStarlingMonkey } from "./starlingmonkey.ts";
export { buildWatComponent } from "./wat.ts";
export type { BuildWatOptions } from "./wat.ts";
export { BuildError } from "../errors.ts";
