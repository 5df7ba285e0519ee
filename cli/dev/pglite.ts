import { cp, mkdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { REPO_ROOT } from "../config.ts";

/**
 * Puts an empty PGlite database at `dir`, copied from a template made once per PGlite version:
 * creating one runs initdb, seconds of CPU that the executor's journal and Ponder would otherwise
 * spend at every start of the stack (at once, on a machine running the chain too); a copy takes a
 * fraction of a second. They open it as a database they had just created.
 */
export async function seedPglite(dir: string): Promise<void> {
  const template = await pgliteTemplate();
  await mkdir(path.dirname(dir), { recursive: true });
  await cp(template, dir, { recursive: true });
}

let template: Promise<string> | undefined;

/** One template per process: the dev stack seeds two databases at once, and both wait for the same one. */
function pgliteTemplate(): Promise<string> {
  template ??= makePgliteTemplate();
  template.catch(() => (template = undefined));
  return template;
}

async function makePgliteTemplate(): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, "node_modules", "@electric-sql", "pglite", "package.json"), "utf8")) as { version: string };
  const template = path.join(REPO_ROOT, ".glassbox", "cache", `pglite-${pkg.version}`);
  if (await readFile(path.join(template, "PG_VERSION")).then(() => true, () => false)) return template;
  // Made aside and renamed into place: a concurrent start never copies a half-made template.
  await mkdir(path.dirname(template), { recursive: true });
  const staging = `${template}.${process.pid}.tmp`;
  const { PGlite } = await import("@electric-sql/pglite");
  const db = new PGlite(staging);
  await db.waitReady;
  await db.close();
  await rename(staging, template).catch(() => rm(staging, { recursive: true, force: true })); // another start made it first
  return template;
}
