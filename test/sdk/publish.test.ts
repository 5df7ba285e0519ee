/**
 * Publishing through the SDK against a real chain and a real executor: forks whose spec and tests
 * are byte-identical to their parent's, resumed publishes, and what publish refuses before any
 * transaction (changed files, recipients that could never claim).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Address, LocalAccount } from "viem";
import { Glassbox, GlassboxError, type CapabilityFiles } from "../../sdk/glassbox.ts";
import type { Manifest } from "../../sdk/manifest.ts";
import { startExecutor, type RunningExecutor } from "../../executor/service.ts";
import { buildCalc, TestStack, type CalcArtifacts } from "../executor/helpers/stack.ts";

let stack: TestStack;
let calc: CalcArtifacts;
let executor: RunningExecutor;
const encode = (text: string) => new TextEncoder().encode(text);

function manifestFor(name: string, owner: Address, extra: Partial<Manifest> = {}): Manifest {
  return {
    name,
    version: "1.0.0",
    description: `test capability ${name}`,
    keywords: ["test"],
    license: "Apache-2.0",
    wit: { file: "calc.wit", world: "calc-world", interface: "calc" },
    component: "calc.wasm",
    tests: "calc.tests.json",
    access: { mode: "free", price: "0", fuelPricePerMillion: "0" },
    capabilities: [],
    splits: [{ recipient: owner, bps: 10_000 }],
    minForkShareBps: 1000,
    ...extra,
  };
}

function filesOf(manifest: Manifest, artifacts: CalcArtifacts = calc): CapabilityFiles {
  return { manifest, component: artifacts.component, wit: encode(artifacts.wit), tests: encode(artifacts.tests) };
}

function sdk(account: LocalAccount): Glassbox {
  return new Glassbox({ rpcUrl: stack.chain.rpcUrl, deployment: stack.deployment, account });
}

async function servedVersions(): Promise<string[]> {
  const info = (await (await fetch(`${executor.url}/v1/info`)).json()) as { packages: { name: string; version: string }[] };
  return info.packages.map((p) => `${p.name}@${p.version}`);
}

async function callAdd(ref: string): Promise<unknown> {
  const response = await fetch(`${executor.url}/v1/call/${ref}/add`, { method: "POST", headers: { "content-type": "application/json" }, body: "[2, 3]" });
  return (await response.json()) as unknown;
}

async function refusal(work: Promise<unknown>): Promise<GlassboxError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GlassboxError);
  return error as GlassboxError;
}

beforeAll(async () => {
  calc = await buildCalc();
  stack = await TestStack.start();
  executor = await startExecutor({
    rpcUrl: stack.chain.rpcUrl,
    deployment: stack.deployment,
    operatorKey: stack.operatorKey,
    dataDir: await stack.tempDir(),
    port: 0,
    register: true,
    logLevel: "warn",
    // Only on-demand syncs: a poll must not hide a stale view of the registry.
    pollMs: 3_600_000,
  });
  await sdk(stack.maintainer).publish(filesOf(manifestFor("acme/calc", stack.maintainer.address)), { executorUrl: executor.url });
}, 120_000);

afterAll(async () => {
  await executor?.close();
  await stack?.close();
});

describe("a fork whose WIT and tests are byte-identical to its parent's", () => {
  it("its author uploads them right after registering it, and the fork is served", async () => {
    const forkAuthor = stack.stranger;
    const manifest = manifestFor("forker/calc", forkAuthor.address, { fork: { parent: "acme/calc@1.0.0", upstreamShareBps: 2000 } });
    // Its own implementation (other component bytes), the parent's public WIT and tests.
    const files = filesOf(manifest, { ...calc, component: (await buildCalc("fork")).component });
    await sdk(forkAuthor).publish(files);
    // The executor knows this WIT's hash (the parent's) but not yet the fork's version: it must judge
    // the upload by the registry as of now, not by the versions it cached under that hash.
    const response = await stack.upload(executor.url, executor.operator, calc.wit, forkAuthor);
    expect(response.status, await response.clone().text()).toBe(201);
    expect(((await response.json()) as { versions: string[] }).versions).toEqual(["acme/calc@1.0.0", "forker/calc@1.0.0"]);

    const uploaded = await sdk(forkAuthor).upload(files, { executorUrl: executor.url });
    expect(uploaded.uploaded).toEqual(["component"]); // the WIT and tests are there (the parent's)
    expect(await servedVersions()).toContain("forker/calc@1.0.0");
    expect(await callAdd("forker/calc@1.0.0")).toMatchObject({ result: 5 });
  });

  it("an upload signed by someone who owns none of the versions using the blob is still refused", async () => {
    const response = await stack.upload(executor.url, executor.operator, calc.wit, stack.payer);
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("UPLOAD_UNAUTHORIZED");
  });
});

describe("publish is resumable", () => {
  const variant = () => buildCalc("resumable");

  it("registers without uploading, then a second publish sends nothing on-chain and uploads what is missing", async () => {
    const artifacts = await variant();
    const files = filesOf(manifestFor("acme/resumable", stack.maintainer.address), artifacts);
    const first = await sdk(stack.maintainer).publish(files);
    expect(first.alreadyRegistered).toBe(false);
    expect(first.transactions.length).toBe(2);
    expect(await servedVersions()).not.toContain("acme/resumable@1.0.0");

    const again = await sdk(stack.maintainer).publish(files, { executorUrl: executor.url });
    expect(again.alreadyRegistered).toBe(true);
    expect(again.transactions).toEqual([]);
    expect(again.uploaded).toEqual(["component"]);
    expect(await servedVersions()).toContain("acme/resumable@1.0.0");
    // A third run finds nothing to do.
    expect((await sdk(stack.maintainer).publish(files, { executorUrl: executor.url })).uploaded).toEqual([]);
  });

  it("offers the manifest's licence on-chain right after publishing (access.licencePrice)", async () => {
    const artifacts = await buildCalc("licensed");
    const manifest = manifestFor("acme/licensed", stack.maintainer.address, { access: { mode: "free", price: "0", fuelPricePerMillion: "0", licencePrice: "4200" } });
    const published = await sdk(stack.maintainer).publish(filesOf(manifest, artifacts));
    expect(published.transactions.length).toBe(3);
    const status = await sdk(stack.payer).licenceStatus("acme/licensed@1.0.0");
    expect({ price: status.price, held: status.held }).toEqual({ price: 4200n, held: false });
    // The owner reprices and withdraws; a stranger cannot.
    await sdk(stack.maintainer).setLicencePrice("acme/licensed@1.0.0", 5000n);
    expect((await sdk(stack.payer).licenceStatus("acme/licensed@1.0.0")).price).toBe(5000n);
    expect((await refusal(sdk(stack.payer).setLicencePrice("acme/licensed@1.0.0", 1n))).message).toMatch(/NotPackageOwner/);
    await sdk(stack.maintainer).setLicencePrice("acme/licensed@1.0.0", 0n);
    expect((await refusal(sdk(stack.payer).buyLicence("acme/licensed@1.0.0"))).code).toBe("LICENCE_NOT_OFFERED");
  });

  it("upload sends a registered version's missing files to an executor", async () => {
    const artifacts = await buildCalc("upload-only");
    const files = filesOf(manifestFor("acme/upload-only", stack.maintainer.address), artifacts);
    await sdk(stack.maintainer).publish(files);
    const uploaded = await sdk(stack.maintainer).upload(files, { executorUrl: executor.url });
    expect(uploaded).toMatchObject({ name: "acme/upload-only", version: "1.0.0", uploaded: ["component"] });
    expect(await callAdd("acme/upload-only@1.0.0")).toMatchObject({ result: 5 });
  });

  it("refuses files that differ from the registered version, naming each one", async () => {
    const artifacts = await variant();
    const manifest = manifestFor("acme/resumable", stack.maintainer.address, { description: "changed after publishing" });
    const changed = { ...artifacts, tests: artifacts.tests.replace('"adds"', '"adds two numbers"') };
    const error = await refusal(sdk(stack.maintainer).publish(filesOf(manifest, changed), { executorUrl: executor.url }));
    expect(error.code).toBe("VERSION_EXISTS");
    expect(error.message).toContain("the test vectors (calc.tests.json)");
    expect(error.message).toContain("glassbox.json (description)");
    expect(error.message).not.toContain("component");
    expect(error.hint).toMatch(/bump "version"/);
  });

  it("upload refuses a version that is not registered", async () => {
    const files = filesOf(manifestFor("acme/never-published", stack.maintainer.address));
    const error = await refusal(sdk(stack.maintainer).upload(files, { executorUrl: executor.url }));
    expect(error.code).toBe("VERSION_NOT_REGISTERED");
  });
});

describe("recipients that could never claim are refused before any transaction", () => {
  const cases: [string, () => Address][] = [
    ["a placeholder address", () => "0x0000000000000000000000000000000000000001"],
    ["the Settlement contract", () => stack.deployment.contracts.settlement],
    ["the CapabilityRegistry contract", () => stack.deployment.contracts.registry],
    ["the USDC token contract", () => stack.deployment.contracts.usdc],
  ];
  it.each(cases)("%s", async (what, recipient) => {
    const manifest = manifestFor("acme/unclaimable", stack.maintainer.address, {
      splits: [
        { recipient: stack.maintainer.address, bps: 5000 },
        { recipient: recipient(), bps: 5000 },
      ],
    });
    const nonce = await stack.client.getTransactionCount({ address: stack.maintainer.address });
    const error = await refusal(sdk(stack.maintainer).publish(filesOf(manifest)));
    expect(error.code).toBe("UNCLAIMABLE_RECIPIENT");
    expect(error.message).toContain(`splits[1].recipient ${recipient()} is ${what}`);
    expect(await stack.client.getTransactionCount({ address: stack.maintainer.address })).toBe(nonce);
  });
});
