// A project's webhooks (/projects/{p}/webhook/...): policies (an http or Slack target, its
// address, auth header, payload format and certificate check; the events), enable / disable,
// delete; when each event last fired; a policy's executions and their tasks' logs.
import { api } from "./api.js";
import { h } from "./dom.js";
import { formatTime, t } from "./i18n.js";
import { duration, liveBox, running, showLog, statusBadge } from "./job-view.js";
import { attempt, badge, confirm, dialog, field, pager, table, toast } from "./ui.js";

const PAGE_SIZE = 10;

function policyForm(policy, supported) {
  const target = (policy && policy.targets && policy.targets[0]) || { type: "http" };
  const events = new Set(policy ? policy.event_types || [] : ["PUSH_ARTIFACT"]);
  const formats = ((supported.payload_formats || []).find((x) => x.notify_type === "http")
    || { formats: ["Default"] }).formats;
  const httpOnly = [];
  const type = h("select", { name: "type", on: { change: () => {
    for (const node of httpOnly) node.hidden = type.value !== "http";
  } } }, (supported.notify_type || ["http"]).map((x) => h("option", { value: x,
    selected: x === target.type }, t("webhooks.type." + x))));
  const auth = field(t("webhooks.authHeader"), h("input", { name: "auth_header",
    autocomplete: "off", value: target.auth_header || "" }), t("webhooks.authHint"));
  const format = field(t("webhooks.payloadFormat"), h("select", { name: "payload_format" },
    formats.map((x) => h("option", { value: x, selected: x === (target.payload_format
      || "Default") }, x))));
  httpOnly.push(auth, format);
  for (const node of httpOnly) node.hidden = target.type !== "http";
  return [
    field(t("webhooks.name"), h("input", { name: "name", required: true, maxlength: 256,
      autocomplete: "off", value: policy ? policy.name : "" })),
    field(t("webhooks.description"), h("input", { name: "description",
      value: policy ? policy.description || "" : "" })),
    h("div", { class: "form-row" }, field(t("webhooks.notifyType"), type), format),
    field(t("webhooks.address"), h("input", { name: "address", type: "url", required: true,
      autocomplete: "off", placeholder: "https://hooks.example.com/harbor",
      value: target.address || "" })),
    auth,
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "skip_cert_verify",
      checked: Boolean(target.skip_cert_verify) }), t("webhooks.skipCert")),
    h("fieldset", {}, h("legend", {}, t("webhooks.events")), h("div", { class: "checks" },
      (supported.event_type || []).map((e) => h("label", { class: "check" }, h("input", {
        type: "checkbox", name: "event", value: e, checked: events.has(e) }),
      t("webhooks.event." + e))))),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "enabled",
      checked: policy ? Boolean(policy.enabled) : true }), t("webhooks.enabled")),
  ];
}

function bodyOf(form) {
  const type = String(form.get("type"));
  const target = { type, address: String(form.get("address")).trim(),
    skip_cert_verify: Boolean(form.get("skip_cert_verify")) };
  if (type === "http") {
    target.auth_header = String(form.get("auth_header") || "");
    target.payload_format = String(form.get("payload_format") || "Default");
  }
  const events = form.getAll("event").map(String);
  if (!events.length) throw new Error(t("webhooks.noEvent"));
  return { name: String(form.get("name")).trim(), description: String(form.get("description")),
    enabled: Boolean(form.get("enabled")), event_types: events, targets: [target] };
}

export async function render(p, query, redraw) {
  const base = "/projects/" + p.project_id + "/webhook";
  const [{ data: policies }, { data: supported }, { data: triggers }] = await Promise.all([
    api(base + "/policies", { query: { page_size: 100, sort: "id" } }), api(base + "/events"),
    api(base + "/lasttrigger")]);
  const edit = async (policy) => {
    const done = await dialog(policy ? t("webhooks.edit") : t("webhooks.new"),
      policyForm(policy, supported || {}), { wide: true,
        confirm: policy ? t("action.save") : t("action.create"), submit: (form) => policy
          ? api(base + "/policies/" + policy.id, { method: "PUT", body: bodyOf(form) })
          : api(base + "/policies", { method: "POST", body: bodyOf(form) }) });
    if (done) { toast(t("webhooks.saved")); redraw({}); }
  };
  const selected = (policies || []).find((x) => String(x.id) === query.get("policy"));
  return [
    h("p", { class: "muted intro" }, t("webhooks.intro")),
    h("div", { class: "toolbar" }, h("button", { type: "button", class: "primary",
      id: "new-webhook", on: { click: () => edit(null) } }, t("webhooks.new"))),
    policiesTable(base, policies || [], edit, redraw),
    h("h2", {}, t("webhooks.lastTrigger")),
    table([
      { label: t("webhooks.name"), cell: (x) => x.policy_name },
      { label: t("webhooks.eventType"), cell: (x) => t("webhooks.event." + x.event_type) },
      { label: t("webhooks.status"), cell: (x) => x.enabled ? badge(t("robots.enabled"), "public")
        : badge(t("robots.disabled"), "off") },
      { label: t("webhooks.lastTriggered"), cell: (x) => x.last_trigger_time
        ? formatTime(x.last_trigger_time) : t("webhooks.never") },
    ], triggers || [], { id: "webhook-last-trigger", caption: t("webhooks.lastTrigger"),
      empty: t("webhooks.noTrigger"), key: (x) => ({ policy: x.policy_name,
        event: x.event_type }) }),
    selected ? [h("h2", { id: "webhook-executions-title" }, t("webhooks.executionsOf",
      { name: selected.name })), await executions(base + "/policies/" + selected.id, query,
      redraw)] : null,
  ];
}

function policiesTable(base, rows, edit, redraw) {
  return table([
    { label: t("webhooks.name"), cell: (x) => x.name },
    { label: t("webhooks.status"), cell: (x) => x.enabled ? badge(t("robots.enabled"), "public")
      : badge(t("robots.disabled"), "off") },
    { label: t("webhooks.target"), cell: (x) => (x.targets || []).map((target) =>
      h("div", {}, t("webhooks.type." + target.type), ": ", h("code", {}, target.address))) },
    { label: t("webhooks.events"), cell: (x) => (x.event_types || []).map((e) =>
      t("webhooks.event." + e)).join(", ") },
    { label: t("webhooks.description"), cell: (x) => x.description || "" },
    { label: t("table.actions"), cell: (x) => h("span", { class: "row-actions" },
      h("button", { type: "button", class: "secondary small",
        "aria-label": t("webhooks.executionsOf", { name: x.name }),
        on: { click: () => redraw({ policy: x.id, execution: "", page: "" }) } },
      t("webhooks.executions")),
      h("button", { type: "button", class: "secondary small",
        "aria-label": t("webhooks.editNamed", { name: x.name }),
        on: { click: () => edit(x) } }, t("action.edit")),
      h("button", { type: "button", class: "secondary small",
        "aria-label": t(x.enabled ? "webhooks.disableNamed" : "webhooks.enableNamed",
          { name: x.name }), on: { click: async () => {
          if (await attempt(() => api(base + "/policies/" + x.id, { method: "PUT", body: {
            name: x.name, description: x.description, event_types: x.event_types,
            targets: x.targets, enabled: !x.enabled } }), t("webhooks.saved"))) redraw({});
        } } }, x.enabled ? t("robots.disable") : t("robots.enable")),
      h("button", { type: "button", class: "danger small",
        "aria-label": t("webhooks.deleteNamed", { name: x.name }), on: { click: async () => {
          if (!await confirm(t("webhooks.confirmDelete", { name: x.name }))) return;
          if (await attempt(() => api(base + "/policies/" + x.id, { method: "DELETE" }),
            t("webhooks.deleted"))) redraw({ policy: "", execution: "" });
        } } }, t("action.delete"))) },
  ], rows, { id: "webhook-policies", caption: t("project.webhooks"), empty: t("webhooks.none"),
    key: (x) => ({ policy: x.name }) });
}

async function executions(base, query, redraw) {
  const page = Math.max(1, Number(query.get("page")) || 1);
  const open = query.get("execution") || "";
  return liveBox({ id: "webhook-runs" }, async () => {
    const { data, total } = await api(base + "/executions", { query: { page,
      page_size: PAGE_SIZE } });
    const rows = data || [];
    let busy = rows.some((x) => running(x.status));
    let tasks = null;
    if (open) {
      const path = base + "/executions/" + open + "/tasks";
      const found = (await api(path, { query: { page_size: 100 } })).data || [];
      busy = busy || found.some((x) => running(x.status));
      tasks = [h("h3", {}, t("webhooks.tasksOf", { id: open })), table([
        { label: t("webhooks.task"), cell: (x) => "#" + x.id },
        { label: t("webhooks.status"), cell: (x) => statusBadge(x.status) },
        { label: t("webhooks.address"), cell: (x) => h("code", {},
          (x.extra_attrs && x.extra_attrs.address) || "") },
        { label: t("webhooks.runs"), cell: (x) => String(x.run_count ?? 0), class: "num" },
        { label: t("retention.duration"), cell: (x) => duration(x.start_time, x.end_time) },
        { label: t("table.actions"), cell: (x) => h("button", { type: "button",
          class: "secondary small", "aria-label": t("webhooks.logNamed", { id: x.id }),
          on: { click: () => showLog(t("webhooks.logNamed", { id: x.id }),
            path + "/" + x.id + "/log") } }, t("replication.log")) },
      ], found, { id: "webhook-tasks", caption: t("webhooks.tasksOf", { id: open }),
        empty: t("webhooks.noTasks"), key: (x) => ({ task: String(x.id) }) })];
    }
    return [[table([
      { label: t("purge.run"), cell: (x) => "#" + x.id },
      { label: t("webhooks.eventType"), cell: (x) => x.extra_attrs && x.extra_attrs.event_type
        ? t("webhooks.event." + x.extra_attrs.event_type) : "" },
      { label: t("webhooks.status"), cell: (x) => statusBadge(x.status) },
      { label: t("replication.started"), cell: (x) => formatTime(x.start_time) },
      { label: t("retention.duration"), cell: (x) => duration(x.start_time, x.end_time) },
      { label: t("table.actions"), cell: (x) => h("button", { type: "button",
        class: "secondary small", "aria-label": t("webhooks.tasksOf", { id: x.id }),
        on: { click: () => redraw({ execution: x.id }) } }, t("retention.tasks")) },
    ], rows, { id: "webhook-executions", caption: t("webhooks.executions"),
      empty: t("webhooks.noRuns"), key: (x) => ({ execution: String(x.id) }) }),
    (total || 0) > PAGE_SIZE ? pager(total, page, PAGE_SIZE, (n) => redraw({ page: n })) : null,
    tasks], busy];
  });
}
