// Charts drawn as SVG with DOM APIs (no library): horizontal bars and a daily column chart.
import { s } from "./dom.js";

/** Horizontal bars: ``items`` are ``{label, value, text}``. */
export function barChart(items, title) {
  const rowHeight = 28;
  const width = 600;
  const labelWidth = 180;
  const max = Math.max(1, ...items.map((i) => i.value));
  return s("svg", { viewBox: `0 0 ${width} ${items.length * rowHeight + 8}`, class: "chart",
    role: "img", "aria-label": title },
  s("title", {}, title),
  items.map((item, n) => {
    const y = n * rowHeight + 4;
    const w = Math.max(2, (width - labelWidth - 90) * item.value / max);
    return s("g", {},
      s("text", { x: labelWidth - 8, y: y + 17, "text-anchor": "end", class: "axis" },
        item.label.length > 24 ? item.label.slice(0, 23) + "…" : item.label),
      s("rect", { x: labelWidth, y, width: w, height: rowHeight - 8, rx: 3, class: "bar" }),
      s("text", { x: labelWidth + w + 6, y: y + 17, class: "value" }, item.text));
  }));
}

/** Columns per day for several series: ``days`` are labels, ``series`` ``{name, values, cls}``. */
export function dailyChart(days, series, title) {
  const width = 640;
  const height = 200;
  const left = 36;
  const bottom = 24;
  const max = Math.max(1, ...series.flatMap((x) => x.values));
  const slot = (width - left) / days.length;
  const bar = Math.max(1, slot / (series.length + 1));
  const y = (v) => (height - bottom) * (1 - v / max);
  return s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart daily", role: "img",
    "aria-label": title },
  s("title", {}, title),
  s("line", { x1: left, x2: width, y1: height - bottom, y2: height - bottom, class: "grid" }),
  s("text", { x: left - 4, y: 12, "text-anchor": "end", class: "axis" }, String(max)),
  s("text", { x: left - 4, y: height - bottom, "text-anchor": "end", class: "axis" }, "0"),
  days.map((day, d) => [
    series.map((x, k) => s("rect", { x: left + d * slot + k * bar + bar / 2, y: y(x.values[d]),
      width: bar, height: height - bottom - y(x.values[d]), class: x.cls },
    s("title", {}, day + " " + x.name + ": " + x.values[d]))),
    d % 5 === 0 ? s("text", { x: left + d * slot, y: height - 6, class: "axis" }, day.slice(5))
      : null]));
}
