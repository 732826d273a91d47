// Registry endpoints (system admins): list, create, edit, delete, and "Test connection"
// (POST /registries/ping) both in the form and for a stored endpoint.
import { api } from "./api.js";
import { h } from "./dom.js";
import { formatTime, t } from "./i18n.js";
import { attempt, badge, confirm, dialog, field, pager, table, toast } from "./ui.js";

const PAGE_SIZE = 15;

function healthBadge(status) {
  if (status === "healthy") return badge(t("registries.healthy"), "public");
  if (status === "unhealthy") return badge(t("registries.unhealthy"), "off");
  return badge(t("registries.unknown"));
}

/** The ping body from the form: for a stored endpoint its id, the secret only when typed. */
function pingBody(form, registry) {
  const body = { url: form.get("url"), credential_type: "basic",
    access_key: form.get("access_key") || "", insecure: form.get("insecure") === "on" };
  if (form.get("type")) body.type = form.get("type");  // a stored endpoint keeps its type
  if (form.get("access_secret")) body.access_secret = form.get("access_secret");
  if (registry) body.id = registry.id;
  return body;
}

function registryForm(types, registry) {
  const r = registry || {};
  const credential = r.credential || {};
  const result = h("p", { id: "ping-result", role: "status", class: "ping-result" });
  const test = h("button", { type: "button", class: "secondary", id: "ping-registry",
    on: { click: async () => {
      const form = new FormData(test.form);
      result.className = "ping-result";
      result.textContent = t("registries.testing");
      try {
        await api("/registries/ping", { method: "POST", body: pingBody(form, registry) });
        result.classList.add("ok");
        result.textContent = t("registries.pingOk");
      } catch (problem) {
        result.classList.add("error");
        result.textContent = t("registries.pingFailed", { message: problem.message });
      }
    } } }, t("registries.test"));
  return [
    field(t("registries.name"), h("input", { name: "name", required: true, maxlength: 64,
      value: r.name || "", autocomplete: "off" })),
    field(t("registries.type"), h("select", { name: "type", disabled: Boolean(registry) },
      types.map((type) => h("option", { value: type, selected: type === (r.type || "harbor") },
        t("registries.type." + type))))),
    field(t("registries.url"), h("input", { name: "url", required: true, type: "url",
      value: r.url || "", placeholder: "https://registry.example.com", autocomplete: "off" }),
    t("registries.urlHint")),
    field(t("registries.accessKey"), h("input", { name: "access_key", autocomplete: "off",
      value: credential.access_key || "" })),
    field(t("registries.accessSecret"), h("input", { name: "access_secret", type: "password",
      autocomplete: "new-password" }), registry ? t("registries.secretKeep") : null),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "insecure",
      checked: Boolean(r.insecure) }), t("registries.insecure")),
    field(t("registries.description"), h("input", { name: "description",
      value: r.description || "" })),
    h("div", { class: "toolbar tight" }, test, result),
  ];
}

async function create(types, redraw) {
  const done = await dialog(t("registries.new"), registryForm(types, null), {
    confirm: t("action.create"), submit: (form) => {
      const body = { name: form.get("name"), type: form.get("type"), url: form.get("url"),
        insecure: form.get("insecure") === "on", description: form.get("description") || "" };
      if (form.get("access_key") || form.get("access_secret")) {
        body.credential = { type: "basic", access_key: form.get("access_key") || "",
          access_secret: form.get("access_secret") || "" };
      }
      return api("/registries", { method: "POST", body });
    } });
  if (done) { toast(t("registries.created")); redraw({}); }
}

async function edit(types, registry, redraw) {
  const done = await dialog(t("registries.editNamed", { name: registry.name }),
    registryForm(types, registry), { confirm: t("action.save"), submit: (form) => {
      const body = { name: form.get("name"), url: form.get("url"),
        insecure: form.get("insecure") === "on", description: form.get("description") || "",
        credential_type: "basic", access_key: form.get("access_key") || "" };
      if (form.get("access_secret")) body.access_secret = form.get("access_secret");
      return api("/registries/" + registry.id, { method: "PUT", body });
    } });
  if (done) { toast(t("registries.saved")); redraw({}); }
}

export async function render(query, redraw) {
  const page = Math.max(1, Number(query.get("page")) || 1);
  const [{ data, total }, { data: types }] = await Promise.all([
    api("/registries", { query: { page, page_size: PAGE_SIZE, sort: "name" } }),
    api("/replication/adapters")]);
  return [
    h("p", { class: "muted intro" }, t("registries.intro")),
    h("div", { class: "toolbar" }, h("button", { type: "button", class: "primary",
      id: "new-registry", on: { click: () => create(types || [], redraw) } }, t("registries.new"))),
    table([
      { label: t("registries.name"), cell: (r) => h("strong", {}, r.name) },
      { label: t("registries.status"), cell: (r) => healthBadge(r.status) },
      { label: t("registries.url"), cell: (r) => h("span", { class: "mono wrap" }, r.url) },
      { label: t("registries.type"), cell: (r) => t("registries.type." + r.type) },
      { label: t("registries.insecureShort"), cell: (r) => r.insecure ? t("registries.no")
        : t("registries.yes") },
      { label: t("registries.description"), cell: (r) => r.description || "" },
      { label: t("table.created"), cell: (r) => formatTime(r.creation_time) },
      { label: t("table.actions"), cell: (r) => h("span", { class: "row-actions" },
        h("button", { type: "button", class: "secondary small",
          "aria-label": t("registries.testNamed", { name: r.name }), on: { click: async () => {
            await attempt(() => api("/registries/ping", { method: "POST", body: { id: r.id } }),
              t("registries.pingOkNamed", { name: r.name }));
            redraw({});  // the ping recorded the status, healthy or not
          } } }, t("registries.test")),
        h("button", { type: "button", class: "secondary small",
          "aria-label": t("registries.editNamed", { name: r.name }),
          on: { click: () => edit(types || [], r, redraw) } }, t("action.edit")),
        h("button", { type: "button", class: "danger small",
          "aria-label": t("registries.deleteNamed", { name: r.name }), on: { click: async () => {
            if (!await confirm(t("registries.confirmDelete", { name: r.name }))) return;
            if (await attempt(() => api("/registries/" + r.id, { method: "DELETE" }),
              t("registries.deleted"))) redraw({});
          } } }, t("action.delete"))) },
    ], data || [], { id: "registries", caption: t("admin.registries"),
      empty: t("registries.none"), key: (r) => ({ registry: r.name }) }),
    (total || 0) > PAGE_SIZE ? pager(total, page, PAGE_SIZE, (n) => redraw({ page: n })) : null];
}
