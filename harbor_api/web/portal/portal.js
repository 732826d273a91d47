// The portal: log in with /c/login (session cookie), then list and create projects through
// /api/v2.0 with that cookie. Writes send the CSRF token from the login (X-Harbor-CSRF-Token).
"use strict";

const $ = (selector) => document.querySelector(selector);
let csrfToken = readCookie("__csrf");

function readCookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

async function api(path, options = {}) {
  const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
  if (options.method && options.method !== "GET" && csrfToken) {
    headers["X-Harbor-CSRF-Token"] = csrfToken;
  }
  return fetch("/api/v2.0" + path, Object.assign({}, options, {
    headers, credentials: "same-origin" }));
}

async function errorText(response) {
  try {
    const body = await response.json();
    return body.errors.map((e) => e.message).join("; ");
  } catch (_) {
    return response.status + " " + response.statusText;
  }
}

function show(view) {
  $("#login-view").hidden = view !== "login";
  $("#projects-view").hidden = view !== "projects";
  $("#logout").hidden = view !== "projects";
  $("#who").hidden = view !== "projects";
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
}

async function loadProjects() {
  const response = await api("/projects?page=1&page_size=100&sort=name");
  if (response.status === 401) { show("login"); return; }
  const projects = await response.json();
  const body = $("#projects tbody");
  body.replaceChildren();
  for (const p of projects) {
    const row = document.createElement("tr");
    row.dataset.project = p.name;
    cell(row, p.name);
    cell(row, p.metadata && p.metadata.public === "true" ? "public" : "private");
    cell(row, String(p.repo_count ?? 0));
    cell(row, p.owner_name || "");
    cell(row, p.creation_time ? new Date(p.creation_time).toLocaleString() : "");
    body.appendChild(row);
  }
  $("#project-count").textContent = "(" + (response.headers.get("X-Total-Count") ||
                                           projects.length) + ")";
}

async function start() {
  const me = await api("/users/current");
  if (!me.ok) { show("login"); return; }
  const user = await me.json();
  $("#who").textContent = user.username;
  show("projects");
  await loadProjects();
}

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new URLSearchParams(new FormData(event.target));
  const response = await fetch("/c/login", { method: "POST", body: form,
                                             credentials: "same-origin" });
  const error = $("#login-error");
  if (!response.ok) {
    error.textContent = response.status === 401 ? "Wrong user name or password."
                                                : await errorText(response);
    error.hidden = false;
    return;
  }
  error.hidden = true;
  csrfToken = response.headers.get("X-Harbor-CSRF-Token") || readCookie("__csrf");
  event.target.reset();
  await start();
});

$("#create-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(event.target);
  const response = await api("/projects", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ project_name: data.get("project_name"),
                           metadata: { public: data.get("public") ? "true" : "false" } }),
  });
  const error = $("#create-error");
  if (response.status !== 201) {
    error.textContent = await errorText(response);
    error.hidden = false;
    return;
  }
  error.hidden = true;
  event.target.reset();
  await loadProjects();
});

$("#logout").addEventListener("click", async () => {
  await fetch("/c/log_out", { method: "POST", credentials: "same-origin",
                              headers: { "X-Harbor-CSRF-Token": csrfToken } });
  csrfToken = "";
  show("login");
});

start();
