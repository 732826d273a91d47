// Audit log purge (system admins): the schedule, a run now (or a dry run), and the history of
// runs with their logs (/system/purgeaudit...).
import { api } from "./api.js";
import { h } from "./dom.js";
import { formatTime, t } from "./i18n.js";
import { liveBox, running, showLog, statusBadge } from "./job-view.js";
import { attempt, confirm, field, pager, table } from "./ui.js";

const PAGE_SIZE = 10;
const TYPES = ["None", "Hourly", "Daily", "Weekly", "Custom"];
const OPERATIONS = ["create", "delete", "pull"];

function parametersOf(text) {
  try { return JSON.parse(text || "{}"); } catch (_) { return {}; }
}

function describe(params) {
  const ops = params.include_operations ? params.include_operations.split(",").join(", ")
    : t("purge.allOperations");
  return t(params.dry_run ? "purge.describeDry" : "purge.describe", {
    hours: params.audit_retention_hour ?? 0, operations: ops });
}

function scheduleForm(current, redraw) {
  const params = parametersOf(current.job_parameters);
  const type = (current.schedule && current.schedule.type) || "None";
  const ops = (params.include_operations || OPERATIONS.join(",")).split(",");
  const cron = h("input", { name: "cron", autocomplete: "off", placeholder: "0 0 3 * * *",
    value: (current.schedule && current.schedule.cron) || "" });
  const cronField = field(t("purge.cron"), cron, t("replication.cronHint"));
  const kind = h("select", { name: "type", on: { change: () => {
    cronField.hidden = kind.value !== "Custom";
  } } }, TYPES.map((x) => h("option", { value: x, selected: x === type },
    t("purge.type." + x))));
  cronField.hidden = type !== "Custom";
  const body = (schedule, dryRun) => {
    const data = new FormData(form);
    return { schedule, parameters: {
      audit_retention_hour: Math.round(Number(data.get("retention") || 0)),
      include_operations: OPERATIONS.filter((o) => data.get("op_" + o)).join(","),
      dry_run: dryRun } };
  };
  const run = (dryRun) => async () => {
    if (!form.reportValidity()) return;
    if (!dryRun && !await confirm(t("purge.confirm"), t("purge.now"))) return;
    if (await attempt(() => api("/system/purgeaudit/schedule", { method: "POST",
      body: body({ type: "Manual" }, dryRun) }), t(dryRun ? "purge.dryStarted"
      : "purge.started"))) redraw({ page: "" });
  };
  const form = h("form", { class: "stack", id: "purge-form", on: { submit: async (e) => {
    e.preventDefault();
    const schedule = { type: kind.value };
    if (kind.value === "Custom") schedule.cron = cron.value.trim();
    if (await attempt(() => api("/system/purgeaudit/schedule", { method: "PUT",
      body: body(schedule, false) }), t("purge.saved"))) redraw({});
  } } },
  field(t("purge.retention"), h("input", { name: "retention", type: "number", min: 0,
    step: 1, required: true, value: params.audit_retention_hour ?? 720 }), t("purge.retentionHint")),
  h("fieldset", {}, h("legend", {}, t("purge.operations")), h("div", { class: "checks" },
    OPERATIONS.map((o) => h("label", { class: "check" }, h("input", { type: "checkbox",
      name: "op_" + o, checked: ops.includes(o) }), t("purge.op." + o))))),
  h("div", { class: "form-row" }, field(t("purge.schedule"), kind), cronField),
  h("div", { class: "toolbar" },
    h("button", { type: "submit", class: "primary", id: "purge-save" }, t("purge.save")),
    h("button", { type: "button", class: "secondary", id: "purge-dry-run",
      on: { click: run(true) } }, t("purge.dryRun")),
    h("button", { type: "button", class: "danger", id: "purge-now",
      on: { click: run(false) } }, t("purge.now"))));
  const next = current.schedule && current.schedule.next_scheduled_time;
  return h("section", { id: "purge-settings" },
    h("p", { class: "muted intro" }, t("purge.intro")),
    h("p", { id: "purge-next" }, next ? t("purge.next", { time: formatTime(next) })
      : t("purge.noSchedule")),
    form);
}

export async function render(query, redraw) {
  const page = Math.max(1, Number(query.get("page")) || 1);
  const { data: current } = await api("/system/purgeaudit/schedule");
  const history = await liveBox({ id: "purge-runs" }, async (draw) => {
    const { data, total } = await api("/system/purgeaudit", { query: { page,
      page_size: PAGE_SIZE } });
    return [[historyTable(data || [], draw), (total || 0) > PAGE_SIZE
      ? pager(total, page, PAGE_SIZE, (n) => redraw({ page: n })) : null],
    (data || []).some((x) => running(x.job_status))];
  });
  return [scheduleForm(current || {}, redraw), h("h2", {}, t("purge.history")), history];
}

function historyTable(rows, redraw) {
  return table([
    { label: t("purge.run"), cell: (x) => "#" + x.id },
    { label: t("purge.kind"), cell: (x) => t(x.job_kind === "MANUAL" ? "purge.manual"
      : "purge.scheduled") },
    { label: t("replication.status"), cell: (x) => statusBadge(x.job_status) },
    { label: t("purge.parameters"), cell: (x) => describe(parametersOf(x.job_parameters)) },
    { label: t("replication.started"), cell: (x) => formatTime(x.creation_time) },
    { label: t("purge.updated"), cell: (x) => formatTime(x.update_time) },
    { label: t("table.actions"), cell: (x) => h("span", { class: "row-actions" },
      h("button", { type: "button", class: "secondary small",
        "aria-label": t("purge.logNamed", { id: x.id }), on: { click: () => showLog(
          t("purge.logNamed", { id: x.id }), "/system/purgeaudit/" + x.id + "/log") } },
      t("replication.log")),
      running(x.job_status) ? h("button", { type: "button", class: "danger small",
        "aria-label": t("purge.stopNamed", { id: x.id }), on: { click: async () => {
          if (await attempt(() => api("/system/purgeaudit/" + x.id, { method: "PUT" }),
            t("replication.stopping"))) redraw();
        } } }, t("replication.stop")) : null) },
  ], rows, { id: "purge-history", caption: t("purge.history"), empty: t("purge.none"),
    key: (x) => ({ run: String(x.id) }) });
}
