// Sign in: database and LDAP users alike post to /c/login (the server picks the auth mode).
import { login } from "./api.js";
import { signedIn } from "./portal.js";
import { h, mount } from "./dom.js";
import { t } from "./i18n.js";
import { field } from "./ui.js";

export function render(main, params, query) {
  document.title = t("login.title") + " · harbor-api";
  const error = h("p", { id: "login-error", class: "error", role: "alert", hidden: true });
  const button = h("button", { type: "submit", class: "primary" }, t("login.submit"));
  const form = h("form", { id: "login-form", class: "stack", on: { submit: async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    button.disabled = true;
    error.hidden = true;
    try {
      await login(String(data.get("principal")), String(data.get("password")));
      await signedIn(query.get("next"));
    } catch (problem) {
      error.textContent = problem.message;
      error.hidden = false;
      button.disabled = false;
    }
  } } },
    field(t("login.username"), h("input", { name: "principal", autocomplete: "username",
      required: true, autofocus: true })),
    field(t("login.password"), h("input", { name: "password", type: "password",
      autocomplete: "current-password", required: true })),
    button, error);
  mount(main, h("section", { class: "card narrow", id: "login-view" },
    h("h1", {}, t("login.title")), form));
}
