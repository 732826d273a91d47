// What the job pages share: a status badge in plain words and a job log shown in a dialog.
import { api } from "./api.js";
import { h, mount } from "./dom.js";
import { t } from "./i18n.js";
import { badge, dialog, toast } from "./ui.js";

// Harbor's job statuses (replication, purge) and the badge style each gets.
const STATUS = { Succeed: ["job.succeed", "public"], Success: ["job.succeed", "public"],
  Failed: ["job.failed", "off"], Error: ["job.failed", "off"], Stopped: ["job.stopped", ""],
  InProgress: ["job.inProgress", "running"], Running: ["job.inProgress", "running"],
  Pending: ["job.pending", "running"], Scheduled: ["job.pending", "running"] };

export function statusBadge(status) {
  const [key, kind] = STATUS[status] || [null, ""];
  return badge(key ? t(key) : status || t("job.unknown"), kind);
}

export function running(status) {
  return ["InProgress", "Running", "Pending", "Scheduled"].includes(status);
}

/** A node that ``fill()`` (resolving to ``[children, busy]``) draws, and draws again every
 * 2 s, quietly (no loading state), while ``busy`` says a job still runs and the node is shown. */
export async function liveBox(props, fill) {
  const box = h("div", props);
  const draw = async () => {
    const [children, busy] = await fill(draw);
    mount(box, children);
    if (busy) setTimeout(() => { if (box.isConnected) draw().catch(() => {}); }, 2000);
  };
  await draw();
  return box;
}

/** ``end - start`` as "1 min 5 s"; empty while there is no start. */
export function duration(start, end) {
  if (!start || start.startsWith("0001-")) return "";
  const finish = end && !end.startsWith("0001-") ? new Date(end) : new Date();
  const seconds = Math.max(0, Math.round((finish - new Date(start)) / 1000));
  if (seconds < 60) return t("job.seconds", { s: seconds });
  return t("job.minutes", { m: Math.floor(seconds / 60), s: seconds % 60 });
}

/** Fetch a job log (plain text from ``path``) and show it in a dialog. */
export async function showLog(title, path) {
  let text;
  try {
    text = (await api(path, { text: true })).data || t("job.emptyLog");
  } catch (problem) {
    toast(problem.message, "error");
    return;
  }
  await dialog(title, h("pre", { class: "log", id: "job-log", tabindex: 0 }, text),
    { cancel: false, confirm: t("action.close"), wide: true });
}
