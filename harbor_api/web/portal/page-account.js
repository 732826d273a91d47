// The signed-in user's profile (email, real name, comment) and password change.
import { api } from "./api.js";
import { session } from "./portal.js";
import { h, mount } from "./dom.js";
import { t } from "./i18n.js";
import { field, toast } from "./ui.js";

function saving(form, work) {
  const error = h("p", { class: "error", role: "alert", hidden: true });
  form.appendChild(error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      await work(new FormData(form));
    } catch (problem) {
      error.textContent = problem.message;
      error.hidden = false;
    }
  });
  return form;
}

export async function render(main) {
  const { data: user } = await api("/users/current");
  session.user = user;
  document.title = t("account.title") + " · harbor-api";
  const profile = saving(h("form", { class: "stack", id: "profile-form" },
    h("h2", {}, t("account.profile")),
    field(t("users.username"), h("input", { name: "username", value: user.username,
      readonly: true })),
    field(t("users.email"), h("input", { name: "email", type: "email", value: user.email || "",
      autocomplete: "email" })),
    field(t("users.realname"), h("input", { name: "realname", value: user.realname || "",
      autocomplete: "name" })),
    field(t("users.comment"), h("input", { name: "comment", value: user.comment || "" })),
    h("div", {}, h("button", { type: "submit", class: "primary" }, t("action.save")))),
  async (form) => {
    await api("/users/" + user.user_id, { method: "PUT", body: { email: form.get("email"),
      realname: form.get("realname"), comment: form.get("comment") } });
    toast(t("account.saved"));
  });
  const password = saving(h("form", { class: "stack", id: "password-form" },
    h("h2", {}, t("account.password")),
    field(t("account.oldPassword"), h("input", { name: "old_password", type: "password",
      required: true, autocomplete: "current-password" })),
    field(t("account.newPassword"), h("input", { name: "new_password", type: "password",
      required: true, minlength: 8, autocomplete: "new-password" }), t("account.passwordRule")),
    field(t("account.repeatPassword"), h("input", { name: "repeat", type: "password",
      required: true, autocomplete: "new-password" })),
    h("div", {}, h("button", { type: "submit", class: "primary" }, t("account.change")))),
  async (form) => {
    if (form.get("new_password") !== form.get("repeat")) throw new Error(t("account.mismatch"));
    await api("/users/" + user.user_id + "/password", { method: "PUT", body: {
      old_password: form.get("old_password"), new_password: form.get("new_password") } });
    password.reset();
    toast(t("account.passwordChanged"));
  });
  mount(main, h("section", { class: "card" }, h("h1", {}, t("account.title")),
    h("div", { class: "columns" }, profile, password)));
}
