import type { Command } from "commander";
import { WALLET_HELP } from "../ui.ts";

// Definition only: the action imports the MCP SDK, viem and x402 when the command runs.

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerMcpCommand(program: Command): void {
  program
    .command("mcp")
    .description("Serve the catalog and its capabilities as MCP tools (stdio, or Streamable HTTP with --http), paying under a spend policy")
    .option("--tool <scope/name[@range]>", "expose this package's functions as tools at start (repeatable), e.g. acme/markdown@^1", collect)
    .option("--max-per-call <units>", "spend policy: the most one call may pay, USDC base units (default 100000 = 0.10 USDC)")
    .option("--max-per-day <units>", "spend policy: the most all calls of a UTC day may pay, USDC base units (default 1000000 = 1 USDC)")
    .option("--allow <glob>", "spend policy: only packages matching this glob may be called (repeatable), e.g. 'acme/*'", collect)
    .option("--deposit <units>", "pay through x402 channels, depositing this (USDC base units) whenever one needs funds; default: exact per call")
    .option("--state-file <file>", "where the day's spending is kept (default ~/.glassbox/spend/<chain>-<wallet>.json)")
    .option("--config <file>", "settings from a JSON file (tools, policy, stateFile, wallet, connection, http, payment); flags win")
    .option("--http <port>", "serve Streamable HTTP at http://127.0.0.1:PORT/mcp instead of stdio (0 picks a free port)")
    .option("--host <host>", "with --http: the address to listen on", undefined)
    .addHelpText(
      "after",
      `\nTools: search and describe (free), add_capability (adds a package's functions as tools at run time),\n` +
        `and one tool per capability function, named scope_name__function (e.g. acme_markdown__to-html), with JSON\n` +
        `Schemas from the WIT. A WIT result's error is a tool error; a paid call's verified receipt is in\n` +
        `_meta["glassbox/receipt"]. A call over the policy is refused before anything is signed, naming the limit.\n\n` +
        `Paid capabilities need a wallet.\n${WALLET_HELP}\n\n` +
        `Example (an agent's MCP configuration):\n` +
        `  { "mcpServers": { "glassbox": { "command": "glassbox", "args": ["mcp", "--tool", "acme/markdown@^1", "--max-per-day", "500000"],\n` +
        `      "env": { "GLASSBOX_KEYSTORE": "/path/agent-key.json", "GLASSBOX_KEYSTORE_PASSWORD": "..." } } } }`,
    )
    .action(async (opts, command: Command) => (await import("../actions/mcp.ts")).mcp(opts, command));
}
