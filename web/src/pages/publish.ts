import { GlassboxError } from "../../../sdk/client/errors.ts";
import { publicationOf, type CapabilityFiles, type Publication } from "../../../sdk/client/publish.ts";
import { decodePack, PACK_EXTENSION } from "../../../sdk/pack.ts";
import type { App } from "../app.ts";
import { h, replace, statusLine, uid } from "../dom.ts";
import { formatShare, priceLabel, shortHex } from "../format.ts";
import { walletPart } from "../live.ts";
import { routes, type Route } from "../router.ts";
import { explain } from "../errors.ts";
import { errorLine, facts, runAction, section } from "../ui.ts";

function scopeCard(app: App): HTMLElement {
  const input = h("input", { id: uid("scope"), required: true, placeholder: "e.g. acme", autocomplete: "off", pattern: "[a-z0-9](?:[a-z0-9-]*[a-z0-9])?" });
  const button = h("button", { type: "submit" }, "Claim scope");
  const status = h("div");
  const form = h(
    "form",
    { "aria-label": "Claim a scope" },
    h("p", null, "A scope (the part before the slash) belongs to the first wallet that claims it; only its owner registers names under it, so nobody can squat yours."),
    h("div", { class: "field" }, h("label", { for: input.id }, "Scope"), input, h("small", { class: "hint" }, "Lowercase letters, digits and dashes.")),
    button,
    status,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const scope = input.value.trim();
    void runAction(button, status, `Checking “${scope}”…`, async () => {
      const { glassbox, connection } = app.signed();
      const owner = await glassbox.registry.scopeOwner(scope);
      if (owner === connection.address) return `“${scope}” is already yours.`;
      if (owner) throw new GlassboxError("SCOPE_TAKEN", `“${scope}” belongs to ${owner}.`, "Pick another scope.");
      replace(status, statusLine("info", "Confirm the claim in your wallet…"));
      await glassbox.claimScope(scope);
      return `“${scope}” is yours: publish packages named ${scope}/… from this wallet.`;
    });
  });
  return section("scope", "Claim a scope", walletPart(app, (c) => (c ? null : statusLine("info", "Connect a wallet to claim a scope."))), form);
}

const sameHashes = (a: Publication["hashes"], b: Publication["hashes"]) =>
  (Object.keys(a) as (keyof Publication["hashes"])[]).every((k) => a[k].toLowerCase() === b[k].toLowerCase());

function packSummary(publication: Publication, files: CapabilityFiles): HTMLElement {
  const m = publication.manifest;
  return h(
    "div",
    { class: "pack-summary" },
    h("h3", null, `${m.name}@${m.version}`),
    h("p", null, m.description),
    facts([
      ["Price", priceLabel(m.access.mode, m.access.price, m.access.fuelPricePerMillion)],
      ["License", m.license],
      ["Revenue splits", m.splits.map((s) => `${shortHex(s.recipient)} ${formatShare(s.bps)}`).join(", ")],
      ["Fork of", m.fork ? `${m.fork.parent} (pays ${formatShare(m.fork.upstreamShareBps)} upstream)` : "—"],
      ["Forks must pay", formatShare(m.minForkShareBps)],
      ["Functions", (m.functions ?? []).map((f) => f.name).join(", ")],
      ["Component", `${(files.component.length / 1024).toFixed(0)} KiB · sha256 ${shortHex(publication.hashes.componentHash, 8)}`],
    ]),
  );
}

function publishCard(app: App): HTMLElement {
  const fileInput = h("input", { id: uid("pack"), type: "file", accept: `${PACK_EXTENSION},application/json` });
  const details = h("div");
  const card = section(
    "publish",
    "Publish a capability",
    h("p", null, "Build and test it with the CLI, pack it (", h("code", null, "glassbox pack"), "), then publish the pack here from the wallet that owns its scope: the version is registered on-chain and its WIT, tests, manifest and component are uploaded to an executor."),
    h("div", { class: "field" }, h("label", { for: fileInput.id }, `Pack file (${PACK_EXTENSION})`), fileInput),
    details,
  );
  fileInput.addEventListener("change", () => {
    const file = fileInput.files?.[0];
    if (file) void load(app, file, details);
  });
  return card;
}

async function load(app: App, file: File, details: HTMLElement): Promise<void> {
  let files: CapabilityFiles;
  let publication: Publication;
  try {
    files = decodePack(await file.text());
    publication = publicationOf(files);
  } catch (error) {
    replace(details, errorLine(error));
    return;
  }
  const { name, version } = publication.manifest;
  const state = h("div", null, statusLine("info", "Checking the chain…"));
  const executorSelect = h("select", { id: uid("executor") });
  const button = h("button", { type: "button" }, "Publish from my wallet");
  const steps = h("ol", { class: "steps", "aria-label": "Publishing steps" });
  const status = h("div");
  replace(details, packSummary(publication, files), state, h("div", { class: "field" }, h("label", { for: executorSelect.id }, "Upload to executor"), executorSelect), button, steps, status);

  const { executors } = await app.catalog.executors().catch(() => ({ executors: [] }));
  const endpoints = [...new Set([app.config.executorUrl, ...executors.filter((e) => e.active).map((e) => e.endpoint)].filter((u): u is string => Boolean(u)))];
  replace(executorSelect, endpoints.map((url) => h("option", { value: url }, url)));
  if (endpoints.length === 0) button.disabled = true;

  // What the chain already has decides what is left to do: nothing is ever done twice.
  const onChain = await app.reader.registry.getVersionById(name, publication.versionId).catch(() => undefined);
  const owner = (await app.reader.registry.getPackage(name).catch(() => undefined))?.owner;
  if (onChain && !sameHashes(onChain.hashes, publication.hashes)) {
    replace(state, errorLine(new GlassboxError("VERSION_EXISTS", `${name}@${version} is already published with other bytes.`, "Versions are immutable: bump the version in glassbox.json and pack again.")));
    button.disabled = true;
    return;
  }
  replace(
    state,
    statusLine(
      "info",
      onChain
        ? `${name}@${version} is registered on-chain already: only the upload is left.`
        : owner
          ? `${name} is registered (owner ${shortHex(owner)}): this publishes version ${version}.`
          : `${name} is new: publishing registers it (the scope “${name.split("/")[0]}” must be yours or unclaimed), then version ${version}.`,
    ),
    walletPart(app, (c) => (c ? null : statusLine("info", "Connect the wallet that owns the scope to publish."))),
  );
  if (onChain) button.textContent = "Upload to the executor";

  let done: string[] = [];
  const step = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
    const item = h("li", { class: "running" }, `${label}…`);
    steps.append(item);
    try {
      const value = await work();
      item.className = "done";
      item.textContent = `✔ ${label}`;
      done.push(label);
      return value;
    } catch (error) {
      item.className = "failed";
      item.textContent = `✖ ${label}`;
      throw error;
    }
  };
  let registered = Boolean(onChain);
  button.addEventListener("click", () => {
    done = [];
    void runAction(button, status, "Follow the requests in your wallet…", async () => {
      const { glassbox } = app.signed();
      if (!registered) {
        try {
          await glassbox.publish(files, { progress: step });
        } catch (error) {
          if (done.length === 0) throw error;
          // E.g. the package registration went through and the version's was refused: say what is done.
          throw new GlassboxError("PUBLISH_INCOMPLETE", `Done: ${done.join("; ")}. Not done: ${explain(error).message}`, "Press Publish again to finish: what is done is not repeated.");
        }
        registered = true;
        replace(state, statusLine("ok", `${name}@${version} is registered on-chain.`));
      }
      const executorUrl = executorSelect.value;
      try {
        await step(`Uploading WIT, tests, manifest and component to ${executorUrl}`, () => glassbox.upload(files, { executorUrl }));
      } catch (error) {
        button.textContent = "Retry the upload";
        throw new GlassboxError(
          "UPLOAD_FAILED",
          `${name}@${version} is registered on-chain, but the upload failed: ${explain(error).message}`,
          "Retry the upload (here, or later by loading the same pack): the registration is not repeated.",
        );
      }
      button.remove();
      return h("span", null, "Published ", h("a", { href: routes.package(name) }, `${name}@${version}`), ` and uploaded to ${executorUrl}. It shows in search within seconds.`);
    });
  });
}

export function publishPage(app: App, _route: Route, main: HTMLElement): void {
  replace(main, h("h1", null, "Publish"), scopeCard(app), publishCard(app));
}
