import type { PackageSummary } from "../../../sdk/catalog-api.ts";
import type { SearchFilters } from "../../../sdk/client/catalog.ts";
import { ACCESS_MODES, type AccessMode } from "../../../sdk/manifest.ts";
import type { App } from "../app.ts";
import { h, replace, statusLine, uid } from "../dom.ts";
import { formatCount, formatShare, parseUsdc, priceLabel } from "../format.ts";
import { routes, type Route } from "../router.ts";
import { errorLine } from "../ui.ts";

const PAGE = 20;

function result(p: PackageSummary): HTMLElement {
  const version = p.callableVersion?.version;
  return h(
    "li",
    { class: "card result" },
    h("h2", null, h("a", { href: routes.package(p.name) }, p.name), version ? h("span", { class: "badge" }, version) : null, p.fork ? h("span", { class: "badge fork" }, `fork · ${formatShare(p.fork.upstreamShareBps)} upstream`) : null),
    h("p", null, p.description ?? h("span", { class: "muted" }, "No description.")),
    h(
      "p",
      { class: "meta" },
      h("span", { class: "price" }, priceLabel(p.accessMode, p.price, p.fuelPricePerMillion)),
      " · ",
      p.license ?? "no license",
      " · ",
      `${formatCount(p.usage.paidCalls)} paid calls settled`,
      p.forkCount > 0 ? ` · ${p.forkCount} fork${p.forkCount === 1 ? "" : "s"}` : "",
    ),
    p.functionNames.length ? h("p", { class: "functions" }, p.functionNames.map((f) => h("code", null, f))) : null,
  );
}

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hint ? h("small", { class: "hint" }, hint) : null);
}

export async function searchPage(app: App, route: Route, main: HTMLElement, isCurrent: () => boolean): Promise<void> {
  const q = route.query;
  const queryInput = h("input", { id: uid("q"), type: "search", name: "q", value: q.get("q") ?? "", placeholder: "e.g. markdown, semver, csv", autocomplete: "off" });
  const access = h("select", { id: uid("access"), name: "access" }, h("option", { value: "" }, "any"), ACCESS_MODES.map((m) => h("option", { value: m, selected: q.get("access") === m }, m)));
  const maxPrice = h("input", { id: uid("max"), name: "maxPrice", inputmode: "decimal", value: q.get("maxPrice") ?? "", placeholder: "e.g. 0.005", size: 10 });
  const license = h("input", { id: uid("license"), name: "license", value: q.get("license") ?? "", placeholder: "e.g. MIT", size: 12 });
  const forksId = uid("forks");
  const hasForks = h("input", { type: "checkbox", id: forksId, name: "forks", checked: q.get("forks") === "1" });
  const depsId = uid("deps");
  const hasDeps = h("input", { type: "checkbox", id: depsId, name: "deps", checked: q.get("deps") === "1", disabled: true, "aria-describedby": `${depsId}-hint` });
  const depsHint = h("small", { id: `${depsId}-hint`, class: "hint" }, "Checking whether this catalog indexes dependencies…");
  const status = h("div", { class: "results-status" });
  const results = h("ol", { class: "results", "aria-label": "Search results" });
  const pager = h("nav", { class: "pager", "aria-label": "Result pages" });

  const form = h(
    "form",
    { role: "search", class: "search-form", "aria-label": "Search the catalog" },
    h("div", { class: "search-row" }, field("Search capabilities", queryInput), h("button", { type: "submit" }, "Search")),
    h(
      "fieldset",
      { class: "filters" },
      h("legend", null, "Filters"),
      field("Access", access),
      field("Max price (USDC per call)", maxPrice),
      field("License", license),
      h("div", { class: "field checkbox" }, hasForks, h("label", { for: forksId }, "Has forks")),
      h("div", { class: "field checkbox" }, hasDeps, h("label", { for: depsId }, "Has dependencies"), depsHint),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = routes.search({
      q: queryInput.value.trim(),
      access: access.value,
      maxPrice: maxPrice.value.trim(),
      license: license.value.trim(),
      forks: hasForks.checked ? "1" : undefined,
      deps: hasDeps.checked ? "1" : undefined,
    });
  });
  replace(main, h("h1", null, "Find a capability"), h("p", { class: "lead" }, "Specs and tests are free to read; calls are paid per use."), form, status, results, pager);

  void app.catalog.supports("hasDependencies").then((supported) => {
    hasDeps.disabled = !supported;
    depsHint.textContent = supported ? "" : "This catalog does not index dependencies yet (no package declares any).";
  });

  const offset = Math.max(0, Number(q.get("offset") ?? 0) || 0);
  let filters: SearchFilters;
  try {
    const max = parseUsdc(q.get("maxPrice") ?? "");
    filters = {
      limit: PAGE,
      offset,
      ...(q.get("access") ? { access: q.get("access") as AccessMode } : {}),
      ...(max !== undefined ? { maxPrice: max } : {}),
      ...(q.get("license") ? { license: q.get("license")! } : {}),
      ...(q.get("forks") === "1" ? { hasForks: true } : {}),
      ...(q.get("deps") === "1" ? { hasDependencies: true } : {}),
    };
  } catch (error) {
    replace(status, errorLine(error));
    return;
  }
  replace(status, statusLine("info", "Searching…"));
  try {
    const response = await app.catalog.search(q.get("q") ?? "", filters);
    if (!isCurrent()) return;
    const words = q.get("q");
    replace(status,
      statusLine("info", response.total === 0 ? `No capability matches ${words ? `“${words}”` : "these filters"}.` : `${response.total} capabilit${response.total === 1 ? "y" : "ies"}${words ? ` for “${words}”` : ""}, most relevant and most used first.`),
    );
    replace(results, ...response.results.map(result));
    const page = (to: number, text: string) => h("a", { href: routes.search({ ...Object.fromEntries(q), offset: String(to) }) }, text);
    replace(pager,
      offset > 0 ? page(Math.max(0, offset - PAGE), "← Previous") : "",
      offset + PAGE < response.total ? page(offset + PAGE, "Next →") : "",
    );
  } catch (error) {
    if (isCurrent()) replace(status, errorLine(error));
  }
}
