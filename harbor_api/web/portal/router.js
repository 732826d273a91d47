// Deep links with the History API: every page has its own URL, reload keeps it, back works.

const routes = [];
let onRoute = () => {};

/** Register ``pattern`` (e.g. ``/projects/:id/:tab?``) for ``handler(params, query)``. */
export function route(pattern, handler) {
  const names = [];
  const source = pattern.split("/").map((part) => {
    if (!part.startsWith(":")) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const optional = part.endsWith("?");
    names.push(part.slice(1, optional ? -1 : undefined));
    return optional ? "?([^/]*)" : "([^/]+)";
  }).join("/");
  routes.push({ regex: new RegExp("^" + source + "/?$"), names, handler });
}

export function match(pathname) {
  for (const r of routes) {
    const found = r.regex.exec(pathname);
    if (found) {
      const params = {};
      r.names.forEach((name, i) => { params[name] = found[i + 1] ? decodeURIComponent(found[i + 1]) : ""; });
      return { handler: r.handler, params };
    }
  }
  return null;
}

export function navigate(url, replace = false) {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  onRoute();
}

/** Same-origin links are followed by the router, not by a page load. */
export function start(render) {
  onRoute = render;
  window.addEventListener("popstate", render);
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey ||
        event.ctrlKey || event.shiftKey || link.target || link.hasAttribute("download")) return;
    const url = new URL(link.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/devcenter") ||
        url.pathname.startsWith("/api/")) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
  render();
}
