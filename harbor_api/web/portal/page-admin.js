// Administration for system admins: users, groups, labels, configuration (with the LDAP test),
// audit log, system info; and the dashboard's charts.
import { api } from "./api.js";
import { barChart, dailyChart } from "./charts.js";
import { h, mount } from "./dom.js";
import { formatBytes, formatTime, t } from "./i18n.js";
import { auditLog, labelsTable, robotsTable } from "./page-project.js";
import * as gc from "./page-gc.js";
import * as purge from "./page-purge.js";
import * as quotas from "./page-quotas.js";
import * as registries from "./page-registries.js";
import * as replication from "./page-replication.js";
import { attempt, badge, confirm, dialog, empty, field, load, pager, table, tabs, toast } from "./ui.js";

const SECTIONS = ["users", "groups", "robots", "registries", "replications", "labels", "quotas",
  "gc", "configuration", "logs", "purge", "system"];

async function users(query, redraw) {
  const page = Math.max(1, Number(query.get("page")) || 1);
  const search = query.get("q") || "";
  const { data, total } = await api("/users", { query: { page, page_size: 15,
    q: search ? "username=~" + search : "" } });
  const box = h("input", { type: "search", name: "q", value: search });
  const create = async () => {
    if (await dialog(t("users.new"), [
      field(t("users.username"), h("input", { name: "username", required: true, autocomplete: "off" })),
      field(t("users.email"), h("input", { name: "email", type: "email", required: true })),
      field(t("users.realname"), h("input", { name: "realname" })),
      field(t("users.comment"), h("input", { name: "comment" })),
      field(t("users.password"), h("input", { name: "password", type: "password", required: true,
        autocomplete: "new-password" }), t("account.passwordRule")),
    ], { confirm: t("action.create"), submit: (form) => api("/users", { method: "POST", body: {
      username: form.get("username"), email: form.get("email"), realname: form.get("realname"),
      comment: form.get("comment"), password: form.get("password") } }) })) {
      toast(t("users.created"));
      redraw({});
    }
  };
  return [
    h("div", { class: "toolbar" },
      h("form", { class: "inline-form", role: "search", on: { submit: (e) => {
        e.preventDefault();
        redraw({ q: box.value.trim(), page: "" });
      } } }, field(t("users.search"), box),
      h("button", { type: "submit", class: "secondary" }, t("action.search"))),
      h("button", { type: "button", class: "primary", id: "new-user", on: { click: create } },
        t("users.new"))),
    table([
      { label: t("users.username"), cell: (u) => u.username },
      { label: t("users.realname"), cell: (u) => u.realname || "" },
      { label: t("users.email"), cell: (u) => u.email || "" },
      { label: t("users.comment"), cell: (u) => u.comment || "" },
      { label: t("users.admin"), cell: (u) => u.sysadmin_flag ? badge(t("users.adminBadge"), "public") : "" },
      { label: t("table.created"), cell: (u) => formatTime(u.creation_time) },
      { label: t("table.actions"), cell: (u) => h("span", { class: "row-actions" },
        h("button", { type: "button", class: "secondary small",
          "aria-label": t(u.sysadmin_flag ? "users.revokeNamed" : "users.grantNamed", { name: u.username }),
          on: { click: async () => {
            if (await attempt(() => api("/users/" + u.user_id + "/sysadmin", { method: "PUT",
              body: { sysadmin_flag: !u.sysadmin_flag } }), t("users.saved"))) redraw({});
          } } }, u.sysadmin_flag ? t("users.revoke") : t("users.grant")),
        h("button", { type: "button", class: "secondary small",
          "aria-label": t("users.resetNamed", { name: u.username }), on: { click: async () => {
            if (await dialog(t("users.reset"), field(t("account.newPassword"), h("input", {
              name: "password", type: "password", required: true, autocomplete: "new-password" }),
            t("account.passwordRule")), { confirm: t("action.save"), submit: (form) =>
              api("/users/" + u.user_id + "/password", { method: "PUT",
                body: { new_password: form.get("password") } }) })) toast(t("users.passwordReset"));
          } } }, t("users.reset")),
        h("button", { type: "button", class: "danger small",
          "aria-label": t("users.deleteNamed", { name: u.username }), on: { click: async () => {
            if (!await confirm(t("users.confirmDelete", { name: u.username }))) return;
            if (await attempt(() => api("/users/" + u.user_id, { method: "DELETE" }),
              t("users.deleted"))) redraw({});
          } } }, t("action.delete"))) },
    ], data, { id: "users", caption: t("admin.users"), empty: t("users.none"),
      key: (u) => ({ user: u.username }) }),
    (total || 0) > 15 ? pager(total, page, 15, (n) => redraw({ page: n })) : null];
}

const GROUP_TYPES = { 1: "groups.ldap", 2: "groups.http", 3: "groups.oidc" };

async function groups(query, redraw) {
  const { data } = await api("/usergroups", { query: { page_size: 100 } });
  return [
    h("div", { class: "toolbar" }, h("button", { type: "button", class: "primary",
      id: "new-group", on: { click: async () => {
        if (await dialog(t("groups.new"), [
          field(t("groups.dn"), h("input", { name: "ldap_group_dn", required: true }),
            t("groups.dnHint")),
          field(t("groups.name"), h("input", { name: "group_name" }), t("groups.nameHint")),
        ], { confirm: t("action.create"), submit: (form) => api("/usergroups", { method: "POST",
          body: { group_type: 1, ldap_group_dn: form.get("ldap_group_dn"),
            ...(form.get("group_name") ? { group_name: form.get("group_name") } : {}) } }) })) {
          toast(t("groups.created"));
          redraw({});
        }
      } } }, t("groups.new"))),
    table([
      { label: t("groups.name"), cell: (g) => g.group_name },
      { label: t("groups.type"), cell: (g) => t(GROUP_TYPES[g.group_type] || "groups.http") },
      { label: t("groups.dn"), cell: (g) => g.ldap_group_dn || "" },
      { label: t("table.actions"), cell: (g) => h("button", { type: "button", class: "danger small",
        "aria-label": t("groups.deleteNamed", { name: g.group_name }), on: { click: async () => {
          if (!await confirm(t("groups.confirmDelete", { name: g.group_name }))) return;
          if (await attempt(() => api("/usergroups/" + g.id, { method: "DELETE" }),
            t("groups.deleted"))) redraw({});
        } } }, t("action.delete")) },
    ], data || [], { id: "groups", caption: t("admin.groups"), empty: t("groups.none") })];
}

const LDAP_KEYS = ["ldap_url", "ldap_search_dn", "ldap_search_password", "ldap_base_dn",
  "ldap_filter", "ldap_uid", "ldap_scope", "ldap_group_base_dn", "ldap_group_search_filter",
  "ldap_group_attribute_name", "ldap_group_admin_dn", "ldap_verify_cert"];
const SYSTEM_KEYS = ["token_expiration", "robot_token_duration", "self_registration",
  "project_creation_restriction", "robot_name_prefix", "audit_log_forward_endpoint"];

function configInput(key, entry) {
  const value = entry ? entry.value : "";
  const disabled = entry && entry.editable === false;
  if (typeof value === "boolean" || key === "ldap_verify_cert" || key === "self_registration") {
    return h("label", { class: "check" }, h("input", { type: "checkbox", name: key,
      checked: Boolean(value), disabled }), t("config." + key));
  }
  let input;
  if (key === "auth_mode") {
    input = h("select", { name: key, disabled }, ["db_auth", "ldap_auth"].map((m) =>
      h("option", { value: m, selected: m === value }, t("config.mode." + m))));
  } else if (key === "project_creation_restriction") {
    input = h("select", { name: key, disabled }, ["everyone", "adminonly"].map((m) =>
      h("option", { value: m, selected: m === value }, t("config.restriction." + m))));
  } else if (key === "ldap_scope") {
    input = h("select", { name: key, disabled }, [[0, "base"], [1, "onelevel"], [2, "subtree"]]
      .map(([n, m]) => h("option", { value: n, selected: Number(value) === n }, t("config.scope." + m))));
  } else {
    input = h("input", { name: key, disabled, value: value === null || value === undefined
      ? "" : String(value), type: key.endsWith("password") ? "password"
      : typeof value === "number" ? "number" : "text", autocomplete: "off" });
  }
  return field(t("config." + key), input);
}

function configValues(form, keys, current) {
  const out = {};
  for (const key of keys) {
    const input = form.elements.namedItem(key);
    if (!input || input.disabled) continue;
    const before = current[key] ? current[key].value : undefined;
    let value = input.type === "checkbox" ? input.checked : input.value;
    if (typeof before === "number" || key === "ldap_scope") value = Number(value);
    if (key.endsWith("password") && value === "") continue;  // unchanged secret
    if (value !== before) out[key] = value;
  }
  return out;
}

async function configuration() {
  const { data: current } = await api("/configurations");
  // Secrets are never read back: their fields are shown empty ("leave empty to keep").
  const shown = (k) => k in current || k.endsWith("password");
  const keys = ["auth_mode", ...LDAP_KEYS, ...SYSTEM_KEYS].filter((k) => shown(k) || k === "auth_mode");
  const result = h("p", { id: "ldap-result", role: "status" });
  const form = h("form", { class: "stack", id: "config-form", on: { submit: async (e) => {
    e.preventDefault();
    const changes = configValues(form, keys, current);
    if (!Object.keys(changes).length) { toast(t("config.unchanged")); return; }
    if (await attempt(() => api("/configurations", { method: "PUT", body: changes }),
      t("config.saved"))) Object.entries(changes).forEach(([k, v]) => { current[k] = { value: v }; });
  } } },
  h("fieldset", {}, h("legend", {}, t("config.auth")), configInput("auth_mode", current.auth_mode)),
  h("fieldset", { id: "ldap-settings" }, h("legend", {}, t("config.ldap")),
    LDAP_KEYS.filter(shown).map((k) => configInput(k, current[k])),
    h("div", { class: "toolbar" }, h("button", { type: "button", class: "secondary",
      id: "ldap-ping", on: { click: async () => {
        result.textContent = t("state.loading");
        const body = {};
        for (const key of LDAP_KEYS) {
          const input = form.elements.namedItem(key);
          if (!input || (key.endsWith("password") && !input.value)) continue;
          body[key] = input.type === "checkbox" ? input.checked
            : key === "ldap_scope" ? Number(input.value) : input.value;
        }
        try {
          const { data } = await api("/ldap/ping", { method: "POST", body });
          result.textContent = data && data.success === false ? t("config.ldapFailed",
            { message: data.message || "" }) : t("config.ldapOk");
        } catch (problem) {
          result.textContent = t("config.ldapFailed", { message: problem.message });
        }
      } } }, t("config.ldapTest")), result)),
  h("fieldset", {}, h("legend", {}, t("config.system")),
    SYSTEM_KEYS.filter((k) => k in current).map((k) => configInput(k, current[k]))),
  h("div", {}, h("button", { type: "submit", class: "primary" }, t("action.save"))));
  // LDAP settings matter only in LDAP mode (Harbor shows them the same way).
  const mode = form.elements.namedItem("auth_mode");
  const ldap = form.querySelector("#ldap-settings");
  const sync = () => { ldap.hidden = mode.value !== "ldap_auth"; };
  mode.addEventListener("change", sync);
  sync();
  return form;
}

async function system() {
  const { data } = await api("/systeminfo");
  return h("dl", { class: "facts", id: "system-info" }, Object.entries(data || {})
    .filter(([, v]) => v === null || typeof v !== "object")
    .map(([k, v]) => [h("dt", {}, k), h("dd", {}, v === null ? "" : String(v))]));
}

export async function render(main, params, query) {
  const section = SECTIONS.includes(params.section) ? params.section : "users";
  document.title = t("admin." + section) + " · harbor-api";
  const body = h("div", { class: "tab-body", id: "admin-" + section });
  const redraw = (changes) => {
    const next = new URLSearchParams(query);
    for (const [k, v] of Object.entries(changes)) { if (v === "" || v === undefined) next.delete(k); else next.set(k, String(v)); }
    history.replaceState(null, "", location.pathname + (next.toString() ? "?" + next : ""));
    query = next;
    draw();
  };
  const pages = { users: () => users(query, redraw), groups: () => groups(query, redraw),
    labels: () => labelsTable("g", undefined, redraw), configuration,
    robots: () => robotsTable(null, redraw),
    logs: () => auditLog("/audit-logs", query, redraw), system,
    registries: () => registries.render(query, redraw),
    replications: () => (params.execution ? replication.renderExecution(params.execution)
      : replication.render(query, redraw)),
    quotas: () => quotas.render(query, redraw), purge: () => purge.render(query, redraw),
    gc: () => gc.render(query, redraw) };
  const draw = () => load(body, pages[section]);
  mount(main, h("section", { class: "card" }, h("h1", {}, t("nav.admin")),
    tabs(SECTIONS.map((key) => ({ key, label: t("admin." + key), href: "/admin/" + key })),
      section), body));
  await draw();
}

function dayKey(date) {
  return date.toISOString().slice(0, 10);
}

async function activity() {
  const end = new Date();
  const start = new Date(end.getTime() - 29 * 86400000);
  const days = [];
  for (let d = new Date(start); d <= end; d = new Date(d.getTime() + 86400000)) days.push(dayKey(d));
  const counts = { push: Object.fromEntries(days.map((d) => [d, 0])),
    pull: Object.fromEntries(days.map((d) => [d, 0])) };
  const range = "[" + dayKey(start) + "T00:00:00~" + end.toISOString().slice(0, 19) + "]";
  // Harbor logs a push as the creation of an artifact.
  const filters = { push: "operation=create,resource_type=artifact", pull: "operation=pull" };
  for (const operation of ["push", "pull"]) {
    for (let page = 1; page <= 10; page += 1) {  // at most 1,000 entries per series
      const { data, total } = await api("/audit-logs", { query: { page, page_size: 100,
        q: filters[operation] + ",op_time=" + range } });
      for (const entry of data || []) {
        const day = (entry.op_time || "").slice(0, 10);
        if (day in counts[operation]) counts[operation][day] += 1;
      }
      if (!data || data.length < 100 || page * 100 >= (total || 0)) break;
    }
  }
  return h("figure", { id: "chart-activity" }, dailyChart(days, [
    { name: t("dashboard.pushes"), values: days.map((d) => counts.push[d]), cls: "bar push" },
    { name: t("dashboard.pulls"), values: days.map((d) => counts.pull[d]), cls: "bar pull" }],
  t("dashboard.activity")), h("figcaption", {}, h("span", { class: "key push" }),
    t("dashboard.pushes"), " ", h("span", { class: "key pull" }), t("dashboard.pulls")));
}

export async function renderDashboard(main) {
  document.title = t("nav.dashboard") + " · harbor-api";
  const stats = h("div");
  const storage = h("div");
  const days = h("div");
  const top = h("div");
  mount(main, h("section", { class: "card" }, h("h1", {}, t("nav.dashboard")), stats,
    h("div", { class: "columns" },
      h("section", { class: "panel" }, h("h2", {}, t("dashboard.storagePerProject")), storage),
      h("section", { class: "panel" }, h("h2", {}, t("dashboard.topRepos")), top)),
    h("section", { class: "panel" }, h("h2", {}, t("dashboard.activity")), days)));
  await Promise.all([
    load(stats, async () => {
      const { data } = await api("/statistics");
      const item = (k, v) => h("div", { class: "stat" }, h("dt", {}, t(k)), h("dd", {}, v));
      return h("dl", { class: "stats", id: "statistics" },
        item("dashboard.projects", String(data.total_project_count ?? 0)),
        item("dashboard.publicProjects", String(data.public_project_count ?? 0)),
        item("dashboard.repositories", String(data.total_repo_count ?? 0)),
        item("dashboard.storage", formatBytes(data.total_storage_consumption ?? 0)));
    }),
    load(storage, async () => {
      // The quotas hold each project's storage used: the ten largest, in one request.
      const { data } = await api("/quotas", { query: { reference: "project", page_size: 10,
        sort: "-used.storage" } });
      const items = (data || []).filter((q) => q.ref && q.used && q.used.storage > 0)
        .map((q) => ({ label: q.ref.name, value: q.used.storage,
          text: formatBytes(q.used.storage) }));
      return h("figure", { id: "chart-storage" }, items.length
        ? barChart(items, t("dashboard.storagePerProject")) : empty());
    }),
    load(top, async () => {
      const { data } = await api("/repositories", { query: { page_size: 10, sort: "-pull_count" } });
      const items = (data || []).map((r) => ({ label: r.name, value: r.pull_count || 0,
        text: String(r.pull_count || 0) }));
      return items.length ? barChart(items, t("dashboard.topRepos")) : empty();
    }),
    load(days, activity),
  ]);
}
