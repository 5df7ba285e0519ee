import { getAddress, isAddress, type Address } from "viem";
import type { ChannelEntry } from "../../../sdk/catalog-api.ts";
import type { ReceiptAudit } from "../../../sdk/client/receipt-audit.ts";
import { accountView, type AccountView } from "../adapters/account.ts";
import type { App } from "../app.ts";
import { h, replace, statusLine, uid, type Child } from "../dom.ts";
import { executorFacts } from "./executors.ts";
import { formatCount, formatTime, formatUsdc, parseUsdc, shortHex } from "../format.ts";
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

const STATE_WORDS: Record<ReceiptAudit["state"], string> = {
  settled: "settled as signed",
  pending: "pending",
  overdue: "overdue: payable from the bond",
  mismatched: "settled differently: payable from the bond",
  slashed: "paid from the bond",
  "no-royalty": "no royalty owed",
};

/** The receipts this browser keeps for `address`, each checked on-chain, with the proofs that pay bad ones. */
async function receiptsPart(app: App, address: Address, notice: HTMLElement, reload: () => void): Promise<HTMLElement> {
  const audits = await app.reader.auditReceipts(address);
  if (audits.length === 0) return h("p", { class: "muted" }, "This browser keeps no receipt of this account yet: paid calls made here (Try it) are kept and checked here.");
  const rows = audits.map((a) => {
    const provable = a.state === "overdue" || a.state === "mismatched" || a.overcharged;
    const state = h("span", { class: `receipt-state ${a.state}` }, STATE_WORDS[a.state], a.overcharged ? " · fee above the registered one" : "");
    let action: Node | string = a.state === "pending" ? `settle by ${formatTime(a.deadline)}` : "";
    if (provable) {
      action = walletPart(app, (connection) => {
        if (!connection) return h("span", { class: "muted" }, "connect a wallet to submit the proof");
        const button = h("button", { type: "button" }, "Submit proof");
        button.addEventListener("click", () =>
          void runAction(button, notice, "Confirm the proof transaction in your wallet…", async () => {
            const done = await app.signed().glassbox.submitReceiptProofs(a);
            reload();
            const paid = done.reduce((sum, d) => sum + d.paid, 0n);
            const bounty = done.reduce((sum, d) => sum + d.bounty, 0n);
            return `Proof accepted (${done.map((d) => d.kind).join(", ")}): ${formatUsdc(paid)} paid from the executor's bond, bounty ${formatUsdc(bounty)} to the payer.`;
          }),
        );
        return button;
      });
    }
    return [h("span", { class: "mono" }, shortHex(a.entry.receiptId, 6)), a.receipt.functionName, formatUsdc(a.entry.charged), a.receipt.seq === 0n ? "—" : a.receipt.seq.toString(), state, action];
  });
  const counts = new Map<string, number>();
  for (const a of audits) counts.set(a.state, (counts.get(a.state) ?? 0) + 1);
  return h(
    "div",
    null,
    h("p", null, [...counts].map(([state, n]) => `${n} ${STATE_WORDS[state as ReceiptAudit["state"]]}`).join(" · ")),
    table("Receipts checked", ["Receipt", "Function", "Paid", "Seq", "Royalties", ""], rows),
  );
}

/** Top up, close (start the timed withdrawal) or finalize a channel the connected wallet pays from. */
function channelActions(app: App, channel: ChannelEntry, executorUrl: string | undefined, notice: HTMLElement, reload: () => void): HTMLElement {
  return walletPart(app, (connection) => {
    if (connection?.address !== getAddress(channel.payer)) return null;
    if (!executorUrl) return h("span", { class: "muted" }, "executor not listed");
    const parts: HTMLElement[] = [];
    const amount = h("input", { id: uid("topup"), type: "text", inputmode: "decimal", size: 8, placeholder: "0.01" });
    const topUp = h("button", { type: "button" }, "Top up");
    topUp.addEventListener("click", () =>
      void runAction(topUp, notice, "Sign the deposit in your wallet, then confirm the transaction…", async () => {
        const value = parseUsdc(amount.value);
        if (value === undefined || value <= 0n) throw new Error("Enter the USDC amount to deposit, e.g. 0.01.");
        const { glassbox, account } = app.signed();
        const { status } = await glassbox.channels.deposit(account, executorUrl, value);
        reload();
        return `Deposited ${formatUsdc(value)}: the channel holds ${formatUsdc(status.balance)}, ${formatUsdc(status.available)} available.`;
      }),
    );
    parts.push(h("span", { class: "inline-field" }, h("label", { for: amount.id }, "Top-up amount (USDC)"), amount, topUp));
    if (channel.withdrawal) {
      const finalize = h("button", { type: "button" }, "Finalize withdrawal");
      finalize.addEventListener("click", () =>
        void runAction(finalize, notice, "Confirm the transaction in your wallet…", async () => {
          const { glassbox, account } = app.signed();
          const { amount: back } = await glassbox.channels.finalize(account, executorUrl);
          reload();
          return `Withdrawn ${formatUsdc(back)} back to your wallet.`;
        }),
      );
      parts.push(finalize);
    } else if (BigInt(channel.available) > 0n) {
      const close = h("button", { type: "button", class: "secondary" }, "Close");
      close.addEventListener("click", () =>
        void runAction(close, notice, "Confirm the withdrawal in your wallet…", async () => {
          const { glassbox, account } = app.signed();
          const { amount: asked, status } = await glassbox.channels.close(account, executorUrl);
          reload();
          return `Withdrawal of ${formatUsdc(asked)} started: finalize it from ${formatTime(status.withdrawal?.finalizeAfter ?? 0n)} (the executor claims what it is owed meanwhile).`;
        }),
      );
      parts.push(close);
    }
    return h("div", { class: "channel-actions" }, parts);
  });
}

function withdrawalWords(c: ChannelEntry): string {
  if (!c.withdrawal) return "open";
  return `withdrawing ${formatUsdc(c.withdrawal.amount)}, from ${formatTime(c.withdrawal.finalizeAfter)}`;
}

function render(app: App, address: Address, view: AccountView, claimable: bigint, endpoints: Map<string, string>, outlet: ClaimOutlet & { reload(): void }): Child[] {
  const amount = h("span", { class: "amount" }, formatUsdc(claimable));
  const executorName = (a: Address) => endpoints.get(a.toLowerCase()) ?? shortHex(a, 6);
  const receiptsBody = h("div", null, statusLine("info", "Checking the receipts against the chain…"));
  void receiptsPart(app, address, outlet.notice, outlet.reload).then((part) => replace(receiptsBody, part), (error) => replace(receiptsBody, errorLine(error)));
  const s = view.spent;
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
            ["Package", "Royalty", "From forks", "Licences", "Bounties", "Refunds", "Total"],
            view.earnings.map((e) => [h("a", { href: routes.package(e.name) }, e.name), formatUsdc(e.royalty), formatUsdc(e.upstream), formatUsdc(e.licence), formatUsdc(e.bounty), formatUsdc(e.refund), formatUsdc(e.total)]),
          )
        : h("p", { class: "muted" }, "No earnings yet."),
    ),
    section(
      "spending",
      "Spending",
      facts([
        ["Spent", formatUsdc(s.total)],
        ["Through channels", `${formatUsdc(s.paid)} claimed by executors (deposited ${formatUsdc(s.deposited)}, returned ${formatUsdc(s.returned)}, available ${formatUsdc(s.available)})`],
        ["Exact payments", `${formatCount(s.exactPayments)} for ${formatUsdc(s.exact)}`],
      ]),
      view.payments.length
        ? table("Exact payments", ["Executor", "Time", "Paid", "Transaction"], view.payments.map((p) => [executorName(p.executor), formatTime(p.timestamp), formatUsdc(p.amount), h("span", { class: "mono" }, shortHex(p.transactionHash, 6))]))
        : null,
    ),
    section(
      "channels",
      "Payment channels",
      view.channels.asPayer.length
        ? table(
            "Channels paid from",
            ["Executor", "Deposited", "Claimed", "Available", "State", ""],
            view.channels.asPayer.map((c) => [executorName(c.receiver), formatUsdc(c.deposited), formatUsdc(c.claimed), formatUsdc(c.available), withdrawalWords(c), channelActions(app, c, endpoints.get(c.receiver.toLowerCase()), outlet.notice, outlet.reload)]),
          )
        : h("p", { class: "muted" }, "Pays from no channel yet: the first paid call through a channel opens one (Try it)."),
      view.channels.asReceiver.length
        ? table("Channels paid through", ["Payer", "Deposited", "Claimed", "Available", "State"], view.channels.asReceiver.map((c) => [h("a", { href: routes.account(c.payer), class: "mono" }, shortHex(c.payer, 6)), formatUsdc(c.deposited), formatUsdc(c.claimed), formatUsdc(c.available), withdrawalWords(c)]))
        : null,
    ),
    section(
      "licences",
      "Licences",
      view.licences.length
        ? table(
            "Licences held",
            ["Version", "Paid", "Paid by", "Bought", "Run it"],
            view.licences.map((l) => {
              const ref = l.name && l.version ? `${l.name}@${l.version}` : null;
              return [
                l.name && l.version ? h("a", { href: `${routes.package(l.name)}?version=${encodeURIComponent(l.version)}` }, ref) : h("span", { class: "mono" }, shortHex(l.versionId, 6)),
                formatUsdc(l.price),
                l.payer === l.holder ? "this account" : h("a", { href: routes.account(l.payer), class: "mono" }, shortHex(l.payer, 6)),
                formatTime(l.timestamp),
                ref ? h("code", null, `glassbox run ${ref} <function>`) : "—",
              ];
            }),
          )
        : h("p", { class: "muted" }, "Holds no licence to run a capability locally: a package page offers one when its owner sells it."),
    ),
    section("receipts", "Receipts", h("p", { class: "muted" }, "Each receipt the executor signed is checked against Settlement: its royalties settled as signed, pending until its deadline, or overdue (then anyone may submit it and the executor's bond pays, with a bounty to the payer)."), receiptsBody),
    view.slashes.length
      ? section(
          "slashes",
          "Proofs paid to this account",
          table("Slashes", ["Receipt", "Executor", "Reason", "Paid from the bond", "Bounty"], view.slashes.map((x) => [h("span", { class: "mono" }, shortHex(x.receiptId, 6)), executorName(x.executor), x.reason, formatUsdc(x.paid), formatUsdc(x.bounty)])),
        )
      : null,
    section(
      "history",
      "Claim history",
      view.claims.length
        ? table("Claims", ["Amount", "To", "Block", "Transaction"], view.claims.map((c) => [formatUsdc(c.amount), h("span", { class: "mono" }, shortHex(c.to, 6)), c.blockNumber, h("span", { class: "mono" }, shortHex(c.transactionHash, 6))]))
        : h("p", { class: "muted" }, "No claims yet."),
    ),
    section(
      "owned",
      "Packages",
      view.packages.length ? h("ul", null, view.packages.map((p) => h("li", null, h("a", { href: routes.package(p) }, p)))) : h("p", { class: "muted" }, "Owns no package."),
    ),
    view.executor ? section("executor", "Executor", facts(executorFacts(view.executor))) : null,
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
      const [account, claimable, listed] = await Promise.all([app.catalog.account(address), app.reader.claimable(address), app.catalog.executors().catch(() => ({ executors: [] }))]);
      const view = accountView(account);
      const endpoints = new Map(listed.executors.map((e) => [e.address.toLowerCase(), e.endpoint]));
      const outlet = {
        notice,
        claimed: () => void caughtUp(app, address, view.claimed).then(() => (isCurrent() ? load() : undefined)),
        // The chain has it at once, the catalog a block or two later.
        reload: () => void setTimeout(() => void (isCurrent() ? load() : undefined), 1_500),
      };
      if (isCurrent()) replace(sections, render(app, address, view, claimable, endpoints, outlet));
    } catch (error) {
      if (isCurrent()) replace(sections, errorLine(error));
    }
  };
  await load();
}
