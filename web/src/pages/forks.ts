import type { PackageResponse, VersionDetail } from "../../../sdk/catalog-api.ts";
import { GlassboxError } from "../../../sdk/client/errors.ts";
import { parseShareBps } from "../../../sdk/units.ts";
import type { App } from "../app.ts";
import { h, uid } from "../dom.ts";
import { formatShare } from "../format.ts";
import { routes } from "../router.ts";
import { runAction } from "../ui.ts";

/** The forks below a package (a tree, fetched a level at a time) and the form that registers a new one. */

const MAX_FORK_TREE = 60;

interface ForkNode {
  name: string;
  share: number;
  parentVersion: string | null;
  children: ForkNode[];
}

/** The forks below a package, a level at a time, bounded. */
export async function forkTree(app: App, pkg: PackageResponse): Promise<ForkNode[]> {
  let budget = MAX_FORK_TREE;
  const expand = async (forks: PackageResponse["forks"]): Promise<ForkNode[]> =>
    Promise.all(
      forks.map(async (f) => {
        budget--;
        const child = budget > 0 ? await app.catalog.package(f.name).catch(() => undefined) : undefined;
        return { name: f.name, share: f.upstreamShareBps, parentVersion: f.parentVersion, children: child ? await expand(child.forks) : [] };
      }),
    );
  return expand(pkg.forks);
}

export function forkList(nodes: ForkNode[]): HTMLElement {
  return h(
    "ul",
    { class: "tree" },
    nodes.map((n) => h("li", null, h("a", { href: routes.package(n.name) }, n.name), ` forks @${n.parentVersion ?? "?"}, pays ${formatShare(n.share)} upstream`, n.children.length ? forkList(n.children) : null)),
  );
}

export function forkForm(app: App, pkg: PackageResponse, version: VersionDetail): HTMLElement {
  const nameInput = h("input", { id: uid("fork-name"), required: true, placeholder: "your-scope/new-name", autocomplete: "off" });
  const share = h("input", { id: uid("fork-share"), required: true, value: formatShare(pkg.package.minForkShareBps), size: 8 });
  const minShare = h("input", { id: uid("fork-min"), required: true, value: "10%", size: 8 });
  const button = h("button", { type: "submit" }, `Register fork of @${version.version}`);
  const status = h("div");
  const form = h(
    "form",
    { class: "fork-form", "aria-label": "Register a fork" },
    h("p", null, `A fork lives in your own scope and pays ${pkg.package.name} a share of every royalty (at least ${formatShare(pkg.package.minForkShareBps)}).`),
    h("div", { class: "field" }, h("label", { for: nameInput.id }, "Fork name"), nameInput),
    h("div", { class: "field" }, h("label", { for: share.id }, "Upstream share"), share),
    h("div", { class: "field" }, h("label", { for: minShare.id }, "What forks of your fork must pay you"), minShare),
    button,
    status,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void runAction(button, status, "Confirm the registration in your wallet…", async () => {
      const upstreamBps = parseShareBps(share.value);
      if (upstreamBps < pkg.package.minForkShareBps) {
        throw new GlassboxError("SHARE_TOO_LOW", `${pkg.package.name} asks forks for at least ${formatShare(pkg.package.minForkShareBps)} upstream; you offered ${formatShare(upstreamBps)}.`, "Raise the upstream share.");
      }
      const newName = nameInput.value.trim();
      await app.signed().glassbox.fork(`${pkg.package.name}@${version.version}`, newName, upstreamBps, parseShareBps(minShare.value));
      return h("span", null, "Registered ", h("a", { href: routes.package(newName) }, newName), `: publish its first version (with "fork": { "parent": "${pkg.package.name}@${version.version}" }) from the Publish page.`);
    });
  });
  return form;
}

