// A project: tabs for its summary, repositories, members, labels, robots, logs, configuration.
import { api, portalRepo, repoPath } from "./api.js";
import { h, mount } from "./dom.js";
import * as immutability from "./page-immutability.js";
import { usage } from "./page-quotas.js";
import * as retention from "./page-retention.js";
import * as webhooks from "./page-webhooks.js";
import { navigate } from "./router.js";
import { formatTime, t } from "./i18n.js";
import { attempt, badge, confirm, copyButton, dialog, empty, field, labelChip, load, pager, table,
  tabs, toast } from "./ui.js";

const TABS = ["summary", "repositories", "members", "labels", "robots", "immutability", "retention",
  "webhooks", "logs", "configuration"];
export const ROLES = { 1: "role.projectAdmin", 4: "role.maintainer", 2: "role.developer",
  3: "role.guest", 5: "role.limitedGuest" };
const ROBOT_ACCESS = [["repository", "pull"], ["repository", "push"], ["artifact", "delete"],
  ["tag", "create"], ["tag", "delete"], ["artifact-label", "create"]];

function roleSelect(name, selected) {
  return h("select", { name }, Object.entries(ROLES).map(([id, key]) =>
    h("option", { value: id, selected: Number(id) === Number(selected) }, t(key))));
}

async function summary(p) {
  const { data } = await api("/projects/" + p.project_id + "/summary");
  const item = (label, value) => h("div", { class: "stat" }, h("dt", {}, label), h("dd", {}, value));
  return h("dl", { class: "stats", id: "project-summary" },
    item(t("projects.repositories"), String(data.repo_count ?? 0)),
    item(t("role.projectAdmin"), String(data.project_admin_count ?? 0)),
    item(t("role.maintainer"), String(data.maintainer_count ?? 0)),
    item(t("role.developer"), String(data.developer_count ?? 0)),
    item(t("role.guest"), String(data.guest_count ?? 0)),
    data.quota && data.quota.used ? item(t("project.storage"), usage(data.quota.used.storage,
      data.quota.hard ? data.quota.hard.storage : -1, true)) : null,
    item(t("projects.access"), p.metadata && p.metadata.public === "true"
      ? t("projects.publicBadge") : t("projects.privateBadge")),
    item(t("table.created"), formatTime(p.creation_time)));
}

async function repositories(p, query, redraw) {
  const page = Math.max(1, Number(query.get("page")) || 1);
  const search = query.get("q") || "";
  const { data, total } = await api("/projects/" + encodeURIComponent(p.name) + "/repositories",
    { query: { page, page_size: 15, sort: "name", q: search ? "name=~" + search : "" } });
  const box = h("input", { type: "search", name: "q", value: search });
  return [
    h("form", { class: "toolbar", role: "search", on: { submit: (e) => {
      e.preventDefault();
      redraw({ q: box.value.trim(), page: "" });
    } } }, field(t("repos.search"), box),
    h("button", { type: "submit", class: "secondary" }, t("action.search"))),
    table([
      { label: t("repos.name"), cell: (r) => h("a", { href: portalRepo(p, r.name) }, r.name) },
      { label: t("repos.artifacts"), cell: (r) => String(r.artifact_count ?? 0), class: "num" },
      { label: t("repos.pulls"), cell: (r) => String(r.pull_count ?? 0), class: "num" },
      { label: t("repos.updated"), cell: (r) => formatTime(r.update_time) },
      { label: t("table.actions"), cell: (r) => h("button", { type: "button",
        class: "danger small", "aria-label": t("repos.deleteNamed", { name: r.name }),
        on: { click: async () => {
          if (!await confirm(t("repos.confirmDelete", { name: r.name }))) return;
          if (await attempt(() => api(repoPath(p.name, r.name), { method: "DELETE" }),
            t("repos.deleted", { name: r.name }))) redraw({});
        } } }, t("action.delete")) },
    ], data, { id: "repositories", caption: t("project.repositories"), key: (r) => ({ repo: r.name }),
      empty: search ? t("repos.noMatch") : t("repos.none") }),
    (total || 0) > 15 ? pager(total, page, 15, (n) => redraw({ page: n })) : null];
}

/** A user-name field suggesting existing users (``/users/search``) as one types. */
function userPicker() {
  const list = h("datalist", { id: "user-suggestions" });
  let timer;
  const input = h("input", { name: "username", required: true, autocomplete: "off",
    list: "user-suggestions", on: { input: () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        if (input.value.length < 2) return;
        try {
          const { data } = await api("/users/search", { query: { username: input.value,
            page_size: 10 } });
          mount(list, (data || []).map((u) => h("option", { value: u.username })));
        } catch (_) { /* suggestions are a convenience only */ }
      }, 250);
    } } });
  return [field(t("members.username"), input), list];
}

async function members(p, query, redraw) {
  const { data } = await api("/projects/" + p.project_id + "/members",
    { query: { page: 1, page_size: 100 } });
  const base = "/projects/" + p.project_id + "/members";
  async function add(kind) {
    let groups = [];
    if (kind === "group") groups = (await api("/usergroups", { query: { page_size: 100 } })).data || [];
    const input = kind === "user" ? userPicker()
      : field(t("members.group"), h("select", { name: "group", required: true },
        groups.map((g) => h("option", { value: g.id }, g.group_name))));
    const done = await dialog(kind === "user" ? t("members.addUser") : t("members.addGroup"),
      [input, field(t("members.role"), roleSelect("role", 2))], {
        confirm: t("action.add"), submit: (form) => api(base, { method: "POST", body: {
          role_id: Number(form.get("role")),
          ...(kind === "user" ? { member_user: { username: form.get("username") } }
            : { member_group: { id: Number(form.get("group")) } }) } }) });
    if (done) { toast(t("members.added")); redraw({}); }
  }
  return [
    h("div", { class: "toolbar" },
      h("button", { type: "button", class: "primary", id: "add-member",
        on: { click: () => add("user") } }, t("members.addUser")),
      h("button", { type: "button", class: "secondary", on: { click: () => add("group") } },
        t("members.addGroup"))),
    table([
      { label: t("members.name"), cell: (m) => m.entity_name },
      { label: t("members.type"), cell: (m) => m.entity_type === "g" ? t("members.groupType")
        : t("members.userType") },
      { label: t("members.role"), cell: (m) => {
        const select = roleSelect("role", m.role_id);
        select.setAttribute("aria-label", t("members.roleOf", { name: m.entity_name }));
        select.addEventListener("change", () => attempt(() => api(base + "/" + m.id,
          { method: "PUT", body: { role_id: Number(select.value) } }), t("members.roleChanged")));
        return select;
      } },
      { label: t("table.actions"), cell: (m) => h("button", { type: "button",
        class: "danger small", "aria-label": t("members.removeNamed", { name: m.entity_name }),
        on: { click: async () => {
          if (!await confirm(t("members.confirmRemove", { name: m.entity_name }),
            t("action.remove"))) return;
          if (await attempt(() => api(base + "/" + m.id, { method: "DELETE" }),
            t("members.removed"))) redraw({});
        } } }, t("action.remove")) },
    ], data, { id: "members", caption: t("project.members"), key: (m) => ({ member: m.entity_name }) }),
  ];
}

export function labelForm(label) {
  return [
    field(t("labels.name"), h("input", { name: "name", required: true, maxlength: 128,
      value: label ? label.name : "" })),
    field(t("labels.description"), h("input", { name: "description",
      value: label ? label.description || "" : "" })),
    field(t("labels.color"), h("input", { name: "color", type: "color",
      value: label && /^#[0-9a-fA-F]{6}$/.test(label.color || "") ? label.color : "#1d5c8c" })),
  ];
}

/** The labels of one scope (``p`` with a project, ``g`` global) with create / edit / delete. */
export async function labelsTable(scope, projectId, redraw) {
  const { data } = await api("/labels", { query: { scope, project_id: projectId, page_size: 100 } });
  const body = (form) => ({ name: form.get("name"), description: form.get("description"),
    color: form.get("color"), scope, ...(projectId ? { project_id: projectId } : {}) });
  return [
    h("div", { class: "toolbar" }, h("button", { type: "button", class: "primary",
      id: "new-label", on: { click: async () => {
        if (await dialog(t("labels.new"), labelForm(null), { confirm: t("action.create"),
          submit: (form) => api("/labels", { method: "POST", body: body(form) }) })) {
          toast(t("labels.created"));
          redraw({});
        }
      } } }, t("labels.new"))),
    table([
      { label: t("labels.name"), cell: (l) => labelChip(l) },
      { label: t("labels.description"), cell: (l) => l.description || "" },
      { label: t("table.created"), cell: (l) => formatTime(l.creation_time) },
      { label: t("table.actions"), cell: (l) => h("span", { class: "row-actions" },
        h("button", { type: "button", class: "secondary small",
          "aria-label": t("labels.editNamed", { name: l.name }), on: { click: async () => {
            if (await dialog(t("labels.edit"), labelForm(l), { confirm: t("action.save"),
              submit: (form) => api("/labels/" + l.id, { method: "PUT", body: body(form) }) })) {
              redraw({});
            }
          } } }, t("action.edit")),
        h("button", { type: "button", class: "danger small",
          "aria-label": t("labels.deleteNamed", { name: l.name }), on: { click: async () => {
            if (!await confirm(t("labels.confirmDelete", { name: l.name }))) return;
            if (await attempt(() => api("/labels/" + l.id, { method: "DELETE" }),
              t("labels.deleted"))) redraw({});
          } } }, t("action.delete"))) },
    ], data, { id: "labels", caption: t("project.labels"), empty: t("labels.none"),
      key: (l) => ({ label: l.name }) }),
  ];
}

function secretDialog(name, secret) {
  return dialog(t("robots.secretTitle"), [
    h("p", {}, t("robots.secretOnce")),
    field(t("robots.name"), h("input", { readonly: true, value: name, id: "robot-name" })),
    h("div", { class: "copy-row" }, field(t("robots.secret"), h("input", { readonly: true,
      value: secret, id: "robot-secret" })), copyButton(secret, t("robots.copySecret"))),
  ], { confirm: t("action.close"), cancel: t("action.close") });
}

/** Robot accounts of one project (``p``), or the system's robots when ``p`` is null. */
export async function robotsTable(p, redraw) {
  const level = p ? "project" : "system";
  const { data } = await api("/robots", { query: { page_size: 100,
    q: p ? "Level=project,ProjectID=" + p.project_id : "Level=system" } });
  async function create() {
    const secret = await dialog(t("robots.new"), [
      field(t("robots.name"), h("input", { name: "name", required: true,
        pattern: "[a-z0-9]+(?:[._\\-][a-z0-9]+)*", autocomplete: "off" })),
      p ? null : field(t("robots.projects"), h("input", { name: "projects", required: true,
        value: "*" }), t("robots.projectsHint")),
      field(t("robots.description"), h("input", { name: "description" })),
      field(t("robots.expiry"), h("input", { name: "duration", type: "number", min: -1,
        value: 30, required: true }), t("robots.expiryHint")),
      h("fieldset", {}, h("legend", {}, t("robots.permissions")), ROBOT_ACCESS.map(
        ([resource, action]) => h("label", { class: "check" }, h("input", { type: "checkbox",
          name: "access", value: resource + ":" + action, checked: action === "pull" }),
        t("robots.access." + resource + "." + action)))),
    ], { confirm: t("action.create"), submit: async (form) => {
      const access = form.getAll("access").map((v) => {
        const [resource, action] = String(v).split(":");
        return { resource, action };
      });
      const namespaces = p ? [p.name] : String(form.get("projects")).split(",")
        .map((x) => x.trim()).filter(Boolean);
      const { data: made } = await api("/robots", { method: "POST", body: {
        name: form.get("name"), description: form.get("description"), level,
        duration: Number(form.get("duration")), disable: false,
        permissions: namespaces.map((namespace) => ({ kind: "project", namespace, access })) } });
      return made;
    } });
    if (secret) { await secretDialog(secret.name, secret.secret); redraw({}); }
  }
  return [
    h("div", { class: "toolbar" }, h("button", { type: "button", class: "primary",
      id: "new-robot", on: { click: create } }, t("robots.new"))),
    table([
      { label: t("robots.name"), cell: (r) => r.name },
      { label: t("robots.status"), cell: (r) => r.disable ? badge(t("robots.disabled"), "off")
        : badge(t("robots.enabled"), "public") },
      { label: t("robots.permissions"), cell: (r) => (r.permissions || []).map((perm) =>
        (p ? "" : (perm.namespace === "*" ? t("robots.allProjects") : perm.namespace) + ": ") +
        perm.access.map((a) => a.resource + ":" + a.action).join(", ")).join("; ") },
      { label: t("robots.expires"), cell: (r) => r.expires_at === -1 ? t("robots.never")
        : new Date(r.expires_at * 1000).toLocaleString(navigator.language) },
      { label: t("table.actions"), cell: (r) => h("span", { class: "row-actions" },
        h("button", { type: "button", class: "secondary small",
          "aria-label": t("robots.refreshNamed", { name: r.name }), on: { click: async () => {
            if (!await confirm(t("robots.confirmRefresh", { name: r.name }),
              t("robots.refresh"))) return;
            try {
              const { data: fresh } = await api("/robots/" + r.id, { method: "PATCH", body: {} });
              await secretDialog(r.name, fresh.secret);
            } catch (problem) { toast(problem.message, "error"); }
          } } }, t("robots.refresh")),
        h("button", { type: "button", class: "secondary small",
          "aria-label": t(r.disable ? "robots.enableNamed" : "robots.disableNamed", { name: r.name }),
          on: { click: async () => {
            if (await attempt(() => api("/robots/" + r.id, { method: "PUT", body: {
              name: r.name, level: r.level, description: r.description || "",
              duration: r.duration, disable: !r.disable, permissions: r.permissions } }),
            t(r.disable ? "robots.enabledDone" : "robots.disabledDone"))) redraw({});
          } } }, r.disable ? t("robots.enable") : t("robots.disable")),
        h("button", { type: "button", class: "danger small",
          "aria-label": t("robots.deleteNamed", { name: r.name }), on: { click: async () => {
            if (!await confirm(t("robots.confirmDelete", { name: r.name }))) return;
            if (await attempt(() => api("/robots/" + r.id, { method: "DELETE" }),
              t("robots.deleted"))) redraw({});
          } } }, t("action.delete"))) },
    ], data || [], { id: "robots", caption: t("project.robots"), empty: t("robots.none"),
      key: (r) => ({ robot: r.name }) }),
  ];
}

/** An audit log with filters (user, resource, operation) in the URL; ``path`` is the list. */
export async function auditLog(path, query, redraw) {
  const page = Math.max(1, Number(query.get("page")) || 1);
  const filters = ["username", "resource", "operation"];
  const terms = filters.filter((f) => query.get(f)).map((f) =>
    f + "=" + (f === "operation" ? "" : "~") + query.get(f));
  const { data, total } = await api(path, { query: { page, page_size: 20, sort: "-op_time",
    q: terms.join(",") } });
  const inputs = Object.fromEntries(filters.map((f) => [f, f === "operation"
    ? h("select", { name: f }, ["", "create", "delete", "pull", "update"].map((o) =>
      h("option", { value: o, selected: o === (query.get(f) || "") }, o ? o : t("logs.any"))))
    : h("input", { name: f, type: "search", value: query.get(f) || "" })]));
  return [
    h("form", { class: "toolbar", id: "log-filters", on: { submit: (e) => {
      e.preventDefault();
      redraw({ ...Object.fromEntries(filters.map((f) => [f, inputs[f].value.trim()])), page: "" });
    } } }, filters.map((f) => field(t("logs." + f), inputs[f])),
    h("button", { type: "submit", class: "secondary" }, t("action.filter"))),
    table([
      { label: t("logs.time"), cell: (l) => formatTime(l.op_time) },
      { label: t("logs.username"), cell: (l) => l.username },
      { label: t("logs.resource"), cell: (l) => l.resource },
      { label: t("logs.type"), cell: (l) => l.resource_type },
      { label: t("logs.operation"), cell: (l) => l.operation },
    ], data, { id: "audit-log", caption: t("logs.title"), empty: t("logs.none") }),
    (total || 0) > 20 ? pager(total, page, 20, (n) => redraw({ page: n })) : null,
  ];
}

async function configuration(p, query, redraw) {
  const isPublic = p.metadata && p.metadata.public === "true";
  const form = h("form", { class: "stack", id: "project-config", on: { submit: async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    if (await attempt(() => api("/projects/" + p.project_id, { method: "PUT", body: {
      metadata: { public: data.get("public") ? "true" : "false" } } }), t("config.saved"))) {
      navigate(location.pathname, true);  // the whole page: its title shows the access too
    }
  } } },
  h("label", { class: "check" }, h("input", { type: "checkbox", name: "public",
    checked: isPublic }), t("config.public")),
  h("small", { class: "hint" }, t("config.publicHint")),
  h("div", {}, h("button", { type: "submit", class: "primary" }, t("action.save"))));
  return form;
}

export async function render(main, params, query) {
  const tab = TABS.includes(params.tab) ? params.tab : "summary";
  if (params.tab && !TABS.includes(params.tab)) {
    mount(main, empty(t("error.pageNotFound")));
    return;
  }
  const { data: p } = await api("/projects/" + encodeURIComponent(params.id));
  document.title = p.name + " · harbor-api";
  const base = "/projects/" + p.project_id;
  const body = h("div", { class: "tab-body", id: "tab-" + tab });
  const redraw = (changes) => {
    const next = new URLSearchParams(query);
    for (const [key, value] of Object.entries(changes)) {
      if (value === "" || value === undefined) next.delete(key); else next.set(key, String(value));
    }
    history.replaceState(null, "", location.pathname + (next.toString() ? "?" + next : ""));
    query = next;
    draw();
  };
  const pages = { summary, repositories, members, configuration,
    robots: () => robotsTable(p, redraw),
    labels: () => labelsTable("p", p.project_id, redraw),
    immutability: () => immutability.render(p, query, redraw),
    retention: () => retention.render(p, query, redraw),
    webhooks: () => webhooks.render(p, query, redraw),
    logs: () => auditLog("/projects/" + encodeURIComponent(p.name) + "/logs", query, redraw) };
  const draw = () => load(body, () => pages[tab](p, query, redraw));
  mount(main, h("section", { class: "card" },
    h("nav", { class: "crumbs", "aria-label": t("crumbs.label") }, h("a", { href: "/projects" },
      t("projects.title")), " / "),
    h("div", { class: "title-row" }, h("h1", { id: "project-name" }, p.name),
      p.metadata && p.metadata.public === "true" ? badge(t("projects.publicBadge"), "public")
        : badge(t("projects.privateBadge"))),
    tabs(TABS.map((key) => ({ key, label: t("project." + key),
      href: key === "summary" ? base : base + "/" + key })), tab),
    body));
  await draw();
}
