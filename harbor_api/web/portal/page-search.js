// Search across projects and repositories (GET /search), from the header's search box.
import { api, portalRepo } from "./api.js";
import { h, mount } from "./dom.js";
import { t } from "./i18n.js";
import { badge, empty, field, load, table } from "./ui.js";
import { navigate } from "./router.js";

export async function render(main, params, query) {
  const text = (query.get("q") || "").trim();
  document.title = t("search.title") + " · harbor-api";
  const box = h("input", { type: "search", name: "q", value: text, required: true });
  const results = h("div", { id: "search-results" });
  mount(main, h("section", { class: "card" }, h("h1", {}, t("search.title")),
    h("form", { class: "toolbar", role: "search", on: { submit: (e) => {
      e.preventDefault();
      navigate("/search?q=" + encodeURIComponent(box.value.trim()));
    } } }, field(t("search.label"), box),
    h("button", { type: "submit", class: "primary" }, t("action.search"))), results));
  if (!text) { mount(results, empty(t("search.prompt"))); return; }
  await load(results, async () => {
    const { data } = await api("/search", { query: { q: text } });
    const access = (isPublic) => isPublic ? badge(t("projects.publicBadge"), "public")
      : badge(t("projects.privateBadge"));
    return [
      h("h2", {}, t("projects.title")),
      table([
        { label: t("projects.name"), cell: (p) => h("a", { href: "/projects/" + p.project_id },
          p.name) },
        { label: t("projects.access"), cell: (p) => access(p.metadata && p.metadata.public === "true") },
        { label: t("projects.repositories"), cell: (p) => String(p.repo_count ?? 0), class: "num" },
      ], data.project || [], { id: "search-projects", caption: t("projects.title"),
        empty: t("search.noProjects") }),
      h("h2", {}, t("project.repositories")),
      table([
        { label: t("repos.name"), cell: (r) => h("a", { href: portalRepo({ project_id: r.project_id,
          name: r.project_name }, r.repository_name) }, r.repository_name) },
        { label: t("projects.access"), cell: (r) => access(r.project_public) },
        { label: t("repos.artifacts"), cell: (r) => String(r.artifact_count ?? 0), class: "num" },
        { label: t("repos.pulls"), cell: (r) => String(r.pull_count ?? 0), class: "num" },
      ], data.repository || [], { id: "search-repositories", caption: t("project.repositories"),
        empty: t("search.noRepositories") }),
    ];
  });
}
