// Project quotas: storage used against the limit as a bar, and the limit edited (system admins).
import { api } from "./api.js";
import { h } from "./dom.js";
import { formatBytes, t } from "./i18n.js";
import { dialog, field, pager, table, toast } from "./ui.js";

const PAGE_SIZE = 15;
const UNITS = [["MiB", 1024 ** 2], ["GiB", 1024 ** 3], ["TiB", 1024 ** 4]];
const SORTS = [["-used.storage", "quotas.sortUsed"], ["-hard.storage", "quotas.sortLimit"],
  ["creation_time", "sort.oldest"]];

/** "used of limit" with a bar (none when unlimited); the bar's colour warns from 85 %.
 * ``lead``: the used bytes stand apart, large (the project summary's tile). */
export function usage(used, hard, lead = false) {
  const usedText = formatBytes(used || 0);
  const limited = hard !== undefined && hard !== null && hard >= 0;
  const percent = !limited ? 0 : hard > 0 ? Math.min(100, (100 * (used || 0)) / hard) : 100;
  const shown = percent < 1 && used ? "<1" : String(Math.round(percent));
  const text = !limited ? t(lead ? "quotas.ofUnlimited" : "quotas.usedUnlimited",
    { used: usedText }) : t(lead ? "quotas.ofLimit" : "quotas.usedOf",
    { used: usedText, hard: formatBytes(hard), percent: shown });
  let bar = null;
  if (limited) {
    const fill = h("span", { class: "usage-fill" + (percent >= 100 ? " full"
      : percent >= 85 ? " warn" : "") });
    fill.style.width = percent.toFixed(1) + "%";
    bar = h("span", { class: "usage-bar", "aria-hidden": "true" }, fill);
  }
  return h("div", { class: "usage" }, lead ? h("span", { class: "usage-lead" }, usedText) : null,
    bar, h("span", { class: "usage-text" }, text));
}

/** The storage limit in the largest unit that divides it (or GiB). */
function limitParts(hard) {
  if (hard === undefined || hard < 0) return [10, "GiB"];
  for (const [unit, size] of [...UNITS].reverse()) {
    if (hard >= size && hard % size === 0) return [hard / size, unit];
  }
  return [Number((hard / 1024 ** 2).toFixed(2)), "MiB"];
}

async function editLimit(quota, redraw) {
  const hard = quota.hard ? quota.hard.storage : -1;
  const [amount, unit] = limitParts(hard);
  const number = h("input", { name: "amount", type: "number", min: 0.01, step: "any",
    required: true, value: amount, disabled: hard < 0 });
  const units = h("select", { name: "unit", "aria-label": t("quotas.unit"), disabled: hard < 0 },
    UNITS.map(([name]) => h("option", { value: name, selected: name === unit }, name)));
  const unlimited = h("input", { type: "checkbox", name: "unlimited", checked: hard < 0,
    on: { change: () => { number.disabled = unlimited.checked; units.disabled = unlimited.checked; } } });
  const done = await dialog(t("quotas.editNamed", { name: quota.ref ? quota.ref.name : quota.id }), [
    h("div", {}, h("span", { class: "muted" }, t("quotas.current")), usage(quota.used && quota.used.storage, hard)),
    h("label", { class: "check" }, unlimited, t("quotas.unlimited")),
    h("div", { class: "copy-row" }, field(t("quotas.limit"), number), units),
  ], { confirm: t("action.save"), submit: (form) => {
    const size = UNITS.find(([name]) => name === form.get("unit")) || UNITS[1];
    const storage = form.get("unlimited") ? -1
      : Math.round(Number(form.get("amount")) * size[1]);
    return api("/quotas/" + quota.id, { method: "PUT", body: { hard: { storage } } });
  } });
  if (done) { toast(t("quotas.saved")); redraw({}); }
}

export async function render(query, redraw) {
  const page = Math.max(1, Number(query.get("page")) || 1);
  const sort = SORTS.some(([value]) => value === query.get("sort")) ? query.get("sort")
    : "-used.storage";
  const { data, total } = await api("/quotas", { query: { reference: "project", page,
    page_size: PAGE_SIZE, sort } });
  return [
    h("div", { class: "toolbar" }, field(t("sort.label"), h("select", { name: "sort",
      id: "quota-sort", on: { change: (e) => redraw({ sort: e.target.value, page: "" }) } },
    SORTS.map(([value, key]) => h("option", { value, selected: value === sort }, t(key)))))),
    table([
      { label: t("quotas.project"), cell: (q) => q.ref ? h("a", { href: "/projects/" + q.ref.id },
        q.ref.name) : "#" + q.id },
      { label: t("projects.owner"), cell: (q) => (q.ref && q.ref.owner_name) || "" },
      { label: t("quotas.storage"), class: "usage-cell", cell: (q) => usage(
        q.used && q.used.storage, q.hard ? q.hard.storage : -1) },
      { label: t("table.actions"), cell: (q) => h("button", { type: "button",
        class: "secondary small", "aria-label": t("quotas.editNamed", { name: q.ref
          ? q.ref.name : q.id }), on: { click: () => editLimit(q, redraw) } },
      t("quotas.edit")) },
    ], data || [], { id: "quotas", caption: t("admin.quotas"), empty: t("quotas.none"),
      key: (q) => ({ quota: q.ref ? q.ref.name : String(q.id) }) }),
    (total || 0) > PAGE_SIZE ? pager(total, page, PAGE_SIZE, (n) => redraw({ page: n })) : null];
}
