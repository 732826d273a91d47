// A project's immutable tag rules (/projects/{p}/immutabletagrules): list, add, edit,
// enable / disable and delete. A tag a rule matches cannot be moved or deleted.
import { api } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { describeSelectors, selectorFields, selectorsOf } from "./selectors.js";
import { attempt, badge, confirm, dialog, table, toast } from "./ui.js";

export async function render(p, query, redraw) {
  const base = "/projects/" + p.project_id + "/immutabletagrules";
  const { data } = await api(base, { query: { page_size: 100 } });
  const edit = async (rule) => {
    const done = await dialog(rule ? t("immutability.edit") : t("immutability.new"),
      selectorFields(rule), { confirm: rule ? t("action.save") : t("action.add"),
        submit: (form) => {
          const body = { ...selectorsOf(form), action: "immutable",
            template: "immutable_template", disabled: rule ? rule.disabled : false };
          return rule ? api(base + "/" + rule.id, { method: "PUT", body: { ...body, id: rule.id } })
            : api(base, { method: "POST", body });
        } });
    if (done) { toast(t("immutability.saved")); redraw({}); }
  };
  return [
    h("p", { class: "muted intro" }, t("immutability.intro")),
    h("div", { class: "toolbar" }, h("button", { type: "button", class: "primary",
      id: "new-immutable-rule", on: { click: () => edit(null) } }, t("immutability.new"))),
    table([
      { label: t("immutability.rule"), cell: (r) => describeSelectors(r) },
      { label: t("robots.status"), cell: (r) => r.disabled ? badge(t("robots.disabled"), "off")
        : badge(t("robots.enabled"), "public") },
      { label: t("table.actions"), cell: (r) => h("span", { class: "row-actions" },
        h("button", { type: "button", class: "secondary small",
          "aria-label": t("immutability.editNamed", { id: r.id }),
          on: { click: () => edit(r) } }, t("action.edit")),
        h("button", { type: "button", class: "secondary small",
          "aria-label": t(r.disabled ? "immutability.enableNamed" : "immutability.disableNamed",
            { id: r.id }), on: { click: async () => {
            if (await attempt(() => api(base + "/" + r.id, { method: "PUT",
              body: { ...r, disabled: !r.disabled } }), t("immutability.saved"))) redraw({});
          } } }, r.disabled ? t("robots.enable") : t("robots.disable")),
        h("button", { type: "button", class: "danger small",
          "aria-label": t("immutability.deleteNamed", { id: r.id }), on: { click: async () => {
            if (!await confirm(t("immutability.confirmDelete"))) return;
            if (await attempt(() => api(base + "/" + r.id, { method: "DELETE" }),
              t("immutability.deleted"))) redraw({});
          } } }, t("action.delete"))) },
    ], data || [], { id: "immutable-rules", caption: t("project.immutability"),
      empty: t("immutability.none"), key: (r) => ({ rule: String(r.id) }) }),
  ];
}
