import { getAddress, isAddress, type Address } from "viem";
import { accountView, executorBond, type AccountView } from "../adapters/account.ts";
import type { App } from "../app.ts";
import { h, replace, statusLine, type Child } from "../dom.ts";
import { formatCount, formatTime, formatUsdc, shortHex } from "../format.ts";
import { walletPart } from "../live.ts";
import { routes, type Route } from "../router.ts";
import { errorLine, facts, runAction, section } from "../ui.ts";

function table(label: string, headers: string[], rows: (string | Node)[][]): HTMLElement {
  return h(
    "div",
    { class: "table-wrap", tabindex: 0, role: "region", "aria-label": label },
    h("table", null, h("thead", null, h("tr", null, headers.map((c) => h("th", { scope: "col" }, c)))), h("tbody", null, rows.map((r) => h("tr", null, r.map((c) => h("td", null, c)))))),
  );
}

/** What a claim on this page reports to, and what it refreshes once done. */
interface ClaimOutlet {
  notice: HTMLElement;
  claimed(): void;
}

function claimPart(app: App, address: Address, claimable: bigint, amount: HTMLElement, outlet: ClaimOutlet): HTMLElement {
  return walletPart(app, (connection) => {
    if (connection?.address !== address) return null;
    if (claimable === 0n) return h("p", { class: "muted" }, "Nothing to claim yet: earnings arrive as executors settle paid calls.");
    const button = h("button", { type: "button" }, `Claim ${formatUsdc(claimable)}`);
    button.addEventListener("click", () =>
      void runAction(button, outlet.notice, "Confirm the claim in your wallet…", async () => {
        const { amount: claimed } = await app.signed().glassbox.claim();
        button.remove();
        replace(amount, formatUsdc(await app.reader.claimable(address)));
        outlet.claimed();
        return `Claimed ${formatUsdc(claimed)} to ${shortHex(address)}.`;
      }),
    );
    return button;
  });
}

function render(app: App, address: Address, view: AccountView, claimable: bigint, outlet: ClaimOutlet): Child[] {
  const amount = h("span", { class: "amount" }, formatUsdc(claimable));
  const payments = view.payments.map((p) => [
    p.name ? h("a", { href: routes.package(p.name) }, `${p.name}@${p.version ?? "?"}`) : p.versionId,
    formatTime(p.timestamp),
    formatUsdc(BigInt(p.royalty) + BigInt(p.executorFee)),
    h("span", { class: "mono" }, shortHex(p.receiptId, 6)),
  ]);
  return [
    section(
      "earnings",
      "Earnings",
      h("p", { class: "claimable" }, "Claimable now: ", amount),
      claimPart(app, address, claimable, amount, outlet),
      facts([
        ["Earned in total", formatUsdc(view.credited)],
        ["Claimed", formatUsdc(view.claimed)],
      ]),
      view.earnings.length
        ? table(
            "Earnings per package",
            ["Package", "Royalty", "From forks", "Executor fees", "Total"],
            view.earnings.map((e) => [h("a", { href: routes.package(e.name) }, e.name), formatUsdc(e.royalty), formatUsdc(e.upstream), formatUsdc(e.executorFee), formatUsdc(e.total)]),
          )
        : h("p", { class: "muted" }, "No earnings yet."),
    ),
    section(
      "spending",
      "Spending",
      facts([
        ["Paid calls", formatCount(view.spent.paidCalls)],
        ["Spent", `${formatUsdc(view.spent.total)} (royalties ${formatUsdc(view.spent.royalty)} + executor fees ${formatUsdc(view.spent.executorFees)})`],
      ]),
      payments.length ? table("Payments", ["Capability", "Settled", "Paid", "Receipt"], payments) : h("p", { class: "muted" }, "No settled payments yet (a paid call shows here once its executor settles it)."),
    ),
    section(
      "history",
      "Claim history",
      view.claims.length
        ? table("Claims", ["Amount", "To", "Block", "Transaction"], view.claims.map((c) => [formatUsdc(c.amount), h("span", { class: "mono" }, shortHex(c.to, 6)), c.blockNumber, h("span", { class: "mono" }, shortHex(c.transactionHash, 6))]))
        : h("p", { class: "muted" }, "No claims yet."),
    ),
    section("channels", "Payment channels", view.channels === null ? h("p", { class: "muted" }, "This deployment takes payment per call (x402 exact): it has no channels.") : null),
    section(
      "owned",
      "Packages",
      view.packages.length ? h("ul", null, view.packages.map((p) => h("li", null, h("a", { href: routes.package(p) }, p)))) : h("p", { class: "muted" }, "Owns no package."),
    ),
    view.executor
      ? section(
          "executor",
          "Executor",
          facts([
            ["Endpoint", view.executor.endpoint],
            ["Fee per call", formatUsdc(view.executor.feePerCall)],
            ["Bond", executorBond(view.executor) === null ? "none on this deployment" : formatUsdc(executorBond(view.executor)!)],
            ["Settled calls", formatCount(view.executor.settledCalls)],
            ["Fees earned", formatUsdc(view.executor.feesEarned)],
            ["State", view.executor.active ? "active" : "deregistered"],
          ]),
        )
      : null,
  ];
}

/** After a claim the chain has it at once, the catalog a block or two later: wait for it (bounded), then redraw. */
async function caughtUp(app: App, address: Address, claimedBefore: bigint): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const account = await app.catalog.account(address).catch(() => undefined);
    if (account && BigInt(account.claimed) > claimedBefore) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function accountPage(app: App, route: Route, main: HTMLElement, isCurrent: () => boolean): Promise<void> {
  const given = route.path[1];
  if (!given) {
    // "My account": the connected wallet's page, or how to get one.
    replace(
      main,
      h("h1", null, "Your account"),
      walletPart(app, (connection) => {
        if (connection) {
          location.replace(routes.account(connection.address));
          return null;
        }
        return h("p", null, "Connect a wallet to see what you earned and spent, or open any address: ", h("code", null, "#/accounts/0x…"), ".");
      }),
    );
    return;
  }
  if (!isAddress(given, { strict: false })) {
    replace(main, h("h1", null, "Account"), errorLine(new Error(`"${given}" is not an address: expected 0x followed by 40 hex digits.`)));
    return;
  }
  const address = getAddress(given);
  const notice = h("div");
  const sections = h("div", null, statusLine("info", "Loading…"));
  replace(
    main,
    h("h1", null, "Account ", h("span", { class: "mono" }, shortHex(address, 6))),
    h("p", { class: "mono small" }, address),
    walletPart(app, (c) => (c?.address === address ? h("p", null, h("span", { class: "badge" }, "your wallet")) : null)),
    notice,
    sections,
  );
  const load = async () => {
    try {
      const [account, claimable] = await Promise.all([app.catalog.account(address), app.reader.claimable(address)]);
      const view = accountView(account);
      if (isCurrent()) replace(sections, render(app, address, view, claimable, { notice, claimed: () => void caughtUp(app, address, view.claimed).then(() => (isCurrent() ? load() : undefined)) }));
    } catch (error) {
      if (isCurrent()) replace(sections, errorLine(error));
    }
  };
  await load();
}
