import type { ExecutorEntry, PackageResponse, PendingRoyalties, VersionDetail } from "../../../sdk/catalog-api.ts";
import type { Hex } from "viem";
import { ROUTES } from "../../../sdk/protocol.ts";
import { fetchPublicBlob } from "../../../sdk/client/blobs.ts";
import { parseTestVectors, type TestVectors } from "../../../sdk/test-vectors.ts";
import { documentInterface, type InterfaceDocumentation } from "../../../sdk/wit.ts";
import type { App } from "../app.ts";
import { barChart, fillBuckets, intervalFor } from "../charts.ts";
import { h, replace, statusLine } from "../dom.ts";
import { probeExecutors } from "../executors.ts";
import { buyLicence, holdsLicence } from "../licence.ts";
import { formatCount, formatShare, formatTime, formatUsdc, priceLabel, shortHex } from "../format.ts";
import { walletPart } from "../live.ts";
import { routes, type Route } from "../router.ts";
import { errorLine, facts, runAction, section } from "../ui.ts";
import { renderWit } from "../wit-view.ts";
import { forkForm, forkList, forkTree } from "./forks.ts";
import { tryIt } from "./try-it.ts";

/** Only http(s) links are followed: a manifest is written by a stranger. */
function safeLink(url: string | null): HTMLElement | string {
  if (!url) return "not published";
  return /^https?:\/\//i.test(url) ? h("a", { href: url, rel: "noopener noreferrer nofollow" }, url) : url;
}

/** The version's source archive, a public blob every executor serves for free (reading code is never charged). */
function publishedSource(sourceHash: Hex | null, executorUrl: string | undefined): HTMLElement | string {
  if (!sourceHash) return "not published";
  if (!executorUrl) return `sha256 ${shortHex(sourceHash, 8)} (no executor to read it from)`;
  return h("a", { href: `${executorUrl}${ROUTES.blob(sourceHash)}`, download: `${sourceHash.slice(2, 14)}.tar.gz` }, "source archive (.tar.gz, free to read)");
}

function accountLink(address: string): HTMLElement {
  return h("a", { href: routes.account(address), class: "mono" }, shortHex(address, 6));
}

export interface Spec {
  source: string;
  doc?: InterfaceDocumentation;
  problem?: string;
}

async function loadSpec(version: VersionDetail, sources: string[]): Promise<{ spec?: Spec; tests?: TestVectors; testsProblem?: string }> {
  const decode = (bytes: Uint8Array | undefined) => bytes && new TextDecoder().decode(bytes);
  const [witText, testsText] = await Promise.all([fetchPublicBlob(sources, version.hashes.witHash).then(decode), fetchPublicBlob(sources, version.hashes.testsHash).then(decode)]);
  const out: { spec?: Spec; tests?: TestVectors; testsProblem?: string } = {};
  if (witText !== undefined) {
    const { witWorld, witInterface } = version.manifest;
    try {
      if (!witWorld) throw new Error("its manifest names no WIT world");
      out.spec = { source: witText, doc: documentInterface(witText, witWorld, witInterface ?? undefined) };
    } catch (error) {
      out.spec = { source: witText, problem: (error as Error).message };
    }
  }
  if (testsText !== undefined) {
    try {
      out.tests = parseTestVectors(testsText);
    } catch (error) {
      out.testsProblem = (error as Error).message;
    }
  }
  return out;
}

function testsTable(tests: TestVectors): HTMLElement {
  const json = (value: unknown) => h("code", { class: "json" }, JSON.stringify(value));
  return h(
    "div",
    { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Public test vectors" },
    h(
      "table",
      null,
      h("thead", null, h("tr", null, ["Case", "Function", "Arguments", "Expected"].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        null,
        tests.cases.map((c) =>
          h("tr", null, h("td", null, c.name), h("td", null, h("code", null, c.function)), h("td", null, json(c.args)), h("td", null, "ok" in c.expect ? json(c.expect.ok) : h("span", null, "error ", json(c.expect.error)))),
        ),
      ),
    ),
  );
}

function versionsTable(app: App, pkg: PackageResponse, shown: VersionDetail): HTMLElement {
  const rows = (connection: { address: string } | undefined) => {
    const owner = connection?.address.toLowerCase() === pkg.package.owner.toLowerCase();
    return h(
      "table",
      null,
      h("thead", null, h("tr", null, ["Version", "Published", "Price", "Paid calls", "State", owner ? "Owner" : null].filter(Boolean).map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        null,
        [...pkg.versions].reverse().map((v) => {
          const status = h("span");
          const yank = h("button", { type: "button", class: "small danger" }, `Yank ${v.version}`);
          yank.addEventListener("click", () =>
            void runAction(yank, status, "Confirm the yank in your wallet…", async () => {
              await app.signed().glassbox.yank(`${pkg.package.name}@${v.version}`);
              yank.remove();
              return `${v.version} is yanked: no longer callable (its record stays).`;
            }),
          );
          return h(
            "tr",
            { class: v.yanked ? "yanked" : "" },
            h("td", null, v.version === shown.version ? h("strong", null, v.version) : h("a", { href: `${routes.package(pkg.package.name)}?version=${encodeURIComponent(v.version)}` }, v.version)),
            h("td", null, formatTime(v.publishedAt)),
            h("td", null, priceLabel(v.accessMode, v.price, v.fuelPricePerMillion)),
            h("td", null, formatCount(v.usage.paidCalls)),
            h("td", null, v.yanked ? h("span", { class: "badge yanked" }, "yanked") : v.latest ? h("span", { class: "badge" }, "latest") : "callable"),
            owner ? h("td", null, v.yanked ? "" : yank, status) : null,
          );
        }),
      ),
    );
  };
  return walletPart(app, (connection) => h("div", { class: "table-wrap" }, rows(connection)));
}

async function activity(app: App, pkg: PackageResponse): Promise<HTMLElement> {
  const from = Number(pkg.package.registeredAt);
  const now = Math.max(Math.floor(Date.now() / 1000), from);
  const interval = intervalFor(from, now);
  const { buckets } = await app.catalog.activity(pkg.package.name, interval);
  const calls = fillBuckets(buckets.map((b) => ({ start: Number(b.start), value: BigInt(b.paidCalls) })), interval, from, now);
  const revenue = fillBuckets(buckets.map((b) => ({ start: Number(b.start), value: BigInt(b.royaltyRevenue) })), interval, from, now);
  return h("div", { class: "charts" }, barChart("Paid calls", calls, interval, (v) => formatCount(v)), barChart("Royalty revenue", revenue, interval, (v) => formatUsdc(v)));
}

/** The CLI lines that buy a licence and run the version locally (the CLI downloads the component once licensed). */
function licenceCommands(ref: string): HTMLElement {
  return h("pre", { class: "source", tabindex: 0, "aria-label": "Run it locally with the CLI" }, h("code", null, `glassbox licence buy ${ref}\nglassbox run ${ref} <function> [args]`));
}

/** "Run it locally": the version's licence offer, its holders, the CLI lines and a "Buy licence" button for the connected wallet. */
function licencePart(app: App, pkg: PackageResponse, version: VersionDetail): HTMLElement {
  const ref = `${pkg.package.name}@${version.version}`;
  if (version.licencePrice === null || version.yanked) {
    return h("p", { class: "muted" }, version.yanked ? `${version.version} was yanked: it sells no licence.` : `No licence to run ${ref} locally is offered: call it through an executor.`);
  }
  const price = BigInt(version.licencePrice);
  const holders = h("span", null, formatCount(version.licenceCount));
  const status = h("div", { "aria-live": "polite" });
  const owned = () => h("p", null, h("span", { class: "badge" }, "licensed"), ` Your wallet holds a licence to ${ref}: run it with the CLI lines above.`);
  const purchase = walletPart(app, (connection) => {
    if (!connection) return h("p", { class: "muted" }, "Connect a wallet (top of the page) to buy a licence.");
    const area = h("div");
    const button = h("button", { type: "button" }, "Buy licence");
    button.addEventListener("click", () =>
      void runAction(button, status, "Checking your USDC…", async () => {
        const bought = await buyLicence(app, { versionId: version.versionId, name: pkg.package.name, version: version.version, yanked: version.yanked }, price, (text) => replace(status, statusLine("info", text)));
        replace(holders, formatCount(version.licenceCount + 1));
        replace(area, owned());
        return `Licence bought for ${formatUsdc(bought.price)}: ${shortHex(bought.holder, 6)} may now run ${ref} locally.`;
      }),
    );
    replace(area, h("p", null, button, h("span", { class: "muted" }, ` for ${formatUsdc(price)}, paid once from ${shortHex(connection.address, 6)} (a USDC approval, then the purchase).`)));
    // Offer no second purchase to a holder (the contract would refuse it anyway).
    void holdsLicence(app, version.versionId, connection.address).then((held) => held && replace(area, owned()), () => undefined);
    return area;
  });
  return h(
    "div",
    null,
    facts([
      ["Licence to run locally", `${formatUsdc(price)}, paid once`],
      ["Holders", holders],
    ]),
    h("p", null, "A licence lets its holder download the component and run it on their own machine, with no per-call payment. Its price is shared like a royalty: the version's recipients, and upstream through forks."),
    licenceCommands(ref),
    purchase,
    status,
  );
}

/** Royalties owed to this package for calls served and not settled yet, as the executors report them. */
function pendingWords(p: PendingRoyalties): string {
  if (p.executors.length === 0) return "none (no active executor)";
  const sum = p.receipts === 0 ? "none" : `${formatUsdc(p.amount)} over ${p.receipts} call${p.receipts === 1 ? "" : "s"}, settled by the executors within their deadline`;
  return p.complete ? sum : `${sum} (at least: ${p.executors.filter((e) => e.status !== "ok").length} executor(s) did not answer)`;
}

export async function packagePage(app: App, route: Route, main: HTMLElement, isCurrent: () => boolean): Promise<void> {
  const name = route.path.slice(1).join("/");
  replace(main, h("h1", null, name), statusLine("info", "Loading…"));
  let pkg: PackageResponse;
  let executors: ExecutorEntry[];
  try {
    [pkg, { executors }] = await Promise.all([app.catalog.package(name), app.catalog.executors()]);
  } catch (error) {
    if (isCurrent()) replace(main, h("h1", null, name), errorLine(error), h("p", null, h("a", { href: routes.search() }, "Back to search")));
    return;
  }
  if (!isCurrent()) return;
  const wanted = route.query.get("version");
  const version = pkg.versions.find((v) => v.version === wanted) ?? pkg.versions.find((v) => v.latest) ?? pkg.versions.at(-1);
  const active = executors.filter((e) => e.active);
  const sources = [...new Set([app.config.executorUrl, ...active.map((e) => e.endpoint)].filter((u): u is string => Boolean(u)))];

  const description = version?.manifest.description ?? pkg.package.description;
  const header = h(
    "header",
    { class: "package-header" },
    h("h1", null, pkg.package.name, version ? h("span", { class: "badge" }, version.version) : null, version?.yanked ? h("span", { class: "badge yanked" }, "yanked") : null),
    h("p", { class: "lead" }, description ?? "No description."),
    version?.manifest.keywords.length ? h("p", { class: "keywords" }, version.manifest.keywords.map((k) => h("a", { href: routes.search({ q: k }), class: "tag" }, k))) : null,
    facts([
      ["Price", version ? priceLabel(version.accessMode, version.price, version.fuelPricePerMillion) : "no version published"],
      ["Licence to run locally", version?.licencePrice != null && !version.yanked ? formatUsdc(version.licencePrice) : "not offered"],
      ["Access", version?.accessMode ?? "—"],
      ["License", version?.manifest.license ?? pkg.package.license ?? "—"],
      ["Owner", accountLink(pkg.package.owner)],
      ["Repository", safeLink(version?.manifest.repository ?? null)],
      ["Published source", publishedSource(version?.manifest.sourceHash ?? null, sources[0])],
      ["Forks pay upstream", `at least ${formatShare(pkg.package.minForkShareBps)}`],
      ["Registered", formatTime(pkg.package.registeredAt)],
    ]),
  );
  const upstream = pkg.upstream.length
    ? section(
        "upstream",
        "Upstream chain",
        h("ol", { class: "chain" }, pkg.upstream.map((u) => h("li", null, h("a", { href: routes.package(u.name) }, `${u.name}@${u.version}`), ` receives ${formatShare(u.upstreamShareBps)}`, u.yanked ? " (version yanked)" : ""))),
      )
    : null;

  const specBody = h("div", null, statusLine("info", "Reading the spec and tests from an executor…"));
  const testsBody = h("div", null, statusLine("info", "Loading…"));
  const tryBody = h("div", null, statusLine("info", "Loading…"));
  const executorsBody = h("div", null, statusLine("info", "Asking the executors…"));
  const forksBody = h("div", null, pkg.forks.length ? statusLine("info", "Loading the fork tree…") : h("p", { class: "muted" }, "No forks yet."));
  const activityBody = h("div", null, statusLine("info", "Loading…"));
  const dependencies = (pkg.dependencies?.length ?? 0) > 0 || (pkg.dependents?.length ?? 0) > 0;

  replace(main,
    header,
    version && !version.manifest.valid ? errorLine(new Error(`The published manifest of ${version.version} is invalid: ${version.manifest.error}`)) : null,
    upstream,
    section("spec", "Spec (WIT)", specBody),
    section("tests", "Public tests", testsBody),
    section("try", "Try it", tryBody),
    version ? section("licence", "Run it locally", licencePart(app, pkg, version)) : null,
    section("versions", "Versions", version ? versionsTable(app, pkg, version) : h("p", null, "No version published yet.")),
    section("forks", "Forks", forksBody, version && !version.yanked ? h("details", null, h("summary", null, "Fork this version"), walletPart(app, (c) => (c ? forkForm(app, pkg, version) : h("p", { class: "muted" }, "Connect a wallet to register a fork.")))) : null),
    dependencies
      ? section(
          "dependencies",
          "Dependencies",
          h("h3", null, "Uses"),
          pkg.dependencies?.length
            ? h("ul", null, pkg.dependencies.map((d) => h("li", null, h("a", { href: routes.package(d.name) }, `${d.name}@${d.version}`), h("span", { class: "muted" }, ` (range ${d.range}, at most ${d.maxRoyaltyPerCall} base units per call)`))))
            : h("p", { class: "muted" }, "Nothing: it imports no other capability."),
          h("h3", null, "Used by"),
          pkg.dependents?.length
            ? h("ul", null, pkg.dependents.map((d) => h("li", null, h("a", { href: routes.package(d.name) }, `${d.name}@${d.version}`))))
            : h("p", { class: "muted" }, "No other capability imports it yet."),
        )
      : null,
    section("executors", "Executors serving it", executorsBody),
    section("activity", "Paid calls and revenue", activityBody),
    section(
      "earnings",
      "Earnings",
      facts([
        ["Paid calls settled", formatCount(pkg.earnings.paidCalls)],
        ["Royalty revenue", formatUsdc(pkg.earnings.royaltyRevenue)],
        ["Licences sold", `${formatCount(pkg.earnings.licenceCount)} for ${formatUsdc(pkg.earnings.licenceRevenue)}`],
        ["Royalties pending", pendingWords(pkg.pendingRoyalties)],
      ]),
      pkg.pendingRoyalties.executors.some((e) => e.status === "ok" && (e.receipts ?? 0) > 0)
        ? h(
            "ul",
            { class: "pending" },
            pkg.pendingRoyalties.executors
              .filter((e) => e.status === "ok" && (e.receipts ?? 0) > 0)
              .map((e) => h("li", null, h("span", { class: "mono" }, e.endpoint), ` owes ${formatUsdc(e.amount ?? "0")} for ${e.receipts} call${e.receipts === 1 ? "" : "s"} (`, e.versions.map((v) => `${v.version ?? shortHex(v.versionId)}: ${v.receipts}`).join(", "), ")")),
          )
        : null,
      pkg.earnings.recipients.length
        ? h(
            "div",
            { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Earnings per account" },
            h(
              "table",
              null,
              h("thead", null, h("tr", null, ["Account", "Royalty", "From forks", "Licences", "Total"].map((c) => h("th", { scope: "col" }, c)))),
              h("tbody", null, pkg.earnings.recipients.map((r) => h("tr", null, h("td", null, accountLink(r.account)), h("td", null, formatUsdc(r.royalty)), h("td", null, formatUsdc(r.upstream)), h("td", null, formatUsdc(r.licence)), h("td", null, formatUsdc(BigInt(r.royalty) + BigInt(r.upstream) + BigInt(r.licence)))))),
            ),
          )
        : null,
    ),
  );

  const serving = probeExecutors(active).then((all) => all.filter((s) => version && s.serves.some((p) => p.versionId === version.versionId)));
  void serving.then((list) => {
    replace(executorsBody,
      list.length
        ? h("ul", null, list.map((s) => h("li", null, h("span", { class: "mono" }, s.entry.endpoint), ` · fee ${formatUsdc(s.entry.feePerCall)} · `, h("span", { class: `health ${s.health}` }, s.health))))
        : h("p", { class: "muted" }, "No running executor serves this version."),
    );
  });
  void forkTree(app, pkg).then((tree) => tree.length && replace(forksBody, forkList(tree)));
  void activity(app, pkg).then((charts) => replace(activityBody, charts), (error) => replace(activityBody, errorLine(error)));

  if (!version) {
    for (const body of [specBody, testsBody, tryBody]) replace(body, h("p", { class: "muted" }, "No version published yet."));
    return;
  }
  const [{ spec, tests, testsProblem }, servingList] = await Promise.all([loadSpec(version, sources), serving]);
  if (!isCurrent()) return;
  replace(specBody,
    !spec
      ? h("p", { class: "muted" }, `No executor serves the WIT of ${version.version} (sha256 ${shortHex(version.hashes.witHash, 8)}).`)
      : spec.doc
        ? renderWit(spec.doc, spec.source)
        : [errorLine(new Error(`The WIT does not parse: ${spec.problem}`)), h("pre", { class: "source" }, spec.source)],
  );
  replace(testsBody,
    tests
      ? [
          h("p", null, `${tests.cases.length} cases, free to read and to run against any implementation of the WIT: `, tests.cases.slice(0, 3).map((c) => `“${c.name}”`).join(", "), tests.cases.length > 3 ? "…" : "."),
          h("details", null, h("summary", null, `Show all ${tests.cases.length} cases`), testsTable(tests)),
        ]
      : testsProblem
        ? errorLine(new Error(`The published test vectors are malformed: ${testsProblem}`))
        : h("p", { class: "muted" }, "No executor serves the test vectors of this version."),
  );
  replace(tryBody, tryIt(app, pkg, version, spec, tests, servingList));
}
