/**
 * Node side of the web catalog: build it (Vite, cached by a hash of its inputs) and serve the static
 * build with a config.json for one deployment. `npm start` and the browser tests use both.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { PACKAGE_ROOT as REPO_ROOT } from "../sdk/package-root.ts";
import type { WebConfig } from "./src/config.ts";

/** From the repository root, not this module's URL: the dev stack runs this file bundled into dist/cli. */
export const WEB_ROOT = path.join(REPO_ROOT, "web");
/** What the build reads: the app, the SDK it imports, and the installed packages. */
const INPUTS = [path.join(WEB_ROOT, "index.html"), path.join(WEB_ROOT, "vite.config.ts"), path.join(WEB_ROOT, "src"), path.join(REPO_ROOT, "sdk"), path.join(REPO_ROOT, "package-lock.json")];

async function filesUnder(entry: string): Promise<string[]> {
  const entries = await readdir(entry, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return [entry];
  const nested = await Promise.all(entries.map((e) => filesUnder(path.join(entry, e.name))));
  return nested.flat();
}

export async function inputHash(): Promise<string> {
  const hash = createHash("sha256");
  const files = (await Promise.all(INPUTS.map(filesUnder))).flat().sort();
  for (const file of files) hash.update(path.relative(REPO_ROOT, file)).update("\0").update(await readFile(file)).update("\0");
  return hash.digest("hex").slice(0, 16);
}

export interface WebBuild {
  dir: string;
  cached: boolean;
  ms: number;
}

/** Builds into `outDir`, or (without it) into a cache directory keyed by the input hash, reused while the inputs stay the same. */
export async function buildCatalog(opts: { outDir?: string; cacheDir?: string } = {}): Promise<WebBuild> {
  const started = performance.now();
  const dir = opts.outDir ?? path.join(opts.cacheDir ?? path.join(REPO_ROOT, ".glassbox", "web-builds"), await inputHash());
  if (!opts.outDir && existsSync(path.join(dir, "index.html"))) return { dir, cached: true, ms: performance.now() - started };
  const { build } = await import("vite");
  // Built beside the target and renamed into place: a crash mid-build never leaves a half cache entry.
  const staging = `${dir}.building-${process.pid}`;
  await build({ configFile: path.join(WEB_ROOT, "vite.config.ts"), build: { outDir: staging, emptyOutDir: true }, logLevel: "warn" });
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  await rename(staging, dir);
  return { dir, cached: false, ms: performance.now() - started };
}

export async function writeWebConfig(dir: string, config: WebConfig): Promise<string> {
  const file = path.join(dir, "config.json");
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

export interface RunningCatalog {
  url: string;
  close(): Promise<void>;
}

/** Serves a build on 127.0.0.1, with `config` as its config.json. */
export async function serveCatalog(opts: { dir: string; config: WebConfig; port?: number; host?: string }): Promise<RunningCatalog> {
  const root = path.resolve(opts.dir);
  const configJson = JSON.stringify(opts.config);
  const server: Server = createServer(async (req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (pathname === "/config.json") {
      res.writeHead(200, { "content-type": TYPES[".json"], "cache-control": "no-store" }).end(configJson);
      return;
    }
    const file = path.resolve(root, `.${pathname === "/" ? "/index.html" : pathname}`);
    if (!file.startsWith(`${root}${path.sep}`)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      // Hashed asset names never change content; index.html must be revalidated.
      const cache = pathname.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache";
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "cache-control": cache });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not found");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve);
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the catalog server has no TCP address");
  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
