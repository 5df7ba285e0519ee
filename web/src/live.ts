import type { App } from "./app.ts";
import { h, replace, type Child } from "./dom.ts";
import type { Connection } from "./wallet.ts";

/**
 * A part of a page that depends on the connected wallet (owner actions, "connect to pay"): rendered
 * now and again on every wallet change, until it has left the page.
 */
export function walletPart(app: App, render: (connection: Connection | undefined) => Child): HTMLElement {
  const container = h("div", { class: "wallet-part" });
  const key = (c: Connection | undefined) => (c ? `${c.address}:${c.chainId}` : "");
  let drawn = key(app.wallet.current.connection);
  replace(container, render(app.wallet.current.connection));
  let shown = false;
  const unsubscribe = app.wallet.subscribe((state) => {
    if (container.isConnected) shown = true;
    else if (shown) return void unsubscribe();
    // Only a different account or chain redraws: typing in a form here must survive other wallet news.
    if (key(state.connection) === drawn) return;
    drawn = key(state.connection);
    replace(container, render(state.connection));
  });
  return container;
}
