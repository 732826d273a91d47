// A project's tag retention policy (/retentions...): rules from the server's templates
// (/retentions/metadatas), a schedule, a dry run or a run now, and the executions with their
// tasks (one per repository) and each task's log.
import { api, shortName } from "./api.js";
import { h } from "./dom.js";
import { formatTime, t } from "./i18n.js";
import { duration, liveBox, running, showLog, statusBadge } from "./job-view.js";
import { describeSelectors, selectorFields, selectorsOf } from "./selectors.js";
import { attempt, confirm, dialog, field, pager, table } from "./ui.js";

const PAGE_SIZE = 10;
// Harbor's portal offers these schedules; the crons are 6-field (seconds first).
const CRONS = { None: "", Hourly: "0 0 * * * *", Daily: "0 0 0 * * *", Weekly: "0 0 0 * * 0" };

function scheduleType(cron) {
  const found = Object.entries(CRONS).find(([, value]) => value === (cron || ""));
  return found ? found[0] : "Custom";
}

function describeRule(rule) {
  const n = rule.params ? Object.values(rule.params)[0] : "";
  return t("retention.template." + rule.template, { n });
}

function ruleDialog(rule, templates) {
  const current = rule ? rule.template : templates[0].rule_template;
  const amount = h("input", { name: "amount", type: "number", min: 0, step: 1,
    value: rule && rule.params ? Object.values(rule.params)[0] : 10 });
  const amountField = field(t("retention.count"), amount);
  const needs = (name) => (templates.find((x) => x.rule_template === name) || {}).params;
  const show = (name) => {
    const params = needs(name) || [];
    amountField.hidden = !params.length;
    amount.required = params.length > 0;
  };
  const kind = h("select", { name: "template", on: { change: () => show(kind.value) } },
    templates.map((x) => h("option", { value: x.rule_template, selected: x.rule_template === current },
      t("retention.choice." + x.rule_template))));
  show(current);
  return dialog(rule ? t("retention.editRule") : t("retention.addRule"), [
    field(t("retention.keep"), kind), amountField, ...selectorFields(rule, true)],
  { confirm: rule ? t("action.save") : t("action.add"), submit: (form) => {
    const template = String(form.get("template"));
    const params = (needs(template) || []).length
      ? { [template]: Math.round(Number(form.get("amount") || 0)) } : {};
    return { ...(rule || {}), action: "retain", template, params, disabled: false,
      ...selectorsOf(form, true) };
  } });
}

export async function render(p, query, redraw) {
  const { data: project } = await api("/projects/" + p.project_id);
  const id = project.metadata && project.metadata.retention_id;
  const { data: meta } = await api("/retentions/metadatas");
  const policy = id ? (await api("/retentions/" + id)).data : null;
  const rules = policy ? [...(policy.rules || [])] : [];
  const cron = policy && policy.trigger && policy.trigger.settings
    ? policy.trigger.settings.cron || "" : "";
  const cronInput = h("input", { name: "cron", autocomplete: "off", placeholder: "0 0 3 * * *",
    value: cron });
  const cronField = field(t("purge.cron"), cronInput, t("replication.cronHint"));
  const kind = h("select", { name: "type", on: { change: () => {
    cronField.hidden = kind.value !== "Custom";
  } } }, [...Object.keys(CRONS), "Custom"].map((x) => h("option", { value: x,
    selected: x === scheduleType(cron) }, t("purge.type." + x))));
  cronField.hidden = scheduleType(cron) !== "Custom";
  const save = async (nextRules, message) => {
    const body = { algorithm: "or", rules: nextRules,
      scope: { level: "project", ref: p.project_id },
      trigger: { kind: "Schedule", references: {}, settings: {
        cron: kind.value === "Custom" ? cronInput.value.trim() : CRONS[kind.value] } } };
    if (await attempt(() => policy ? api("/retentions/" + policy.id, { method: "PUT",
      body: { ...body, id: policy.id } }) : api("/retentions", { method: "POST", body }),
    message)) redraw({});
  };
  const editRule = async (index) => {
    const made = await ruleDialog(index === null ? null : rules[index], meta.templates);
    if (!made) return;
    const next = [...rules];
    if (index === null) next.push(made); else next[index] = made;
    await save(next, t("retention.saved"));
  };
  const run = (dryRun) => async () => {
    if (!dryRun && !await confirm(t("retention.confirmRun"), t("retention.runNow"))) return;
    if (await attempt(() => api("/retentions/" + policy.id + "/executions", { method: "POST",
      body: { dry_run: dryRun } }), t(dryRun ? "retention.dryStarted" : "retention.started"))) {
      redraw({ page: "", execution: "" });
    }
  };
  const form = h("form", { class: "stack", id: "retention-form", on: { submit: (e) => {
    e.preventDefault();
    if (form.reportValidity()) save(rules, t("retention.saved"));
  } } },
  h("div", { class: "form-row" }, field(t("purge.schedule"), kind), cronField),
  h("div", { class: "toolbar" },
    h("button", { type: "submit", class: "primary", id: "retention-save" },
      t("purge.save")),
    policy ? h("button", { type: "button", class: "secondary", id: "retention-dry-run",
      on: { click: run(true) } }, t("purge.dryRun")) : null,
    policy ? h("button", { type: "button", class: "danger", id: "retention-run",
      on: { click: run(false) } }, t("retention.runNow")) : null));
  const rulesTable = table([
    { label: t("retention.keep"), cell: (r) => describeRule(r) },
    { label: t("retention.applies"), cell: (r) => describeSelectors(r) +
      (/"untagged":\s*true/.test((r.tag_selectors || [{}])[0].extras || "")
        ? "; " + t("retention.withUntagged") : "") },
    { label: t("table.actions"), cell: (r) => {
      const index = rules.indexOf(r);
      return h("span", { class: "row-actions" },
        h("button", { type: "button", class: "secondary small",
          "aria-label": t("retention.editNamed", { n: index + 1 }),
          on: { click: () => editRule(index) } }, t("action.edit")),
        h("button", { type: "button", class: "danger small",
          "aria-label": t("retention.deleteNamed", { n: index + 1 }), on: { click: async () => {
            if (await confirm(t("retention.confirmDelete"))) {
              await save(rules.filter((x) => x !== r), t("retention.ruleDeleted"));
            }
          } } }, t("action.delete")));
    } },
  ], rules, { id: "retention-rules", caption: t("retention.rules"), empty: t("retention.none") });
  return [h("p", { class: "muted intro" }, t("retention.intro")),
    h("div", { class: "toolbar" }, h("button", { type: "button", class: "primary",
      id: "add-retention-rule", disabled: rules.length >= 15, on: { click: () => editRule(null) } },
    t("retention.addRule"))),
    rulesTable, h("h2", {}, t("retention.scheduleTitle")), form,
    policy ? [h("h2", {}, t("retention.executions")),
      await executions(policy, p.name, query, redraw)] : null];
}

async function executions(policy, projectName, query, redraw) {
  const page = Math.max(1, Number(query.get("page")) || 1);
  const open = query.get("execution") || "";
  const base = "/retentions/" + policy.id + "/executions";
  return liveBox({ id: "retention-runs" }, async (draw) => {
    const { data, total } = await api(base, { query: { page, page_size: PAGE_SIZE } });
    const rows = data || [];
    let busy = rows.some((x) => running(x.status));
    let tasks = null;
    if (open) {
      const found = (await api(base + "/" + open + "/tasks", { query: { page_size: 100 } })).data || [];
      busy = busy || found.some((x) => running(x.status));
      tasks = [h("h3", {}, t("retention.tasksOf", { id: open })),
        tasksTable(base + "/" + open, found, projectName)];
    }
    return [[table([
      { label: t("purge.run"), cell: (x) => "#" + x.id },
      { label: t("replication.status"), cell: (x) => statusBadge(x.status) },
      { label: t("purge.kind"), cell: (x) => t(x.trigger === "SCHEDULE" ? "purge.scheduled"
        : "purge.manual") },
      { label: t("retention.dryRun"), cell: (x) => x.dry_run ? t("retention.yes") : t("retention.no") },
      { label: t("replication.started"), cell: (x) => formatTime(x.start_time) },
      { label: t("retention.duration"), cell: (x) => duration(x.start_time, x.end_time) },
      { label: t("table.actions"), cell: (x) => h("span", { class: "row-actions" },
        h("button", { type: "button", class: "secondary small",
          "aria-label": t("retention.tasksOf", { id: x.id }),
          on: { click: () => redraw({ execution: x.id }) } }, t("retention.tasks")),
        running(x.status) ? h("button", { type: "button", class: "danger small",
          "aria-label": t("retention.stopNamed", { id: x.id }), on: { click: async () => {
            if (await attempt(() => api(base + "/" + x.id, { method: "PATCH",
              body: { action: "stop" } }), t("replication.stopping"))) draw();
          } } }, t("replication.stop")) : null) },
    ], rows, { id: "retention-executions", caption: t("retention.executions"),
      empty: t("retention.noRuns"), key: (x) => ({ execution: String(x.id) }) }),
    (total || 0) > PAGE_SIZE ? pager(total, page, PAGE_SIZE, (n) => redraw({ page: n })) : null,
    tasks], busy];
  });
}

function tasksTable(base, rows, project) {
  const name = (x) => shortName(project, x.repository || "");
  return table([
    { label: t("retention.repository"), cell: (x) => name(x) },
    { label: t("replication.status"), cell: (x) => statusBadge(x.status) },
    { label: t("retention.retained"), cell: (x) => t("retention.retainedOf",
      { retained: x.retained ?? 0, total: x.total ?? 0 }), class: "num" },
    { label: t("retention.duration"), cell: (x) => duration(x.start_time, x.end_time) },
    { label: t("table.actions"), cell: (x) => h("button", { type: "button",
      class: "secondary small", "aria-label": t("retention.logNamed", { name: name(x) }),
      on: { click: () => showLog(t("retention.logNamed", { name: name(x) }),
        base + "/tasks/" + x.id) } }, t("replication.log")) },
  ], rows, { id: "retention-tasks", caption: t("retention.tasks"), empty: t("retention.noTasks"),
    key: (x) => ({ task: name(x) }) });
}

