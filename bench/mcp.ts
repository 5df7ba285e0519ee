/**
 * MCP benchmark (`npm run bench:mcp`). In one run, against a local dev stack with the samples
 * published, the same calls side by side:
 * - through the SDK (Glassbox.call, in this process): the baseline;
 * - as an MCP tool call through `glassbox mcp` (the installed CLI over stdio, the stock MCP client),
 *   which adds the JSON-RPC hop, argument mapping, the spend policy (its state file is written twice
 *   per paid call) and the receipt in _meta.
 * For a free call (acme/text-stats change-case) and a paid one (acme/markdown to-html, x402 exact),
 * interleaved, p50 and p95 of each. Flags: --quick (fewer calls).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { publishSamples } from "../cli/actions/dev.ts";
import { DEV_ROLES } from "../cli/dev-stack.ts";
import { Output } from "../cli/ui.ts";
import { devAccount } from "../sdk/dev-accounts.ts";
import { Glassbox } from "../sdk/glassbox.ts";
import { startTestStack } from "../test/helpers/dev-stack.ts";
import { connectStdio, stackFlags } from "../test/helpers/mcp.ts";

const quick = process.argv.includes("--quick");
const CALLS = quick ? 10 : 40;
const WARMUP = 3;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

const home = await mkdtemp(path.join(tmpdir(), "glassbox-bench-mcp-"));
console.log(`bench:mcp: ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}; ${CALLS} calls per path and kind (after ${WARMUP} warm-up calls)`);
const stack = await startTestStack({ stateDir: path.join(home, "stack"), web: false });
try {
  await publishSamples(stack, new Output(true));
  const agent = devAccount(DEV_ROLES.agent);
  const sdk = new Glassbox({ rpcUrl: stack.rpcUrl, deployment: stack.deployment, indexerUrl: stack.indexerUrl, executorUrl: stack.executorUrl, account: agent });
  const server = await connectStdio(
    ["--tool", "acme/text-stats", "--tool", "acme/markdown", "--dev-account", String(DEV_ROLES.agent), "--max-per-day", "1000000000", "--state-file", path.join(home, "spend.json"), ...stackFlags(stack)],
    home,
  );
  const kinds = [
    {
      label: "free (acme/text-stats change-case)",
      viaSdk: () => sdk.call("acme/text-stats", "change-case", ["hello big world", "camel"]),
      viaMcp: () => server.client.callTool({ name: "acme_text-stats__change-case", arguments: { text: "hello big world", style: "camel" } }),
    },
    {
      label: "paid (acme/markdown to-html, x402)",
      viaSdk: () => sdk.call("acme/markdown", "to-html", ["# Hello *agents*"], { maxPayment: 10_000n, scheme: "exact" }),
      viaMcp: () => server.client.callTool({ name: "acme_markdown__to-html", arguments: { markdown: "# Hello *agents*" } }),
    },
  ];
  for (const kind of kinds) {
    // An MCP call that fails comes back as a tool error, not an exception: count it as a failure.
    const mcpCall = async () => {
      const result = (await kind.viaMcp()) as CallToolResult;
      if (result.isError) throw new Error(`MCP call failed: ${JSON.stringify(result.content)}`);
    };
    for (let i = 0; i < WARMUP; i++) {
      await kind.viaSdk();
      await mcpCall();
    }
    const sdkTimes: number[] = [];
    const mcpTimes: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      sdkTimes.push(await timed(kind.viaSdk));
      mcpTimes.push(await timed(mcpCall));
    }
    sdkTimes.sort((a, b) => a - b);
    mcpTimes.sort((a, b) => a - b);
    const row = (label: string, times: number[]) => `  ${label.padEnd(34)} p50 ${percentile(times, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(times, 95).toFixed(1).padStart(7)} ms`;
    console.log(`\n${kind.label}`);
    console.log(row("SDK Glassbox.call (baseline)", sdkTimes));
    console.log(row("MCP tool call via glassbox mcp", mcpTimes));
    const overhead = percentile(mcpTimes, 50) - percentile(sdkTimes, 50);
    console.log(`  MCP overhead (p50) ${overhead.toFixed(1)} ms (${(percentile(mcpTimes, 50) / percentile(sdkTimes, 50)).toFixed(2)}x)`);
  }
  await server.close();
} finally {
  await stack.stop();
  await rm(home, { recursive: true, force: true });
}
