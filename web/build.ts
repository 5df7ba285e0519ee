/**
 * `npm run build:web [-- --indexer URL --rpc URL --deployments FILE [--executor URL] [--chain-name NAME] [--out DIR]]`
 *
 * Builds the static web catalog into web/dist (or --out). With --indexer, --rpc and --deployments it
 * also writes config.json beside index.html; without them, put a config.json there when deploying
 * (shape: web/src/config.ts). Any static host serves the folder.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { parseWebConfig } from "./src/config.ts";
import { buildCatalog, WEB_ROOT, writeWebConfig } from "./server.ts";

const { values } = parseArgs({
  options: {
    indexer: { type: "string" },
    rpc: { type: "string" },
    deployments: { type: "string" },
    executor: { type: "string" },
    "chain-name": { type: "string" },
    out: { type: "string" },
  },
});

const outDir = path.resolve(values.out ?? path.join(WEB_ROOT, "dist"));
const connection = [values.indexer, values.rpc, values.deployments];
if (connection.some(Boolean) && !connection.every(Boolean)) {
  process.stderr.write("Give --indexer, --rpc and --deployments together (or none, and add config.json yourself).\n");
  process.exit(2);
}
const config = values.deployments
  ? parseWebConfig({
      indexerUrl: values.indexer,
      rpcUrl: values.rpc,
      deployment: JSON.parse(await readFile(values.deployments, "utf8")),
      ...(values.executor ? { executorUrl: values.executor } : {}),
      ...(values["chain-name"] ? { chainName: values["chain-name"] } : {}),
    })
  : undefined;
const { ms } = await buildCatalog({ outDir });
const written = config ? await writeWebConfig(outDir, config) : undefined;
process.stdout.write(`Built the web catalog into ${outDir} in ${(ms / 1000).toFixed(1)}s${written ? `, with ${path.basename(written)}` : " (add config.json before serving it)"}.\n`);
