/**
 * Pay once, run locally, against a real chain, the real contracts, a real executor and the installed
 * `glassbox` bin: a capability that depends on another offers a licence; without one its bytes are never
 * served and `glassbox run` is refused; `glassbox licence buy` pays the maintainer once (exact to the base
 * unit); a local run of a composed capability needs a licence for its dependency too; then it runs in the
 * runtime's sandbox on this machine. Attacks on the download route: expired, far-future, another executor's,
 * another version's and malformed signatures serve nothing.
 */
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Hex, type LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { settlementAbi } from "../../sdk/abi.ts";
import { sha256Hex } from "../../sdk/ids.ts";
import { LICENCE_EXPIRES_HEADER, LICENCE_SIGNATURE_HEADER, licenceDownloadMessage } from "../../sdk/licence.ts";
import { ROUTES } from "../../sdk/protocol.ts";
import { startExecutor, type RunningExecutor } from "../../executor/service.ts";
import { REPO_ROOT } from "../../cli/config.ts";
import { ANCHORS_WIT, SLUG_WIT, buildAnchorsComponent, buildSlugComponent } from "../fixtures/components/fixtures.ts";
import { TestStack, type CalcArtifacts, type Published } from "../executor/helpers/stack.ts";
import { cliHome, runGlassbox, type CliRun } from "../helpers/cli.ts";

const SLUG_LICENCE = 300n;
const ANCHORS_LICENCE = 700n;
const PAYER_INDEX = 2; // TestStack.payer

let stack: TestStack;
let executor: RunningExecutor;
let slug: Published;
let anchors: Published;
let home: string;
let deploymentsFile: string;

const slugTests = JSON.stringify({ world: "slug-world", interface: "slug", cases: [{ name: "slugify", function: "slugify", args: ["Hello World"], expect: { ok: "hello-world" } }] });
const anchorsTests = JSON.stringify({ world: "anchors-world", interface: "anchors", cases: [{ name: "anchor", function: "anchor", args: ["Hello World"], expect: { ok: "#hello-world" } }] });

function glassbox(args: string[]): Promise<CliRun> {
  const flags = ["--rpc", stack.chain.rpcUrl, "--deployments", deploymentsFile, "--executor", executor.url, "--dev-account", String(PAYER_INDEX), "--json"];
  return runGlassbox([...args, ...flags], { cwd: REPO_ROOT, env: { GLASSBOX_HOME: home, GLASSBOX_INDEXER_URL: "" } });
}

const claimable = (account: Hex) =>
  stack.client.readContract({ address: stack.deployment.contracts.settlement, abi: settlementAbi, functionName: "balanceOf", args: [account] });

/** GET the licensed component with a request signed by `signer` (for `executorAddress`, expiring at `expiresAt`). */
async function download(versionId: Hex, signer: LocalAccount, opts: { expiresAt?: bigint; executorAddress?: Hex; signedVersion?: Hex } = {}): Promise<Response> {
  const expiresAt = opts.expiresAt ?? BigInt(Math.floor(Date.now() / 1000)) + 60n;
  const message = licenceDownloadMessage({ versionId: opts.signedVersion ?? versionId, chainId: stack.deployment.chainId, executor: opts.executorAddress ?? executor.operator, expiresAt });
  const signature = await signer.signMessage({ message });
  return fetch(`${executor.url}${ROUTES.licensedComponent(versionId)}`, { headers: { [LICENCE_SIGNATURE_HEADER]: signature, [LICENCE_EXPIRES_HEADER]: expiresAt.toString() } });
}

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, ...body.error };
}

let slugArtifacts: CalcArtifacts;
let anchorsArtifacts: CalcArtifacts;

beforeAll(async () => {
  const [s, a] = await Promise.all([buildSlugComponent(), buildAnchorsComponent()]);
  slugArtifacts = { wit: SLUG_WIT, component: s.bytes, tests: slugTests };
  anchorsArtifacts = { wit: ANCHORS_WIT, component: a.bytes, tests: anchorsTests };
  stack = await TestStack.start();
  slug = await stack.publish({ name: "acme/slug", version: "1.0.0", mode: "per-call", price: 10n, artifacts: slugArtifacts, world: "slug-world", interfaceName: "slug", licencePrice: SLUG_LICENCE });
  anchors = await stack.publish({
    name: "acme/anchors",
    version: "1.0.0",
    mode: "per-call",
    price: 20n,
    artifacts: anchorsArtifacts,
    world: "anchors-world",
    interfaceName: "anchors",
    dependencies: [{ package: "acme/slug", version: "^1.0.0", maxRoyaltyPerCall: "10" }],
    licencePrice: ANCHORS_LICENCE,
  });
  executor = await startExecutor({ rpcUrl: stack.chain.rpcUrl, deployment: stack.deployment, operatorKey: stack.operatorKey, dataDir: await stack.tempDir(), port: 0, register: true, fee: 5n, logLevel: "silent" });
  await stack.uploadAll(executor.url, executor.operator, slugArtifacts);
  await stack.uploadAll(executor.url, executor.operator, anchorsArtifacts);
  ({ home, deploymentsFile } = await cliHome("glassbox-licence-", stack.deployment));
}, 240_000);

afterAll(async () => {
  await executor?.close();
  await stack?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe("pay once, run locally", () => {
  it("never serves component bytes without a licence: not as a public blob, not to a signed request", async () => {
    expect(await errorOf(await fetch(`${executor.url}${ROUTES.blob(anchors.componentHash)}`))).toMatchObject({ status: 403, code: "BLOB_NOT_PUBLIC" });
    const refused = await errorOf(await download(anchors.versionId, stack.payer));
    expect(refused).toMatchObject({ status: 403, code: "LICENCE_REQUIRED" });
    expect(refused.message).toContain(`${stack.payer.address} holds no licence to run acme/anchors@1.0.0 locally`);
    const unsigned = await fetch(`${executor.url}${ROUTES.licensedComponent(anchors.versionId)}`);
    expect(await errorOf(unsigned)).toMatchObject({ status: 401, code: "LICENCE_SIGNATURE_INVALID" });
  });

  it("refuses `glassbox run` without a licence, naming the price and the command that buys one", async () => {
    const result = await glassbox(["run", "acme/anchors", "anchor", "Hello World"]);
    expect(result.code).toBe(5);
    expect(result.json.error).toMatchObject({ code: "LICENCE_REQUIRED" });
    expect(result.json.error.hint).toBe(`It offers one for ${ANCHORS_LICENCE} USDC base units: glassbox licence buy acme/anchors@1.0.0`);
  });

  it("shows the offer, and buys nothing unless the price is agreed to", async () => {
    const status = await glassbox(["licence", "status", "acme/anchors"]);
    expect(status.json).toMatchObject({ package: "acme/anchors", version: "1.0.0", price: ANCHORS_LICENCE.toString(), offered: true, held: false, holder: stack.payer.address });
    const before = await stack.usdcBalance(stack.payer.address);
    const refused = await glassbox(["licence", "buy", "acme/anchors"]);
    expect(refused.code).toBe(5);
    expect(refused.json.error.message).toMatch(/nothing agreed to pay it/);
    const tooCheap = await glassbox(["licence", "buy", "acme/anchors", "--max-price", "699"]);
    expect(tooCheap.json.error.code).toBe("LICENCE_TOO_EXPENSIVE");
    expect(await stack.usdcBalance(stack.payer.address)).toBe(before);
  });

  it("buys a licence once, credited to the maintainer exact to the base unit", async () => {
    const payerBefore = await stack.usdcBalance(stack.payer.address);
    const maintainerBefore = await claimable(stack.maintainer.address);
    const bought = await glassbox(["licence", "buy", "acme/anchors", "--yes"]);
    expect(bought.code, bought.stderr).toBe(0);
    expect(bought.json).toMatchObject({ package: "acme/anchors", version: "1.0.0", price: ANCHORS_LICENCE.toString(), holder: stack.payer.address });
    expect(await stack.usdcBalance(stack.payer.address)).toBe(payerBefore - ANCHORS_LICENCE);
    expect((await claimable(stack.maintainer.address)) - maintainerBefore).toBe(ANCHORS_LICENCE);
    const again = await glassbox(["licence", "buy", "acme/anchors", "--yes"]);
    expect(again.json.error.code).toBe("ALREADY_LICENSED");
    expect(await stack.usdcBalance(stack.payer.address)).toBe(payerBefore - ANCHORS_LICENCE);
  });

  it("serves the licensed bytes (exactly the published component) to the holder's signed request only", async () => {
    const response = await download(anchors.versionId, stack.payer);
    expect(response.status).toBe(200);
    expect(sha256Hex(new Uint8Array(await response.arrayBuffer()))).toBe(anchors.componentHash);

    const now = BigInt(Math.floor(Date.now() / 1000));
    expect(await errorOf(await download(anchors.versionId, stack.payer, { expiresAt: now - 1n }))).toMatchObject({ status: 401, code: "LICENCE_REQUEST_EXPIRED" });
    expect(await errorOf(await download(anchors.versionId, stack.payer, { expiresAt: now + 3_600n }))).toMatchObject({ status: 401, code: "LICENCE_REQUEST_EXPIRED" });
    // A signature made for another executor, or for another version, recovers to an address with no licence.
    const elsewhere = await download(anchors.versionId, stack.payer, { executorAddress: stack.maintainer.address });
    expect(await errorOf(elsewhere)).toMatchObject({ status: 403, code: "LICENCE_REQUIRED" });
    const otherVersion = await download(anchors.versionId, stack.payer, { signedVersion: slug.versionId });
    expect(await errorOf(otherVersion)).toMatchObject({ status: 403, code: "LICENCE_REQUIRED" });
    // A stranger's own signature: no licence.
    const stranger = privateKeyToAccount(generatePrivateKey());
    expect(await errorOf(await download(anchors.versionId, stranger))).toMatchObject({ status: 403, code: "LICENCE_REQUIRED" });
    const malformed = await fetch(`${executor.url}${ROUTES.licensedComponent(anchors.versionId)}`, { headers: { [LICENCE_SIGNATURE_HEADER]: "0x1234", [LICENCE_EXPIRES_HEADER]: (now + 60n).toString() } });
    expect(await errorOf(malformed)).toMatchObject({ status: 401, code: "LICENCE_SIGNATURE_INVALID" });
  });

  it("needs a licence for the dependency too before a composed capability runs locally", async () => {
    const result = await glassbox(["run", "acme/anchors", "anchor", "Hello World"]);
    expect(result.code).toBe(5);
    expect(result.json.error.code).toBe("LICENCE_REQUIRED");
    expect(result.json.error.message).toMatch(/acme\/anchors@1\.0\.0 depends on acme\/slug@\^1\.0\.0: running it locally needs a licence/);
    expect(result.json.error.hint).toBe(`acme/slug@1.0.0 offers one for ${SLUG_LICENCE} USDC base units: glassbox licence buy acme/slug@1.0.0`);
  });

  it("runs the composed capability locally once both are licensed, with no executor call and nothing paid per call", async () => {
    const maintainerBefore = await claimable(stack.maintainer.address);
    expect((await glassbox(["licence", "buy", "acme/slug", "--max-price", SLUG_LICENCE.toString()])).code).toBe(0);
    expect((await claimable(stack.maintainer.address)) - maintainerBefore).toBe(SLUG_LICENCE);
    const payerBefore = await stack.usdcBalance(stack.payer.address);

    const result = await glassbox(["run", "acme/anchors", "anchor", "Hello World"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ package: "acme/anchors", version: "1.0.0", function: "anchor", result: "#hello-world", local: true });
    expect(result.json.dependencies).toEqual([{ ref: "acme/slug@1.0.0", calls: 1, fuel: expect.any(Number) }]);
    expect(result.json.fuelUsed).toBeGreaterThan(0);
    expect(await stack.usdcBalance(stack.payer.address)).toBe(payerBefore);
    // Both components are kept (by their published hash) for later runs.
    const kept = await readdir(path.join(home, "components"));
    expect(kept).toEqual(expect.arrayContaining([`${anchors.componentHash.slice(2)}.wasm`, `${slug.componentHash.slice(2)}.wasm`]));
  });

  it("keeps a licence valid after a yank: the holder still downloads and runs it, its yanked dependency linked", async () => {
    await stack.yank(anchors.versionId);
    await stack.yank(slug.versionId);
    const response = await download(anchors.versionId, stack.payer);
    expect(response.status).toBe(200);
    const result = await glassbox(["run", "acme/anchors@1.0.0", "anchor", "A B"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json.result).toBe("#a-b");
  });
});
