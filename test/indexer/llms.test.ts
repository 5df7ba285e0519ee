/**
 * The catalog's plain text for LLMs, from the real indexer (Ponder on PGlite) of a dev stack with
 * the samples published: the llms.txt index and each package's page (WIT with its doc comments,
 * JSON Schemas, tool names, test vectors, price, executors), free to read.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishSamples } from "../../cli/actions/dev.ts";
import { REPO_ROOT, type DevStack } from "../../cli/dev-stack.ts";
import { waitFor } from "../../cli/dev/wait.ts";
import { Output } from "../../cli/ui.ts";
import { functionInputSchema, functionOutputSchema } from "../../sdk/json-schema.ts";
import { parseTestVectors } from "../../sdk/test-vectors.ts";
import { documentInterface } from "../../sdk/wit.ts";
import { startTestStack } from "../helpers/dev-stack.ts";

let stack: DevStack;
let home: string;

function sample(dir: string) {
  const root = path.join(REPO_ROOT, "capabilities", dir);
  const manifest = JSON.parse(readFileSync(path.join(root, "glassbox.json"), "utf8")) as { wit: { file: string; world: string; interface: string }; tests: string };
  const wit = readFileSync(path.join(root, manifest.wit.file), "utf8");
  return { wit, docs: documentInterface(wit, manifest.wit.world, manifest.wit.interface), tests: parseTestVectors(readFileSync(path.join(root, manifest.tests), "utf8")) };
}

async function get(route: string): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`${stack.indexerUrl}${route}`);
  return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
}

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "glassbox-llms-"));
  stack = await startTestStack({ stateDir: path.join(home, "stack"), web: false, executorFee: 100n });
  await publishSamples(stack, new Output(true));
  await waitFor(async () => ((await get("/llms.txt")).text.match(/^- \[/gm)?.length === 8 ? true : undefined), { what: "the samples in llms.txt", timeoutMs: 90_000, intervalMs: 250 });
}, 600_000);

afterAll(async () => {
  await stack?.stop();
  await rm(home, { recursive: true, force: true });
});

describe("plain text for LLMs", () => {
  it("/llms.txt lists every callable package, one line each, with its price and a link to its page", async () => {
    const { status, type, text } = await get("/llms.txt");
    expect(status).toBe(200);
    expect(type).toBe("text/plain; charset=utf-8");
    expect(text.startsWith("# Glassbox capabilities\n\n> ")).toBe(true);
    const lines = text.split("\n").filter((l) => l.startsWith("- ["));
    expect(lines.map((l) => /^- \[([^\]@]+)@/.exec(l)![1]).sort()).toEqual(["acme/csv", "acme/markdown", "acme/semver", "acme/slug", "acme/text-stats", "acme/toc", "forker/markdown-plus", "forker/semver-strict"]);
    const markdown = lines.find((l) => l.startsWith("- [acme/markdown@"))!;
    expect(markdown).toContain(`(${stack.indexerUrl}/llms/acme/markdown.txt)`);
    expect(markdown).toContain("0.002 USDC per call + the executor's fee");
    expect(markdown).toContain("Functions: to-html, to-html-with.");
    expect(lines.find((l) => l.startsWith("- [acme/text-stats@"))).toContain("(free)");
    expect(lines.find((l) => l.startsWith("- [acme/csv@"))).toContain("0.0001 USDC + 0.0005 USDC per million fuel per call");
  });

  it("a package's page: WIT with doc comments, schemas and tool names, every test vector, price and executors", async () => {
    const { status, type, text } = await get("/llms/acme/semver.txt");
    expect(status).toBe(200);
    expect(type).toBe("text/plain; charset=utf-8");
    const { wit, docs, tests } = sample("semver");
    expect(text.startsWith("# acme/semver@1.0.0\n")).toBe(true);
    expect(text).toContain("- Access: 0.0005 USDC per call + the executor's fee.");
    expect(text).toContain(`\`\`\`wit\n${wit.trimEnd()}\n\`\`\``);
    expect(text).toContain(`- ${stack.executorUrl} (fee 0.0001 USDC per call)`);
    for (const fn of docs.functions) {
      expect(text).toContain(`### ${fn.name}\n`);
      expect(text).toContain(`MCP tool: \`acme_semver__${fn.name}\``);
      expect(text).toContain(JSON.stringify(functionInputSchema(fn, docs)));
      expect(text).toContain(JSON.stringify(functionOutputSchema(fn, docs)));
      if (fn.docs) expect(text).toContain(fn.docs);
    }
    for (const c of tests.cases) expect(text).toContain(`- ${c.name}: ${c.function}(${JSON.stringify(c.args)}) -> ${JSON.stringify(c.expect)}`);
  });

  it("a fork's page names its upstream and share; a free package says so", async () => {
    expect((await get("/llms/forker/markdown-plus.txt")).text).toContain("- Fork of acme/markdown@1.0.0, paying it 20% of every royalty.");
    const free = await get("/llms/acme/text-stats.txt");
    expect(free.text).toContain("- Access: free. Reading the spec and tests is free; running the capability is free.");
    expect(free.text).toContain("/// One piece of text, in order;");
  });

  it("unknown packages and bad names get a plain-text error that says so", async () => {
    const missing = await get("/llms/acme/nothing.txt");
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('No package named "acme/nothing" is registered.');
    const bad = await get("/llms/ACME/x.txt");
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('"ACME/x" is not a package name');
    expect((await get("/llms/acme/semver.json")).status).toBe(404);
  });
});
