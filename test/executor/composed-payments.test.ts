/**
 * Composed calls paid on payments v2, end to end against a real chain, the real executor and real
 * components: a chain of two dependencies (toc -> anchors -> slug) plus a fork of anchors that depends on
 * slug too. Each is called and paid with the unmodified x402 client (exact and batch-settlement), the
 * receipts are checked with the SDK, the royalties are settled, and every balance is checked to the base
 * unit. Then the refusals: a dependency above the declared maximum, a yanked dependency, and an overdue
 * composed receipt slashed out of the bond (which pays every dependency version).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestClient, http, parseEventLogs, type Hex, type LocalAccount } from "viem";
import type { RunningExecutor } from "../../executor/service.ts";
import { capabilityRegistryAbi, settlementAbi } from "../../sdk/abi.ts";
import { createChainClients } from "../../sdk/client/chain.ts";
import { readReceiptChainFacts, receiptProblems } from "../../sdk/client/receipt-check.ts";
import type { CallResponseBody, InfoBody } from "../../sdk/protocol.ts";
import { receiptFromJson, type Receipt } from "../../sdk/receipt.ts";
import { ANCHORS_WIT, SLUG_WIT, TOC_WIT, buildAnchorsComponent, buildSlugComponent, buildTocComponent } from "../fixtures/components/fixtures.ts";
import { devAccount } from "../helpers/chain.ts";
import { callJson, errorJson, post, startPaidExecutor } from "./helpers/paid-stack.ts";
import { TestStack, type CalcArtifacts, type Published } from "./helpers/stack.ts";
import { challengeOf, channelFetch, payingFetch } from "./helpers/x402.ts";

const FEE = 100n;
const BOND = 10_000_000n;
const DEPOSIT = 100_000n;
const SLUG = { price: 10n, fuelPricePerMillion: 2_000n };
const ANCHORS_PRICE = 300n;
const TOC_PRICE = 500n;
const FORK_PRICE = 400n;
const FORK_UPSTREAM_BPS = 2_500;

const slugTests = JSON.stringify({ world: "slug-world", interface: "slug", cases: [{ name: "slugify", function: "slugify", args: ["Hello World"], expect: { ok: "hello-world" } }] });
const anchorsTests = JSON.stringify({ world: "anchors-world", interface: "anchors", cases: [{ name: "anchor", function: "anchor", args: ["Hello World"], expect: { ok: "#hello-world" } }] });
const tocTests = JSON.stringify({ world: "toc-world", interface: "toc", cases: [{ name: "toc", function: "toc", args: [["A"]], expect: { ok: "- [A](#a)" } }] });

// Every maintainer is its own account, so each balance is one version's (or one fork chain's) credit.
const slugOwner = devAccount(15);
const anchorsOwner = devAccount(16);
const tocOwner = devAccount(17);
const forkOwner = devAccount(18);

let stack: TestStack;
let executor: RunningExecutor;
let slug: CalcArtifacts;
let anchors: CalcArtifacts;
let toc: CalcArtifacts;
let versions: { slug: Published; anchors: Published; toc: Published; fork: Published };

async function anchorsVariant(variant: string): Promise<CalcArtifacts> {
  return { wit: ANCHORS_WIT, component: (await buildAnchorsComponent(variant)).bytes, tests: anchorsTests };
}

/** WIT, tests and component, each signed by the package owner; throws on a refusal. */
async function upload(to: RunningExecutor, artifacts: CalcArtifacts, owner: LocalAccount): Promise<void> {
  for (const bytes of [artifacts.wit, artifacts.tests, artifacts.component]) {
    const response = await stack.upload(to.url, to.operator, bytes, owner);
    if (response.status !== 201) throw new Error(`upload refused: ${response.status} ${await response.text()}`);
  }
}

function callUrl(to: RunningExecutor, ref: string, fn: string): string {
  return `${to.url}/v1/call/${ref}/${fn}`;
}

/** price x calls + ceil(fuel x fuelPricePerMillion / 1e6): written out here, apart from sdk/pricing.ts. */
function slugRoyalty(calls: number, fuel: bigint): bigint {
  return SLUG.price * BigInt(calls) + (fuel * SLUG.fuelPricePerMillion + 999_999n) / 1_000_000n;
}

function lineOf(receipt: Receipt, versionId: Hex) {
  const line = receipt.dependencies.find((d) => d.versionId === versionId);
  if (!line) throw new Error(`receipt has no line for ${versionId}: ${JSON.stringify(receipt.dependencies.map((d) => d.versionId))}`);
  return line;
}

function total(receipt: Receipt): bigint {
  return receipt.dependencies.reduce((sum, d) => sum + d.royalty, receipt.royalty);
}

async function expectVerifiedReceipt(body: CallResponseBody, versionId: Hex, fn: string, payer: LocalAccount, args: unknown[]): Promise<Receipt> {
  const receipt = receiptFromJson(body.receipt!);
  const chain = createChainClients(stack.chain.rpcUrl, stack.deployment.chainId);
  const facts = await readReceiptChainFacts(chain, stack.deployment, receipt);
  const problems = await receiptProblems(receipt, body.signature!, { versionId, functionName: fn, payer: payer.address, args, result: body.result, payee: executor.operator, charged: BigInt(body.payment!.amount) }, facts, stack.deployment);
  expect(problems).toEqual([]);
  return receipt;
}

beforeAll(async () => {
  const [s, a, t] = await Promise.all([buildSlugComponent(), buildAnchorsComponent(), buildTocComponent()]);
  slug = { wit: SLUG_WIT, component: s.bytes, tests: slugTests };
  anchors = { wit: ANCHORS_WIT, component: a.bytes, tests: anchorsTests };
  toc = { wit: TOC_WIT, component: t.bytes, tests: tocTests };
  stack = await TestStack.start();
  const slugV = await stack.publish({ name: "sluggers/slug", version: "1.0.0", mode: "per-fuel", ...SLUG, artifacts: slug, world: "slug-world", interfaceName: "slug" }, slugOwner);
  const anchorsV = await stack.publish(
    { name: "anchorage/anchors", version: "1.0.0", mode: "per-call", price: ANCHORS_PRICE, artifacts: anchors, world: "anchors-world", interfaceName: "anchors", dependencies: [{ package: "sluggers/slug", version: "^1.0.0", maxRoyaltyPerCall: "1000000" }] },
    anchorsOwner,
  );
  const tocV = await stack.publish(
    { name: "tocs/toc", version: "1.0.0", mode: "per-call", price: TOC_PRICE, artifacts: toc, world: "toc-world", interfaceName: "toc", dependencies: [{ package: "anchorage/anchors", version: "~1.0.0", maxRoyaltyPerCall: ANCHORS_PRICE.toString() }] },
    tocOwner,
  );
  await stack.confirm(
    await stack.wallet(forkOwner).writeContract({ address: stack.deployment.contracts.registry, abi: capabilityRegistryAbi, functionName: "registerFork", args: ["forker/anchors", anchorsV.versionId, FORK_UPSTREAM_BPS, 0] }),
  );
  const fork = await anchorsVariant("fork");
  const forkV = await stack.publish(
    { name: "forker/anchors", version: "1.0.0", mode: "per-call", price: FORK_PRICE, artifacts: fork, world: "anchors-world", interfaceName: "anchors", dependencies: [{ package: "sluggers/slug", version: "^1.0.0", maxRoyaltyPerCall: "1000000" }] },
    forkOwner,
  );
  versions = { slug: slugV, anchors: anchorsV, toc: tocV, fork: forkV };
  executor = await startPaidExecutor(stack, { fee: FEE, bond: BOND, operatorIndex: 5 });
  await upload(executor, slug, slugOwner);
  await upload(executor, anchors, anchorsOwner);
  await upload(executor, toc, tocOwner);
  await upload(executor, fork, forkOwner);
}, 300_000);

afterAll(async () => {
  await executor?.close();
  await stack?.close();
});

describe("composed calls paid with the stock x402 client, settled to the base unit", () => {
  it("a chain of two dependencies plus a fork: one receipt per call, one line per version, every balance exact", async () => {
    const exactPayer = devAccount(11);
    const channelPayer = devAccount(12);
    await stack.mint(exactPayer.address, 1_000_000n);
    await stack.mint(channelPayer.address, 1_000_000n);
    expect(await stack.bondOf(executor.operator)).toBe(BOND);
    const operatorBefore = await stack.usdcBalance(executor.operator);
    const exactBefore = await stack.usdcBalance(exactPayer.address);
    const channelBefore = await stack.usdcBalance(channelPayer.address);
    const creditsBefore = await Promise.all([slugOwner, anchorsOwner, tocOwner, forkOwner].map((o) => stack.settlementBalance(o.address)));
    const pay = payingFetch(exactPayer, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId);
    const payByChannel = channelFetch(channelPayer, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId, DEPOSIT);

    // The dependent: three headings, three calls to slug (per-fuel).
    const anchorArgs = [["One", "Two", "Three"]];
    const anchorChallenge = await challengeOf(callUrl(executor, "anchorage/anchors@1.0.0", "anchors"), anchorArgs);
    const anchorBody = await callJson(await post(pay, callUrl(executor, "anchorage/anchors@1.0.0", "anchors"), anchorArgs));
    expect(anchorBody.result).toEqual(["#one", "#two", "#three"]);
    const anchorReceipt = await expectVerifiedReceipt(anchorBody, versions.anchors.versionId, "anchors", exactPayer, anchorArgs);
    expect(anchorReceipt.royalty).toBe(ANCHORS_PRICE);
    expect(anchorReceipt.dependencies).toHaveLength(1);
    const slugInAnchors = lineOf(anchorReceipt, versions.slug.versionId);
    expect(slugInAnchors.calls).toBe(3);
    expect(slugInAnchors.fuel).toBeGreaterThan(0n);
    expect(slugInAnchors.royalty).toBe(slugRoyalty(3, slugInAnchors.fuel));
    // The SDK flags a dependency line below the dependency's registered minimum (here: exactly what was charged).
    const underpaid: Receipt = { ...anchorReceipt, dependencies: [{ ...slugInAnchors, royalty: slugInAnchors.royalty - 1n }] };
    const underpaidFacts = await readReceiptChainFacts(createChainClients(stack.chain.rpcUrl, stack.deployment.chainId), stack.deployment, underpaid);
    expect(underpaidFacts.minimums).toEqual([ANCHORS_PRICE, slugInAnchors.royalty]);
    const underpaidProblems = await receiptProblems(underpaid, anchorBody.signature!, { versionId: versions.anchors.versionId, functionName: "anchors", payer: exactPayer.address, args: anchorArgs, result: anchorBody.result }, underpaidFacts, stack.deployment);
    expect(underpaidProblems).toContain(`dependency ${versions.slug.versionId} royalty ${slugInAnchors.royalty - 1n} is below its registered minimum ${slugInAnchors.royalty}`);
    // The 402 quoted exactly what was charged: own + dependency + fee.
    expect(BigInt(anchorChallenge.requirement.amount)).toBe(total(anchorReceipt) + FEE);
    expect(BigInt(anchorBody.payment!.amount)).toBe(total(anchorReceipt) + FEE);

    // The chain of two: toc -> anchors (2 calls, per-call) -> slug (2 calls, per-fuel).
    const tocArgs = [["Intro", "Usage"]];
    const tocBody = await callJson(await post(pay, callUrl(executor, "tocs/toc@1.0.0", "toc"), tocArgs));
    expect(tocBody.result).toBe("- [Intro](#intro)\n- [Usage](#usage)");
    const tocReceipt = await expectVerifiedReceipt(tocBody, versions.toc.versionId, "toc", exactPayer, tocArgs);
    expect(tocReceipt.royalty).toBe(TOC_PRICE);
    expect(tocReceipt.dependencies).toHaveLength(2);
    expect(lineOf(tocReceipt, versions.anchors.versionId)).toMatchObject({ calls: 2, royalty: 2n * ANCHORS_PRICE });
    const slugInToc = lineOf(tocReceipt, versions.slug.versionId);
    expect(slugInToc.calls).toBe(2);
    expect(slugInToc.royalty).toBe(slugRoyalty(2, slugInToc.fuel));
    // Contiguous royalty-line seqs: own at seq, dependency i at seq + 1 + i.
    expect(tocReceipt.seq).toBe(anchorReceipt.seq + 2n);

    // The fork, paid through a channel: its own price, plus slug as its dependency.
    const forkArgs = ["Hello Fork"];
    const forkBody = await callJson(await post(payByChannel, callUrl(executor, "forker/anchors@1.0.0", "anchor"), forkArgs));
    expect(forkBody.result).toBe("#hello-fork");
    const forkReceipt = await expectVerifiedReceipt(forkBody, versions.fork.versionId, "anchor", channelPayer, forkArgs);
    expect(forkReceipt.royalty).toBe(FORK_PRICE);
    const slugInFork = lineOf(forkReceipt, versions.slug.versionId);
    expect(slugInFork).toMatchObject({ calls: 1, royalty: slugRoyalty(1, slugInFork.fuel) });
    expect(forkReceipt.seq).toBe(tocReceipt.seq + 3n);
    // And the chain of two again, through the same channel (a second voucher).
    const tocAgain = await callJson(await post(payByChannel, callUrl(executor, "tocs/toc@1.0.0", "toc"), tocArgs));
    const tocAgainReceipt = await expectVerifiedReceipt(tocAgain, versions.toc.versionId, "toc", channelPayer, tocArgs);
    expect(total(tocAgainReceipt)).toBe(total(tocReceipt)); // deterministic: same arguments, same price
    expect(BigInt(tocAgain.payment!.chargedCumulativeAmount!)).toBe(total(forkReceipt) + total(tocAgainReceipt) + 2n * FEE);

    const receipts = [anchorReceipt, tocReceipt, forkReceipt, tocAgainReceipt];
    const royalties = receipts.reduce((sum, r) => sum + total(r), 0n);
    // Before settling, /v1/info owes each version its own lines: dependency lines count for the dependency.
    const info = (await (await fetch(`${executor.url}/v1/info`)).json()) as InfoBody;
    expect(info.unsettledRoyalties.total).toBe(royalties.toString());
    const unsettledSlug = info.unsettledRoyalties.versions.find((v) => v.versionId === versions.slug.versionId);
    expect(unsettledSlug).toMatchObject({ name: "sluggers/slug", receipts: 4, amount: receipts.reduce((sum, r) => sum + lineOf(r, versions.slug.versionId).royalty, 0n).toString() });
    expect(info.unsettledRoyalties.versions.find((v) => v.versionId === versions.anchors.versionId)).toMatchObject({ receipts: 3, amount: (5n * ANCHORS_PRICE).toString() });

    await executor.drain();
    expect(await stack.nextSeq(executor.operator)).toBe(tocAgainReceipt.seq + 3n);

    const exactPaid = total(anchorReceipt) + total(tocReceipt) + 2n * FEE;
    const channelPaid = total(forkReceipt) + total(tocAgainReceipt) + 2n * FEE;
    expect(await stack.usdcBalance(exactPayer.address)).toBe(exactBefore - exactPaid);
    expect(await stack.usdcBalance(channelPayer.address)).toBe(channelBefore - DEPOSIT);
    // The executor keeps exactly its four fees: it received every payment and paid every royalty line.
    expect(await stack.usdcBalance(executor.operator)).toBe(operatorBefore + exactPaid + channelPaid - royalties);
    expect(operatorBefore + exactPaid + channelPaid - royalties).toBe(operatorBefore + 4n * FEE);

    const forkUpstream = (FORK_PRICE * BigInt(FORK_UPSTREAM_BPS)) / 10_000n;
    const expected = [
      slugInAnchors.royalty + slugInToc.royalty + slugInFork.royalty + lineOf(tocAgainReceipt, versions.slug.versionId).royalty,
      ANCHORS_PRICE + 4n * ANCHORS_PRICE + forkUpstream,
      2n * TOC_PRICE,
      FORK_PRICE - forkUpstream,
    ];
    const credits = await Promise.all([slugOwner, anchorsOwner, tocOwner, forkOwner].map((o) => stack.settlementBalance(o.address)));
    expect(credits.map((c, i) => c - creditsBefore[i]!)).toEqual(expected);
    expect(expected.reduce((a, b) => a + b, 0n)).toBe(royalties);
  });
});

describe("refusals: nothing is charged", () => {
  it("a per-fuel dependency whose royalty for this call is above the declared maximum: 422 before any payment", async () => {
    await stack.publish({ name: "sluggers/slug-dear", version: "1.0.0", mode: "per-fuel", price: 1n, fuelPricePerMillion: 1_000_000n, artifacts: slug, world: "slug-world", interfaceName: "slug" }, slugOwner);
    const dependent = await anchorsVariant("dear");
    await stack.publish(
      { name: "anchorage/anchors-dear", version: "1.0.0", mode: "per-call", price: ANCHORS_PRICE, artifacts: dependent, world: "anchors-world", interfaceName: "anchors", dependencies: [{ package: "sluggers/slug-dear", version: "^1.0.0", maxRoyaltyPerCall: "50" }] },
      anchorsOwner,
    );
    expect((await stack.upload(executor.url, executor.operator, slug.component, slugOwner)).status).toBe(201);
    await upload(executor, dependent, anchorsOwner); // its price (1) is within the maximum: accepted at upload
    const account = devAccount(13);
    await stack.mint(account.address, 1_000_000n);
    const before = await stack.usdcBalance(account.address);
    const pay = payingFetch(account, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId);
    const refusal = await errorJson(await post(pay, callUrl(executor, "anchorage/anchors-dear@1.0.0", "anchor"), ["Hello"]));
    expect(refusal).toMatchObject({ status: 422, code: "DEPENDENCY_TOO_EXPENSIVE", details: { calls: "1", maxRoyaltyPerCall: "50" } });
    expect(refusal.message).toMatch(/sluggers\/slug-dear@1\.0\.0 would cost \d+ USDC base units for 1 call\(s\), above the declared maximum of 50 per call/);
    expect(await stack.usdcBalance(account.address)).toBe(before);
  });

  it("a dependency yanked after the dependent's upload: its paid calls are refused, uncharged", async () => {
    await stack.publish({ name: "sluggers/slug-gone", version: "1.0.0", mode: "per-call", price: 20n, artifacts: slug, world: "slug-world", interfaceName: "slug" }, slugOwner);
    const dependent = await anchorsVariant("gone");
    await stack.publish(
      { name: "anchorage/anchors-gone", version: "1.0.0", mode: "per-call", price: ANCHORS_PRICE, artifacts: dependent, world: "anchors-world", interfaceName: "anchors", dependencies: [{ package: "sluggers/slug-gone", version: "^1.0.0", maxRoyaltyPerCall: "20" }] },
      anchorsOwner,
    );
    expect((await stack.upload(executor.url, executor.operator, slug.component, slugOwner)).status).toBe(201);
    await upload(executor, dependent, anchorsOwner);
    const account = devAccount(14);
    await stack.mint(account.address, 1_000_000n);
    const pay = payingFetch(account, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId);
    const url = callUrl(executor, "anchorage/anchors-gone@1.0.0", "anchor");
    const paid = await callJson(await post(pay, url, ["Ok"]));
    expect(receiptFromJson(paid.receipt!).dependencies).toMatchObject([{ calls: 1, royalty: 20n }]);
    await stack.yank((await executor.registry.resolve("sluggers/slug-gone", "1.0.0")).record!.versionId, slugOwner);
    await executor.registry.sync();
    const before = await stack.usdcBalance(account.address);
    const refusal = await errorJson(await post(pay, url, ["Ok"]));
    expect(refusal).toMatchObject({ status: 422, code: "DEPENDENCY_YANKED", details: { dependency: "sluggers/slug-gone" } });
    expect(await stack.usdcBalance(account.address)).toBe(before);
  });
});

// Last: it moves the chain clock forward (later ERC-3009 authorizations signed on wall time would be expired).
describe("an overdue composed receipt", () => {
  it("is paid out of the bond to every version it names (own and each dependency), with the bounty to the payer", async () => {
    const late = await startPaidExecutor(stack, { fee: FEE, bond: 1_000_000n, operatorIndex: 6, settleWindowSeconds: 60 });
    await upload(late, slug, slugOwner);
    await upload(late, anchors, anchorsOwner);
    await upload(late, toc, tocOwner);
    const account = devAccount(19);
    await stack.mint(account.address, 1_000_000n);
    const pay = payingFetch(account, stack.client, stack.deployment.contracts.usdc, stack.chain.chainId);
    const body = await callJson(await post(pay, callUrl(late, "tocs/toc@1.0.0", "toc"), [["A", "B", "C"]]));
    await late.close(); // stopped before it settles
    const receipt = receiptFromJson(body.receipt!);
    expect(receipt.dependencies).toHaveLength(2);
    const testClient = createTestClient({ chain: stack.viemChain(), mode: "hardhat", transport: http(stack.chain.rpcUrl) });
    await testClient.increaseTime({ seconds: 600 });
    await stack.chain.mineBlock();

    const owners = [slugOwner, anchorsOwner, tocOwner];
    const before = await Promise.all(owners.map((o) => stack.settlementBalance(o.address)));
    const payerBefore = await stack.settlementBalance(account.address);
    const bondBefore = await stack.bondOf(late.operator);
    const hash = await stack.wallet(account).writeContract({ address: stack.deployment.contracts.settlement, abi: settlementAbi, functionName: "slashOverdue", args: [receipt, body.signature!] });
    const mined = await stack.client.waitForTransactionReceipt({ hash });
    expect(mined.status).toBe("success");
    const owed = total(receipt);
    const bounty = owed / 10n;
    const [slashed] = parseEventLogs({ abi: settlementAbi, logs: mined.logs, eventName: "Slashed" });
    expect(slashed!.args).toMatchObject({ executor: late.operator, receiptId: body.receiptId, payer: account.address, paid: owed, bounty });
    const after = await Promise.all(owners.map((o) => stack.settlementBalance(o.address)));
    expect(after.map((a, i) => a - before[i]!)).toEqual([lineOf(receipt, versions.slug.versionId).royalty, 3n * ANCHORS_PRICE, TOC_PRICE]);
    expect(await stack.settlementBalance(account.address)).toBe(payerBefore + bounty);
    expect(await stack.bondOf(late.operator)).toBe(bondBefore - owed - bounty);
  });
});
