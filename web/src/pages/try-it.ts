import type { ExecutorEntry, PackageResponse, VersionDetail } from "../../../sdk/catalog-api.ts";
import { GlassboxError } from "../../../sdk/client/errors.ts";
import type { TestVectors } from "../../../sdk/test-vectors.ts";
import type { InterfaceDocumentation } from "../../../sdk/wit.ts";
import type { DepositDecision, DepositOffer, PayScheme } from "../../../sdk/client/call.ts";
import { channelRows, pay, type PaidCallView } from "../adapters/receipt.ts";
import type { App } from "../app.ts";
import { h, replace, statusLine, uid } from "../dom.ts";
import type { ExecutorStatus } from "../executors.ts";
import { formatUsdc, parseUsdc, shortHex } from "../format.ts";
import { walletPart } from "../live.ts";
import { routes } from "../router.ts";
import { errorLine, facts, runAction } from "../ui.ts";
import { argumentsForm, type MemberDocs } from "../wit-form.ts";
import type { Spec } from "./package.ts";

/** "Try it": a form made from the WIT for any function, paid from the wallet over x402, with the result and the verified receipt. */

function docsLookup(doc: InterfaceDocumentation | undefined): MemberDocs {
  return (typeName, member) => doc?.types.find((t) => t.name === typeName)?.members.find((m) => m.name === member)?.docs;
}

function resultView(result: unknown): HTMLElement {
  return h("pre", { class: "result", tabindex: 0, "aria-label": "Result" }, h("code", null, typeof result === "string" ? result : JSON.stringify(result, null, 2)));
}

/**
 * Asks, in the page, before any USDC is locked in a channel: the amount (prefilled with what the stock client
 * suggests, never below what this call needs) and a confirm button. Resolves with the amount agreed, or false.
 */
function askDeposit(area: HTMLElement, offer: DepositOffer, walletBalance: bigint): Promise<DepositDecision> {
  return new Promise((resolve) => {
    const amount = h("input", { id: uid("deposit"), type: "text", inputmode: "decimal", value: formatUsdc(offer.suggested > offer.minimum ? offer.suggested : offer.minimum).replace(/ USDC$/, "") });
    const problem = h("div");
    const confirm = h("button", { type: "button" }, "Deposit and pay");
    const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
    const done = (answer: DepositDecision) => {
      replace(area);
      resolve(answer);
    };
    confirm.addEventListener("click", () => {
      try {
        const value = parseUsdc(amount.value);
        if (value === undefined || value < offer.minimum) throw new Error(`The deposit must be at least ${formatUsdc(offer.minimum)} (this call's price).`);
        if (offer.maximum !== undefined && value > offer.maximum) throw new Error(`The deposit can be at most ${formatUsdc(offer.maximum)} (five calls at the price shown).`);
        if (value > walletBalance) throw new Error(`Your wallet holds ${formatUsdc(walletBalance)}: deposit at most that.`);
        done(value);
      } catch (error) {
        replace(problem, errorLine(error));
      }
    });
    cancel.addEventListener("click", () => done(false));
    replace(
      area,
      h(
        "div",
        { class: "deposit-confirm", role: "group", "aria-label": "Confirm the deposit" },
        h("h3", null, offer.topUp ? "Top up your payment channel" : "Open a payment channel"),
        h(
          "p",
          null,
          offer.topUp ? `Your channel to ${shortHex(offer.executor, 6)} holds ${formatUsdc(offer.balance)}, not enough for this call (${formatUsdc(offer.price)}). ` : `Paying ${shortHex(offer.executor, 6)} through a channel locks a deposit once; each call is then a signed voucher, no transaction. `,
          `This call costs ${formatUsdc(offer.price)}; your wallet holds ${formatUsdc(walletBalance)}. What you do not spend can be withdrawn from your account page.`,
        ),
        h("div", { class: "field" }, h("label", { for: amount.id }, "Deposit (USDC)"), amount, h("small", { class: "hint" }, `at least ${formatUsdc(offer.minimum)}${offer.maximum !== undefined ? `, at most ${formatUsdc(offer.maximum)}` : ""}; suggested ${formatUsdc(offer.suggested)}`)),
        problem,
        h("div", { class: "actions" }, confirm, " ", cancel),
      ),
    );
    amount.focus();
  });
}

function receiptView(view: PaidCallView, channel: HTMLElement): HTMLElement | null {
  if (!view.receipt) return null;
  return h(
    "div",
    { class: "receipt", "aria-label": "Receipt" },
    h("h3", null, "✔ Receipt verified"),
    h("p", { class: "mono small" }, view.receipt.id),
    facts(view.receipt.rows),
    view.deposit ? h("p", null, `This call deposited ${formatUsdc(view.deposit.amount)} into the channel.`) : null,
    channel,
    h("p", null, h("a", { href: routes.account() }, "Your account"), " checks this receipt against the chain until its royalties are settled."),
  );
}

export function tryIt(app: App, pkg: PackageResponse, version: VersionDetail, spec: Spec | undefined, tests: TestVectors | undefined, serving: ExecutorStatus[]): HTMLElement {
  const name = pkg.package.name;
  if (version.yanked) return h("p", null, `${version.version} was yanked: it can no longer be called.`);
  if (!spec?.doc) return h("p", { class: "muted" }, "The spec of this version is not available from any executor, so no form can be made.");
  const doc = spec.doc;
  if (serving.length === 0) return h("p", { class: "muted" }, "No running executor serves this version yet.");
  const paid = version.accessMode !== "free";
  const byFee = [...serving].sort((a, b) => Number(BigInt(a.entry.feePerCall) - BigInt(b.entry.feePerCall)));
  const executorSelect = h("select", { id: uid("executor") }, byFee.map((s) => h("option", { value: s.entry.endpoint }, `${s.entry.endpoint} (fee ${formatUsdc(s.entry.feePerCall)})`)));
  const fnSelect = h("select", { id: uid("fn") }, doc.functions.map((f) => h("option", { value: f.name }, f.name)));
  const formArea = h("div");
  const priceArea = h("p", { class: "price-line", "aria-live": "polite" });
  const status = h("div");
  const output = h("div", { class: "output" });
  const button = h("button", { type: "submit" }, paid ? "Pay and call" : "Call");
  const schemeGroup = uid("scheme");
  const schemeOption = (value: PayScheme, text: string, checked: boolean) => {
    const input = h("input", { id: uid(`scheme-${value}`), type: "radio", name: schemeGroup, value, checked });
    return h("div", { class: "choice" }, input, h("label", { for: input.id }, text));
  };
  const schemeChoice = h(
    "fieldset",
    { class: "scheme" },
    h("legend", null, "Pay with"),
    schemeOption("channel", "a payment channel (deposit once, then one signature per call)", true),
    schemeOption("exact", "exact (one USDC transfer per call)", false),
  );
  const chosenScheme = (): PayScheme => (schemeChoice.querySelector<HTMLInputElement>("input:checked")?.value === "exact" ? "exact" : "channel");
  const depositArea = h("div", { "aria-live": "polite" });
  let form = argumentsForm(doc.functions[0]!, docsLookup(doc));

  const chosenExecutor = (): ExecutorEntry => byFee.find((s) => s.entry.endpoint === executorSelect.value)!.entry;
  const showPrice = () => {
    const fee = BigInt(chosenExecutor().feePerCall);
    const royalty = BigInt(version.price);
    replace(priceArea,
      paid
        ? h("span", null, "You pay ", h("strong", null, formatUsdc(royalty + fee)), version.accessMode === "per-fuel" ? " + fuel" : "", ` = royalty ${formatUsdc(royalty)} + executor fee ${formatUsdc(fee)}, in USDC from your wallet (x402: through a payment channel, or one transfer).`)
        : "Free to call: no wallet needed.",
    );
  };
  const buildForm = () => {
    const fn = doc.functions.find((f) => f.name === fnSelect.value)!;
    form = argumentsForm(fn, docsLookup(doc));
    const example = tests?.cases.find((c) => c.function === fn.name);
    if (example) form.write(example.args);
    replace(formArea, h("p", { class: "docs" }, fn.docs ?? ""), example ? h("p", { class: "muted" }, `Filled in from the public test “${example.name}”.`) : null, form.element);
  };
  fnSelect.addEventListener("change", buildForm);
  executorSelect.addEventListener("change", showPrice);
  buildForm();
  showPrice();

  const element = h(
    "form",
    { class: "try-it", "aria-label": `Try ${name}` },
    h("div", { class: "field" }, h("label", { for: fnSelect.id }, "Function"), fnSelect),
    formArea,
    h("div", { class: "field" }, h("label", { for: executorSelect.id }, "Executor"), executorSelect),
    priceArea,
    paid ? schemeChoice : null,
    walletPart(app, (connection) => (paid && !connection ? statusLine("info", "Connect a wallet (top of the page) to pay for a call.") : null)),
    button,
    depositArea,
    status,
    output,
  );
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    void runAction(button, status, paid ? "Waiting for your wallet to sign the payment…" : "Calling…", async () => {
      const args = form.read();
      const executor = chosenExecutor();
      const ref = `${name}@${version.version}`;
      replace(output);
      let view: PaidCallView;
      let channel: HTMLElement = h("div");
      if (paid) {
        const { glassbox, connection } = app.signed();
        const cost = BigInt(version.price) + BigInt(executor.feePerCall);
        const scheme = chosenScheme();
        const walletBalance = await glassbox.usdcBalance(connection.address);
        if (scheme === "exact" && walletBalance < cost) {
          throw new GlassboxError("INSUFFICIENT_USDC", `Too little USDC: your wallet holds ${formatUsdc(walletBalance)} and this call costs ${formatUsdc(cost)}.`, "Add USDC to this wallet. Nothing was signed or charged.");
        }
        const onDeposit = async (offer: DepositOffer): Promise<DepositDecision> => {
          const balance = await glassbox.usdcBalance(connection.address);
          if (balance < offer.minimum) {
            throw new GlassboxError("INSUFFICIENT_USDC", `Too little USDC: your wallet holds ${formatUsdc(balance)} and this call needs a channel deposit of at least ${formatUsdc(offer.minimum)}.`, "Add USDC to this wallet. Nothing was signed or charged.");
          }
          replace(status);
          const answer = await askDeposit(depositArea, offer, balance);
          replace(status, statusLine("info", answer === false ? "Cancelling…" : `Sign the deposit of ${formatUsdc(answer)} in your wallet…`));
          return answer;
        };
        view = await pay(glassbox, ref, fnSelect.value, args, { executorUrl: executor.endpoint, scheme, onDeposit, ...(version.accessMode === "per-call" ? { maxPayment: cost } : {}) });
        if (view.receipt?.scheme === "batch-settlement") {
          const state = await glassbox.channels.status(connection.address, executor.endpoint).catch(() => undefined);
          if (state) channel = h("div", { class: "channel-state", "aria-label": "Channel after this call" }, h("h4", null, "Your channel after this call"), facts(channelRows(state)));
        }
      } else {
        view = await pay(app.reader, ref, fnSelect.value, args, { executorUrl: executor.endpoint });
      }
      replace(output,
        h("h3", null, "Result"),
        resultView(view.result),
        h("p", { class: "muted" }, `fuel ${view.fuelUsed} · executor ${view.executor}`),
        receiptView(view, channel),
      );
      return view.receipt ? `Paid ${formatUsdc(view.receipt.total)}${view.receipt.scheme === "batch-settlement" ? " through your channel" : ""}; the receipt is signed and checked.` : "Done.";
    });
  });
  return element;
}

