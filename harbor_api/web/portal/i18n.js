// i18n-ready strings: every text the portal shows comes from one message catalogue.
import en from "./messages-en.js";

const catalogue = en;

/** The message ``key`` with ``{name}`` placeholders filled from ``params``. */
export function t(key, params = {}) {
  const text = Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : key;
  return text.replace(/\{(\w+)\}/g, (all, name) => (name in params ? String(params[name]) : all));
}

export function formatTime(value) {
  if (!value || value.startsWith("0001-")) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString(navigator.language);
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return (unit === 0 ? String(value) : value.toFixed(value < 10 ? 2 : 1)) + " " + units[unit];
}
