// The app shell: who is signed in, the navigation their role allows, the language, and the screens by route.

import { get, setCsrf, ApiError, NetworkError } from "./api.js";
import { h, replace } from "./dom.js";
import { loadCatalogue, t, translate, switchLang, currentLang } from "./i18n.js";
import { setCompanyOffset } from "./format.js";
import * as outbox from "./outbox.js";
import * as pickup from "./pickup.js";

const ROLES = ["pickup", "dispatcher", "manager", "admin"];
let me = JSON.parse(localStorage.getItem("doorstep.me") || "null");

/** Whether the signed-in role is at least `role` (the server checks every call regardless). */
export function atLeast(role) {
  return me && ROLES.indexOf(me.role) >= ROLES.indexOf(role);
}

/** Extra screens by route prefix, registered by other page modules (the office pages). */
const extraRoutes = [];
/** Extra navigation entries: `{href, key, role}`. */
const extraNav = [];

/** Lets another module add screens and navigation without the shell knowing them. */
export function register(routes, nav) {
  extraRoutes.push(...routes);
  extraNav.push(...nav);
}

function navView() {
  const items = [{ href: "#/", key: "nav.scan", role: "pickup" }, ...extraNav].filter((n) => atLeast(n.role));
  const badge = h("span", { class: "badge", id: "outbox-count", hidden: true });
  const update = async () => {
    const n = (await outbox.list()).length;
    badge.hidden = n === 0;
    badge.textContent = String(n);
  };
  window.addEventListener("outbox:changed", update);
  update();
  const other = currentLang() === "en" ? "zh-CN" : "en";
  const csrfField = h("input", { type: "hidden", name: "csrf_token", value: localStorage.getItem("doorstep.csrf") || "" });
  return h(
    "nav",
    { class: "topnav", "aria-label": t("nav.label") },
    h("a", { href: "#/", class: "brand" }, t("app.name"), badge),
    h("ul", {}, items.map((n) => h("li", {}, h("a", { href: n.href }, t(n.key))))),
    h(
      "div",
      { class: "nav-tools" },
      h("button", { type: "button", class: "small", id: "lang-switch", lang: other, onclick: () => switchLang(other) }, other === "en" ? "English" : "中文"),
      h("form", { method: "post", action: "/app/logout" }, csrfField, h("button", { type: "submit", class: "small", id: "sign-out" }, t("nav.sign_out"))),
    ),
    me ? h("p", { class: "who" }, `${me.display_name} · ${t(`role.${me.role}`)}`) : null,
  );
}

async function route() {
  const main = document.getElementById("main");
  const hash = location.hash || "#/";
  const parts = hash.slice(2).split("/");
  window.scrollTo(0, 0);
  for (const r of extraRoutes) {
    if (parts[0] === r.prefix) {
      if (!atLeast(r.role)) {
        replace(main, h("div", { class: "msg error", role: "alert" }, t("error.forbidden")));
        return;
      }
      await r.render(main, parts.slice(1));
      return;
    }
  }
  switch (parts[0]) {
    case "c":
      return pickup.cardScreen(main, parts[1]);
    case "v":
      return pickup.visitScreen(main, parts[1]);
    case "fix":
      return pickup.fixScreen(main, parts[1]);
    default:
      return pickup.scanScreen(main);
  }
}

async function whoAmI() {
  try {
    const data = await get("/auth/me");
    me = data;
    localStorage.setItem("doorstep.me", JSON.stringify(me));
    if (data.csrf_token) setCsrf(data.csrf_token);
    if (Number.isFinite(data.utc_offset_minutes)) {
      localStorage.setItem("doorstep.offset", String(data.utc_offset_minutes));
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      localStorage.removeItem("doorstep.me");
      location.assign("/app/login");
      me = null;
      return;
    }
    if (!(e instanceof NetworkError)) throw e;
    // Offline: keep working as the last signed-in worker; the server checks again when the network is back.
  }
  setCompanyOffset(Number(localStorage.getItem("doorstep.offset") || "480"));
}

async function boot() {
  await loadCatalogue();
  await whoAmI();
  if (!me) {
    location.assign("/app/login");
    return;
  }
  translate();
  replace(document.getElementById("top"), navView());
  document.title = t("app.name");
  window.addEventListener("hashchange", route);
  await pickup.refreshPrices();
  outbox.start(me.staff_id);
  await route();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch((e) => console.info("no offline shell:", e.message));
  }
  document.body.dataset.ready = "true";
}

/** Starts the shell once every page module has registered its routes. */
export function start() {
  boot().catch((e) => {
    const main = document.getElementById("main");
    replace(main, h("div", { class: "msg error", role: "alert" }, String(e && e.message ? e.message : e)));
    console.error(e);
  });
}
