// The console's entry: log in with an API key, then the page of the key's role.
import { api, getKey, problem, setKey } from "./api.js";
import { lang, named, setLang, t } from "./i18n.js";
import { h } from "./ui.js";
import * as buyer from "./pages/buyer.js";
import * as issuer from "./pages/issuer.js";
import * as operator from "./pages/operator.js";
import * as provider from "./pages/provider.js";

const PAGES = { operator, buyer, provider, issuer };
let me = null;

function chrome() {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  document.title = `${t("app.title")} · suanli`;
  document.getElementById("lang").textContent = lang() === "zh" ? "EN" : "中文";
  const logout = document.getElementById("logout");
  logout.textContent = t("app.logout");
  logout.hidden = !me;
  const who = document.getElementById("who");
  who.textContent = me ? `${named(me.name_zh, me.name)} · ${t(`role.${me.role}`)}` : "";
  const tabs = document.getElementById("tabs");
  tabs.replaceChildren();
  if (me) tabs.append(h("a", { href: "#", class: "on", testid: "page-tab" }, t(`page.${me.role}`)));
}

function loginPage(message) {
  const main = document.getElementById("main");
  const input = h("input", { type: "password", name: "key", autocomplete: "off", placeholder: "sk_...", testid: "key" });
  const form = h(
    "form",
    {
      class: "card login",
      testid: "login-form",
      onsubmit: async (event) => {
        event.preventDefault();
        await login(input.value.trim());
      },
    },
    h("h1", {}, t("login.title")),
    h("p", { class: "muted" }, t("login.help")),
    h("label", {}, t("login.key"), input),
    h("p", {}, h("button", { class: "primary", type: "submit", testid: "login" }, t("login.submit"))),
    message ? h("p", { class: "error", testid: "login-error" }, message) : null,
  );
  main.replaceChildren(form);
  input.focus();
}

async function login(key) {
  if (!key) {
    loginPage(t("login.empty"));
    return;
  }
  try {
    me = await api("/v1/orgs/me", { key });
  } catch (err) {
    me = null;
    loginPage(problem(err));
    return;
  }
  setKey(key);
  await show();
}

async function show() {
  chrome();
  const main = document.getElementById("main");
  if (!me) {
    loginPage();
    return;
  }
  const page = PAGES[me.role];
  if (!page) {
    main.replaceChildren(h("p", { class: "error" }, t("login.norole")));
    return;
  }
  main.replaceChildren(h("p", { class: "muted" }, t("common.loading")));
  try {
    await page.render(main, me);
  } catch (err) {
    main.replaceChildren(h("p", { class: "error", testid: "page-error" }, problem(err)));
  }
}

document.getElementById("lang").addEventListener("click", async () => {
  setLang(lang() === "zh" ? "en" : "zh");
  await show();
});

document.getElementById("logout").addEventListener("click", () => {
  setKey(null);
  me = null;
  chrome();
  loginPage();
});

async function boot() {
  const key = getKey();
  if (key) await login(key);
  else {
    chrome();
    loginPage();
  }
}

boot();
