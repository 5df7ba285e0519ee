import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const webRoot = path.dirname(fileURLToPath(import.meta.url));

/** The catalog is a static site: `base: "./"` so any host serves it from any path, with config.json beside index.html. */
export default defineConfig({
  root: webRoot,
  base: "./",
  build: { outDir: path.join(webRoot, "dist"), emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 2_000 },
  server: { fs: { allow: [path.resolve(webRoot, "..")] } },
  logLevel: "warn",
});
