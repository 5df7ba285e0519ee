import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The repository root (the folder of the glassbox package.json) and its version, found by walking
 * up from this module: the same answer from the TypeScript sources and from the bundles in dist/.
 */
export const { root: PACKAGE_ROOT, version: PACKAGE_VERSION } = findPackage(path.dirname(fileURLToPath(import.meta.url)));

function findPackage(from: string): { root: string; version: string } {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const json = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: unknown; version?: unknown };
      if (json.name === "glassbox") return { root: dir, version: String(json.version) };
    } catch {
      // no package.json here (or not JSON): keep walking up
    }
    if (path.dirname(dir) === dir) throw new Error(`No glassbox package.json above ${from}.`);
  }
}
