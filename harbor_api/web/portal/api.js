// The REST API client: the session cookie rides along (same origin); writes carry the CSRF
// token from the login, which the server also leaves in the readable ``__csrf`` cookie.
import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function csrfToken() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("__csrf="));
  return found ? decodeURIComponent(found.slice(7)) : "";
}

export function shortName(project, repository) {
  return repository.startsWith(project + "/") ? repository.slice(project.length + 1) : repository;
}

/** The portal's page of a repository (one path segment: its slashes encoded). */
export function portalRepo(project, repository) {
  return "/projects/" + project.project_id + "/repositories/" +
    encodeURIComponent(shortName(project.name, repository));
}

/** A repository's name as a path segment: Harbor encodes the slash twice. */
export function repoPath(project, repository) {
  const short = shortName(project, repository);
  return "/projects/" + encodeURIComponent(project) + "/repositories/" +
    encodeURIComponent(encodeURIComponent(short));
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? "?" + text : "";
}

async function failure(response) {
  let code = "HTTP_" + response.status;
  let message = "";
  try {
    const body = await response.json();
    code = body.errors[0].code || code;
    message = body.errors.map((e) => e.message).join("; ");
  } catch (_) { /* not the error envelope */ }
  if (response.status === 401) message = message || t("error.unauthorized");
  if (response.status === 403) message = message || t("error.forbidden");
  if (response.status === 404) message = message || t("error.notFound");
  if (response.status >= 500) message = t("error.server");
  return new ApiError(response.status, code, message || t("error.http", { status: response.status }));
}

/** Call ``/api/v2.0{path}``; resolves to ``{data, total}``, rejects with an ``ApiError``.
 * ``options.text``: the answer is plain text (job logs), not JSON. */
export async function api(path, options = {}) {
  const method = options.method || "GET";
  const headers = { Accept: options.text ? "text/plain" : "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-Harbor-CSRF-Token"] = csrfToken();
  let body;
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response;
  try {
    response = await fetch("/api/v2.0" + path + query(options.query), {
      method, headers, body, credentials: "same-origin" });
  } catch (_) {
    throw new ApiError(0, "NETWORK", t("error.network"));
  }
  if (!response.ok) throw await failure(response);
  const text = await response.text();
  const total = response.headers.get("X-Total-Count");
  const data = options.text ? text : text ? JSON.parse(text) : null;
  return { data, total: total === null ? null : Number(total), response };
}

export async function login(principal, password) {
  const response = await fetch("/c/login", {
    method: "POST", credentials: "same-origin",
    body: new URLSearchParams({ principal, password }) });
  if (!response.ok) {
    if (response.status === 401) throw new ApiError(401, "UNAUTHORIZED", t("login.wrong"));
    throw await failure(response);
  }
}

export async function logout() {
  await fetch("/c/log_out", { method: "POST", credentials: "same-origin",
                              headers: { "X-Harbor-CSRF-Token": csrfToken() } });
}
