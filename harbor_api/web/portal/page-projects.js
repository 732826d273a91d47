// Projects: search, sort and paging live in the URL (?q=&sort=&page=), so a list is a deep link.
import { api } from "./api.js";
import { h, mount } from "./dom.js";
import { formatTime, t } from "./i18n.js";
import { usage } from "./page-quotas.js";
import { navigate } from "./router.js";
import { badge, confirm, field, load, pager, table, toast } from "./ui.js";

// The server's rule (services/projects.py NAME_PATTERN); a test keeps the two equal.
export const PROJECT_NAME_PATTERN = "[a-z0-9]+(?:[._\\-][a-z0-9]+)*";
const PAGE_SIZE = 15;
const SORTS = [["name", "sort.name"], ["-creation_time", "sort.newest"],
  ["creation_time", "sort.oldest"]];

function setQuery(query, changes) {
  const next = new URLSearchParams(query);
  for (const [key, value] of Object.entries(changes)) {
    if (value === "" || value === null || value === undefined) next.delete(key);
    else next.set(key, String(value));
  }
  const text = next.toString();
  navigate(location.pathname + (text ? "?" + text : ""));  // back undoes a search
}

/** The project's storage used of its quota, filled in when ``/quotas`` answers (callers
 * without quota:read get no quota, and the cell stays empty). */
function storageCell(project) {
  const cell = h("span", { class: "storage" });
  api("/quotas", { query: { reference: "project", reference_id: project.project_id } })
    .then(({ data }) => {
      const quota = (data || [])[0];
      if (quota) mount(cell, usage(quota.used && quota.used.storage, quota.hard.storage));
    }).catch(() => {});
  return cell;
}

function createForm(showNewest) {
  const error = h("p", { id: "create-error", class: "error", role: "alert", hidden: true });
  const name = h("input", { name: "project_name", required: true, maxlength: 255,
    pattern: PROJECT_NAME_PATTERN, autocomplete: "off", "aria-describedby": "name-rule",
    placeholder: t("projects.newName") });
  const form = h("form", { id: "create-form", class: "inline-form", on: { submit: async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    error.hidden = true;
    try {
      await api("/projects", { method: "POST", body: { project_name: data.get("project_name"),
        metadata: { public: data.get("public") ? "true" : "false" } } });
      toast(t("projects.created", { name: data.get("project_name") }));
      form.reset();
      showNewest();  // the new project first: the newest-first order, on page one
    } catch (problem) {
      error.textContent = problem.message;
      error.hidden = false;
    }
  } } },
  h("h2", { class: "visually-hidden" }, t("projects.create")),
  field(t("projects.name"), name),
  h("label", { class: "check" }, h("input", { name: "public", type: "checkbox" }),
    t("projects.public")),
  h("button", { type: "submit", class: "primary" }, t("projects.create")),
  h("small", { id: "name-rule", class: "hint" }, t("projects.nameRule")), error);
  name.addEventListener("input", () => {
    name.setCustomValidity(name.validity.patternMismatch ? t("projects.nameRule") : "");
  });
  return form;
}

export async function render(main, params, query) {
  document.title = t("projects.title") + " · harbor-api";
  const page = Math.max(1, Number(query.get("page")) || 1);
  const sort = query.get("sort") || "name";
  const search = query.get("q") || "";
  const access = query.get("public") || "";
  const list = h("div", { id: "project-list" });
  const count = h("small", { id: "project-count" });
  const searchBox = h("input", { type: "search", name: "q", value: search,
    placeholder: t("projects.search") });
  const reload = () => load(list, async () => {
    const { data, total } = await api("/projects", { query: { page, page_size: PAGE_SIZE, sort,
      q: search ? "name=~" + search : "", public: access } });
    count.textContent = "(" + (total ?? data.length) + ")";
    return [table([
      { label: t("projects.name"), cell: (p) => h("a", { href: "/projects/" + p.project_id }, p.name) },
      { label: t("projects.access"), cell: (p) => p.metadata && p.metadata.public === "true"
        ? badge(t("projects.publicBadge"), "public") : badge(t("projects.privateBadge")) },
      { label: t("projects.repositories"), cell: (p) => String(p.repo_count ?? 0), class: "num" },
      { label: t("quotas.storage"), cell: storageCell },
      { label: t("projects.owner"), cell: (p) => p.owner_name || "" },
      { label: t("table.created"), cell: (p) => formatTime(p.creation_time) },
      { label: t("table.actions"), cell: (p) => h("button", { type: "button", class: "danger small",
        "aria-label": t("projects.deleteNamed", { name: p.name }), on: { click: async () => {
          if (!await confirm(t("projects.confirmDelete", { name: p.name }))) return;
          try {
            await api("/projects/" + p.project_id, { method: "DELETE" });
            toast(t("projects.deleted", { name: p.name }));
            await reload();
          } catch (problem) { toast(problem.message, "error"); }
        } } }, t("action.delete")) },
    ], data, { id: "projects", caption: t("projects.title"), empty: search || access
      ? t("projects.noMatch") : t("projects.none"), key: (p) => ({ project: p.name }) }),
    total > PAGE_SIZE ? pager(total, page, PAGE_SIZE, (n) => setQuery(query, { page: n })) : null];
  });
  mount(main, h("section", { class: "card", id: "projects-view" },
    h("div", { class: "title-row" }, h("h1", {}, t("projects.title"), " ", count)),
    createForm(() => (sort === "-creation_time" && page === 1 && !search && !access ? reload()
      : setQuery(query, { sort: "-creation_time", page: "", q: "", public: "" }))),
    h("form", { class: "toolbar", role: "search", on: { submit: (e) => {
      e.preventDefault();
      setQuery(query, { q: searchBox.value.trim(), page: "" });
    } } },
    field(t("projects.search"), searchBox),
    field(t("projects.access"), h("select", { name: "public", on: { change: (e) => setQuery(
      query, { public: e.target.value, page: "" }) } }, [["", "projects.anyAccess"],
      ["true", "projects.publicBadge"], ["false", "projects.privateBadge"]].map(([value, key]) =>
      h("option", { value, selected: value === access }, t(key))))),
    field(t("sort.label"), h("select", { name: "sort", on: { change: (e) => setQuery(query,
      { sort: e.target.value, page: "" }) } }, SORTS.map(([value, key]) => h("option",
      { value, selected: value === sort }, t(key))))),
    h("button", { type: "submit", class: "secondary" }, t("action.search"))),
    list));
  await reload();
}
