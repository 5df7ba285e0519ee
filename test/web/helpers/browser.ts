/**
 * Headless Debian Chromium driven by playwright-core (never `playwright install`), with the flags
 * this machine needs (its network is closed: no background connections).
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { REPO_ROOT } from "../../../cli/config.ts";

export const CHROMIUM = process.env.GLASSBOX_CHROMIUM ?? "/usr/bin/chromium";

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * Screenshots of the main pages. They go to docs/screenshots (committed, shown in the README) when
 * GLASSBOX_SCREENSHOTS=docs, else to a scratch folder, so an ordinary test run leaves the tree clean.
 */
export async function screenshot(target: Page | Locator, name: string, scratchDir: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  const dir = process.env.GLASSBOX_SCREENSHOTS === "docs" ? path.join(REPO_ROOT, "docs", "screenshots") : scratchDir;
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  if ("goto" in target) await target.screenshot({ path: file, fullPage: opts.fullPage ?? true, animations: "disabled" });
  else await target.screenshot({ path: file, animations: "disabled" });
  return file;
}

/** Controls without an accessible name (a label, aria-label or aria-labelledby), as "tag#id" strings. */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>("input, select, textarea, button"))
      .filter((el) => el.offsetParent !== null || el.getClientRects().length > 0)
      .filter((el) => {
        if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement) {
          if (el.type === "hidden") return false;
          return (el.labels?.length ?? 0) === 0 && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby");
        }
        return (el.textContent ?? "").trim() === "" && !el.getAttribute("aria-label");
      })
      .map((el) => `${el.tagName.toLowerCase()}#${el.id}`),
  );
}

/**
 * Visible text whose colour contrast with its (opaque) background is below WCAG AA: 4.5:1, or 3:1
 * for large text. Returns one line per offending element.
 */
export function lowContrastText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rgb = (css: string): [number, number, number, number] => {
      const m = css.match(/rgba?\(([^)]+)\)/);
      if (!m) return [0, 0, 0, 0];
      const parts = m[1]!.split(/[ ,/]+/).filter(Boolean).map(Number);
      return [parts[0]!, parts[1]!, parts[2]!, parts[3] ?? 1];
    };
    const luminance = ([r, g, b]: number[]) => {
      const c = [r!, g!, b!].map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!;
    };
    const background = (el: Element | null): number[] => {
      for (let node = el; node; node = node.parentElement) {
        const bg = rgb(getComputedStyle(node).backgroundColor);
        if (bg[3] > 0.5) return bg;
      }
      return [255, 255, 255, 1];
    };
    const problems: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set<Element>();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!el || seen.has(el) || (node.textContent ?? "").trim() === "" || el.closest("svg")) continue;
      seen.add(el);
      const style = getComputedStyle(el);
      if (style.visibility === "hidden" || el.getClientRects().length === 0) continue;
      const fg = rgb(style.color);
      const [l1, l2] = [luminance(fg), luminance(background(el))].sort((a, b) => b - a);
      const ratio = (l1! + 0.05) / (l2! + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) problems.push(`${el.tagName.toLowerCase()} "${(node.textContent ?? "").trim().slice(0, 40)}": ${ratio.toFixed(2)}:1`);
    }
    return problems;
  });
}

/** True when the page needs no horizontal scrolling at its current viewport width. */
export function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
}
