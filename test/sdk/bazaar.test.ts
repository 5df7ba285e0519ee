/**
 * The x402 `bazaar` discovery extension of every sample capability function validates against the
 * extension's own schema and spec rules (@x402/extensions' validators), carries the WIT-generated
 * schemas and names the remote MCP tool.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { validateAndExtract, validateDiscoveryExtension, validateDiscoveryExtensionSpec, type McpDiscoveryExtension, type McpDiscoveryInfo } from "@x402/extensions/bazaar";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../cli/config.ts";
import { bazaarExtensionFor } from "../../sdk/bazaar.ts";
import { exampleValue } from "../../sdk/json-example.ts";
import { functionInputSchema, functionOutputSchema, withDialect } from "../../sdk/json-schema.ts";
import { parseTestVectors } from "../../sdk/test-vectors.ts";
import { documentInterface } from "../../sdk/wit.ts";

const root = path.join(REPO_ROOT, "capabilities");
const samples = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && readdirSync(path.join(root, e.name)).includes("glassbox.json"));
const ajv = new Ajv2020({ strict: false });

describe("bazaarExtensionFor", () => {
  for (const sample of samples) {
    it(`every function of ${sample.name} validates with @x402/extensions`, () => {
      const dir = path.join(root, sample.name);
      const manifest = JSON.parse(readFileSync(path.join(dir, "glassbox.json"), "utf8")) as { name: string; version: string; description: string; wit: { file: string; world: string; interface: string }; tests: string };
      const docs = documentInterface(readFileSync(path.join(dir, manifest.wit.file), "utf8"), manifest.wit.world, manifest.wit.interface);
      const tests = parseTestVectors(readFileSync(path.join(dir, manifest.tests), "utf8"));
      for (const fn of docs.functions) {
        const { bazaar } = bazaarExtensionFor(manifest, fn, { docs, tests });
        expect(validateDiscoveryExtension(bazaar), `${manifest.name} ${fn.name}`).toEqual({ valid: true });
        expect(validateDiscoveryExtensionSpec({ ...bazaar })).toEqual({ valid: true });
        const { valid, info } = validateAndExtract(bazaar);
        expect(valid).toBe(true);
        const input = (info as McpDiscoveryInfo).input;
        expect(input.type).toBe("mcp");
        expect(input.toolName).toBe(`${manifest.name.replace("/", "_")}__${fn.name}`);
        expect(input.transport).toBe("streamable-http");
        expect(input.inputSchema).toEqual(functionInputSchema(fn, docs));
        if (fn.docs) expect(input.description).toContain(fn.docs);
        // The examples are valid calls and answers by the WIT-generated schemas.
        expect(ajv.validate(withDialect(functionInputSchema(fn, docs)), input.example), `${fn.name} example input`).toBe(true);
        expect(ajv.validate(withDialect(functionOutputSchema(fn, docs)), (info as McpDiscoveryInfo).output?.example), `${fn.name} example output`).toBe(true);
      }
    });
  }

  it("a function without test vectors gets a synthesized example; a mismatched one fails the extension's validator", () => {
    const wit = `package demo:x@1.0.0;\ninterface api {\n  record big { n: u64, tags: list<string> }\n  /// Doubles it.\n  twice: func(value: big) -> result<big, string>;\n}\nworld x { export api; }\n`;
    const docs = documentInterface(wit, "x");
    const fn = docs.functions[0]!;
    const { bazaar } = bazaarExtensionFor({ name: "demo/x", version: "1.0.0" }, fn, { docs });
    expect(validateDiscoveryExtension(bazaar)).toEqual({ valid: true });
    const info = bazaar.info;
    expect(info.input.example).toEqual({ value: exampleValue(fn.params[0]!.type) });
    expect(info.output?.example).toEqual({ result: { ok: { n: "0", tags: [] } } });
    // The extension's schema carries the output schema: an answer of the wrong shape does not validate.
    const tampered: McpDiscoveryExtension = { ...bazaar, info: { ...info, output: { type: "json", example: { result: { ok: { n: 5, tags: [] } } } } } };
    expect(validateDiscoveryExtension(tampered).valid).toBe(false);
  });
});
