// Garbage collection (system admins): the schedule with its parameters, "GC now" and a dry
// run, and the history of runs with the space each freed and its log (/system/gc...).
import { api } from "./api.js";
import { h } from "./dom.js";
import { formatTime, t } from "./i18n.js";
import { liveBox, running, showLog, statusBadge } from "./job-view.js";
import { attempt, confirm, field, pager, table } from "./ui.js";

const PAGE_SIZE = 10;
const TYPES = ["None", "Hourly", "Daily", "Weekly", "Custom"];
const WORKERS = [1, 2, 3, 4, 5];

function parametersOf(text) {
  try { return JSON.parse(text || "{}"); } catch (_) { return {}; }
}

function describe(params) {
  const parts = [params.dry_run ? t("gc.dry") : t("gc.real"),
    params.delete_untagged ? t("gc.untagged") : null,
    t("gc.workersN", { n: params.workers || 1 })];
  return parts.filter(Boolean).join("; ");
}

/** What a finished run freed, as its log says it ("freed up 41.3 MiB (43306291 bytes)"). */
async function freed(run) {
  if (run.job_status !== "Succeed" && run.job_status !== "Success") return "";
  try {
    const text = (await api("/system/gc/" + run.id + "/log", { text: true })).data || "";
    const found = /(?:freed up|would free up) (\S+ \S+) \(/.exec(text);
    return found ? found[1] : "";
  } catch (_) {
    return "";
  }
}

function scheduleForm(current, redraw) {
  const params = parametersOf(current.job_parameters);
  const type = (current.schedule && current.schedule.type) || "None";
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
    return { schedule, parameters: { delete_untagged: Boolean(data.get("delete_untagged")),
      workers: Number(data.get("workers") || 1), dry_run: dryRun } };
  };
  const run = (dryRun) => async () => {
    if (!dryRun && !await confirm(t("gc.confirm"), t("gc.now"))) return;
    if (await attempt(() => api("/system/gc/schedule", { method: "POST",
      body: body({ type: "Manual" }, dryRun) }), t(dryRun ? "gc.dryStarted"
      : "gc.started"))) redraw({ page: "" });
  };
  const form = h("form", { class: "stack", id: "gc-form", on: { submit: async (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    const schedule = { type: kind.value };
    if (kind.value === "Custom") schedule.cron = cron.value.trim();
    if (await attempt(() => api("/system/gc/schedule", { method: "PUT",
      body: body(schedule, false) }), t("gc.saved"))) redraw({});
  } } },
  h("label", { class: "check" }, h("input", { type: "checkbox", name: "delete_untagged",
    checked: Boolean(params.delete_untagged) }), t("gc.deleteUntagged")),
  h("small", { class: "hint" }, t("gc.deleteUntaggedHint")),
  h("div", { class: "form-row" },
    field(t("gc.workers"), h("select", { name: "workers" }, WORKERS.map((n) =>
      h("option", { value: n, selected: n === (params.workers || 1) }, String(n)))),
    t("gc.workersHint")),
    field(t("purge.schedule"), kind), cronField),
  h("div", { class: "toolbar" },
    h("button", { type: "submit", class: "primary", id: "gc-save" }, t("purge.save")),
    h("button", { type: "button", class: "secondary", id: "gc-dry-run",
      on: { click: run(true) } }, t("purge.dryRun")),
    h("button", { type: "button", class: "danger", id: "gc-now",
      on: { click: run(false) } }, t("gc.now"))));
  const next = current.schedule && current.schedule.next_scheduled_time;
  return h("section", { id: "gc-settings" },
    h("p", { class: "muted intro" }, t("gc.intro")),
    h("p", { id: "gc-next" }, next ? t("gc.next", { time: formatTime(next) })
      : t("gc.noSchedule")),
    form);
}

export async function render(query, redraw) {
  const page = Math.max(1, Number(query.get("page")) || 1);
  const { data: current } = await api("/system/gc/schedule");
  const history = await liveBox({ id: "gc-runs" }, async (draw) => {
    const { data, total } = await api("/system/gc", { query: { page, page_size: PAGE_SIZE } });
    const rows = data || [];
    const space = await Promise.all(rows.map(freed));
    rows.forEach((row, i) => { row.freed = space[i]; });
    return [[historyTable(rows, draw), (total || 0) > PAGE_SIZE
      ? pager(total, page, PAGE_SIZE, (n) => redraw({ page: n })) : null],
    rows.some((x) => running(x.job_status))];
  });
  return [scheduleForm(current || {}, redraw), h("h2", {}, t("gc.history")), history];
}

function historyTable(rows, redraw) {
  return table([
    { label: t("purge.run"), cell: (x) => "#" + x.id },
    { label: t("purge.kind"), cell: (x) => t(x.job_kind === "MANUAL" ? "purge.manual"
      : "purge.scheduled") },
    { label: t("replication.status"), cell: (x) => statusBadge(x.job_status) },
    { label: t("purge.parameters"), cell: (x) => describe(parametersOf(x.job_parameters)) },
    { label: t("gc.freed"), cell: (x) => x.freed || "", class: "num" },
    { label: t("replication.started"), cell: (x) => formatTime(x.creation_time) },
    { label: t("purge.updated"), cell: (x) => formatTime(x.update_time) },
    { label: t("table.actions"), cell: (x) => h("span", { class: "row-actions" },
      h("button", { type: "button", class: "secondary small",
        "aria-label": t("gc.logNamed", { id: x.id }), on: { click: () => showLog(
          t("gc.logNamed", { id: x.id }), "/system/gc/" + x.id + "/log") } },
      t("replication.log")),
      running(x.job_status) ? h("button", { type: "button", class: "danger small",
        "aria-label": t("gc.stopNamed", { id: x.id }), on: { click: async () => {
          if (await attempt(() => api("/system/gc/" + x.id, { method: "PUT" }),
            t("replication.stopping"))) redraw();
        } } }, t("replication.stop")) : null) },
  ], rows, { id: "gc-history", caption: t("gc.history"), empty: t("gc.none"),
    key: (x) => ({ run: String(x.id) }) });
}
