/**
 * The web catalog in a real browser (headless Debian Chromium, playwright-core) against the real
 * stack `npm start` runs: a Hardhat chain, the contracts, Ponder, an executor and the built catalog.
 * Wallets are injected EIP-1193 providers announced through EIP-6963, signing with Hardhat dev keys
 * for real: transactions land on the chain, payments are real x402 payments (a batch-settlement channel
 * deposit and vouchers, or an exact EIP-3009 transfer) that the executor claims and settles on-chain.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createWalletClient, http, keccak256, stringToHex, type LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, DEV_ROLES, type DevStack } from "../../cli/dev-stack.ts";
import { startTestStack } from "../helpers/dev-stack.ts";
import { waitFor } from "../../cli/dev/wait.ts";
import { capabilityFiles, componentBytes, loadProject } from "../../cli/project.ts";
import { capabilityRegistryAbi, settlementAbi } from "../../sdk/abi.ts";
import type { PackageResponse } from "../../sdk/catalog-api.ts";
import { chainFor } from "../../sdk/client/chain.ts";
import { devAccount } from "../../sdk/dev-accounts.ts";
import { Glassbox } from "../../sdk/glassbox.ts";
import type { StoredReceipt } from "../../sdk/client/receipt-store.ts";
import { inputHashOf, outputHashOf, RECEIPT_TYPES, receiptDomain, receiptId, receiptToJson, type Receipt } from "../../sdk/receipt.ts";
import { storagePrefix } from "../../web/src/stores.ts";
import { fitsWidth, launchBrowser, lowContrastText, screenshot, unlabelledControls } from "./helpers/browser.ts";
import { installTestWallet, type TestWallet } from "./helpers/wallet.ts";
import { runGlassbox } from "../helpers/cli.ts";

const CAPABILITIES = path.join(REPO_ROOT, "capabilities");
const maintainer = devAccount(DEV_ROLES.maintainer);
const forkAuthor = devAccount(DEV_ROLES.forkAuthor);
const agent = devAccount(DEV_ROLES.agent);
const MARKDOWN_PRICE = 2_000n;
const SEMVER_PRICE = 500n;
const EXECUTOR_FEE = 100n; // the dev stack's
const EXECUTOR_BOND = 100_000_000n; // the dev stack's
const MARKDOWN_CALL = MARKDOWN_PRICE + EXECUTOR_FEE;
/** The stock client's deposit under the page's per-call limit: five calls' worth. */
const MARKDOWN_DEPOSIT = 5n * MARKDOWN_CALL;

/** Polls until `done(value)`; on timeout the error shows the last value read. */
function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  return waitFor(
    async () => {
      const value = await read();
      if (!done(value)) throw new Error(`last value ${String(value)}`);
      return value;
    },
    { what, timeoutMs, intervalMs: 250 },
  );
}

/** The text of the status or alert a flow ends with (the newest one on the page). */
async function outcome(page: Page, pattern: RegExp, timeout = 60_000): Promise<string> {
  const line = page.locator(".status.ok, .status.error").filter({ hasText: pattern }).last();
  await line.waitFor({ timeout });
  return (await line.textContent()) ?? "";
}

let stack: DevStack;
let browser: Browser;
let home: string;
let shots: string;

function sdk(account?: LocalAccount): Glassbox {
  return new Glassbox({ rpcUrl: stack.rpcUrl, deployment: stack.deployment, indexerUrl: stack.indexerUrl, executorUrl: stack.executorUrl, ...(account ? { account } : {}) });
}

/** Builds a sample capability from source and publishes it from `account` (the CLI's path). */
async function publishSample(dir: string, account: LocalAccount): Promise<void> {
  const project = await loadProject(path.join(CAPABILITIES, dir));
  const component = await componentBytes(project, true);
  await sdk(account).publish(await capabilityFiles(project, component), { executorUrl: stack.executorUrl });
}

/** A fresh browser profile and page, with `account`'s wallet injected when given. */
async function open(account?: LocalAccount, opts: { startChainId?: number; viewport?: { width: number; height: number } } = {}): Promise<{ context: BrowserContext; page: Page; wallet?: TestWallet }> {
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1200, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`[page error] ${error.message}`));
  const wallet = account
    ? await installTestWallet(page, { rpcUrl: stack.rpcUrl, chainId: stack.chainId, account, ...(opts.startChainId ? { startChainId: opts.startChainId } : {}) })
    : undefined;
  return wallet ? { context, page, wallet } : { context, page };
}

async function connect(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Connect wallet" }).click();
  await page.getByRole("button", { name: "Test Wallet" }).click();
  await page.getByRole("link", { name: /^0x/ }).first().waitFor();
}

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "glassbox-web-"));
  shots = path.join(home, "screenshots");
  [stack, browser] = await Promise.all([startTestStack({ stateDir: path.join(home, "stack"), claimIntervalMs: 2_000 }), launchBrowser()]);
  if (!stack.webUrl) throw new Error("the dev stack did not serve the web catalog (see its log above)");
  await publishSample("markdown", maintainer);
  await publishSample("markdown-plus", forkAuthor);
  // The catalog lists both once Ponder has indexed them.
  await waitFor(async () => ((await sdk().search("markdown")).total >= 2 ? true : undefined), { timeoutMs: 60_000, what: "the samples in the catalog" });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await rm(home, { recursive: true, force: true });
});

describe("a reader without a wallet", () => {
  it("searches, opens a package and reads its WIT and tests, by keyboard, with no wallet installed", async () => {
    const { context, page } = await open();
    await page.goto(stack.webUrl!);
    await expect.poll(() => page.getByRole("button", { name: "Connect wallet" }).count()).toBe(1);
    // Keyboard only: skip link, then into the search box.
    await page.keyboard.press("Tab");
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.getByLabel("Search capabilities").focus();
    await page.keyboard.type("sanitized html");
    await page.keyboard.press("Enter");
    const first = page.getByRole("list", { name: "Search results" }).getByRole("link").first();
    await expect.poll(() => first.textContent()).toBe("acme/markdown");
    await screenshot(page, "search", shots);
    // Filters, as `glassbox search` has them: price, forks.
    const names = () => page.getByRole("list", { name: "Search results" }).getByRole("link").allTextContents();
    await page.getByLabel("Max price (USDC per call)").fill("0.0025");
    await page.getByLabel("Has forks").check();
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(names).toEqual(["acme/markdown"]);
    await page.getByLabel("Max price (USDC per call)").fill("0.001");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => page.locator(".results-status").textContent()).toContain("No capability matches");
    await page.goto(`${stack.webUrl}/#/search?q=sanitized%20html`);
    await expect.poll(() => first.textContent()).toBe("acme/markdown");
    await first.focus();
    await page.keyboard.press("Enter");

    await page.getByRole("heading", { name: "Spec (WIT)" }).waitFor();
    const spec = page.locator("#spec-title + div");
    await expect.poll(() => spec.textContent(), { timeout: 30_000 }).toContain("to-html: func(markdown: string) -> string");
    // Doc comments are rendered with the types they document.
    const text = (await spec.textContent()) ?? "";
    expect(text).toContain("Markdown to sanitized HTML with the defaults");
    expect(text).toContain("heading-id-prefix: option<string>");
    expect(text).toContain("Prefix for heading ids");
    await page.getByText(/^Show all \d+ cases$/).click();
    const tests = page.getByRole("region", { name: "Public test vectors" });
    await expect.poll(() => tests.getByRole("row").count()).toBeGreaterThan(5);
    expect(await tests.textContent()).toContain("escapes raw HTML blocks");
    // Versions, price, forks, executors: all readable without a wallet.
    expect(await page.locator(".package-header").textContent()).toContain("0.002 USDC per call");
    await expect.poll(() => page.locator("#forks-title + div").textContent()).toContain("forker/markdown-plus");
    await expect.poll(() => page.locator("#executors-title + div").textContent(), { timeout: 20_000 }).toContain(stack.executorUrl);
    expect(await page.getByRole("button", { name: /Pay and call/ }).count()).toBe(1);
    expect(await page.textContent("body")).toContain("Connect a wallet (top of the page) to pay for a call.");

    expect(await unlabelledControls(page)).toEqual([]);
    expect(await lowContrastText(page)).toEqual([]);
    await context.close();
  });

  it("reads a published source archive, for free", async () => {
    await publishSample("slug", maintainer);
    await waitFor(async () => ((await sdk().search("slug")).total >= 1 ? true : undefined), { timeoutMs: 60_000, what: "acme/slug in the catalog" });
    const { context, page } = await open();
    await page.goto(`${stack.webUrl}/#/packages/acme/slug`);
    const archive = page.getByRole("link", { name: /source archive/ });
    await archive.waitFor({ timeout: 20_000 });
    const href = await archive.getAttribute("href");
    expect(href).toMatch(/\/v1\/blobs\/0x[0-9a-f]{64}$/);
    // Reading code is never charged: the archive is a public blob, served without any payment.
    const download = await fetch(href!);
    expect(download.status).toBe(200);
    expect(new Uint8Array(await download.arrayBuffer()).subarray(0, 2)).toEqual(new Uint8Array([0x1f, 0x8b]));
    await context.close();
  });
});

/** The deposit confirmation the page shows before any USDC is locked in a channel. */
function depositDialog(page: Page) {
  return page.getByRole("group", { name: "Confirm the deposit" });
}

/** A channel's on-chain balance and what the executor claimed (zero for a channel never opened). */
async function channelOnChain(payer: LocalAccount): Promise<{ balance: bigint; totalClaimed: bigint }> {
  const status = await sdk().channels.status(payer.address, stack.executorUrl);
  return { balance: status.balance, totalClaimed: status.totalClaimed };
}

describe("an agent-like user", () => {
  it("tries a function with a form made from the WIT, opens a payment channel with the deposit it confirmed, sees the verified receipt and the channel, then the spend", async () => {
    const { context, page, wallet } = await open(agent);
    await page.goto(`${stack.webUrl}/#/packages/acme/markdown`);
    await connect(page);
    const before = await sdk().usdcBalance(agent.address);
    const form = page.getByRole("form", { name: "Try acme/markdown" });
    await form.getByLabel("Function").selectOption("to-html");
    // Filled in from the public tests, then edited like a person would.
    await expect.poll(() => form.getByLabel(/^markdown/).inputValue()).not.toBe("");
    await form.getByLabel(/^markdown/).fill("# Hello <script>alert(1)</script> *agents*");
    expect(await form.textContent()).toContain("You pay 0.0021 USDC = royalty 0.002 USDC + executor fee 0.0001 USDC");
    expect(await form.getByLabel(/^a payment channel/).isChecked()).toBe(true);
    await form.getByRole("button", { name: "Pay and call" }).click();

    // Nothing is signed before the person agrees to the deposit, shown with its amount.
    const dialog = depositDialog(page);
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("This call costs 0.0021 USDC");
    expect(await dialog.getByLabel("Deposit (USDC)").inputValue()).toBe("0.0105");
    expect(wallet!.requests).not.toContain("eth_signTypedData_v4");
    await screenshot(page.locator("section", { has: page.locator("#try-title") }), "try-it-deposit", shots);
    await dialog.getByRole("button", { name: "Deposit and pay" }).click();

    expect(await outcome(page, /Paid 0\.0021 USDC/)).toContain("through your channel; the receipt is signed and checked");
    const receipt = page.locator(".receipt");
    const text = (await receipt.textContent()) ?? "";
    expect(text).toContain("✔ Receipt verified");
    expect(text).toContain(agent.address);
    expect(text).toContain(devAccount(DEV_ROLES.operator).address);
    expect(text).toContain("Paid bypayment channel (a signed voucher)");
    expect(text).toMatch(/Sequence number\d+/);
    expect(text).toMatch(/Payment reference0x[0-9a-f]{64}/);
    expect(text).toContain("Settle royalties by");
    expect(text).toContain(`This call deposited ${"0.0105"} USDC into the channel.`);
    const channel = (await page.getByLabel("Channel after this call").textContent()) ?? "";
    expect(channel).toContain("Deposited, still in the channel0.0105 USDC");
    expect(channel).toContain("Charged by your vouchers0.0021 USDC");
    expect(channel).toContain("Available to spend0.0084 USDC");
    const result = (await page.getByLabel("Result").textContent()) ?? "";
    expect(result).toContain("<h1>Hello &lt;script&gt;alert(1)&lt;/script&gt; <em>agents</em></h1>");
    // The page shows the markup as text: the script never runs (no dialog), the result is never HTML.
    expect(await page.locator("h1", { hasText: "agents" }).count()).toBe(0);
    expect(wallet!.requests).toContain("eth_signTypedData_v4");
    expect(wallet!.requests).not.toContain("eth_sendTransaction"); // a deposit and a voucher are signatures; the executor submits the deposit
    expect(await sdk().usdcBalance(agent.address)).toBe(before - MARKDOWN_DEPOSIT);
    expect((await channelOnChain(agent)).balance).toBe(MARKDOWN_DEPOSIT);
    await screenshot(page.locator("section", { has: page.locator("#try-title") }), "try-it", shots);

    // A function taking a record with an option inside: the form is made from those types, prefilled from the tests.
    await form.getByLabel("Function").selectOption("to-html-with");
    await expect.poll(() => form.getByLabel(/^heading-id-prefix value/).inputValue()).toBe("doc-");
    expect(await form.getByLabel(/^heading-ids/).isChecked()).toBe(true);
    expect(await form.textContent()).toContain("Give every heading an `id`"); // the field's doc comment
    await form.getByLabel(/^markdown/).fill("# Intro");
    await form.getByLabel(/^heading-id-prefix value/).fill("sec-");
    await form.getByRole("button", { name: "Pay and call" }).click();
    await expect.poll(() => page.getByLabel("Result").textContent(), { timeout: 60_000 }).toContain('<h1 id=\\"sec-intro\\">Intro</h1>');
    // The second call is a voucher against the deposit: no new deposit asked, no USDC moved from the wallet.
    expect(await depositDialog(page).count()).toBe(0);
    expect(await page.getByLabel("Channel after this call").textContent()).toContain("Charged by your vouchers0.0042 USDC");
    expect(await sdk().usdcBalance(agent.address)).toBe(before - MARKDOWN_DEPOSIT);

    // The executor claims the vouchers and settles both royalties; the account page shows the channel, the spend and the receipts.
    await until("the executor's claim", async () => (await channelOnChain(agent)).totalClaimed, (claimed) => claimed === 2n * MARKDOWN_CALL);
    await page.getByRole("link", { name: "Your account" }).click();
    const spending = page.locator("#spending-title + dl");
    const receipts = page.locator("#receipts-title ~ div").first();
    await until(
      "the channel spend and settled receipts on the account page",
      async () => {
        await page.reload();
        await spending.waitFor();
        await page.getByRole("region", { name: "Receipts checked" }).waitFor();
        return `${await spending.textContent()} | ${await receipts.textContent()}`;
      },
      (text) => text.includes("Through channels0.0042 USDC claimed") && text.includes("2 settled as signed"),
    );
    expect(await spending.textContent()).toContain("Spent0.0042 USDC");
    const channels = (await page.getByRole("region", { name: "Channels paid from" }).textContent()) ?? "";
    expect(channels).toContain(stack.executorUrl);
    expect(channels).toContain("0.0105 USDC"); // deposited
    expect(channels).toContain("0.0063 USDC"); // available
    expect(await page.getByRole("region", { name: "Receipts checked" }).textContent()).not.toContain("Submit proof");
    await screenshot(page, "account-agent", shots);
    await context.close();
  });

  it("pays exact on request: one USDC transfer, settled before the result, with the transaction in the receipt", async () => {
    const { context, page, wallet } = await open(agent);
    await page.goto(`${stack.webUrl}/#/packages/acme/markdown`);
    await connect(page);
    const before = await sdk().usdcBalance(agent.address);
    const channelBefore = await channelOnChain(agent);
    const form = page.getByRole("form", { name: "Try acme/markdown" });
    await form.getByLabel(/^exact/).check();
    await form.getByRole("button", { name: "Pay and call" }).click();
    expect(await outcome(page, /Paid 0\.0021 USDC/)).toBe("Paid 0.0021 USDC; the receipt is signed and checked.");
    const text = (await page.locator(".receipt").textContent()) ?? "";
    expect(text).toContain("Paid byexact (a USDC transfer)");
    expect(text).toMatch(/Payment transaction0x[0-9a-f]{64}/);
    expect(await depositDialog(page).count()).toBe(0);
    expect(await page.getByLabel("Channel after this call").count()).toBe(0);
    expect(wallet!.requests).not.toContain("eth_sendTransaction");
    // Settled before the response: the wallet has paid by the time the result shows; the channel is untouched.
    expect(await sdk().usdcBalance(agent.address)).toBe(before - MARKDOWN_CALL);
    expect(await channelOnChain(agent)).toEqual(channelBefore);
    await context.close();
  });
});

describe("wallet errors", () => {
  it("the wrong network is explained, and switched from the page", async () => {
    const { context, page } = await open(agent, { startChainId: 1 });
    await page.goto(`${stack.webUrl}/#/packages/acme/markdown`);
    await connect(page);
    await page.getByText("Wrong network (chain 1)").waitFor();
    const form = page.getByRole("form", { name: "Try acme/markdown" });
    await form.getByRole("button", { name: "Pay and call" }).click();
    expect(await outcome(page, /chain 1/)).toContain("Your wallet is on chain 1; this catalog runs on chain 31337");
    await page.getByRole("button", { name: "Switch network" }).click();
    await expect.poll(() => page.getByText("Wrong network").count()).toBe(0);
    await context.close();
  });

  it("too little USDC is explained before anything is signed", async () => {
    const broke = privateKeyToAccount(generatePrivateKey());
    const { context, page, wallet } = await open(broke);
    await page.goto(`${stack.webUrl}/#/packages/acme/markdown`);
    await connect(page);
    await page.getByRole("form", { name: "Try acme/markdown" }).getByRole("button", { name: "Pay and call" }).click();
    expect(await outcome(page, /Too little USDC/)).toContain("your wallet holds 0 USDC and this call needs a channel deposit of at least 0.0021 USDC");
    expect(await depositDialog(page).count()).toBe(0);
    // Exact says so too, before anything is signed.
    const form = page.getByRole("form", { name: "Try acme/markdown" });
    await form.getByLabel(/^exact/).check();
    await form.getByRole("button", { name: "Pay and call" }).click();
    expect(await outcome(page, /this call costs/)).toContain("your wallet holds 0 USDC and this call costs 0.0021 USDC");
    expect(wallet!.requests).not.toContain("eth_signTypedData_v4");
    await context.close();
  });

  it("a cancelled deposit or a refused deposit signature leaves nothing half done: no channel, no USDC moved, no receipt; then it works", async () => {
    const payer = devAccount(6);
    const { context, page, wallet } = await open(payer);
    await page.goto(`${stack.webUrl}/#/packages/acme/markdown`);
    await connect(page);
    const before = await sdk().usdcBalance(payer.address);
    const form = page.getByRole("form", { name: "Try acme/markdown" });
    const pay = () => form.getByRole("button", { name: "Pay and call" }).click();

    await pay();
    await depositDialog(page).getByRole("button", { name: "Cancel" }).click();
    expect(await outcome(page, /none was agreed to/)).toContain("nothing was paid");
    expect(wallet!.requests).not.toContain("eth_signTypedData_v4");

    await pay();
    wallet!.refuseNext("eth_signTypedData_v4");
    await depositDialog(page).getByRole("button", { name: "Deposit and pay" }).click();
    expect(await outcome(page, /declined/)).toContain("You declined the request in your wallet: nothing was signed, sent or paid.");
    expect(await page.getByLabel("Result").count()).toBe(0);
    expect(await sdk().usdcBalance(payer.address)).toBe(before);
    expect(await channelOnChain(payer)).toEqual({ balance: 0n, totalClaimed: 0n });
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.includes(".receipts.")))).toEqual([]);

    // Nothing was left behind to trip over: the next attempt opens the channel once and pays.
    await pay();
    await depositDialog(page).getByRole("button", { name: "Deposit and pay" }).click();
    expect(await outcome(page, /Paid 0\.0021 USDC/)).toContain("through your channel");
    expect(await sdk().usdcBalance(payer.address)).toBe(before - MARKDOWN_DEPOSIT);
    expect((await channelOnChain(payer)).balance).toBe(MARKDOWN_DEPOSIT);
    await context.close();
  });

  it("a refused payment signature charges nothing", async () => {
    const { context, page, wallet } = await open(agent);
    await page.goto(`${stack.webUrl}/#/packages/acme/markdown`);
    await connect(page);
    const before = await sdk().usdcBalance(agent.address);
    wallet!.refuseNext("eth_signTypedData_v4");
    await page.getByRole("form", { name: "Try acme/markdown" }).getByRole("button", { name: "Pay and call" }).click();
    expect(await outcome(page, /declined/)).toContain("You declined the request in your wallet: nothing was signed, sent or paid.");
    expect(await sdk().usdcBalance(agent.address)).toBe(before);
    await context.close();
  });
});

describe("attacks on the payer", () => {
  it("an executor cannot take more than the page showed: a lower fee in the catalog's answer makes the payment refuse, unsigned", async () => {
    const { context, page, wallet } = await open(agent);
    // A lying catalog (or an executor that raised its fee since): the page shows and caps 0.002 USDC.
    await page.route(`${stack.indexerUrl}/executors*`, async (route) => {
      const real = (await (await route.fetch()).json()) as { executors: { feePerCall: string }[] };
      await route.fulfill({ json: { executors: real.executors.map((e) => ({ ...e, feePerCall: "0" })) } });
    });
    await page.goto(`${stack.webUrl}/#/packages/acme/markdown`);
    await connect(page);
    const form = page.getByRole("form", { name: "Try acme/markdown" });
    await expect.poll(() => form.textContent()).toContain("You pay 0.002 USDC");
    const before = await sdk().usdcBalance(agent.address);
    await form.getByRole("button", { name: "Pay and call" }).click();
    expect(await outcome(page, /more than/)).toContain("asked for more than the price shown");
    expect(wallet!.requests).not.toContain("eth_signTypedData_v4");
    expect(await sdk().usdcBalance(agent.address)).toBe(before);
    await context.close();
  });

  it("text from the catalog is never markup: a description or result holding HTML stays text", async () => {
    const { context, page } = await open();
    let alerted = false;
    page.on("dialog", (dialog) => {
      alerted = true;
      void dialog.dismiss();
    });
    await page.route(`${stack.indexerUrl}/search*`, async (route) => {
      const response = await route.fetch();
      const real = (await response.json()) as { results?: { description: string | null }[] };
      const results = real.results?.map((r) => ({ ...r, description: '<img src=x onerror="alert(1)">' }));
      await route.fulfill({ response, json: results ? { ...real, results } : real });
    });
    await page.goto(`${stack.webUrl}/#/search?q=markdown`);
    await page.getByText('<img src=x onerror="alert(1)">').first().waitFor();
    expect(await page.locator("main img").count()).toBe(0);
    expect(alerted).toBe(false);
    await context.close();
  });
});

describe("a maintainer", () => {
  let packFile: string;
  let context: BrowserContext;
  let page: Page;
  let wallet: TestWallet;

  beforeAll(async () => {
    packFile = path.join(home, "acme-semver-1.0.0.gbpack");
    const packed = await runGlassbox(["pack", path.join(CAPABILITIES, "semver"), "--out", packFile, "--json"], { cwd: REPO_ROOT, env: { GLASSBOX_HOME: home } });
    expect(packed.code, packed.stderr).toBe(0);
    expect(packed.json).toMatchObject({ name: "acme/semver", version: "1.0.0", file: packFile });
    ({ context, page, wallet } = (await open(maintainer)) as { context: BrowserContext; page: Page; wallet: TestWallet });
    await page.goto(`${stack.webUrl}/#/publish`);
    await connect(page);
  }, 120_000);

  afterAll(() => context?.close());

  it("a refused signature registers nothing", async () => {
    await page.getByLabel(/^Pack file/).setInputFiles(packFile);
    await page.getByText("acme/semver is new: publishing registers it").waitFor();
    wallet.refuseNext("eth_sendTransaction");
    await page.getByRole("button", { name: "Publish from my wallet" }).click();
    expect(await outcome(page, /declined/)).toContain("You declined the request in your wallet");
    expect(await sdk().registry.getPackage("acme/semver")).toBeUndefined();
    expect(wallet.requests.filter((m) => m === "eth_sendTransaction")).toHaveLength(1);
  });

  it("publishes the pack from the browser, resumes an upload that failed, and it appears in search", async () => {
    // The first blob upload fails (the network drops): the registration must survive and the upload resume.
    let dropped = false;
    await page.route("**/v1/blobs/**", (route) => {
      if (!dropped && route.request().method() === "PUT") {
        dropped = true;
        return route.abort("connectionfailed");
      }
      return route.continue();
    });
    await page.getByRole("button", { name: "Publish from my wallet" }).click();
    expect(await outcome(page, /upload failed/, 90_000)).toContain("acme/semver@1.0.0 is registered on-chain, but the upload failed");
    expect((await sdk().registry.resolveVersion("acme/semver", "1.0.0")).price).toBe(SEMVER_PRICE);
    const sent = wallet.requests.filter((m) => m === "eth_sendTransaction").length;
    await page.getByRole("button", { name: "Retry the upload" }).click();
    expect(await outcome(page, /^Published/, 90_000)).toContain(`acme/semver@1.0.0 and uploaded to ${stack.executorUrl}`);
    expect(wallet.requests.filter((m) => m === "eth_sendTransaction")).toHaveLength(sent); // nothing registered twice
    await screenshot(page, "publish", shots);
    const info = (await (await fetch(`${stack.executorUrl}/v1/info`)).json()) as { packages: { name: string }[] };
    expect(info.packages.map((p) => p.name)).toContain("acme/semver");

    await page.goto(`${stack.webUrl}/#/search?q=semver`);
    const hit = page.getByRole("list", { name: "Search results" }).getByRole("link", { name: "acme/semver" });
    await until(
      "acme/semver in search",
      async () => {
        await page.reload();
        await page.locator(".results-status .status").waitFor();
        return hit.count();
      },
      (n) => n === 1,
    );
  });

  it("claims the earnings from calls to its packages", async () => {
    // Someone pays for a call to the new package (through the SDK: the stock x402 client).
    await sdk(agent).call("acme/semver", "valid", ["1.2.3"], { scheme: "exact" });
    // acme/markdown: 90% of four calls in the browser (two through the agent's channel, one exact, one through
    // a second payer's channel); acme/semver: 100%.
    const expected = (4n * MARKDOWN_PRICE * 9_000n) / 10_000n + SEMVER_PRICE;
    await until("both royalties credited", () => sdk().claimable(maintainer.address), (b) => b === expected);
    const before = await sdk().usdcBalance(maintainer.address);
    await page.goto(`${stack.webUrl}/#/account`);
    await page.waitForURL(/#\/accounts\/0x/);
    await page.getByRole("button", { name: "Claim 0.0077 USDC" }).click();
    expect(await outcome(page, /^Claimed/)).toContain("Claimed 0.0077 USDC");
    expect(await sdk().usdcBalance(maintainer.address)).toBe(before + expected);
    expect(await sdk().claimable(maintainer.address)).toBe(0n);
    expect(await page.locator(".claimable").textContent()).toContain("0 USDC");
    // The page catches up with the catalog by itself: the claim shows in the history.
    await expect.poll(() => page.getByRole("region", { name: "Claims" }).textContent(), { timeout: 30_000 }).toContain("0.0077 USDC");
    await screenshot(page, "account-maintainer", shots);
  });

  it("yanks a version from its package page", async () => {
    await page.goto(`${stack.webUrl}/#/packages/acme/semver`);
    await page.getByRole("button", { name: "Yank 1.0.0" }).click();
    expect(await outcome(page, /yanked/)).toContain("1.0.0 is yanked");
    expect((await sdk().registry.getVersionById("acme/semver", (await sdk().registry.resolveVersion("acme/semver", "1.0.0")).versionId))?.yanked).toBe(true);
  });
});

describe("a newcomer", () => {
  it("claims a scope, and is told clearly when a scope is someone else's", async () => {
    const newcomer = devAccount(5);
    const { context, page } = await open(newcomer);
    await page.goto(`${stack.webUrl}/#/publish`);
    await connect(page);
    const form = page.getByRole("form", { name: "Claim a scope" });
    await form.getByLabel("Scope").fill("acme");
    await form.getByRole("button", { name: "Claim scope" }).click();
    expect(await outcome(page, /belongs to/)).toContain(`“acme” belongs to ${maintainer.address}`);
    await form.getByLabel("Scope").fill("newcomer");
    await form.getByRole("button", { name: "Claim scope" }).click();
    expect(await outcome(page, /is yours/)).toContain("“newcomer” is yours");
    expect(await sdk().registry.scopeOwner("newcomer")).toBe(newcomer.address);
    await context.close();
  });
});

describe("a fork author", () => {
  it("registers a fork of a version from its package page", async () => {
    const { context, page } = await open(forkAuthor);
    await page.goto(`${stack.webUrl}/#/packages/acme/markdown`);
    await connect(page);
    await page.getByText("Fork this version").click();
    const form = page.getByRole("form", { name: "Register a fork" });
    await form.getByLabel("Fork name").fill("forker/markdown-lite");
    await form.getByLabel("Upstream share").fill("15%");
    await form.getByRole("button", { name: /Register fork/ }).click();
    expect(await outcome(page, /Registered/)).toContain("forker/markdown-lite");
    const fork = await sdk().registry.getPackage("forker/markdown-lite");
    expect(fork).toMatchObject({ owner: forkAuthor.address, upstreamShareBps: 1_500 });
    await context.close();
  });
});

describe("the catalog after use", () => {
  it("draws a package's paid calls and revenue over time", async () => {
    const { context, page } = await open();
    await page.goto(`${stack.webUrl}/#/packages/acme/markdown`);
    await page.getByRole("img", { name: /^Paid calls: 4 in total/ }).waitFor({ timeout: 30_000 });
    expect(await page.getByRole("img", { name: /^Royalty revenue: 0\.008 USDC in total/ }).count()).toBe(1);
    const earnings = (await page.locator("#earnings-title + dl").textContent()) ?? "";
    expect(earnings).toContain("Paid calls settled4");
    expect(earnings).toContain("Royalty revenue0.008 USDC");
    expect(earnings).toContain("Royalties pendingnone");
    await screenshot(page, "package", shots);
    await context.close();
  });

  it("lists executors with fee, bond, exit state, slashes, pending royalties, health and packages", async () => {
    const { context, page } = await open();
    await page.goto(`${stack.webUrl}/#/executors`);
    const card = page.locator(".executors .card").first();
    await card.waitFor();
    const text = (await card.textContent()) ?? "";
    expect(text).toContain(stack.executorUrl);
    expect(text).toContain("ok");
    expect(text).toContain("Fee per call0.0001 USDC");
    expect(text).toContain(`Bond${Number(EXECUTOR_BOND) / 1e6} USDC bonded`);
    expect(text).not.toContain("exiting");
    expect(text).toContain("Slashesnone");
    expect(text).toContain("Pending royaltiesnone");
    expect(text).toMatch(/Royalties settled5 calls in \d+ batch/);
    expect(text).toContain("Takesbatch-settlement, exact");
    expect(text).toContain("acme/markdown@1.0.0");
    expect(await lowContrastText(page)).toEqual([]);
    await screenshot(page, "executors", shots);
    await context.close();
  });

  it("reads well at 375 px: no sideways scrolling on search, package, account and publish", async () => {
    const { context, page } = await open(undefined, { viewport: { width: 375, height: 812 } });
    for (const route of ["#/search?q=markdown", "#/packages/acme/markdown", `#/accounts/${maintainer.address}`, "#/publish", "#/executors"]) {
      await page.goto(`${stack.webUrl}/${route}`);
      await page.locator("main h1").first().waitFor();
      await page.waitForLoadState("networkidle");
      expect({ route, fits: await fitsWidth(page) }).toEqual({ route, fits: true });
      expect(await unlabelledControls(page)).toEqual([]);
    }
    await page.goto(`${stack.webUrl}/#/packages/acme/markdown`);
    await page.locator("#spec-title").waitFor();
    await screenshot(page, "phone-package", shots, { fullPage: false });
    await context.close();
  });
});

describe("a payer whose executor did not settle", () => {
  it("the account page shows the receipt overdue, and “Submit proof” pays its royalty from the bond, with the bounty to the payer", async () => {
    const operator = devAccount(DEV_ROLES.operator);
    const glassbox = sdk();
    const { settlement } = stack.deployment.contracts;
    const version = await glassbox.registry.resolveVersion("acme/markdown", "1.0.0");
    const standing = await glassbox.executorStanding(operator.address);
    const chainNow = (await glassbox.chain.publicClient.getBlock()).timestamp;
    // A receipt the operator's key signed for a call whose royalty line it never settled (a sequence number it
    // has not reached), with its deadline passed on the chain's clock: what an executor that stopped leaves behind.
    const receipt: Receipt = {
      versionId: version.versionId,
      functionName: "to-html",
      payer: agent.address,
      executor: operator.address,
      seq: standing.nextSeq + 1_000n,
      royalty: MARKDOWN_PRICE,
      executorFee: EXECUTOR_FEE,
      fuel: 0n,
      inputHash: inputHashOf(["# unsettled"]),
      outputHash: outputHashOf("<h1>unsettled</h1>"),
      dependencies: [],
      paymentRef: keccak256(stringToHex("an exact payment the executor took")),
      issuedAt: chainNow - 20n,
      deadline: chainNow - 10n,
    };
    const signature = await operator.signTypedData({ domain: receiptDomain(stack.chainId, settlement), types: RECEIPT_TYPES, primaryType: "Receipt", message: receipt });
    const id = receiptId(receipt, stack.chainId, settlement);
    const entry: StoredReceipt = {
      receiptId: id,
      receipt: receiptToJson(receipt),
      signature,
      executorUrl: stack.executorUrl,
      chainId: stack.chainId,
      settlement,
      scheme: "exact",
      charged: MARKDOWN_CALL.toString(),
      storedAt: new Date().toISOString(),
    };

    const { context, page, wallet } = await open(agent);
    await page.goto(`${stack.webUrl}/#/packages/acme/markdown`);
    // Kept by this browser as the SDK keeps every receipt it verified.
    await page.evaluate(([key, value]) => localStorage.setItem(key, value), [`${storagePrefix(stack.chainId, settlement)}.receipts.${agent.address.toLowerCase()}`, JSON.stringify([entry])] as const);
    await connect(page);
    await page.goto(`${stack.webUrl}/#/accounts/${agent.address}`);
    const receipts = page.getByRole("region", { name: "Receipts checked" });
    await receipts.waitFor();
    expect(await receipts.textContent()).toContain("overdue: payable from the bond");

    const bondBefore = standing.bond;
    const payerBefore = await glassbox.claimable(agent.address);
    const maintainerBefore = await glassbox.claimable(maintainer.address);
    const sent = wallet!.requests.filter((m) => m === "eth_sendTransaction").length;
    await receipts.getByRole("button", { name: "Submit proof" }).click();
    const bounty = MARKDOWN_PRICE / 10n; // BOUNTY_BPS 10%
    expect(await outcome(page, /Proof accepted/)).toContain("Proof accepted (overdue): 0.002 USDC paid from the executor's bond, bounty 0.0002 USDC to the payer.");
    expect(wallet!.requests.filter((m) => m === "eth_sendTransaction")).toHaveLength(sent + 1);
    expect((await glassbox.executorStanding(operator.address)).bond).toBe(bondBefore - MARKDOWN_PRICE - bounty);
    expect(await glassbox.claimable(agent.address)).toBe(payerBefore + bounty);
    expect(await glassbox.claimable(maintainer.address)).toBe(maintainerBefore + (MARKDOWN_PRICE * 9_000n) / 10_000n);
    // The page redraws: the receipt is paid, the proof is listed, nothing is left to submit.
    await expect.poll(() => receipts.textContent(), { timeout: 30_000 }).toContain("paid from the bond");
    expect(await receipts.getByRole("button", { name: "Submit proof" }).count()).toBe(0);
    const slashes = page.getByRole("region", { name: "Slashes" });
    await until(
      "the slash in the catalog",
      async () => {
        await page.reload();
        await receipts.waitFor();
        return slashes.count();
      },
      (n) => n === 1,
    );
    expect(await slashes.textContent()).toContain("overdue0.002 USDC0.0002 USDC");

    // The executors page shows the slash and the smaller bond.
    await page.goto(`${stack.webUrl}/#/executors`);
    const card = page.locator(".executors .card").first();
    await expect.poll(() => card.textContent(), { timeout: 30_000 }).toContain("Slashes1 (paid from its bond on receipt proofs)");
    expect(await card.textContent()).toContain(`${Number(EXECUTOR_BOND - MARKDOWN_PRICE - bounty) / 1e6} USDC bonded · 0.0022 USDC slashed`);
    await context.close();
  });

  it("tops up and closes a channel from the account page", async () => {
    const { context, page, wallet } = await open(agent);
    await page.goto(`${stack.webUrl}/#/accounts/${agent.address}`);
    await connect(page);
    const before = await channelOnChain(agent);
    const channels = page.getByRole("region", { name: "Channels paid from" });
    await channels.getByLabel("Top-up amount (USDC)").fill("0.01");
    await channels.getByRole("button", { name: "Top up" }).click();
    expect(await outcome(page, /^Deposited/)).toContain("Deposited 0.01 USDC");
    expect((await channelOnChain(agent)).balance).toBe(before.balance + 10_000n);
    expect(wallet!.requests).toContain("eth_signTypedData_v4"); // the ERC-3009 deposit authorization
    await expect.poll(async () => ((await channels.textContent()) ?? "").includes("0.0205 USDC"), { timeout: 30_000 }).toBe(true);

    await channels.getByRole("button", { name: "Close" }).click();
    expect(await outcome(page, /Withdrawal of/)).toMatch(/Withdrawal of 0\.0163 USDC started: finalize it from/);
    await expect.poll(() => channels.textContent(), { timeout: 30_000 }).toContain("withdrawing 0.0163 USDC");
    await context.close();
  });
});

describe("a licence buyer", () => {
  it("sees the licence offer on a fork's page, buys it with the page's button (approve, then buyLicence) and finds it on the account page", async () => {
    const buyer = devAccount(6);
    const LICENCE_PRICE = 50_000n;
    const ref = "forker/markdown-plus@1.0.0";
    const glassbox = sdk();
    const { versionId } = await glassbox.registry.resolveVersion("forker/markdown-plus", "1.0.0");
    const { context, page, wallet } = await open(buyer);
    await page.goto(`${stack.webUrl}/#/packages/forker/markdown-plus`);
    await connect(page);
    // Not offered yet: the page says so briefly, with no button.
    const licence = page.locator("section", { has: page.locator("#licence-title") });
    await expect.poll(() => licence.textContent()).toContain(`No licence to run ${ref} locally is offered`);
    expect(await licence.getByRole("button", { name: "Buy licence" }).count()).toBe(0);

    // The fork's owner offers one on-chain.
    const owner = createWalletClient({ account: forkAuthor, chain: chainFor(stack.chainId, stack.rpcUrl), transport: http(stack.rpcUrl) });
    const offer = await owner.writeContract({ address: stack.deployment.contracts.registry, abi: capabilityRegistryAbi, functionName: "setLicencePrice", args: [versionId, LICENCE_PRICE] });
    expect((await glassbox.chain.publicClient.waitForTransactionReceipt({ hash: offer })).status).toBe("success");
    await until(
      "the offer in the catalog",
      async () => ((await (await fetch(`${stack.indexerUrl}/packages/forker/markdown-plus`)).json()) as PackageResponse).versions[0]!.licencePrice,
      (price) => price === LICENCE_PRICE.toString(),
    );
    await page.reload();
    await expect.poll(() => licence.textContent(), { timeout: 30_000 }).toContain("Licence to run locally0.05 USDC, paid once");
    const offered = (await licence.textContent()) ?? "";
    expect(offered).toContain("Holders0");
    expect(offered).toContain(`glassbox licence buy ${ref}`);
    expect(offered).toContain(`glassbox run ${ref} <function> [args]`);
    expect(await page.locator(".package-header").textContent()).toContain("Licence to run locally0.05 USDC");
    const buy = licence.getByRole("button", { name: "Buy licence" });

    // A refused approval charges nothing and licenses nothing.
    const usdcBefore = await glassbox.usdcBalance(buyer.address);
    wallet!.refuseNext("eth_sendTransaction");
    await buy.click();
    expect(await outcome(page, /declined/)).toContain("You declined the request in your wallet");
    const hasLicence = () => glassbox.chain.publicClient.readContract({ address: stack.deployment.contracts.settlement, abi: settlementAbi, functionName: "hasLicence", args: [versionId, buyer.address] });
    expect(await hasLicence()).toBe(false);
    expect(await glassbox.usdcBalance(buyer.address)).toBe(usdcBefore);

    const forkAuthorBefore = await glassbox.claimable(forkAuthor.address);
    const maintainerBefore = await glassbox.claimable(maintainer.address);
    const sent = wallet!.requests.filter((m) => m === "eth_sendTransaction").length;
    await buy.click();
    expect(await outcome(page, /^Licence bought/)).toContain(`Licence bought for 0.05 USDC: ${buyer.address.slice(0, 8)}…${buyer.address.slice(-6)} may now run ${ref} locally.`);
    expect(wallet!.requests.filter((m) => m === "eth_sendTransaction")).toHaveLength(sent + 2); // approve, then buyLicence
    expect(await hasLicence()).toBe(true);
    expect(await glassbox.usdcBalance(buyer.address)).toBe(usdcBefore - LICENCE_PRICE);
    // Shared like a royalty: 80% to the fork's recipient, 20% up to acme/markdown, split 90/10 there.
    expect(await glassbox.claimable(forkAuthor.address)).toBe(forkAuthorBefore + (LICENCE_PRICE * 8_000n) / 10_000n);
    expect(await glassbox.claimable(maintainer.address)).toBe(maintainerBefore + (LICENCE_PRICE * 2_000n * 9_000n) / 10_000n / 10_000n);
    const bought = (await licence.textContent()) ?? "";
    expect(bought).toContain(`Your wallet holds a licence to ${ref}`);
    expect(bought).toContain("Holders1");
    expect(await buy.count()).toBe(0);
    await screenshot(licence, "licence", shots);

    // The account page lists the licence once the catalog has it.
    await page.goto(`${stack.webUrl}/#/accounts/${buyer.address}`);
    const held = page.getByRole("region", { name: "Licences held" });
    await until(
      "the licence on the account page",
      async () => {
        await page.reload();
        await page.locator("#licences-title").waitFor();
        return held.count();
      },
      (n) => n === 1,
    );
    const row = (await held.textContent()) ?? "";
    expect(row).toContain(ref);
    expect(row).toContain("0.05 USDC");
    expect(row).toContain("this account");
    expect(row).toContain(`glassbox run ${ref} <function>`);

    // The fork author's earnings have the licence column.
    await page.goto(`${stack.webUrl}/#/accounts/${forkAuthor.address}`);
    const earnings = page.getByRole("region", { name: "Earnings per package" });
    await expect.poll(() => earnings.textContent(), { timeout: 30_000 }).toContain("Licences");
    await expect.poll(async () => (await earnings.getByRole("row", { name: /forker\/markdown-plus/ }).textContent()) ?? "", { timeout: 30_000 }).toContain("0.04 USDC");
    await context.close();
  });
});
