import { executorBond } from "../adapters/account.ts";
import type { App } from "../app.ts";
import { h, replace, statusLine } from "../dom.ts";
import { probeExecutors } from "../executors.ts";
import { formatCount, formatUsdc, shortHex } from "../format.ts";
import { routes, type Route } from "../router.ts";
import { errorLine } from "../ui.ts";

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
      h("p", { class: "lead" }, "Independent services that run capabilities in a metered sandbox, take payment over x402 and settle signed receipts. Health and packages are asked from each executor directly."),
      statuses.length === 0 ? h("p", null, "No executor is registered.") : null,
      h(
        "ul",
        { class: "executors" },
        statuses.map((s) => {
          const bond = executorBond(s.entry);
          return h(
            "li",
            { class: "card" },
            h("h2", null, h("span", { class: "mono" }, s.entry.endpoint), " ", h("span", { class: `health ${s.health}` }, s.health)),
            h(
              "dl",
              { class: "facts" },
              h("dt", null, "Operator"),
              h("dd", null, h("a", { href: routes.account(s.entry.address), class: "mono" }, shortHex(s.entry.address, 6))),
              h("dt", null, "Fee per call"),
              h("dd", null, formatUsdc(s.entry.feePerCall)),
              h("dt", null, "Bond"),
              h("dd", null, bond === null ? "none on this deployment" : formatUsdc(bond)),
              h("dt", null, "Settled calls"),
              h("dd", null, formatCount(s.entry.settledCalls)),
              h("dt", null, "Fees earned"),
              h("dd", null, formatUsdc(s.entry.feesEarned)),
            ),
            h("h3", null, `Serves ${s.serves.length} version${s.serves.length === 1 ? "" : "s"}`),
            s.serves.length ? h("ul", { class: "served" }, s.serves.map((p) => h("li", null, h("a", { href: routes.package(p.name) }, `${p.name}@${p.version}`)))) : null,
          );
        }),
      ),
      inactive.length ? h("p", { class: "muted" }, `${inactive.length} deregistered executor${inactive.length === 1 ? "" : "s"} not shown.`) : null,
    );
  } catch (error) {
    if (isCurrent()) replace(main, h("h1", null, "Executors"), errorLine(error));
  }
}
