import { App } from "./app.ts";
import { ConfigError, loadWebConfig } from "./config.ts";
import { h, replace } from "./dom.ts";
import { shortHex } from "./format.ts";
import { accountPage } from "./pages/account.ts";
import { executorsPage } from "./pages/executors.ts";
import { packagePage } from "./pages/package.ts";
import { publishPage } from "./pages/publish.ts";
import { searchPage } from "./pages/search.ts";
import { currentRoute, routes, type Route } from "./router.ts";
import { errorLine, runAction } from "./ui.ts";
import "./styles.css";

type Page = (app: App, route: Route, main: HTMLElement, isCurrent: () => boolean) => Promise<void> | void;

const PAGES: Record<string, Page> = {
  search: searchPage,
  packages: packagePage,
  accounts: accountPage,
  account: accountPage,
  executors: executorsPage,
  publish: publishPage,
};

const NAV: [string, string, string][] = [
  ["search", "Search", routes.search()],
  ["executors", "Executors", routes.executors()],
  ["publish", "Publish", routes.publish()],
  ["account", "Account", routes.account()],
];

function walletArea(app: App): HTMLElement {
  const area = h("div", { class: "wallet-area" });
  const status = h("div", { class: "wallet-status" });
  let open = false;
  const draw = () => {
    const { available, connection } = app.wallet.current;
    if (connection) {
      const wrong = connection.chainId !== app.wallet.chainId;
      const switchButton = h("button", { type: "button", class: "small" }, "Switch network");
      switchButton.addEventListener("click", () => void runAction(switchButton, status, "Asking your wallet to switch…", async () => {
        await app.wallet.switchChain();
        return "Switched.";
      }));
      replace(
        area,
        h("a", { href: routes.account(connection.address), class: "mono", title: connection.address }, shortHex(connection.address)),
        h("span", { class: "muted small" }, ` via ${connection.wallet.info.name}`),
        wrong ? [h("span", { class: "warning", role: "alert" }, `Wrong network (chain ${connection.chainId})`), switchButton] : null,
        h("button", { type: "button", class: "small secondary", onclick: () => app.wallet.disconnect() }, "Disconnect"),
        status,
      );
      return;
    }
    const toggle = h("button", { type: "button", "aria-expanded": open ? "true" : "false", "aria-controls": "wallet-list" }, "Connect wallet");
    toggle.addEventListener("click", () => {
      open = !open;
      draw();
      area.querySelector<HTMLButtonElement>("#wallet-list button")?.focus();
    });
    const list = h(
      "div",
      { id: "wallet-list", class: "wallet-list", hidden: !open },
      available.length === 0
        ? h("p", null, "No browser wallet found. Install one (MetaMask, Rabby, Coinbase Wallet…) to publish, pay or claim; reading needs none.")
        : h(
            "ul",
            { "aria-label": "Wallets in this browser" },
            available.map((wallet) => {
              const button = h("button", { type: "button", class: "wallet-choice" }, h("img", { src: wallet.info.icon, alt: "", width: 20, height: 20 }), wallet.info.name);
              button.addEventListener("click", () => void runAction(button, status, `Waiting for ${wallet.info.name}…`, async () => {
                open = false;
                await app.wallet.connect(wallet);
                return null;
              }));
              return h("li", null, button);
            }),
          ),
    );
    replace(area, toggle, list, status);
  };
  app.wallet.subscribe(draw);
  draw();
  return area;
}

function shell(app: App): HTMLElement {
  const main = h("main", { id: "main", tabindex: -1 });
  const nav = h("nav", { "aria-label": "Main" }, NAV.map(([key, label, link]) => h("a", { href: link, "data-page": key }, label)));
  const skip = h("a", { class: "skip", href: "#main" }, "Skip to content");
  skip.addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  document.body.replaceChildren(
    skip,
    h("header", { class: "top" }, h("a", { class: "brand", href: routes.search() }, "Glassbox"), nav, walletArea(app)),
    main,
    h(
      "footer",
      null,
      h("p", null, `Chain ${app.config.deployment.chainId} (${app.config.chainName}) · registry `, h("span", { class: "mono" }, shortHex(app.config.deployment.contracts.registry)), " · catalog ", h("span", { class: "mono" }, app.config.indexerUrl)),
      h("p", null, "Knowledge is free, utility is paid: specs and tests are public; calls are metered and paid per use in USDC."),
    ),
  );
  let generation = 0;
  const render = (focus: boolean) => {
    const route = currentRoute();
    const key = route.path[0] ?? "search";
    const page = PAGES[key] ?? searchPage;
    const mine = ++generation;
    for (const link of nav.querySelectorAll("a")) {
      if (link.dataset.page === key || (key === "accounts" && link.dataset.page === "account") || (key === "packages" && link.dataset.page === "search")) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    void Promise.resolve(page(app, route, main, () => mine === generation)).catch((error) => replace(main, errorLine(error)));
    if (focus) main.focus();
    window.scrollTo(0, 0);
  };
  window.addEventListener("hashchange", () => render(true));
  render(false);
  return main;
}

async function start(): Promise<void> {
  try {
    const config = await loadWebConfig();
    const app = new App(config);
    document.title = "Glassbox catalog";
    shell(app);
  } catch (error) {
    document.body.replaceChildren(h("main", { id: "main" }, h("h1", null, "Glassbox"), errorLine(error), error instanceof ConfigError ? null : h("p", null, "Reload the page to try again.")));
  }
}

void start();
