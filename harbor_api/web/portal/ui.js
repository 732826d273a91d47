// Shared widgets: loading / empty / error states, tables, dialogs, copy buttons, tabs, pager.
import { h, mount, s } from "./dom.js";
import { t } from "./i18n.js";

export function loading() {
  return h("p", { class: "state loading", role: "status" }, h("span", { class: "spinner",
    "aria-hidden": "true" }), t("state.loading"));
}

export function empty(text) {
  return h("p", { class: "state empty" }, text || t("state.empty"));
}

export function errorBox(error) {
  return h("p", { class: "state error", role: "alert" }, t("state.error"), " ",
    error && error.message ? error.message : String(error));
}

/** Show a loading state in ``node`` while ``work`` runs, then its result or the error. */
export async function load(node, work) {
  mount(node, loading());
  try {
    mount(node, await work());
  } catch (error) {
    mount(node, errorBox(error));
    if (!(error && error.status)) console.error(error);
  }
}

/** A table of ``rows``; each column is ``{label, cell(row) -> node|string, class}``. */
export function table(columns, rows, options = {}) {
  if (!rows.length) return empty(options.empty);
  return h("div", { class: "table-wrap", tabindex: 0, role: "region",
    "aria-label": options.caption }, h("table", { id: options.id, class: "data" },
    options.caption ? h("caption", { class: "visually-hidden" }, options.caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.class },
      c.label)))),
    h("tbody", {}, rows.map((row) => {
      const tr = h("tr", { dataset: options.key ? options.key(row) : {} },
        columns.map((c) => h("td", { class: c.class, "data-label": c.label }, c.cell(row))));
      if (options.after) return [tr, options.after(row, tr)];
      return tr;
    }))));
}

let live;
/** A short message read out by screen readers and shown at the bottom. */
export function toast(text, kind = "info") {
  if (!live) {
    live = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
    document.body.appendChild(live);
  }
  const item = h("div", { class: "toast " + kind }, text);
  live.appendChild(item);
  setTimeout(() => item.remove(), 4000);
}

/** A modal ``<dialog>`` (focus trapped, Escape closes); resolves to the submit's value. */
export function dialog(title, body, options = {}) {
  return new Promise((resolve) => {
    const error = h("p", { class: "error", role: "alert", hidden: true });
    const form = h("form", { method: "dialog", class: "dialog-form" },
      h("h2", { id: "dialog-title" }, title), body, error,
      h("div", { class: "actions" },
        options.cancel === false ? null : h("button", { type: "button", class: "secondary",
          on: { click: () => close(null) } }, options.cancel || t("action.cancel")),
        h("button", { type: "submit", class: options.danger ? "danger" : "primary",
          id: "dialog-confirm" }, options.confirm || t("action.ok"))));
    const box = h("dialog", { "aria-labelledby": "dialog-title",
      class: options.wide ? "wide" : null }, form);
    const opener = document.activeElement;
    function close(value) {
      box.close();
      box.remove();
      if (opener && opener.focus) opener.focus();
      resolve(value);
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!options.submit) { close(true); return; }
      error.hidden = true;
      try {
        const value = await options.submit(new FormData(form), form);
        close(value === undefined ? true : value);
      } catch (problem) {
        error.textContent = problem.message;
        error.hidden = false;
      }
    });
    box.addEventListener("cancel", (event) => { event.preventDefault(); close(null); });
    document.body.appendChild(box);
    box.showModal();
  });
}

/** Run ``work``; a toast says ``success`` or the error. Resolves to whether it worked. */
export async function attempt(work, success) {
  try {
    await work();
    if (success) toast(success);
    return true;
  } catch (problem) {
    toast(problem.message, "error");
    return false;
  }
}

export function confirm(message, confirmLabel) {
  return dialog(t("confirm.title"), h("p", {}, message),
    { confirm: confirmLabel || t("action.delete"), danger: true });
}

/** Copy ``text`` to the clipboard (the async API where allowed, else a selected textarea). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    const area = h("textarea", { class: "visually-hidden", readonly: true, value: text });
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  toast(t("copy.done"));
}

export function copyButton(text, label) {
  return h("button", { type: "button", class: "icon copy", title: label || t("action.copy"),
    "aria-label": (label || t("action.copy")), dataset: { copy: text },
    on: { click: () => copyText(text) } }, s("svg", { viewBox: "0 0 16 16", width: 14, height: 14,
    "aria-hidden": "true", focusable: "false" }, s("rect", { x: 5, y: 5, width: 9, height: 9, rx: 1.5,
    fill: "none", stroke: "currentColor", "stroke-width": 1.5 }), s("path", {
    d: "M3 11V3a1 1 0 0 1 1-1h7", fill: "none", stroke: "currentColor", "stroke-width": 1.5 })));
}

/** A labelled form field. */
export function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", {}, label), input,
    hint ? h("small", { class: "hint" }, hint) : null);
}

/** Tabs as links (each tab is a deep link); ``current`` is the selected tab's key. */
export function tabs(items, current) {
  return h("nav", { class: "tabs", "aria-label": t("tabs.label") }, items.map((item) =>
    h("a", { href: item.href, class: item.key === current ? "tab current" : "tab",
      "aria-current": item.key === current ? "page" : null, dataset: { tab: item.key } },
    item.label)));
}

/** Previous / next paging for a list with ``total`` items (X-Total-Count). */
export function pager(total, page, size, go) {
  const pages = Math.max(1, Math.ceil((total || 0) / size));
  return h("div", { class: "pager" },
    h("button", { type: "button", class: "secondary", disabled: page <= 1,
      on: { click: () => go(page - 1) } }, t("pager.previous")),
    h("span", {}, t("pager.status", { page, pages, total: total || 0 })),
    h("button", { type: "button", class: "secondary", disabled: page >= pages,
      on: { click: () => go(page + 1) } }, t("pager.next")));
}

export function badge(text, kind = "") {
  return h("span", { class: "badge " + kind }, text);
}

export function labelChip(label) {
  const chip = h("span", { class: "label-chip", title: label.description || "" }, label.name);
  if (/^#[0-9a-fA-F]{3,6}$/.test(label.color || "")) chip.style.borderColor = label.color;
  return chip;
}
