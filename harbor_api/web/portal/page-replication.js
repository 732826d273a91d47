// Replication (system admins): policies (create, edit, delete, start), their executions
// (status, stop) and an execution's tasks with their logs.
import { api } from "./api.js";
import { h } from "./dom.js";
import { formatBytes, formatTime, t } from "./i18n.js";
import { duration, liveBox, running, showLog, statusBadge } from "./job-view.js";
import { attempt, confirm, dialog, empty, field, pager, table, toast } from "./ui.js";

const PAGE_SIZE = 10;
const TRIGGERS = ["manual", "scheduled", "event_based"];
const REPLACE_COUNTS = [-1, 0, 1, 2, 3];

function filterOf(policy, type) {
  return (policy.filters || []).find((f) => f.type === type) || null;
}

function side(registry) {
  return registry && registry.id ? registry.name : t("replication.local");
}

function select(name, options, selected, props = {}) {
  return h("select", { name, ...props }, options.map(([value, label]) =>
    h("option", { value, selected: String(value) === String(selected) }, label)));
}

function policyForm(policy, registries) {
  const p = policy || { enabled: true, override: true, dest_namespace_replace_count: -1 };
  const pull = Boolean(p.src_registry && p.src_registry.id);
  const registry = pull ? p.src_registry : p.dest_registry;
  const name = filterOf(p, "name");
  const tag = filterOf(p, "tag");
  const label = filterOf(p, "label");
  const resource = filterOf(p, "resource");
  const trigger = (p.trigger && p.trigger.type) || "manual";
  const cron = (p.trigger && p.trigger.trigger_settings && p.trigger.trigger_settings.cron) || "";
  const cronField = field(t("replication.cron"), h("input", { name: "cron", value: cron,
    placeholder: "0 0 2 * * *", autocomplete: "off" }), t("replication.cronHint"));
  const triggerSelect = select("trigger", TRIGGERS.map((x) => [x, t("replication.trigger." + x)]),
    trigger, { on: { change: () => { cronField.hidden = triggerSelect.value !== "scheduled"; } } });
  cronField.hidden = trigger !== "scheduled";
  return [
    field(t("replication.name"), h("input", { name: "name", required: true, value: p.name || "",
      autocomplete: "off" })),
    field(t("replication.description"), h("input", { name: "description",
      value: p.description || "" })),
    h("div", { class: "form-row" },
      field(t("replication.mode"), select("mode", [["push", t("replication.push")],
        ["pull", t("replication.pull")]], pull ? "pull" : "push")),
      field(t("replication.registry"), select("registry", registries.map((r) =>
        [r.id, r.name + " (" + r.url + ")"]), registry ? registry.id : "", { required: true }))),
    h("fieldset", {}, h("legend", {}, t("replication.filters")),
      field(t("replication.filterName"), h("input", { name: "filter_name", autocomplete: "off",
        value: name ? name.value : "", placeholder: "library/**" }), t("replication.globHint")),
      h("div", { class: "form-row" },
        field(t("replication.filterTag"), h("input", { name: "filter_tag", autocomplete: "off",
          value: tag ? tag.value : "", placeholder: "v*" })),
        field(t("replication.decoration"), select("tag_decoration", [
          ["matches", t("replication.matches")], ["excludes", t("replication.excludes")]],
        tag ? tag.decoration : "matches"))),
      field(t("replication.filterLabel"), h("input", { name: "filter_label", autocomplete: "off",
        value: label && Array.isArray(label.value) ? label.value.join(", ") : "" }),
      t("replication.labelHint")),
      field(t("replication.filterResource"), select("filter_resource", [
        ["", t("replication.resourceAll")], ["image", t("type.image")],
        ["artifact", t("replication.resourceArtifact")]], resource ? resource.value : ""))),
    h("fieldset", {}, h("legend", {}, t("replication.destination")),
      h("div", { class: "form-row" },
        field(t("replication.namespace"), h("input", { name: "dest_namespace",
          autocomplete: "off", value: p.dest_namespace || "" }), t("replication.namespaceHint")),
        field(t("replication.flattening"), select("replace_count", REPLACE_COUNTS.map((n) =>
          [n, t("replication.replace." + n)]), p.dest_namespace_replace_count ?? -1)))),
    h("div", { class: "form-row" }, field(t("replication.triggerLabel"), triggerSelect),
      field(t("replication.speed"), h("input", { name: "speed", type: "number", min: -1,
        value: p.speed ?? -1 }), t("replication.speedHint"))),
    cronField,
    h("div", { class: "checks" },
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "override",
        checked: Boolean(p.override) }), t("replication.override")),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "replicate_deletion",
        checked: Boolean(p.replicate_deletion) }), t("replication.deletion")),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "enabled",
        checked: p.enabled !== false }), t("replication.enabled"))),
  ];
}

function policyBody(form) {
  const registry = { id: Number(form.get("registry")) };
  const pull = form.get("mode") === "pull";
  const filters = [];
  if (form.get("filter_name")) filters.push({ type: "name", value: form.get("filter_name") });
  if (form.get("filter_tag")) {
    filters.push({ type: "tag", value: form.get("filter_tag"),
      decoration: form.get("tag_decoration") });
  }
  const labels = (form.get("filter_label") || "").split(",").map((x) => x.trim()).filter(Boolean);
  if (labels.length) filters.push({ type: "label", value: labels, decoration: "matches" });
  if (form.get("filter_resource")) {
    filters.push({ type: "resource", value: form.get("filter_resource") });
  }
  const trigger = form.get("trigger");
  return { name: form.get("name"), description: form.get("description") || "",
    src_registry: pull ? registry : null, dest_registry: pull ? null : registry,
    dest_namespace: form.get("dest_namespace") || "",
    dest_namespace_replace_count: Number(form.get("replace_count")),
    trigger: { type: trigger, trigger_settings: trigger === "scheduled"
      ? { cron: form.get("cron") || "" } : null },
    filters, speed: Number(form.get("speed") || -1), override: form.get("override") === "on",
    replicate_deletion: form.get("replicate_deletion") === "on",
    enabled: form.get("enabled") === "on" };
}

async function editPolicy(policy, redraw) {
  const { data: registries } = await api("/registries", { query: { page_size: 100,
    sort: "name" } });
  if (!(registries || []).length) { toast(t("replication.needRegistry"), "error"); return; }
  const done = await dialog(policy ? t("replication.editNamed", { name: policy.name })
    : t("replication.new"), policyForm(policy, registries), {
    confirm: policy ? t("action.save") : t("action.create"), wide: true,
    submit: (form) => (policy ? api("/replication/policies/" + policy.id,
      { method: "PUT", body: policyBody(form) })
      : api("/replication/policies", { method: "POST", body: policyBody(form) })) });
  if (done) { toast(policy ? t("replication.saved") : t("replication.created")); redraw({}); }
}

function policyTable(policies, redraw) {
  return table([
    { label: t("replication.name"), cell: (p) => h("strong", {}, p.name) },
    { label: t("replication.status"), cell: (p) => p.enabled
      ? h("span", { class: "badge public" }, t("replication.enabledBadge"))
      : h("span", { class: "badge" }, t("replication.disabledBadge")) },
    { label: t("replication.flow"), cell: (p) => h("span", { class: "flow" }, side(p.src_registry),
      h("span", { "aria-hidden": "true" }, " → "), h("span", { class: "visually-hidden" },
        " " + t("replication.to") + " "), side(p.dest_registry)) },
    { label: t("replication.triggerLabel"), cell: (p) => [
      t("replication.trigger." + ((p.trigger && p.trigger.type) || "manual")),
      p.trigger && p.trigger.trigger_settings && p.trigger.trigger_settings.cron
        ? h("div", { class: "mono muted" }, p.trigger.trigger_settings.cron) : null] },
    { label: t("replication.namespace"), cell: (p) => p.dest_namespace || "" },
    { label: t("replication.description"), cell: (p) => p.description || "" },
    { label: t("table.actions"), cell: (p) => h("span", { class: "row-actions" },
      h("button", { type: "button", class: "primary small", disabled: !p.enabled,
        "aria-label": t("replication.startNamed", { name: p.name }), on: { click: async () => {
          if (await attempt(() => api("/replication/executions", { method: "POST",
            body: { policy_id: p.id } }), t("replication.startedNamed", { name: p.name }))) {
            redraw({ policy: "", epage: "" });
          }
        } } }, t("replication.start")),
      h("button", { type: "button", class: "secondary small",
        "aria-label": t("replication.editNamed", { name: p.name }),
        on: { click: () => editPolicy(p, redraw) } }, t("action.edit")),
      h("button", { type: "button", class: "danger small",
        "aria-label": t("replication.deleteNamed", { name: p.name }), on: { click: async () => {
          if (!await confirm(t("replication.confirmDelete", { name: p.name }))) return;
          if (await attempt(() => api("/replication/policies/" + p.id, { method: "DELETE" }),
            t("replication.deleted"))) redraw({});
        } } }, t("action.delete"))) },
  ], policies, { id: "policies", caption: t("replication.policies"),
    empty: t("replication.none"), key: (p) => ({ policy: p.name }) });
}

function progress(e) {
  if (!e.total) return t("replication.noTasks");
  return t("replication.progress", { succeed: e.succeed || 0, total: e.total,
    failed: e.failed || 0 });
}

function stopButton(e, after) {
  return running(e.status) ? h("button", { type: "button", class: "danger small",
    "aria-label": t("replication.stopNamed", { id: e.id }), on: { click: async () => {
      if (!await confirm(t("replication.confirmStop", { id: e.id }), t("replication.stop"))) return;
      if (await attempt(() => api("/replication/executions/" + e.id, { method: "PUT" }),
        t("replication.stopping"))) after();
    } } }, t("replication.stop")) : null;
}

async function executions(query, redraw, names) {
  const page = Math.max(1, Number(query.get("epage")) || 1);
  const policy = query.get("policy") || "";
  const list = await liveBox({ id: "execution-list" }, async (draw) => {
    const { data, total } = await api("/replication/executions", { query: { page,
      page_size: PAGE_SIZE, policy_id: policy } });
    return [[table([
      { label: t("replication.execution"), cell: (e) => h("a", {
        href: "/admin/replications/executions/" + e.id }, "#" + e.id) },
      { label: t("replication.policy"), cell: (e) => names[e.policy_id] || "#" + e.policy_id },
      { label: t("replication.status"), cell: (e) => statusBadge(e.status) },
      { label: t("replication.triggerLabel"), cell: (e) => t("replication.trigger." + e.trigger) },
      { label: t("replication.tasks"), cell: (e) => progress(e) },
      { label: t("replication.started"), cell: (e) => formatTime(e.start_time) },
      { label: t("replication.duration"), cell: (e) => duration(e.start_time, e.end_time) },
      { label: t("table.actions"), cell: (e) => stopButton(e, draw) },
    ], data || [], { id: "executions", caption: t("replication.executions"),
      empty: t("replication.noExecutions"), key: (e) => ({ execution: String(e.id) }) }),
    (total || 0) > PAGE_SIZE ? pager(total, page, PAGE_SIZE, (n) => redraw({ epage: n })) : null],
    (data || []).some((e) => running(e.status))];
  });
  return [
    h("div", { class: "toolbar" },
      field(t("replication.policy"), select("policy", [["", t("logs.any")],
        ...Object.entries(names)], policy, { id: "execution-policy", on: { change: (e) =>
        redraw({ policy: e.target.value, epage: "" }) } })),
      h("button", { type: "button", class: "secondary", id: "refresh-executions",
        on: { click: () => redraw({}) } }, t("action.refresh"))),
    list];
}

export async function render(query, redraw) {
  const page = Math.max(1, Number(query.get("page")) || 1);
  const [{ data: policies, total }, { data: all }] = await Promise.all([
    api("/replication/policies", { query: { page, page_size: PAGE_SIZE, sort: "name" } }),
    api("/replication/policies", { query: { page_size: 100, sort: "name" } })]);
  const names = Object.fromEntries((all || []).map((p) => [p.id, p.name]));
  return [
    h("div", { class: "title-row" }, h("h2", {}, t("replication.policies")),
      h("button", { type: "button", class: "primary", id: "new-policy",
        on: { click: () => editPolicy(null, redraw) } }, t("replication.new"))),
    policyTable(policies || [], redraw),
    (total || 0) > PAGE_SIZE ? pager(total, page, PAGE_SIZE, (n) => redraw({ page: n })) : null,
    h("h2", {}, t("replication.executions")),
    await executions(query, redraw, names)];
}

function taskTable(execution, tasks) {
  return table([
    { label: t("replication.task"), cell: (x) => "#" + x.id },
    { label: t("replication.resourceType"), cell: (x) => x.resource_type || "" },
    { label: t("replication.source"), cell: (x) => h("span", { class: "mono wrap" },
      x.src_resource || "") },
    { label: t("replication.destinationResource"), cell: (x) => h("span", { class: "mono wrap" },
      x.dst_resource || "") },
    { label: t("replication.operation"), cell: (x) => x.operation || "" },
    { label: t("replication.status"), cell: (x) => [statusBadge(x.status), x.status_message
      ? h("div", { class: "error small-text" }, x.status_message) : null] },
    { label: t("replication.copied"), cell: (x) => formatBytes(x.bytes_copied || 0), class: "num" },
    { label: t("replication.duration"), cell: (x) => duration(x.start_time, x.end_time) },
    { label: t("replication.log"), cell: (x) => h("button", { type: "button",
      class: "secondary small", "aria-label": t("replication.logNamed", { id: x.id }),
      on: { click: () => showLog(t("replication.logNamed", { id: x.id }),
        "/replication/executions/" + execution.id + "/tasks/" + x.id + "/log") } },
    t("replication.log")) },
  ], tasks, { id: "tasks", caption: t("replication.tasks"), empty: t("replication.noTasks"),
    key: (x) => ({ task: String(x.id) }) });
}

/** One execution: its facts and tasks, refreshed every 2 s while it runs. */
export function renderExecution(id) {
  return liveBox({ id: "execution" }, async (draw) => {
    const [{ data: e }, { data: tasks }] = await Promise.all([
      api("/replication/executions/" + id),
      api("/replication/executions/" + id + "/tasks", { query: { page_size: 100 } })]);
    let policy = "#" + e.policy_id;
    try { policy = (await api("/replication/policies/" + e.policy_id)).data.name; } catch (_) {
      /* the policy was deleted since */ }
    const fact = (label, value) => [h("dt", {}, label), h("dd", {}, value)];
    return [[
      h("p", { class: "crumbs" }, h("a", { href: "/admin/replications" },
        t("admin.replications")), " / ", t("replication.executionNamed", { id: e.id })),
      h("div", { class: "title-row" }, h("h2", {}, t("replication.executionNamed", { id: e.id })),
        statusBadge(e.status), stopButton(e, draw)),
      h("dl", { class: "facts", id: "execution-facts" },
        fact(t("replication.policy"), policy),
        fact(t("replication.triggerLabel"), t("replication.trigger." + e.trigger)),
        fact(t("replication.started"), formatTime(e.start_time)),
        fact(t("replication.ended"), formatTime(e.end_time)),
        fact(t("replication.duration"), duration(e.start_time, e.end_time)),
        fact(t("replication.tasks"), progress(e)),
        e.status_text ? fact(t("replication.statusText"), e.status_text) : null),
      h("h3", {}, t("replication.tasks")),
      (tasks || []).length ? taskTable(e, tasks) : empty(t("replication.noTasks"))],
    running(e.status)];
  });
}
