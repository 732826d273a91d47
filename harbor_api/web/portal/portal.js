// The portal's entry: who is signed in, the header, and the route table.
import { api, logout } from "./api.js";
import { h, mount } from "./dom.js";
import { t } from "./i18n.js";
import { match, navigate, route, start } from "./router.js";
import { errorBox, loading } from "./ui.js";
import * as account from "./page-account.js";
import * as admin from "./page-admin.js";
import * as artifact from "./page-artifact.js";
import * as login from "./page-login.js";
import * as project from "./page-project.js";
import * as projects from "./page-projects.js";
import * as repository from "./page-repository.js";
import * as search from "./page-search.js";

export const session = { user: null };

async function currentUser() {
  try {
    session.user = (await api("/users/current")).data;
  } catch (error) {
    if (error.status !== 401) throw error;
    session.user = null;
  }
  return session.user;
}

function header() {
  const user = session.user;
  document.querySelector(".skip").textContent = t("nav.skip");
  document.getElementById("nav").setAttribute("aria-label", t("nav.main"));
  const links = user ? [
    ["/projects", t("nav.projects")],
    ...(user.sysadmin_flag ? [["/dashboard", t("nav.dashboard")], ["/admin", t("nav.admin")]]
      : []),
    ["/devcenter/", t("nav.api")],
  ] : [["/devcenter/", t("nav.api")]];
  const path = location.pathname;
  mount(document.getElementById("nav"), links.map(([href, text]) => h("a", { href,
    "aria-current": path.startsWith(href) || (href === "/projects" && path === "/")
      ? "page" : null }, text)));
  const box = h("input", { type: "search", name: "search", "aria-label": t("search.label"),
    placeholder: t("search.placeholder") });
  mount(document.getElementById("user-menu"), user ? [
    h("form", { role: "search", class: "top-search", on: { submit: (e) => {
      e.preventDefault();
      if (box.value.trim()) navigate("/search?q=" + encodeURIComponent(box.value.trim()));
    } } }, box),
    h("a", { id: "who", href: "/account", title: t("nav.account") }, user.username),
    h("button", { id: "logout", type: "button", class: "secondary",
      on: { click: signOut } }, t("nav.logout")),
  ] : []);
}

async function signOut() {
  await logout();
  session.user = null;
  navigate("/login", true);
}

export async function signedIn(next) {
  await currentUser();
  navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/", true);
}

function requireAdmin(page) {
  return (main, params, query) => session.user.sysadmin_flag ? page(main, params, query)
    : mount(main, errorBox(new Error(t("error.adminOnly"))));
}

route("/login", login.render);
route("/", projects.render);
route("/projects", projects.render);
route("/projects/:id/repositories/:repo/artifacts/:reference", artifact.render);
route("/projects/:id/repositories/:repo", repository.render);
route("/projects/:id/:tab?", project.render);
route("/account", account.render);
route("/search", search.render);
route("/dashboard", requireAdmin(admin.renderDashboard));
route("/admin/replications/executions/:execution", requireAdmin((main, params, query) =>
  admin.render(main, { section: "replications", ...params }, query)));
route("/admin/:section?", requireAdmin(admin.render));

let first = true;
let lastPath = null;
async function render() {
  const main = document.getElementById("main");
  if (first) {
    mount(main, loading());
    try { await currentUser(); } catch (error) { mount(main, errorBox(error)); return; }
    first = false;
  }
  const found = match(location.pathname);
  const query = new URLSearchParams(location.search);
  if (!session.user && location.pathname !== "/login") {
    const next = location.pathname + location.search;
    history.replaceState(null, "", "/login" + (next !== "/" ? "?next=" + encodeURIComponent(next) : ""));
    return render();
  }
  if (session.user && location.pathname === "/login") {
    history.replaceState(null, "", "/");
    return render();
  }
  header();
  // Each render draws into its own node: an older render finishing late draws into a
  // detached node instead of over the page the user went to since.
  const view = h("div", { class: "view" });
  main.replaceChildren(view);
  const moved = location.pathname !== lastPath;
  lastPath = location.pathname;
  if (!found) {
    mount(view, h("h1", {}, t("error.pageNotFound")), h("p", {}, h("a", { href: "/" },
      t("nav.home"))));
    return undefined;
  }
  try {
    await found.handler(view, found.params, query);
  } catch (error) {
    mount(view, errorBox(error));
  }
  // A new page moves focus to its content (screen readers start there); a new search or
  // sort of the same page leaves focus where it was.
  if (moved && view.isConnected && !view.contains(document.activeElement)) {
    main.focus({ preventScroll: true });
  }
  return undefined;
}

start(render);
