import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCallArgs } from "../../cli/call-args.ts";
import { runGlassbox } from "../helpers/cli.ts";
import { parseShare } from "../../cli/ui.ts";

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
    for (const command of ["init", "build", "test", "publish", "fork", "search", "info", "call", "earnings", "claim", "dev"]) {
      expect(stdout).toMatch(new RegExp(`\\n  ${command} `));
    }
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

  it("parses shares and call arguments", () => {
    expect(parseShare("20%")).toBe(2000);
    expect(parseShare("12.5%")).toBe(1250);
    expect(parseShare("2000bps")).toBe(2000);
    expect(() => parseShare("120%")).toThrow(/between 0% and 100%/);
    const fn = { name: "f", params: [{ name: "s", type: "string" }, { name: "n", type: "u32" }, { name: "l", type: "list<string>" }], result: null };
    expect(parseCallArgs(["42", "42", '["a"]'], fn)).toEqual(["42", 42, ["a"]]);
    expect(parseCallArgs(["plain text"], undefined)).toEqual(["plain text"]);
  });
});
