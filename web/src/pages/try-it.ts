import type { ExecutorEntry, PackageResponse, VersionDetail } from "../../../sdk/catalog-api.ts";
import { GlassboxError } from "../../../sdk/client/errors.ts";
import type { TestVectors } from "../../../sdk/test-vectors.ts";
import type { InterfaceDocumentation } from "../../../sdk/wit.ts";
import { pay } from "../adapters/receipt.ts";
import type { App } from "../app.ts";
import { h, replace, statusLine, uid } from "../dom.ts";
import type { ExecutorStatus } from "../executors.ts";
import { formatUsdc } from "../format.ts";
import { walletPart } from "../live.ts";
import { routes } from "../router.ts";
import { facts, runAction } from "../ui.ts";
import { argumentsForm, type MemberDocs } from "../wit-form.ts";
import type { Spec } from "./package.ts";

/** "Try it": a form made from the WIT for any function, paid from the wallet over x402, with the result and the verified receipt. */

function docsLookup(doc: InterfaceDocumentation | undefined): MemberDocs {
  return (typeName, member) => doc?.types.find((t) => t.name === typeName)?.members.find((m) => m.name === member)?.docs;
}

function resultView(result: unknown): HTMLElement {
  return h("pre", { class: "result", tabindex: 0, "aria-label": "Result" }, h("code", null, typeof result === "string" ? result : JSON.stringify(result, null, 2)));
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
  let form = argumentsForm(doc.functions[0]!, docsLookup(doc));

  const chosenExecutor = (): ExecutorEntry => byFee.find((s) => s.entry.endpoint === executorSelect.value)!.entry;
  const showPrice = () => {
    const fee = BigInt(chosenExecutor().feePerCall);
    const royalty = BigInt(version.price);
    replace(priceArea,
      paid
        ? h("span", null, "You pay ", h("strong", null, formatUsdc(royalty + fee)), version.accessMode === "per-fuel" ? " + fuel" : "", ` = royalty ${formatUsdc(royalty)} + executor fee ${formatUsdc(fee)}, in USDC from your wallet (x402).`)
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
    walletPart(app, (connection) => (paid && !connection ? statusLine("info", "Connect a wallet (top of the page) to pay for a call.") : null)),
    button,
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
      let view;
      if (paid) {
        const { glassbox, connection } = app.signed();
        const cost = BigInt(version.price) + BigInt(executor.feePerCall);
        const balance = await glassbox.usdcBalance(connection.address);
        if (balance < cost) {
          throw new GlassboxError("INSUFFICIENT_USDC", `Too little USDC: your wallet holds ${formatUsdc(balance)} and this call costs ${formatUsdc(cost)}.`, "Add USDC to this wallet. Nothing was signed or charged.");
        }
        view = await pay(glassbox, ref, fnSelect.value, args, { executorUrl: executor.endpoint, ...(version.accessMode === "per-call" ? { maxPayment: cost } : {}) });
      } else {
        view = await pay(app.reader, ref, fnSelect.value, args, { executorUrl: executor.endpoint });
      }
      replace(output,
        h("h3", null, "Result"),
        resultView(view.result),
        h("p", { class: "muted" }, `fuel ${view.fuelUsed} · executor ${view.executor}`),
        view.receipt
          ? h(
              "div",
              { class: "receipt", "aria-label": "Receipt" },
              h("h3", null, "✔ Receipt verified"),
              h("p", { class: "mono small" }, view.receipt.id),
              facts(view.receipt.rows),
              h("p", null, h("a", { href: routes.account() }, "Your account"), " lists this payment once it settles."),
            )
          : null,
      );
      return view.receipt ? `Paid ${formatUsdc(view.receipt.total)}; the receipt is signed and checked.` : "Done.";
    });
  });
  return element;
}

