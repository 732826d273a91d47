// Repository and tag selectors (doublestar globs), as immutability and retention rules take
// them: a decoration (matches / excludes) and a pattern each.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { field } from "./ui.js";

function select(name, options, selected) {
  return h("select", { name }, options.map(([value, label]) =>
    h("option", { value, selected: value === selected }, label)));
}

/** The form fields for ``rule``'s first repository and tag selectors; ``untagged`` adds the
 * retention's "untagged artifacts too" box. */
export function selectorFields(rule, untagged = false) {
  const repo = ((rule && rule.scope_selectors && rule.scope_selectors.repository) || [])[0] || {};
  const tag = ((rule && rule.tag_selectors) || [])[0] || {};
  let extras = {};
  try { extras = JSON.parse(tag.extras || "{}"); } catch (_) { extras = {}; }
  return [
    h("div", { class: "form-row" },
      field(t("selectors.repositories"), select("repo_decoration", [
        ["repoMatches", t("selectors.repoMatches")], ["repoExcludes", t("selectors.repoExcludes")]],
      repo.decoration || "repoMatches")),
      field(t("selectors.repoPattern"), h("input", { name: "repo_pattern", required: true,
        autocomplete: "off", value: repo.pattern || "**", placeholder: "**" }),
      t("selectors.repoHint"))),
    h("div", { class: "form-row" },
      field(t("selectors.tags"), select("tag_decoration", [
        ["matches", t("selectors.matches")], ["excludes", t("selectors.excludes")]],
      tag.decoration || "matches")),
      field(t("selectors.tagPattern"), h("input", { name: "tag_pattern", required: true,
        autocomplete: "off", value: tag.pattern || "**", placeholder: "v*" }),
      t("selectors.tagHint"))),
    untagged ? h("label", { class: "check" }, h("input", { type: "checkbox", name: "untagged",
      checked: Boolean(extras.untagged) }), t("selectors.untagged")) : null,
  ];
}

/** The selectors of a submitted ``selectorFields`` form. */
export function selectorsOf(form, untagged = false) {
  const tag = { kind: "doublestar", decoration: form.get("tag_decoration"),
    pattern: String(form.get("tag_pattern")).trim() };
  if (untagged) tag.extras = JSON.stringify({ untagged: Boolean(form.get("untagged")) });
  return {
    tag_selectors: [tag],
    scope_selectors: { repository: [{ kind: "doublestar",
      decoration: form.get("repo_decoration"), pattern: String(form.get("repo_pattern")).trim() }] },
  };
}

/** "repositories matching **, tags matching v*" for a rule's row. */
export function describeSelectors(rule) {
  const repo = ((rule.scope_selectors && rule.scope_selectors.repository) || [])[0];
  const tags = rule.tag_selectors || [];
  return [
    repo ? t("selectors.describeRepo." + repo.decoration, { pattern: repo.pattern }) : "",
    ...tags.map((x) => t("selectors.describeTag." + x.decoration, { pattern: x.pattern })),
  ].filter(Boolean).join("; ");
}
