import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAddress, type Hex } from "viem";
import { localUsdcAbi } from "../../sdk/abi.ts";
import { canonicalJson } from "../../sdk/canonical-json.ts";
import { sha256Hex } from "../../sdk/ids.ts";
import { PAYER_SIGNATURE_HEADER, receiptResultMessage } from "../../sdk/protocol.ts";
import { receiptFromJson, recoverReceiptSigner, type ReceiptJson } from "../../sdk/receipt.ts";
import { startExecutor, type RunningExecutor } from "../../executor/service.ts";
import { buildCalc, TestStack, type CalcArtifacts, type Published } from "./helpers/stack.ts";
import { challengeOf, craftPayment, decodePaymentResponseHeader, payingFetch } from "./helpers/x402.ts";

const FEE = 500n;
const PRICE = 1_000n;

let stack: TestStack;
let calc: CalcArtifacts;
let executor: RunningExecutor;
let paid: Published;
let paid11: Published;
let free: Published;
let fuel: Published;

async function post(path: string, body: string | unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${executor.url}${path}`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });
}

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string; hint?: string; details?: Record<string, unknown> }> {
  const text = await response.text();
  const body = JSON.parse(text) as { error?: { code: string; message: string; hint?: string; details?: Record<string, unknown> } };
  if (!body.error) throw new Error(`expected an error body, got ${response.status} ${text}`);
  expect(body.error.message.length).toBeGreaterThan(10);
  return { status: response.status, ...body.error! };
}

beforeAll(async () => {
  calc = await buildCalc();
  stack = await TestStack.start();
  paid = await stack.publish({ name: "acme/calc", version: "1.0.0", mode: "per-call", price: PRICE, artifacts: calc });
  paid11 = await stack.publish({ name: "acme/calc", version: "1.1.0", mode: "per-call", price: PRICE, artifacts: calc });
  free = await stack.publish({ name: "acme/calc-free", version: "1.0.0", mode: "free", artifacts: calc });
  fuel = await stack.publish({ name: "acme/calc-fuel", version: "1.0.0", mode: "per-fuel", price: 100n, fuelPricePerMillion: 50n, artifacts: calc });
  await stack.fundOperator(1_000_000n);
  executor = await startExecutor({
    rpcUrl: stack.chain.rpcUrl,
    deployment: stack.deployment,
    operatorKey: stack.operatorKey,
    dataDir: await stack.tempDir(),
    port: 0,
    bond: 1_000_000n,
    settleIntervalMs: 3_600_000,
    register: true,
    fee: FEE,
    logLevel: "warn",
    limits: { fuel: 20_000_000 },
  });
  await stack.uploadAll(executor.url, executor.operator, calc);
});

afterAll(async () => {
  await executor?.close();
  await stack?.close();
});

describe("discovery", () => {
  it("reports health and info with the on-chain registration", async () => {
    const health = await (await fetch(`${executor.url}/v1/health`)).json();
    expect(health).toMatchObject({ ok: true, chainReachable: true, registered: true, bond: "1000000" });
    const info = (await (await fetch(`${executor.url}/v1/info`)).json()) as Record<string, unknown> & { packages: { name: string; version: string }[] };
    expect(info).toMatchObject({ operator: stack.operator.address, chainId: 31337, fee: "500", registered: true, contracts: stack.deployment.contracts });
    expect(info.packages.map((p) => `${p.name}@${p.version}`).sort()).toEqual(["acme/calc-free@1.0.0", "acme/calc-fuel@1.0.0", "acme/calc@1.0.0", "acme/calc@1.1.0"]);
  });

  it("lets browsers on any origin call, pay and upload (CORS), and read the x402 headers", async () => {
    const preflight = await fetch(`${executor.url}/v1/call/acme/calc@1.0.0/add`, {
      method: "OPTIONS",
      headers: { origin: "https://catalog.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type,payment-signature" },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("payment-signature");
    const challenge = await post("/v1/call/acme/calc@1.0.0/add", [1, 2], { origin: "https://catalog.example" });
    expect(challenge.status).toBe(402);
    expect(challenge.headers.get("access-control-expose-headers")).toContain("PAYMENT-REQUIRED");
  });

  it("answers unknown routes with a JSON 404", async () => {
    const error = await errorOf(await fetch(`${executor.url}/v2/nothing`));
    expect(error).toMatchObject({ status: 404, code: "NOT_FOUND" });
  });
});

describe("blob store", () => {
  it("serves WIT, tests and the manifest publicly but never the component", async () => {
    const wit = await fetch(`${executor.url}/v1/blobs/${paid.witHash}`);
    expect(wit.status).toBe(200);
    expect(await wit.text()).toBe(calc.wit);
    const tests = await fetch(`${executor.url}/v1/blobs/${paid.testsHash}`);
    expect(await tests.text()).toBe(calc.tests);
    const manifest = await fetch(`${executor.url}/v1/blobs/${paid.manifestHash}`);
    expect(await manifest.text()).toBe(paid.manifestText);
    const component = await errorOf(await fetch(`${executor.url}/v1/blobs/${paid.componentHash}`));
    expect(component).toMatchObject({ status: 403, code: "BLOB_NOT_PUBLIC" });
  });

  it("refuses uploads whose bytes do not match the hash", async () => {
    const response = await stack.upload(executor.url, executor.operator, "not the wit", stack.maintainer, paid.witHash);
    expect(await errorOf(response)).toMatchObject({ status: 400, code: "BLOB_HASH_MISMATCH" });
  });

  it("refuses blobs no version registered", async () => {
    const response = await stack.upload(executor.url, executor.operator, "some unregistered bytes");
    expect(await errorOf(response)).toMatchObject({ status: 404, code: "BLOB_NOT_REGISTERED" });
  });

  it("refuses unsigned uploads and uploads signed by someone other than the owner", async () => {
    const unsigned = await fetch(`${executor.url}/v1/blobs/${paid.witHash}`, { method: "PUT", body: calc.wit });
    expect(await errorOf(unsigned)).toMatchObject({ status: 401, code: "UPLOAD_UNAUTHORIZED" });
    const stranger = await stack.upload(executor.url, executor.operator, calc.wit, stack.stranger);
    expect(await errorOf(stranger)).toMatchObject({ status: 403, code: "UPLOAD_UNAUTHORIZED" });
  });

  it("refuses a component whose WIT was not uploaded yet, and a malformed hash", async () => {
    const variant = await buildCalc("no-wit");
    await stack.publish({ name: "acme/calc-nowit", version: "1.0.0", mode: "free", artifacts: { ...variant, wit: `${calc.wit}\n// another spec\n` } });
    const error = await errorOf(await stack.upload(executor.url, executor.operator, variant.component));
    expect(error).toMatchObject({ status: 409, code: "COMPONENT_REJECTED" });
    expect(error.hint).toContain("/v1/blobs/0x");
    const bad = await errorOf(await fetch(`${executor.url}/v1/blobs/xyz`, { method: "PUT", body: "x" }));
    expect(bad).toMatchObject({ status: 400, code: "INVALID_BLOB" });
  });

  it("rejects a component that does not implement the published WIT", async () => {
    const variant = await buildCalc("liar");
    const wrongWit = calc.wit.replace("add: func(a: s32, b: s32) -> s32;", "add: func(a: s32, b: s32, c: s32) -> s32;");
    await stack.publish({ name: "acme/calc-liar", version: "1.0.0", mode: "free", artifacts: { ...variant, wit: wrongWit } });
    expect((await stack.upload(executor.url, executor.operator, wrongWit)).status).toBe(201);
    const error = await errorOf(await stack.upload(executor.url, executor.operator, variant.component));
    expect(error).toMatchObject({ status: 422, code: "COMPONENT_REJECTED" });
    expect(error.message).toContain("add");
    // Not stored, not callable.
    expect(await errorOf(await post("/v1/call/acme/calc-liar@1.0.0/add", [1, 2, 3]))).toMatchObject({ status: 404, code: "COMPONENT_NOT_AVAILABLE" });
  });
});

describe("blob store: test vectors", () => {
  it("rejects a component that fails its published test vectors", async () => {
    const variant = await buildCalc("wrong-tests");
    const tests = variant.tests.replace('"expect": { "ok": 5 }', '"expect": { "ok": 6 }');
    await stack.publish({ name: "acme/calc-wrong", version: "1.0.0", mode: "free", artifacts: { ...variant, tests } });
    expect((await stack.upload(executor.url, executor.operator, variant.wit)).status).toBe(201);
    expect((await stack.upload(executor.url, executor.operator, tests)).status).toBe(201);
    const error = await errorOf(await stack.upload(executor.url, executor.operator, variant.component));
    expect(error).toMatchObject({ status: 422, code: "COMPONENT_REJECTED", details: { runtimeCode: "tests_failed" } });
    expect(error.message).toContain("1 of its 3");
  });
});

describe("free calls and bad input", () => {
  it("runs a free version without payment (positional and named arguments)", async () => {
    const positional = await post("/v1/call/acme/calc-free@1.0.0/add", [2, 3]);
    expect(positional.status).toBe(200);
    const body = (await positional.json()) as { result: unknown; fuelUsed: string };
    expect(body.result).toBe(5);
    expect(BigInt(body.fuelUsed)).toBeGreaterThan(0n);
    const named = await post("/v1/call/acme/calc-free@latest/greet", { name: "ada" });
    expect(await named.json()).toMatchObject({ result: "hello, ada" });
  });

  it("400 on malformed JSON", async () => {
    expect(await errorOf(await post("/v1/call/acme/calc-free@1.0.0/add", "[2, 3"))).toMatchObject({ status: 400, code: "MALFORMED_JSON" });
  });

  it("404 on unknown package, version or function", async () => {
    expect(await errorOf(await post("/v1/call/acme/nothing@1.0.0/add", [1, 2]))).toMatchObject({ status: 404, code: "UNKNOWN_PACKAGE" });
    expect(await errorOf(await post("/v1/call/acme/calc-free@9.9.9/add", [1, 2]))).toMatchObject({ status: 404, code: "UNKNOWN_VERSION" });
    expect(await errorOf(await post("/v1/call/acme/calc-free@1.0.0/mul", [1, 2]))).toMatchObject({ status: 404, code: "UNKNOWN_FUNCTION" });
  });

  it("400 on malformed references", async () => {
    expect(await errorOf(await post("/v1/call/ACME/calc@1.0.0/add", [1, 2]))).toMatchObject({ status: 400, code: "INVALID_REFERENCE" });
    expect(await errorOf(await post("/v1/call/acme/calc@one/add", [1, 2]))).toMatchObject({ status: 400, code: "INVALID_REFERENCE" });
  });

  it("400 on wrong argument types, naming the parameter, before any payment is asked", async () => {
    const wrongType = await errorOf(await post("/v1/call/acme/calc@1.0.0/add", [1, "two"]));
    expect(wrongType).toMatchObject({ status: 400, code: "INVALID_ARGUMENTS", details: { parameter: "b" } });
    expect(wrongType.message).toContain("b");
    const missing = await errorOf(await post("/v1/call/acme/calc@1.0.0/add", { a: 1 }));
    expect(missing).toMatchObject({ status: 400, code: "INVALID_ARGUMENTS", details: { parameter: "b" } });
    const count = await errorOf(await post("/v1/call/acme/calc@1.0.0/add", [1]));
    expect(count).toMatchObject({ status: 400, code: "INVALID_ARGUMENTS" });
    const scalar = await errorOf(await post("/v1/call/acme/calc@1.0.0/add", "42"));
    expect(scalar).toMatchObject({ status: 400, code: "INVALID_ARGUMENTS" });
  });

  it("413 on oversized bodies", async () => {
    const big = JSON.stringify(["x".repeat(2 * 1024 * 1024)]);
    expect(await errorOf(await post("/v1/call/acme/calc-free@1.0.0/greet", big))).toMatchObject({ status: 413, code: "BODY_TOO_LARGE" });
  });

  it("422 for a trapping component, out of fuel, and it stays healthy", async () => {
    expect(await errorOf(await post("/v1/call/acme/calc-free@1.0.0/boom", []))).toMatchObject({ status: 422, code: "COMPONENT_TRAP" });
    expect(await errorOf(await post("/v1/call/acme/calc-free@1.0.0/spin", [100_000_000]))).toMatchObject({ status: 422, code: "OUT_OF_FUEL" });
    expect(await errorOf(await post("/v1/call/acme/calc-free@1.0.0/hog", [300]))).toMatchObject({ status: 422, code: "OUT_OF_MEMORY" });
    const after = await post("/v1/call/acme/calc-free@1.0.0/add", [40, 2]);
    expect(await after.json()).toMatchObject({ result: 42 });
  });
});

describe("paid calls over x402", () => {
  it("answers 402 with a standard PAYMENT-REQUIRED challenge: price + fee, USDC, payTo the executor (channels first, exact second)", async () => {
    const { response, required, requirement } = await challengeOf(`${executor.url}/v1/call/acme/calc@1.0.0/add`, [1, 2]);
    expect(response.status).toBe(402);
    expect(required.x402Version).toBe(2);
    expect(requirement).toMatchObject({
      scheme: "exact",
      network: "eip155:31337",
      amount: (PRICE + FEE).toString(),
      asset: stack.deployment.contracts.usdc,
      payTo: stack.operator.address,
      extra: { name: "USD Coin", version: "2" },
    });
    expect(required.accepts.map((a) => a.scheme)).toEqual(["batch-settlement", "exact"]);
    expect(required.resource.url).toContain("/v1/call/acme/calc@1.0.0/add");
    const body = (await response.json()) as { error: { code: string; message: string }; accepts: unknown[] };
    expect(body.error.code).toBe("PAYMENT_REQUIRED");
    expect(body.error.message).toContain("1500");
    expect(body.accepts).toEqual(required.accepts);
  });

  it("an unmodified @x402/fetch client pays (exact), gets the result and a signed receipt; the royalty settles on-chain", async () => {
    const pay = payingFetch(stack.payer, stack.client, stack.deployment.contracts.usdc, 31337);
    const before = await stack.usdcBalance(stack.payer.address);
    const maintainerBefore = await stack.settlementBalance(stack.maintainer.address);
    const response = await pay(`${executor.url}/v1/call/acme/calc@latest/add`, { method: "POST", body: JSON.stringify([20, 22]), headers: { "content-type": "application/json" } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { result: number; fuelUsed: string; receipt: ReceiptJson; signature: Hex; receiptId: Hex; payment: { scheme: string; transaction: Hex } };
    expect(body.result).toBe(42);
    expect(body.payment.scheme).toBe("exact");
    const receipt = receiptFromJson(body.receipt);
    expect(receipt).toMatchObject({ versionId: paid11.versionId, functionName: "add", payer: stack.payer.address, executor: stack.operator.address, royalty: PRICE, executorFee: FEE });
    expect(receipt.inputHash).toBe(sha256Hex(canonicalJson([20, 22])));
    expect(receipt.outputHash).toBe(sha256Hex(canonicalJson(42)));
    expect(await recoverReceiptSigner(receipt, body.signature, 31337, stack.deployment.contracts.settlement)).toBe(stack.operator.address);

    const paymentResponse = decodePaymentResponseHeader(response.headers.get("PAYMENT-RESPONSE")!);
    expect(paymentResponse).toMatchObject({ success: true, transaction: body.payment.transaction, network: "eip155:31337" });
    expect(receipt.paymentRef).toBe(body.payment.transaction);
    expect(await stack.usdcBalance(stack.payer.address)).toBe(before - PRICE - FEE);

    const receiptUrl = `${executor.url}/v1/receipts/${body.receiptId}`;
    expect(((await (await fetch(receiptUrl)).json()) as { status: string }).status).toBe("unsettled");
    await executor.drain();
    expect(await stack.settlementBalance(stack.maintainer.address)).toBe(maintainerBefore + PRICE);
    const journaled = (await (await fetch(receiptUrl)).json()) as { status: string; txHash: Hex; resultAvailable: boolean; result?: unknown };
    expect(journaled).toMatchObject({ status: "settled", resultAvailable: true });
    expect(journaled.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(journaled).not.toHaveProperty("result");

    // The result is journaled with the receipt: the payer (only) can read it back, e.g. after a dropped connection.
    const asPayer = await fetch(receiptUrl, {
      headers: { [PAYER_SIGNATURE_HEADER]: await stack.payer.signMessage({ message: receiptResultMessage(body.receiptId) }) },
    });
    expect(((await asPayer.json()) as { result: unknown }).result).toBe(42);
    const asOther = await fetch(receiptUrl, {
      headers: { [PAYER_SIGNATURE_HEADER]: await stack.maintainer.signMessage({ message: receiptResultMessage(body.receiptId) }) },
    });
    expect((await errorOf(asOther)).code).toBe("NOT_THE_PAYER");
  });

  it("per-fuel versions quote the exact metered amount and settle", async () => {
    const { requirement } = await challengeOf(`${executor.url}/v1/call/acme/calc-fuel@1.0.0/spin`, [1000]);
    const pay = payingFetch(stack.payer, stack.client, stack.deployment.contracts.usdc, 31337);
    const response = await pay(`${executor.url}/v1/call/acme/calc-fuel@1.0.0/spin`, { method: "POST", body: "[1000]" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { fuelUsed: string; receipt: ReceiptJson };
    const fuelUsed = BigInt(body.fuelUsed);
    const royalty = 100n + (fuelUsed * 50n + 999_999n) / 1_000_000n;
    expect(BigInt(requirement.amount)).toBe(royalty + FEE);
    expect(BigInt(body.receipt.royalty)).toBe(royalty);
    expect(BigInt(body.receipt.fuel)).toBe(fuelUsed);
  });

  it("402 PAYMENT_REPLAYED when the same payment is sent again, even concurrently", async () => {
    const { required } = await challengeOf(`${executor.url}/v1/call/acme/calc@1.0.0/add`, [1, 1]);
    const header = await craftPayment(stack.payer, required, { chainId: 31337 });
    const first = await post("/v1/call/acme/calc@1.0.0/add", [1, 1], { "PAYMENT-SIGNATURE": header });
    expect(first.status).toBe(200);
    const again = await post("/v1/call/acme/calc@1.0.0/add", [1, 1], { "PAYMENT-SIGNATURE": header });
    const error = await errorOf(again);
    expect(error).toMatchObject({ status: 402, code: "PAYMENT_REPLAYED" });
    expect(again.headers.get("PAYMENT-REQUIRED")).toBeTruthy();

    const { required: required2 } = await challengeOf(`${executor.url}/v1/call/acme/calc@1.0.0/add`, [1, 1]);
    const header2 = await craftPayment(stack.payer, required2, { chainId: 31337 });
    const racing = await Promise.all(Array.from({ length: 4 }, () => post("/v1/call/acme/calc@1.0.0/add", [1, 1], { "PAYMENT-SIGNATURE": header2 })));
    expect(racing.map((r) => r.status).sort()).toEqual([200, 402, 402, 402]);
  });

  it("402 PAYMENT_EXPIRED for an expired authorization", async () => {
    const { required } = await challengeOf(`${executor.url}/v1/call/acme/calc@1.0.0/add`, [1, 1]);
    const header = await craftPayment(stack.payer, required, { chainId: 31337, validBefore: BigInt(Math.floor(Date.now() / 1000) - 60) });
    expect(await errorOf(await post("/v1/call/acme/calc@1.0.0/add", [1, 1], { "PAYMENT-SIGNATURE": header }))).toMatchObject({ status: 402, code: "PAYMENT_EXPIRED" });
  });

  it("402 PAYMENT_UNDERFUNDED when the payer lacks the USDC", async () => {
    const { required } = await challengeOf(`${executor.url}/v1/call/acme/calc@1.0.0/add`, [1, 1]);
    const header = await craftPayment(stack.stranger, required, { chainId: 31337 });
    expect(await errorOf(await post("/v1/call/acme/calc@1.0.0/add", [1, 1], { "PAYMENT-SIGNATURE": header }))).toMatchObject({ status: 402, code: "PAYMENT_UNDERFUNDED" });
  });

  it("402 PAYMENT_WRONG_AMOUNT for an authorization of another amount", async () => {
    const { required } = await challengeOf(`${executor.url}/v1/call/acme/calc@1.0.0/add`, [1, 1]);
    const header = await craftPayment(stack.payer, required, { chainId: 31337, value: PRICE + FEE - 1n });
    expect(await errorOf(await post("/v1/call/acme/calc@1.0.0/add", [1, 1], { "PAYMENT-SIGNATURE": header }))).toMatchObject({ status: 402, code: "PAYMENT_WRONG_AMOUNT" });
  });

  it("402 PAYMENT_WRONG_PAYEE for an authorization paying another address", async () => {
    const { required } = await challengeOf(`${executor.url}/v1/call/acme/calc@1.0.0/add`, [1, 1]);
    const header = await craftPayment(stack.payer, required, { chainId: 31337, to: stack.stranger.address });
    expect(await errorOf(await post("/v1/call/acme/calc@1.0.0/add", [1, 1], { "PAYMENT-SIGNATURE": header }))).toMatchObject({ status: 402, code: "PAYMENT_WRONG_PAYEE" });
  });

  it("402 PAYMENT_INVALID for a garbage header or a forged signature", async () => {
    expect(await errorOf(await post("/v1/call/acme/calc@1.0.0/add", [1, 1], { "PAYMENT-SIGNATURE": "!!!" }))).toMatchObject({ status: 402, code: "PAYMENT_INVALID" });
    const { required } = await challengeOf(`${executor.url}/v1/call/acme/calc@1.0.0/add`, [1, 1]);
    // Signed by the stranger but claiming to be from the payer.
    const forged = await craftPayment(stack.stranger, required, { chainId: 31337 });
    const decoded = JSON.parse(Buffer.from(forged, "base64").toString());
    decoded.payload.authorization.from = stack.payer.address;
    const header = Buffer.from(JSON.stringify(decoded)).toString("base64");
    expect(await errorOf(await post("/v1/call/acme/calc@1.0.0/add", [1, 1], { "PAYMENT-SIGNATURE": header }))).toMatchObject({ status: 402, code: "PAYMENT_INVALID" });
  });

  it("never charges a failed run: a paid call that traps is 422 and the payer keeps the money", async () => {
    const before = await stack.usdcBalance(stack.payer.address);
    const { required } = await challengeOf(`${executor.url}/v1/call/acme/calc@1.0.0/boom`, []);
    const header = await craftPayment(stack.payer, required, { chainId: 31337 });
    const response = await post("/v1/call/acme/calc@1.0.0/boom", [], { "PAYMENT-SIGNATURE": header });
    expect(await errorOf(response)).toMatchObject({ status: 422, code: "COMPONENT_TRAP" });
    const nonce = JSON.parse(Buffer.from(header, "base64").toString()).payload.authorization.nonce as Hex;
    expect(await stack.client.readContract({ address: stack.deployment.contracts.usdc, abi: localUsdcAbi, functionName: "authorizationState", args: [stack.payer.address, nonce] })).toBe(false);
    expect(await stack.usdcBalance(stack.payer.address)).toBe(before);
    // The authorization was never used: sending it again runs again (and fails again, still free).
    expect(await errorOf(await post("/v1/call/acme/calc@1.0.0/boom", [], { "PAYMENT-SIGNATURE": header }))).toMatchObject({ status: 422, code: "COMPONENT_TRAP" });
    expect(await stack.usdcBalance(stack.payer.address)).toBe(before);
  });
});

describe("versions", () => {
  it("@latest resolves to the newest non-yanked version; a yanked version answers 410", async () => {
    const next = await stack.publish({ name: "acme/calc", version: "1.2.0", mode: "per-call", price: PRICE, artifacts: calc });
    await executor.registry.sync(); // the poller would see it within pollMs
    const challenge = await challengeOf(`${executor.url}/v1/call/acme/calc@latest/add`, [1, 1]);
    expect(challenge.required.resource.description).toContain("acme/calc@1.2.0");
    expect(next.versionId).toMatch(/^0x/);
    await stack.yank(next.versionId);
    await executor.registry.sync();
    const afterYank = await challengeOf(`${executor.url}/v1/call/acme/calc@latest/add`, [1, 1]);
    expect(afterYank.required.resource.description).toContain("acme/calc@1.1.0");
    expect(await errorOf(await post("/v1/call/acme/calc@1.2.0/add", [1, 1]))).toMatchObject({ status: 410, code: "VERSION_YANKED" });
  });

  it("trusts the chain for prices: a different executor fee changes the quote", async () => {
    const { requirement } = await challengeOf(`${executor.url}/v1/call/acme/calc@1.0.0/add`, [1, 1]);
    expect(getAddress(requirement.payTo)).toBe(stack.operator.address);
    expect(requirement.amount).toBe((PRICE + FEE).toString());
  });
});

describe("wall-clock limit", () => {
  it("stops a call that runs past the timeout with 422 TIMEOUT and keeps serving", async () => {
    const slow = await startExecutor({
      rpcUrl: stack.chain.rpcUrl,
      deployment: stack.deployment,
      operatorKey: stack.operatorKey,
      dataDir: await stack.tempDir(),
      port: 0,
      logLevel: "warn",
      limits: { fuel: 2_000_000_000, timeoutMs: 100 },
    });
    try {
      await stack.uploadAll(slow.url, slow.operator, calc);
      const response = await fetch(`${slow.url}/v1/call/acme/calc-free@1.0.0/spin`, { method: "POST", body: "[2000000000]" });
      expect(await errorOf(response)).toMatchObject({ status: 422, code: "TIMEOUT" });
      const after = await fetch(`${slow.url}/v1/call/acme/calc-free@1.0.0/add`, { method: "POST", body: "[1, 1]" });
      expect(await after.json()).toMatchObject({ result: 2 });
    } finally {
      await slow.close();
    }
  });
});
