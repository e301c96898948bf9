// The two languages: one catalogue per language, chosen from the server's pick, switchable and remembered.

const LANGS = ["zh-CN", "en"];
let catalogue = {};
let lang = "zh-CN";

/** The language in use. */
export function currentLang() {
  return lang;
}

/** Loads the catalogue the page was rendered for (the server chose it from the cookie or Accept-Language). */
export async function loadCatalogue() {
  const body = document.body;
  lang = LANGS.includes(body.dataset.lang) ? body.dataset.lang : "zh-CN";
  const url = lang === "en" ? body.dataset.i18nEn : body.dataset.i18nZh;
  const res = await fetch(url, { credentials: "same-origin" });
  catalogue = await res.json();
  document.documentElement.lang = lang;
  return lang;
}

/** The string for `key`, with `{name}` placeholders filled from `vars`; the key itself if it is missing. */
export function t(key, vars = {}) {
  const s = catalogue[key];
  if (s === undefined) {
    console.warn(`missing string: ${key}`);
    return key;
  }
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? `{${k}}`));
}

/**
 * A server problem in the page's language: the catalogue's `problem.<slug>` (title), `.detail` and `.hint` where
 * it words that problem, the server's own words otherwise.
 */
export function problemWords(err) {
  const key = `problem.${String(err.type || "").replace("urn:doorstep:problem:", "")}`;
  const own = (k, server) => (catalogue[k] !== undefined ? t(k) : server || "");
  return { title: own(key, err.title), detail: own(`${key}.detail`, err.detail), hint: own(`${key}.hint`, err.hint) };
}

/** A field the server names (`lines[2].price_cents`) as the forms label it, with its place in a list; the name itself when unlabelled. */
export function fieldLabel(path) {
  const p = String(path || "");
  const bare = p.replace(/\[\d+\]/g, "");
  const label = catalogue[`field.${bare.replace(/\./g, "_")}`] ?? catalogue[`field.${bare.split(".").pop()}`];
  if (label === undefined) return p;
  const n = [...p.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]) + 1);
  return n.length ? `${label} (${n.join("/")})` : label;
}

/** One line of a refusal's field list: the field's name and the server's message, joined as the language does. */
export function fieldLine(field, message) {
  return t("error.field_line", { field, message });
}

/** A vocabulary word ("kind.down_jacket") in the current language. */
export function word(group, value) {
  if (value === null || value === undefined || value === "") return "";
  const s = catalogue[`${group}.${value}`];
  return s === undefined ? String(value).replace(/_/g, " ") : s;
}

/** A storage zone's name: a shipped zone nobody renamed (`named` false) by its catalogue name in the current language. */
export function zoneName(id, name, named) {
  if (named !== false) return name;
  const s = catalogue[`zone.${id}`];
  return s === undefined ? name : s;
}

/** Switches language: remembered in a cookie (the server renders with it) and reloads. */
export function switchLang(next) {
  if (!LANGS.includes(next)) return;
  document.cookie = `doorstep_lang=${next}; Path=/; Max-Age=31536000; SameSite=Strict`;
  location.reload();
}

/** Fills every element with `data-t="key"` (text) or `data-t-placeholder` / `data-t-label` under `root`. */
export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of root.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
  for (const el of root.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
}
