import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatCallArg, parseCallArgs } from "../../cli/call-args.ts";
import { count, parseShare } from "../../cli/ui.ts";
import { devAccount } from "../../sdk/dev-accounts.ts";
import { runGlassbox } from "../helpers/cli.ts";

let home: string;

function run(args: string[], env: Record<string, string> = {}) {
  return runGlassbox(args, { cwd: home, env: { GLASSBOX_HOME: home, GLASSBOX_RPC_URL: "", GLASSBOX_DEPLOYMENTS: "", ...env } });
}

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "glassbox-cli-"));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe("glassbox CLI", () => {
  it("--help explains every command", async () => {
    const { code, stdout } = await run(["--help"]);
    expect(code).toBe(0);
    for (const command of ["init", "build", "test", "publish", "fork", "source", "search", "info", "call", "licence", "run", "earnings", "claim", "mcp", "dev"]) {
      expect(stdout).toMatch(new RegExp(`\\n  ${command} `));
    }
  });

  it("every subcommand's help shows the global options: wallet, connection, --json", async () => {
    for (const command of ["init", "build", "test", "publish", "upload", "fork", "source", "yank", "search", "info", "call", "run", "earnings", "claim", "mcp", "dev"]) {
      const { code, stdout } = await run([command, "--help"]);
      expect(code).toBe(0);
      const globals = stdout.slice(stdout.indexOf("Global Options:"));
      for (const option of ["--json", "--keystore", "--dev-account", "--rpc", "--deployments", "--indexer", "--executor"]) expect(globals, command).toContain(option);
    }
    const call = await run(["call", "--help"]);
    expect(call.stdout).toContain("valid JSON is parsed as JSON; anything else is taken as a plain");
    expect(call.stdout).toMatch(/exits 7, and the call stays paid/);
    const fork = await run(["fork", "--help"]);
    expect(fork.stdout).toContain("What a fork must ship");
    expect(fork.stdout).toMatch(/--wrap .*scaffold a fork that imports its parent/);
  });

  it("mcp names every bad setting, from a flag or the config file, before it connects to anything", async () => {
    const badAmount = await run(["mcp", "--max-per-call", "0.5"]);
    expect(badAmount.code).toBe(2);
    expect(badAmount.stderr).toContain('--max-per-call: expected USDC base units as a whole number (e.g. "10000" for 0.01 USDC), got "0.5"');
    const badGlob = await run(["mcp", "--allow", "acme"]);
    expect(badGlob.code).toBe(2);
    expect(badGlob.stderr).toContain('--allow: "acme" is not a package glob');
    const config = path.join(home, "mcp.json");
    await writeFile(config, JSON.stringify({ policy: { maxPerDay: "100", maxPerCal: "5" } }));
    const unknown = await run(["mcp", "--config", config]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`${config}: policy.maxPerCal: unknown setting (known: maxPerCall, maxPerDay, allowedPackages)`);
    await writeFile(config, JSON.stringify({ http: { port: "eighty" } }));
    expect((await run(["mcp", "--config", config])).stderr).toContain(`${config}: http.port: expected a TCP port (0 picks a free one), got "eighty"`);
    const zeroDeposit = await run(["mcp", "--deposit", "0"]);
    expect(zeroDeposit.code).toBe(2);
    expect(zeroDeposit.stderr).toContain("--deposit: a channel deposit must be more than 0 (leave it out to pay with exact)");
    await writeFile(config, JSON.stringify({ payment: { deposit: "1.5" } }));
    expect((await run(["mcp", "--config", config])).stderr).toContain(`${config}: payment.deposit: expected USDC base units as a whole number`);
    await writeFile(config, "{ nope");
    expect((await run(["mcp", "--config", config])).stderr).toContain(`The MCP config ${config} is not JSON`);
    const badTool = await run(["mcp", "--tool", "acme/markdown@one"]);
    expect(badTool.code).not.toBe(0);
    expect(badTool.stderr).toContain('"one" in "acme/markdown@one" is neither a version nor a semver range');
  });

  it("init puts the wallet's address in the splits, for every wallet option, and a placeholder without one", async () => {
    const recipientOf = async (dir: string) => JSON.parse(await readFile(path.join(home, dir, "glassbox.json"), "utf8")).splits[0].recipient;
    const dev = await run(["init", "acme/by-dev-account", "--dev-account", "5", "--json"]);
    expect(dev.code, dev.stderr).toBe(0);
    expect(await recipientOf("by-dev-account")).toBe(devAccount(5).address);
    const key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"; // Hardhat dev key 1
    const env = await run(["init", "acme/by-env-key", "--json"], { GLASSBOX_PRIVATE_KEY: key });
    expect(env.code, env.stderr).toBe(0);
    expect(await recipientOf("by-env-key")).toBe(devAccount(1).address);
    const keystoreFile = path.join(home, "key.json");
    const wrote = await run(["keystore", keystoreFile, "--json"], { GLASSBOX_PRIVATE_KEY: key, GLASSBOX_KEYSTORE_PASSWORD: "pw" });
    expect(wrote.code, wrote.stderr).toBe(0);
    const keystore = await run(["init", "acme/by-keystore", "--keystore", keystoreFile, "--json"], { GLASSBOX_KEYSTORE_PASSWORD: "pw" });
    expect(keystore.code, keystore.stderr).toBe(0);
    expect(await recipientOf("by-keystore")).toBe(devAccount(1).address);
    const none = await run(["init", "acme/no-wallet"]);
    expect(none.code, none.stderr).toBe(0);
    expect(await recipientOf("no-wallet")).toBe("0x0000000000000000000000000000000000000001");
    expect(none.stdout).toMatch(/placeholder address: publish refuses it/);
    expect(none.stdout).toContain("glassbox publish --keystore <file>");
  });

  it("init scaffolds a capability that builds and passes its own tests", async () => {
    const init = await run(["init", "acme/word-tools", "--json"]);
    expect(init.code, init.stderr).toBe(0);
    const dir = path.join(home, "word-tools");
    expect(JSON.parse(await readFile(path.join(dir, "glassbox.json"), "utf8")).name).toBe("acme/word-tools");
    const tested = await run(["test", dir, "--json"]);
    expect(tested.code, tested.stderr).toBe(0);
    const report = JSON.parse(tested.stdout);
    expect(report.failed).toBe(0);
    expect(report.passed).toBe(4);
    // A second init into the same folder is refused instead of overwriting work.
    const again = await run(["init", "acme/word-tools"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/not empty/);
  });

  it("test reports a failing vector readably and exits 3", async () => {
    const dir = path.join(home, "word-tools");
    const testsFile = path.join(dir, "tests.json");
    const tests = JSON.parse(await readFile(testsFile, "utf8"));
    tests.cases[0].expect = { ok: 5 };
    await writeFile(testsFile, JSON.stringify(tests));
    const tested = await run(["test", dir]);
    expect(tested.code).toBe(3);
    expect(tested.stderr).toMatch(/FAIL\s+counts words/);
    expect(tested.stdout).toMatch(/3 passed, 1 failed/);
  });

  it("bad input gets a clear error and a meaningful exit code", async () => {
    const badName = await run(["info", "NotAName"]);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/Invalid package name "NotAName"/);
    const noStack = await run(["search", "markdown", "--json"]);
    expect(noStack.code).toBe(4);
    expect(JSON.parse(noStack.stdout).error.hint).toMatch(/npm start/);
    const badManifest = path.join(home, "bad");
    await run(["init", "acme/bad", "--dir", badManifest]);
    const manifestFile = path.join(badManifest, "glassbox.json");
    const manifest = JSON.parse(await readFile(manifestFile, "utf8"));
    manifest.access.price = "-3";
    manifest.splits[0].bps = 5000;
    await writeFile(manifestFile, JSON.stringify(manifest));
    const build = await run(["build", badManifest, "--json"]);
    expect(build.code).toBe(3);
    const fields = JSON.parse(build.stdout).error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(["access.price", "splits"]));
    const noWallet = await run(["claim"], { GLASSBOX_RPC_URL: "http://127.0.0.1:9", GLASSBOX_DEPLOYMENTS: manifestFile });
    expect(noWallet.code).toBe(2);
  });

  it("parses shares, counts and call arguments", () => {
    expect(count(1, "fork")).toBe("1 fork");
    expect(count(2n, "paid call")).toBe("2 paid calls");
    expect(count("0", "payer")).toBe("0 payers");
    expect(parseShare("20%")).toBe(2000);
    expect(parseShare("12.5%")).toBe(1250);
    expect(parseShare("2000bps")).toBe(2000);
    expect(() => parseShare("120%")).toThrow(/between 0% and 100%/);
    const fn = { name: "f", params: [{ name: "s", type: "string" }, { name: "n", type: "u32" }, { name: "l", type: "list<string>" }], result: null };
    expect(parseCallArgs(["42", "42", '["a"]'], fn)).toEqual(["42", 42, ["a"]]);
    expect(parseCallArgs(["plain text"], undefined)).toEqual(["plain text"]);
    // Valid JSON is JSON; for a string parameter only a JSON string is unquoted, other text stays as typed.
    expect(parseCallArgs(['"7992739871"', "7992739871", "true", "[1]"], { name: "f", params: ["a", "b", "c", "d"].map((name) => ({ name, type: "string" })), result: null })).toEqual([
      "7992739871",
      "7992739871",
      "true",
      "[1]",
    ]);
    expect(parseCallArgs(['"x"', "true", "null", "{\"a\":1}", "# Hello"], undefined)).toEqual(["x", true, null, { a: 1 }, "# Hello"]);
    // What the CLI prints as an example reads back as the same value.
    for (const value of ["the quick brown fox", "42", "", " ", "it's", ["a", "b"], 7, { a: "b c" }, true]) {
      const word = formatCallArg(value);
      const unquoted = word.startsWith("'") ? word.slice(1, -1).replaceAll(`'\\''`, "'") : word;
      expect(parseCallArgs([unquoted], undefined)).toEqual([value]);
    }
  });
});
