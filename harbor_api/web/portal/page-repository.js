// A repository: its description (Markdown, rendered safely) and its artifacts with tags, labels,
// pull commands, copy and delete.
import { api, portalRepo, repoPath, shortName } from "./api.js";
import { h, mount } from "./dom.js";
import { formatBytes, formatTime, t } from "./i18n.js";
import { renderMarkdown } from "./markdown.js";
import { navigate } from "./router.js";
import { badge, confirm, copyButton, dialog, empty, field, labelChip, load, pager, table,
  toast } from "./ui.js";

const PAGE_SIZE = 15;

export function shortDigest(digest) {
  return (digest || "").replace(/^sha256:/, "").slice(0, 12);
}

export function artifactType(a) {
  const media = a.manifest_media_type || a.media_type || "";
  if (/index|manifest\.list/.test(media)) return t("type.index");
  const kind = String(a.type || "").toUpperCase();
  if (kind === "CHART") return t("type.chart");
  if (kind === "SIGNATURE.COSIGN" || /signature/i.test(kind)) return t("type.signature");
  if (/sbom/i.test(kind)) return t("type.sbom");
  if (kind === "IMAGE") return t("type.image");
  return a.type || t("type.other");
}

export function platform(a) {
  const extra = a.extra_attrs || {};
  if (!extra.os && !extra.architecture) return "";
  return [extra.os, extra.architecture].filter(Boolean).join("/") +
    (extra.variant ? "/" + extra.variant : "");
}

export function pullCommands(host, repository, artifact) {
  const tags = (artifact.tags || []).map((tag) => tag.name);
  const out = tags.flatMap((tag) => [
    ["docker", "docker pull " + host + "/" + repository + ":" + tag],
    ["podman", "podman pull " + host + "/" + repository + ":" + tag]]);
  out.push(["digest", "docker pull " + host + "/" + repository + "@" + artifact.digest]);
  return out;
}

async function attempt(work, success) {
  try {
    await work();
    if (success) toast(success);
    return true;
  } catch (problem) {
    toast(problem.message, "error");
    return false;
  }
}

async function description(p, repo, redraw) {
  const path = repoPath(p.name, repo.name);
  const view = h("div", { class: "markdown", id: "repo-description" },
    repo.description ? renderMarkdown(repo.description) : empty(t("repo.noDescription")));
  const edit = h("button", { type: "button", class: "secondary small", id: "edit-description",
    on: { click: async () => {
      const done = await dialog(t("repo.editDescription"), field(t("repo.description"),
        h("textarea", { name: "description", rows: 10, value: repo.description || "" }),
        t("repo.markdownHint")), { confirm: t("action.save"), submit: (form) => api(path,
        { method: "PUT", body: { description: form.get("description") } }) });
      if (done) { toast(t("repo.saved")); redraw(); }
    } } }, t("action.edit"));
  return h("section", { class: "panel" }, h("div", { class: "title-row" },
    h("h2", {}, t("repo.description")), edit), view);
}

async function availableLabels(p) {
  const [global, own] = await Promise.all([
    api("/labels", { query: { scope: "g", page_size: 100 } }),
    api("/labels", { query: { scope: "p", project_id: p.project_id, page_size: 100 } })]);
  return [...(global.data || []), ...(own.data || [])];
}

function artifactActions(p, repo, a, reload) {
  const base = repoPath(p.name, repo.name) + "/artifacts/" + a.digest;
  const short = shortDigest(a.digest);
  const addTag = async () => {
    if (await dialog(t("tags.add"), field(t("tags.name"), h("input", { name: "tag",
      required: true, pattern: "[A-Za-z0-9_][A-Za-z0-9._\\-]{0,127}" })), {
      confirm: t("action.add"), submit: (form) => api(base + "/tags", { method: "POST",
        body: { name: form.get("tag") } }) })) { toast(t("tags.added")); reload(); }
  };
  const addLabel = async () => {
    const labels = (await availableLabels(p)).filter((l) =>
      !(a.labels || []).some((x) => x.id === l.id));
    if (!labels.length) { toast(t("labels.noneToAdd"), "error"); return; }
    if (await dialog(t("labels.add"), field(t("labels.name"), h("select", { name: "label" },
      labels.map((l) => h("option", { value: l.id }, l.name)))), { confirm: t("action.add"),
      submit: (form) => api(base + "/labels", { method: "POST",
        body: { id: Number(form.get("label")) } }) })) { toast(t("labels.added")); reload(); }
  };
  const copy = async () => {
    if (await dialog(t("artifact.copy"), [
      field(t("artifact.copyProject"), h("input", { name: "project", required: true })),
      field(t("artifact.copyRepository"), h("input", { name: "repository", required: true,
        value: shortName(p.name, repo.name) }))], { confirm: t("action.copy"),
      submit: (form) => api(repoPath(String(form.get("project")), String(form.get("repository")))
        + "/artifacts", { method: "POST", query: { from: repo.name + "@" + a.digest } }) })) {
      toast(t("artifact.copied"));
    }
  };
  const remove = async () => {
    if (!await confirm(t("artifact.confirmDelete", { digest: short }))) return;
    if (await attempt(() => api(base, { method: "DELETE" }), t("artifact.deleted"))) reload();
  };
  const button = (text, handler, cls, label) => h("button", { type: "button",
    class: (cls || "secondary") + " small", "aria-label": label, on: { click: handler } }, text);
  return h("span", { class: "row-actions" },
    button(t("tags.add"), addTag, "secondary", t("tags.addTo", { digest: short })),
    button(t("labels.add"), addLabel, "secondary", t("labels.addTo", { digest: short })),
    button(t("action.copy"), copy, "secondary", t("artifact.copyNamed", { digest: short })),
    button(t("action.delete"), remove, "danger", t("artifact.deleteNamed", { digest: short })));
}

function tagCell(p, repo, a, reload) {
  const base = repoPath(p.name, repo.name) + "/artifacts/" + a.digest;
  if (!(a.tags || []).length) return h("span", { class: "muted" }, t("tags.none"));
  return h("span", { class: "chips" }, a.tags.map((tag) => tag.immutable ? h("span", {
    class: "tag-chip immutable", title: t("tags.immutableHint"), dataset: { tag: tag.name,
      immutable: "true" } }, tag.name, h("span", { class: "lock" }, " · ", t("tags.immutable")))
    : h("span", { class: "tag-chip", dataset: { tag: tag.name } }, tag.name, h("button", { type: "button", class: "icon",
    "aria-label": t("tags.removeNamed", { name: tag.name }), on: { click: async () => {
      if (!await confirm(t("tags.confirmRemove", { name: tag.name }), t("action.remove"))) return;
      if (await attempt(() => api(base + "/tags/" + encodeURIComponent(tag.name),
        { method: "DELETE" }), t("tags.removed"))) reload();
    } } }, "×"))));
}

function labelCell(p, repo, a, reload) {
  const base = repoPath(p.name, repo.name) + "/artifacts/" + a.digest;
  return h("span", { class: "chips" }, (a.labels || []).map((l) => h("span", { class: "chip-wrap",
    dataset: { label: l.name } }, labelChip(l), h("button", { type: "button", class: "icon",
    "aria-label": t("labels.removeNamed", { name: l.name }), on: { click: async () => {
      if (await attempt(() => api(base + "/labels/" + l.id, { method: "DELETE" }),
        t("labels.removed"))) reload();
    } } }, "×"))));
}

function children(a, columns) {
  const refs = a.references || [];
  if (!refs.length) return null;
  const row = h("tr", { class: "children", hidden: true },
    h("td", { colspan: columns }, h("ul", { class: "plain" }, refs.map((r) => h("li", {},
      h("code", {}, shortDigest(r.child_digest)), " ",
      [r.platform && r.platform.os, r.platform && r.platform.architecture,
        r.platform && r.platform.variant].filter(Boolean).join("/"))))));
  return row;
}

async function artifacts(p, repo, query, redraw) {
  const page = Math.max(1, Number(query.get("page")) || 1);
  const tag = query.get("tag") || "";
  const { data, total } = await api(repoPath(p.name, repo.name) + "/artifacts", { query: {
    page, page_size: PAGE_SIZE, q: tag ? "tags=~" + tag : "", with_tag: true, with_label: true, with_accessory: true, with_immutable_status: true,
    sort: "-push_time" } });
  const host = location.host;
  const reload = () => redraw();
  const columns = [
    { label: t("artifact.digest"), cell: (a) => h("span", { class: "digest" },
      h("a", { href: portalRepo(p, repo.name) + "/artifacts/" + a.digest }, h("code", {},
        shortDigest(a.digest))), copyButton(a.digest, t("artifact.copyDigest"))) },
    { label: t("artifact.tags"), cell: (a) => tagCell(p, repo, a, reload) },
    { label: t("artifact.type"), cell: (a) => artifactType(a) },
    { label: t("artifact.size"), cell: (a) => h("span", { title: t("artifact.bytes",
      { count: a.size }) }, formatBytes(a.size)), class: "num" },
    { label: t("artifact.platform"), cell: (a) => (a.references || []).length
      ? h("button", { type: "button", class: "link", "aria-expanded": "false",
        on: { click: (e) => {
          const row = e.target.closest("tr").nextElementSibling;
          row.hidden = !row.hidden;
          e.target.setAttribute("aria-expanded", String(!row.hidden));
        } } }, t("artifact.platforms", { count: a.references.length }))
      : platform(a) },
    { label: t("artifact.pull"), cell: (a) => h("details", { class: "pull" },
      h("summary", {}, t("artifact.pullCommand")), h("ul", { class: "plain" },
        pullCommands(host, repo.name, a).map(([kind, command]) => h("li", {},
          h("code", { class: "command", dataset: { kind } }, command),
          copyButton(command, t("artifact.copyCommand", { command })))))) },
    { label: t("artifact.pushed"), cell: (a) => formatTime(a.push_time) },
    { label: t("artifact.pulled"), cell: (a) => formatTime(a.pull_time) || "—" },
    { label: t("artifact.labels"), cell: (a) => labelCell(p, repo, a, reload) },
    { label: t("artifact.accessories"), cell: (a) => (a.accessories || []).length
      ? h("a", { href: portalRepo(p, repo.name) + "/artifacts/" + a.digest + "?tab=accessories" },
        (a.accessories || []).map((x) => artifactType(x)).join(", ")) : "" },
    { label: t("table.actions"), cell: (a) => artifactActions(p, repo, a, reload) },
  ];
  const box = h("input", { type: "search", name: "tag", value: tag });
  return [
    h("form", { class: "toolbar", role: "search", id: "tag-filter", on: { submit: (e) => {
      e.preventDefault();
      const next = new URLSearchParams(query);
      if (box.value.trim()) next.set("tag", box.value.trim()); else next.delete("tag");
      next.delete("page");
      navigate(location.pathname + (next.toString() ? "?" + next : ""));
    } } }, field(t("artifact.filterTag"), box),
    h("button", { type: "submit", class: "secondary" }, t("action.filter"))),
    table(columns, data, { id: "artifacts", caption: t("repo.artifacts"),
      empty: tag ? t("artifact.noMatch") : t("artifact.none"), key: (a) => ({ digest: a.digest }),
      after: (a) => children(a, columns.length) }),
    (total || 0) > PAGE_SIZE ? pager(total, page, PAGE_SIZE, (n) => {
      const next = new URLSearchParams(query);
      next.set("page", String(n));
      navigate(location.pathname + "?" + next, true);
    }) : null];
}

export async function render(main, params, query) {
  const { data: p } = await api("/projects/" + encodeURIComponent(params.id));
  const name = p.name + "/" + params.repo;
  document.title = name + " · harbor-api";
  const { data: repo } = await api(repoPath(p.name, name));
  const top = h("div");
  const list = h("div", { id: "artifact-list" });
  const redrawTop = () => load(top, async () => description(p, (await api(repoPath(p.name,
    name))).data, redrawTop));
  mount(main, h("section", { class: "card" },
    h("nav", { class: "crumbs", "aria-label": t("crumbs.label") },
      h("a", { href: "/projects" }, t("projects.title")), " / ",
      h("a", { href: "/projects/" + p.project_id + "/repositories" }, p.name), " / "),
    h("div", { class: "title-row" }, h("h1", { id: "repo-name" }, repo.name),
      badge(t("repos.pullCount", { count: repo.pull_count ?? 0 }))),
    top, h("section", { class: "panel" }, h("h2", {}, t("repo.artifacts")), list)));
  mount(top, await description(p, repo, redrawTop));
  const redraw = () => load(list, () => artifacts(p, repo, query, redraw));
  await redraw();
}
