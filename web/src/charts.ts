/** Bar charts over time, drawn as SVG by hand, each with its numbers in a table for screen readers. */
import { h, svg } from "./dom.ts";

export interface Bucket {
  /** Unix seconds, a multiple of the interval. */
  start: number;
  value: bigint;
}

const INTERVALS = [60, 300, 3_600, 21_600, 86_400, 604_800, 2_592_000];
const MAX_BARS = 48;

/** The smallest interval that shows the span from `from` to `to` in at most MAX_BARS bars. */
export function intervalFor(from: number, to: number): number {
  const span = Math.max(to - from, 1);
  return INTERVALS.find((i) => span / i <= MAX_BARS) ?? INTERVALS.at(-1)!;
}

/** Every bucket from `from` to `to` (empty ones at zero), given the non-empty ones. */
export function fillBuckets(known: Bucket[], interval: number, from: number, to: number): Bucket[] {
  const byStart = new Map(known.map((b) => [b.start, b.value]));
  const first = Math.floor(Math.min(from, known[0]?.start ?? from) / interval) * interval;
  const last = Math.floor(Math.max(to, known.at(-1)?.start ?? to) / interval) * interval;
  const out: Bucket[] = [];
  for (let start = Math.max(first, last - (MAX_BARS - 1) * interval); start <= last; start += interval) out.push({ start, value: byStart.get(start) ?? 0n });
  return out;
}

function timeLabel(unix: number, interval: number): string {
  const date = new Date(unix * 1000);
  return interval >= 86_400 ? date.toLocaleDateString(undefined, { dateStyle: "medium" }) : date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}

export function barChart(title: string, buckets: Bucket[], interval: number, format: (value: bigint) => string): HTMLElement {
  const width = 600;
  const height = 180;
  const pad = { left: 8, right: 8, top: 24, bottom: 22 };
  const max = buckets.reduce((m, b) => (b.value > m ? b.value : m), 0n);
  const total = buckets.reduce((sum, b) => sum + b.value, 0n);
  const slot = (width - pad.left - pad.right) / Math.max(buckets.length, 1);
  const plot = height - pad.top - pad.bottom;
  const bars = buckets.map((b, i) => {
    const barHeight = max === 0n ? 0 : Math.max((Number(b.value) / Number(max)) * plot, b.value > 0n ? 2 : 0);
    return svg(
      "rect",
      { x: (pad.left + i * slot + slot * 0.15).toFixed(1), y: (pad.top + plot - barHeight).toFixed(1), width: (slot * 0.7).toFixed(1), height: barHeight.toFixed(1), class: "bar" },
      svg("title", null, `${timeLabel(b.start, interval)}: ${format(b.value)}`),
    );
  });
  const summary = `${title}: ${format(total)} in total, at most ${format(max)} per ${interval >= 86_400 ? "day" : interval >= 3_600 ? "hour" : "period"}.`;
  const first = buckets[0];
  const last = buckets.at(-1);
  return h(
    "figure",
    { class: "chart" },
    h("figcaption", null, title, " ", h("span", { class: "muted" }, `${format(total)} in total`)),
    svg(
      "svg",
      { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": summary, preserveAspectRatio: "none" },
      svg("line", { x1: pad.left, x2: width - pad.right, y1: pad.top + plot, y2: pad.top + plot, class: "axis" }),
      svg("text", { x: pad.left, y: 14, class: "label" }, `max ${format(max)}`),
      first ? svg("text", { x: pad.left, y: height - 6, class: "label" }, timeLabel(first.start, interval)) : null,
      last ? svg("text", { x: width - pad.right, y: height - 6, class: "label", "text-anchor": "end" }, timeLabel(last.start, interval)) : null,
      bars,
    ),
    h(
      "details",
      null,
      h("summary", null, "Numbers"),
      h(
        "table",
        null,
        h("thead", null, h("tr", null, h("th", { scope: "col" }, "From"), h("th", { scope: "col" }, title))),
        h("tbody", null, buckets.filter((b) => b.value > 0n).map((b) => h("tr", null, h("td", null, timeLabel(b.start, interval)), h("td", null, format(b.value))))),
      ),
    ),
  );
}
