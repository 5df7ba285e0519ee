// componentize-js types only its file-based options (sourcePath required), but the builder passes the WIT and
// the source inline: the splicer cannot read files here (its WASI has no preopens). This overload is the inline
// form its componentize() still implements (src/componentize.js: jsSource, witWorld, then the same options).
import "@bytecodealliance/componentize-js";

declare module "@bytecodealliance/componentize-js" {
  export function componentize(
    source: string,
    witWorld: string,
    opts: {
      worldName: string;
      /** The source's name inside the component (stack traces); the file itself stays in the work dir. */
      sourceName: string;
      disableFeatures: ("stdio" | "random" | "clocks" | "http" | "fetch-event")[];
    },
  ): Promise<{ component: Uint8Array }>;
}
