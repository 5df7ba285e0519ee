/**
 * Composition through the executor, against a real chain and the real runtime: upload checks (every
 * import a requested capability or a declared dependency resolving on-chain to a published,
 * non-yanked version this executor holds) and free composed calls through POST /v1/call, a chain
 * of two dependencies included.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildComponent } from "../../runtime/builder/index.ts";
import { sha256Hex } from "../../sdk/ids.ts";
import { startExecutor, type RunningExecutor } from "../../executor/service.ts";
import { ANCHORS_WIT, SLUG_WIT, TOC_WIT, buildAnchorsComponent, buildSlugComponent, buildTocComponent } from "../fixtures/components/fixtures.ts";
import { TestStack, type CalcArtifacts } from "./helpers/stack.ts";

let stack: TestStack;
let executor: RunningExecutor;
let slug: CalcArtifacts;
let anchors: CalcArtifacts;
let toc: CalcArtifacts;

const slugTests = JSON.stringify({ world: "slug-world", interface: "slug", cases: [{ name: "slugify", function: "slugify", args: ["Hello World"], expect: { ok: "hello-world" } }] });
const anchorsTests = JSON.stringify({
  world: "anchors-world",
  interface: "anchors",
  cases: [
    { name: "anchor", function: "anchor", args: ["Hello World"], expect: { ok: "#hello-world" } },
    { name: "err handled", function: "checked", args: [""], expect: { ok: "caught:empty text" } },
  ],
});
const tocTests = JSON.stringify({ world: "toc-world", interface: "toc", cases: [{ name: "toc", function: "toc", args: [["A"]], expect: { ok: "- [A](#a)" } }] });

async function anchorsVariant(variant: string): Promise<CalcArtifacts> {
  return { wit: ANCHORS_WIT, component: (await buildAnchorsComponent(variant)).bytes, tests: anchorsTests };
}

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string; details?: Record<string, unknown> }> {
  const body = (await response.json()) as { error: { code: string; message: string; details?: Record<string, unknown> } };
  return { status: response.status, ...body.error };
}

async function uploadComponent(artifacts: CalcArtifacts): Promise<Response> {
  for (const bytes of [artifacts.wit, artifacts.tests]) expect((await stack.upload(executor.url, executor.operator, bytes)).status).toBe(201);
  return stack.upload(executor.url, executor.operator, artifacts.component);
}

async function call(ref: string, fn: string, args: unknown[]): Promise<Response> {
  return fetch(`${executor.url}/v1/call/${ref}/${fn}`, { method: "POST", body: JSON.stringify(args), headers: { "content-type": "application/json" } });
}

beforeAll(async () => {
  const [s, a, t] = await Promise.all([buildSlugComponent(), buildAnchorsComponent(), buildTocComponent()]);
  slug = { wit: SLUG_WIT, component: s.bytes, tests: slugTests };
  anchors = { wit: ANCHORS_WIT, component: a.bytes, tests: anchorsTests };
  toc = { wit: TOC_WIT, component: t.bytes, tests: tocTests };
  stack = await TestStack.start();
  executor = await startExecutor({
    rpcUrl: stack.chain.rpcUrl,
    deployment: stack.deployment,
    operatorKey: stack.operatorKey,
    dataDir: await stack.tempDir(),
    port: 0,
    register: true,
    fee: 500n,
    logLevel: "silent",
  });
}, 180_000);

afterAll(async () => {
  await executor?.close();
  await stack?.close();
});

const slugDependency = { package: "acme/slug", version: "^1.0.0", maxRoyaltyPerCall: "0" };

describe("upload checks for a component that imports another capability", () => {
  it("refuses a dependent whose dependency this executor does not hold, then accepts it once the dependency is uploaded", async () => {
    await stack.publish({ name: "acme/slug", version: "1.0.0", mode: "free", artifacts: slug, world: "slug-world", interfaceName: "slug" });
    await stack.publish({ name: "acme/anchors", version: "1.0.0", mode: "free", artifacts: anchors, world: "anchors-world", interfaceName: "anchors", dependencies: [slugDependency] });
    const early = await errorOf(await uploadComponent(anchors));
    expect(early).toMatchObject({ status: 409, code: "DEPENDENCY_MISSING", details: { dependency: "acme/slug", version: "1.0.0" } });
    expect(early.message).toMatch(/acme\/anchors@1\.0\.0 depends on acme\/slug@\^1\.0\.0, but this executor does not hold acme\/slug@1\.0\.0/);

    expect((await uploadComponent(slug)).status).toBe(201);
    const accepted = await uploadComponent(anchors);
    expect(accepted.status).toBe(201);
    expect(await accepted.json()).toMatchObject({ prepared: ["acme/anchors@1.0.0"], rejected: [] });
  });

  it("refuses an import that is neither a requested capability nor a declared dependency", async () => {
    const undeclared = await anchorsVariant("undeclared");
    await stack.publish({ name: "acme/anchors-undeclared", version: "1.0.0", mode: "free", artifacts: undeclared, world: "anchors-world", interfaceName: "anchors" });
    const refusal = await errorOf(await uploadComponent(undeclared));
    expect(refusal).toMatchObject({ status: 422, code: "COMPONENT_REJECTED", details: { runtimeCode: "undeclared_import" } });
    expect(refusal.message).toMatch(/imports "fixture:slug\/slug@1\.0\.0".*nor the interface of a declared dependency/);
  });

  it("refuses a dependent whose WIT declares the dependency's interface with other types", async () => {
    const wit = ANCHORS_WIT.replace("slugify: func(text: string) -> string;", "slugify: func(text: string) -> u32;");
    const source = 'import { slugify } from "fixture:slug/slug@1.0.0";\nexport const anchors = { anchor: (t) => `#${slugify(t)}`, anchors: (ts) => ts, checked: (t) => t, spin() {}, boom: (t) => t };\n';
    const built = await buildComponent({ witSource: wit, world: "anchors-world", source, language: "js", backend: "qjs", cacheDir: null });
    const mismatched: CalcArtifacts = { wit, component: built.bytes, tests: JSON.stringify({ world: "anchors-world", interface: "anchors", cases: [] }) };
    await stack.publish({ name: "acme/anchors-mismatch", version: "1.0.0", mode: "free", artifacts: mismatched, world: "anchors-world", interfaceName: "anchors", dependencies: [slugDependency] });
    const refusal = await errorOf(await uploadComponent(mismatched));
    expect(refusal).toMatchObject({ status: 422, code: "COMPONENT_REJECTED", details: { runtimeCode: "wit_mismatch" } });
    expect(refusal.message).toMatch(/imports slugify: func\(text: string\) -> u32 from "fixture:slug\/slug@1\.0\.0", but acme\/slug@1\.0\.0 exports slugify: func\(text: string\) -> string/);
  }, 60_000);

  it("refuses a dependency whose every version in range is yanked", async () => {
    await stack.publish({ name: "acme/slug-old", version: "1.0.0", mode: "free", artifacts: slug, world: "slug-world", interfaceName: "slug" });
    const dependent = await anchorsVariant("yanked");
    await stack.publish({
      name: "acme/anchors-yanked",
      version: "1.0.0",
      mode: "free",
      artifacts: dependent,
      world: "anchors-world",
      interfaceName: "anchors",
      dependencies: [{ package: "acme/slug-old", version: "1.0.0", maxRoyaltyPerCall: "0" }],
    });
    const versionId = (await executor.registry.resolve("acme/slug-old", "1.0.0")).record!.versionId;
    await stack.yank(versionId);
    const refusal = await errorOf(await uploadComponent(dependent));
    expect(refusal).toMatchObject({ status: 422, code: "DEPENDENCY_YANKED", details: { dependency: "acme/slug-old" } });
  });

  it("refuses a dependency whose price per call is above the declared maximum", async () => {
    await stack.publish({ name: "acme/slug-paid", version: "1.0.0", mode: "per-call", price: 2_000n, artifacts: slug, world: "slug-world", interfaceName: "slug" });
    const dependent = await anchorsVariant("too-expensive");
    await stack.publish({
      name: "acme/anchors-dear",
      version: "1.0.0",
      mode: "free",
      artifacts: dependent,
      world: "anchors-world",
      interfaceName: "anchors",
      dependencies: [{ package: "acme/slug-paid", version: "^1.0.0", maxRoyaltyPerCall: "1999" }],
    });
    const refusal = await errorOf(await uploadComponent(dependent));
    expect(refusal).toMatchObject({ status: 422, code: "DEPENDENCY_TOO_EXPENSIVE", details: { price: "2000", maxRoyaltyPerCall: "1999" } });
  });
});

describe("free composed calls through POST /v1/call", () => {
  it("runs the dependent with its dependency linked; the fuel is the composition's", async () => {
    const response = await call("acme/anchors@1.0.0", "anchor", ["Hello, Composed World"]);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { result: unknown; fuelUsed: string };
    expect(body.result).toBe("#hello-composed-world");
    const alone = (await (await call("acme/slug@1.0.0", "slugify", ["Hello, Composed World"])).json()) as { fuelUsed: string };
    expect(BigInt(body.fuelUsed)).toBeGreaterThan(BigInt(alone.fuelUsed));
  });

  it("a chain of two dependencies: the dependency of the dependency is linked too", async () => {
    await stack.publish({
      name: "acme/toc",
      version: "1.0.0",
      mode: "free",
      artifacts: toc,
      world: "toc-world",
      interfaceName: "toc",
      dependencies: [{ package: "acme/anchors", version: "~1.0.0", maxRoyaltyPerCall: "0" }],
    });
    expect((await uploadComponent(toc)).status).toBe(201);
    const response = await call("acme/toc@1.0.0", "toc", [["Intro", "Usage"]]);
    expect(await response.json()).toMatchObject({ result: "- [Intro](#intro)\n- [Usage](#usage)" });
  });

  it("a dependency that fails is a failure of the composed call, never charged, naming the dependency", async () => {
    const response = await call("acme/anchors@1.0.0", "boom", ["x"]);
    const error = await errorOf(response);
    expect(error).toMatchObject({ status: 422, code: "COMPONENT_TRAP", details: { runtimeCode: "trap", dependencyFunction: "boom" } });
    expect(error.details!.dependency).toBe((await executor.registry.resolve("acme/slug", "1.0.0")).record!.versionId);
  });

  it("a free dependent with a paid dependency is not served free: it is a paid call (here refused, this executor has no bond)", async () => {
    const dependent = await anchorsVariant("paid-dependency");
    await stack.publish({
      name: "acme/anchors-paid-dep",
      version: "1.0.0",
      mode: "free",
      artifacts: dependent,
      world: "anchors-world",
      interfaceName: "anchors",
      dependencies: [{ package: "acme/slug-paid", version: "^1.0.0", maxRoyaltyPerCall: "2000" }],
    });
    const paidSlug = await executor.registry.resolve("acme/slug-paid", "1.0.0");
    expect(paidSlug.record).toBeDefined();
    expect((await stack.upload(executor.url, executor.operator, slug.component)).status).toBe(201); // held for acme/slug-paid too
    expect((await uploadComponent(dependent)).status).toBe(201);
    const error = await errorOf(await call("acme/anchors-paid-dep@1.0.0", "anchor", ["x"]));
    expect(error).toMatchObject({ status: 503, code: "BOND_EXHAUSTED", details: { bond: "0" } });
  });

  it("a dependency yanked after the dependent's upload fails its calls with a clear error", async () => {
    const dependent = await anchorsVariant("yanked-later");
    await stack.publish({ name: "acme/slug-later", version: "1.0.0", mode: "free", artifacts: slug, world: "slug-world", interfaceName: "slug" });
    await stack.publish({
      name: "acme/anchors-later",
      version: "1.0.0",
      mode: "free",
      artifacts: dependent,
      world: "anchors-world",
      interfaceName: "anchors",
      dependencies: [{ package: "acme/slug-later", version: "^1.0.0", maxRoyaltyPerCall: "0" }],
    });
    expect((await stack.upload(executor.url, executor.operator, slug.component)).status).toBe(201);
    expect((await uploadComponent(dependent)).status).toBe(201);
    expect(await (await call("acme/anchors-later@1.0.0", "anchor", ["Ok"])).json()).toMatchObject({ result: "#ok" });
    await stack.yank((await executor.registry.resolve("acme/slug-later", "1.0.0")).record!.versionId);
    await executor.registry.sync();
    const error = await errorOf(await call("acme/anchors-later@1.0.0", "anchor", ["Ok"]));
    expect(error).toMatchObject({ code: "DEPENDENCY_YANKED", details: { dependency: "acme/slug-later" } });
    expect(sha256Hex(dependent.component)).not.toBe(sha256Hex(anchors.component));
  });
});

describe("published source: a public blob, free to read, pinned by the on-chain manifest", () => {
  it("round trip: pack, publish its hash, upload, download from the executor, unpack the same files", async () => {
    const { packSource, unpackSource } = await import("../../sdk/source-archive.ts");
    const files = [
      { path: "src/index.js", bytes: new TextEncoder().encode("export const slug = {};\n") },
      { path: "README.md", bytes: new TextEncoder().encode("# slug\n") },
      { path: `deep/${"d".repeat(90)}/${"f".repeat(90)}.txt`, bytes: new Uint8Array([0, 1, 2, 255]) },
    ];
    const archive = packSource(files);
    expect(packSource([...files].reverse())).toEqual(archive); // deterministic: same files, same bytes, same hash
    const published = await stack.publish({ name: "acme/slug-source", version: "1.0.0", mode: "free", artifacts: slug, world: "slug-world", interfaceName: "slug", source: archive });
    expect(JSON.parse(published.manifestText)).toMatchObject({ sourceHash: sha256Hex(archive) });
    const hash = sha256Hex(archive);
    expect((await fetch(`${executor.url}/v1/blobs/${hash}`)).status).toBe(404); // registered, not uploaded yet
    expect((await stack.upload(executor.url, executor.operator, archive, stack.stranger)).status).toBe(403); // only the owner uploads
    expect((await stack.upload(executor.url, executor.operator, archive)).status).toBe(201);
    const served = await fetch(`${executor.url}/v1/blobs/${hash}`); // no payment, no signature
    expect(served.headers.get("content-type")).toBe("application/gzip");
    const bytes = new Uint8Array(await served.arrayBuffer());
    expect(sha256Hex(bytes)).toBe(hash);
    expect(unpackSource(bytes).sort((a, b) => a.path.localeCompare(b.path))).toEqual([...files].sort((a, b) => a.path.localeCompare(b.path)));
  });

  it("a hostile archive is refused when read: paths out of the folder, links", async () => {
    const { packSource, unpackSource, SourceArchiveError } = await import("../../sdk/source-archive.ts");
    expect(() => packSource([{ path: "../escape", bytes: new Uint8Array() }])).toThrow(SourceArchiveError);
    expect(() => packSource([{ path: "/abs", bytes: new Uint8Array() }])).toThrow(/not a safe relative path/);
    const { gzipSync, gunzipSync } = await import("node:zlib");
    const tar = new Uint8Array(gunzipSync(packSource([{ path: "a", bytes: new Uint8Array([1]) }])));
    const evil = tar.slice();
    evil.set(new TextEncoder().encode("../../etc/passwd\0"), 0);
    const fixSum = (block: Uint8Array) => {
      block.fill(0x20, 148, 156);
      block.set(new TextEncoder().encode(`${block.subarray(0, 512).reduce((n, b) => n + b, 0).toString(8).padStart(6, "0")}\0 `), 148);
    };
    fixSum(evil);
    expect(() => unpackSource(new Uint8Array(gzipSync(evil)))).toThrow(/not a safe relative path/);
    const link = tar.slice();
    link[156] = 0x32; // symlink
    fixSum(link);
    expect(() => unpackSource(new Uint8Array(gzipSync(link)))).toThrow(/not a regular file/);
  });
});
