import type { ExecutorEntry } from "../../../sdk/catalog-api.ts";
import { bondLine } from "../adapters/account.ts";
import type { App } from "../app.ts";
import { h, replace, statusLine, type Child } from "../dom.ts";
import { probeExecutors, type ExecutorStatus } from "../executors.ts";
import { formatCount, formatUsdc, shortHex } from "../format.ts";
import { routes, type Route } from "../router.ts";
import { errorLine, facts } from "../ui.ts";

/** What the catalog knows of an executor from the chain: fee, bond and exit, royalties settled, slashes, revenue. */
export function executorFacts(e: ExecutorEntry): [string, Child][] {
  const channelRevenue = e.revenue.channels.reduce((sum, c) => sum + BigInt(c.claimed), 0n);
  return [
    ["Operator", h("a", { href: routes.account(e.address), class: "mono" }, shortHex(e.address, 6))],
    ["Endpoint", e.endpoint],
    ["Fee per call", formatUsdc(e.feePerCall)],
    ["Bond", bondLine(e)],
    ["Royalties settled", `${formatCount(e.royalties.lines)} calls in ${e.royalties.batches} batch${e.royalties.batches === 1 ? "" : "es"}, ${formatUsdc(e.royalties.paid)}`],
    ["Slashes", e.slashCount === 0 ? "none" : `${e.slashCount} (paid from its bond on receipt proofs)`],
    ["Taken as payee", `${formatUsdc(channelRevenue)} claimed from channels · ${formatUsdc(e.revenue.exact.amount)} in ${e.revenue.exact.payments} exact payment${e.revenue.exact.payments === 1 ? "" : "s"}`],
    ["State", e.retired ? "retired" : e.active ? "active" : "deregistered"],
  ];
}

function pendingLine(s: ExecutorStatus): string {
  if (!s.info) return "unknown (the executor did not answer)";
  const u = s.info.unsettledRoyalties;
  return u.receipts === 0 ? "none" : `${formatUsdc(u.total)} over ${u.receipts} receipt${u.receipts === 1 ? "" : "s"}, settled within ${Math.round(s.info.settleWindowSeconds / 60)} min of each call`;
}

export async function executorsPage(app: App, _route: Route, main: HTMLElement, isCurrent: () => boolean): Promise<void> {
  replace(main, h("h1", null, "Executors"), statusLine("info", "Loading…"));
  try {
    const { executors } = await app.catalog.executors();
    const statuses = await probeExecutors(executors.filter((e) => e.active));
    if (!isCurrent()) return;
    const inactive = executors.filter((e) => !e.active);
    replace(
      main,
      h("h1", null, "Executors"),
      h("p", { class: "lead" }, "Independent services that run capabilities in a metered sandbox, take payment over x402 (channels, then exact), sign a receipt per paid call and settle its royalties on-chain. Each posts a bond that pays on a receipt whose royalties are late or wrong. Health and pending royalties are asked from each executor directly."),
      statuses.length === 0 ? h("p", null, "No executor is registered.") : null,
      h(
        "ul",
        { class: "executors" },
        statuses.map((s) =>
          h(
            "li",
            { class: "card" },
            h("h2", null, h("span", { class: "mono" }, s.entry.endpoint), " ", h("span", { class: `health ${s.health}` }, s.health)),
            facts([
              ...executorFacts(s.entry).filter(([label]) => label !== "Endpoint"),
              ["Pending royalties", pendingLine(s)],
              ["Takes", s.info ? s.info.schemes.join(", ") : "unknown"],
            ]),
            h("h3", null, `Serves ${s.serves.length} version${s.serves.length === 1 ? "" : "s"}`),
            s.serves.length ? h("ul", { class: "served" }, s.serves.map((p) => h("li", null, h("a", { href: routes.package(p.name) }, `${p.name}@${p.version}`)))) : null,
          ),
        ),
      ),
      inactive.length ? h("p", { class: "muted" }, `${inactive.length} deregistered executor${inactive.length === 1 ? "" : "s"} not shown.`) : null,
    );
  } catch (error) {
    if (isCurrent()) replace(main, h("h1", null, "Executors"), errorLine(error));
  }
}
