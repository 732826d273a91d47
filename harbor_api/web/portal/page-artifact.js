// One artifact: overview (manifest, config), layers and build history, index references,
// accessories, tags. The manifest comes from the registry API (/v2/) with the same session.
import { api, portalRepo, repoPath } from "./api.js";
import { h, mount } from "./dom.js";
import { formatBytes, formatTime, t } from "./i18n.js";
import { artifactType, platform, pullCommands, shortDigest } from "./page-repository.js";
import { badge, copyButton, empty, errorBox, labelChip, load, table, tabs } from "./ui.js";

const TABS = ["overview", "layers", "references", "accessories", "tags"];
const MANIFEST_TYPES = ["application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json"].join(", ");

async function manifestOf(repository, digest) {
  const response = await fetch("/v2/" + repository + "/manifests/" + digest,
    { headers: { Accept: MANIFEST_TYPES }, credentials: "same-origin" });
  if (!response.ok) throw new Error(t("error.http", { status: response.status }));
  return response.json();
}

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, v]) => v !== "" && v !== null &&
    v !== undefined).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function overview(a, repository) {
  const extra = a.extra_attrs || {};
  const config = extra.config || {};
  const list = (items) => (items && items.length ? h("ul", { class: "plain mono" },
    items.map((x) => h("li", {}, String(x)))) : "");
  const labels = config.Labels ? Object.entries(config.Labels).map(([k, v]) => k + "=" + v) : [];
  const manifest = h("pre", { class: "json", id: "manifest" }, t("state.loading"));
  manifestOf(repository, a.digest).then((m) => { manifest.textContent = JSON.stringify(m, null, 2); },
    (e) => { mount(manifest, errorBox(e)); });
  return [
    facts([[t("artifact.digest"), h("span", { class: "digest" }, h("code", {}, a.digest),
      copyButton(a.digest, t("artifact.copyDigest")))],
    [t("artifact.type"), artifactType(a)], [t("artifact.media"), a.manifest_media_type],
    [t("artifact.size"), formatBytes(a.size)], [t("artifact.platform"), platform(a)],
    [t("artifact.created"), formatTime(extra.created)], [t("artifact.author"), extra.author],
    [t("artifact.entrypoint"), list(config.Entrypoint)], [t("artifact.cmd"), list(config.Cmd)],
    [t("artifact.env"), list(config.Env)], [t("artifact.configLabels"), list(labels)],
    [t("artifact.pushed"), formatTime(a.push_time)],
    [t("artifact.pulled"), formatTime(a.pull_time)],
    [t("artifact.labels"), (a.labels || []).length ? h("span", { class: "chips" },
      a.labels.map(labelChip)) : ""]]),
    h("h2", {}, t("artifact.pullCommand")),
    h("ul", { class: "plain" }, pullCommands(location.host, repository, a).map(([kind, c]) =>
      h("li", {}, h("code", { class: "command", dataset: { kind } }, c),
        copyButton(c, t("artifact.copyCommand", { command: c }))))),
    h("details", {}, h("summary", {}, t("artifact.manifest")), manifest),
  ];
}

async function layers(a, repository, base) {
  const manifest = await manifestOf(repository, a.digest);
  const out = [];
  if (manifest.layers) {
    out.push(h("h2", {}, t("artifact.layers")), table([
      { label: "#", cell: (l) => String(manifest.layers.indexOf(l) + 1), class: "num" },
      { label: t("artifact.digest"), cell: (l) => h("code", {}, shortDigest(l.digest)) },
      { label: t("artifact.media"), cell: (l) => l.mediaType },
      { label: t("artifact.size"), cell: (l) => formatBytes(l.size), class: "num" },
    ], manifest.layers, { id: "layers", caption: t("artifact.layers") }));
  }
  try {
    const { data } = await api(base + "/additions/build_history");
    out.push(h("h2", {}, t("artifact.history")), table([
      { label: t("artifact.created"), cell: (x) => formatTime(x.created) },
      { label: t("artifact.command"), cell: (x) => h("code", { class: "wrap" }, x.created_by || "") },
    ], data || [], { id: "history", caption: t("artifact.history") }));
  } catch (problem) {
    if (problem.status !== 404) throw problem;
  }
  return out.length ? out : empty(t("artifact.noLayers"));
}

function references(a, p, repository) {
  return table([
    { label: t("artifact.digest"), cell: (r) => h("a", { href: portalRepo(p, repository) +
      "/artifacts/" + r.child_digest }, h("code", {}, shortDigest(r.child_digest))) },
    { label: t("artifact.platform"), cell: (r) => r.platform ? [r.platform.os,
      r.platform.architecture, r.platform.variant].filter(Boolean).join("/") : "" },
  ], a.references || [], { id: "references", caption: t("artifact.references"),
    empty: t("artifact.noReferences") });
}

async function accessories(base) {
  const { data } = await api(base + "/accessories", { query: { page_size: 100 } });
  return table([
    { label: t("artifact.type"), cell: (x) => x.type },
    { label: t("artifact.digest"), cell: (x) => h("code", {}, shortDigest(x.digest)) },
    { label: t("artifact.size"), cell: (x) => formatBytes(x.size), class: "num" },
    { label: t("artifact.created"), cell: (x) => formatTime(x.creation_time) },
  ], data || [], { id: "accessories", caption: t("artifact.accessories"),
    empty: t("artifact.noAccessories") });
}

function tagsTable(a) {
  return table([
    { label: t("tags.name"), cell: (x) => x.name },
    { label: t("tags.protection"), cell: (x) => x.immutable ? badge(t("tags.immutable"), "public")
      : "" },
    { label: t("artifact.pushed"), cell: (x) => formatTime(x.push_time) },
    { label: t("artifact.pulled"), cell: (x) => formatTime(x.pull_time) },
  ], a.tags || [], { id: "tags", caption: t("artifact.tags"), empty: t("tags.none") });
}

export async function render(main, params, query) {
  const { data: p } = await api("/projects/" + encodeURIComponent(params.id));
  const repository = p.name + "/" + params.repo;
  const base = repoPath(p.name, repository) + "/artifacts/" + params.reference;
  const { data: a } = await api(base, { query: { with_tag: true, with_label: true,
    with_immutable_status: true } });
  document.title = repository + "@" + shortDigest(a.digest) + " · harbor-api";
  const tab = TABS.includes(query.get("tab")) ? query.get("tab") : "overview";
  const body = h("div", { class: "tab-body", id: "tab-" + tab });
  mount(main, h("section", { class: "card" },
    h("nav", { class: "crumbs", "aria-label": t("crumbs.label") },
      h("a", { href: "/projects" }, t("projects.title")), " / ",
      h("a", { href: "/projects/" + p.project_id + "/repositories" }, p.name), " / ",
      h("a", { href: portalRepo(p, repository) }, params.repo), " / "),
    h("h1", { id: "artifact-title" }, h("code", {}, shortDigest(a.digest))),
    tabs(TABS.map((key) => ({ key, label: t("artifact.tab." + key),
      href: location.pathname + (key === "overview" ? "" : "?tab=" + key) })), tab), body));
  const pages = { overview: () => overview(a, repository),
    layers: () => layers(a, repository, base), references: () => references(a, p, repository),
    accessories: () => accessories(base), tags: () => tagsTable(a) };
  await load(body, pages[tab]);
}
