// Shared pieces of the office screens: problems in words, tables, paging, files from the API, request keys.

import { call, ApiError, NetworkError, outcomeUnknown } from "./api.js";
import { h, replace } from "./dom.js";
import { t, problemWords, fieldLabel, fieldLine, currentLang } from "./i18n.js";

/** A server problem (or a network failure) as an alert naming each field, with the server's hint when it gave one. */
export function problemView(err) {
  if (err instanceof NetworkError) {
    return h("div", { class: "msg error", role: "alert" }, h("strong", {}, t("error.offline")), h("p", {}, t("error.offline_hint")));
  }
  if (!(err instanceof ApiError)) {
    // A fault in the page itself (a photo that would not encode): the heading in the reader's language, the
    // browser's words below it.
    const words = String(err && err.message ? err.message : err || "");
    return h("div", { class: "msg error", role: "alert" }, h("strong", {}, t("error.generic")), words ? h("p", {}, words) : null);
  }
  const items = (err.errors || []).map((e) => h("li", {}, fieldLine(fieldLabel(e.field), e.message)));
  const words = problemWords(err);
  return h(
    "div",
    { class: "msg error", role: "alert", "data-problem": err.type || null },
    h("strong", {}, words.title || t("error.generic")),
    words.detail && !items.length ? h("p", {}, words.detail) : null,
    words.hint ? h("p", { class: "hint" }, words.hint) : null,
    items.length ? h("ul", {}, items) : null,
  );
}

/** A key for one user action: a retry of the same action sends the same key, so it is recorded once. */
export function newKey() {
  return crypto.randomUUID();
}

/**
 * One user action's key, kept across its retries until the server has answered it for certain (success, or a
 * refusal: see `outcomeUnknown`), so a retry is recorded once and the next attempt is a new action. The returned
 * function runs `write(key)` and settles the key by its outcome.
 */
export function actionKey(kept = null) {
  // `kept` names a sessionStorage slot: the key then also outlives a reload of the page.
  let key = (kept && sessionStorage.getItem(kept)) || newKey();
  const set = (k) => {
    key = k;
    if (kept) sessionStorage.setItem(kept, k);
  };
  set(key);
  return async (write) => {
    try {
      const out = await write(key);
      set(newKey());
      return out;
    } catch (e) {
      if (!outcomeUnknown(e)) set(newKey());
      throw e;
    }
  };
}

/** A query string of the params that are set (`?a=1&b=x`), or "" when none is. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** A table in a scrolling box (wide tables scroll inside it, never the page). */
export function table(headers, rows, attrs = {}) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data", ...attrs },
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col", class: x.num ? "num" : null }, x.label ?? x)))),
      h("tbody", {}, rows),
    ),
  );
}

/** Previous / next buttons for a page answered by the API (`{total?, limit, offset, next_offset}`). */
export function pager(page, go) {
  const prev = Math.max(0, page.offset - page.limit);
  const total = Number.isFinite(page.total) ? page.total : null;
  const shown = `${page.items.length ? page.offset + 1 : 0}–${page.offset + page.items.length}`;
  return h(
    "div",
    { class: "pager" },
    h("button", { type: "button", class: "small", disabled: page.offset === 0, onclick: () => go(prev) }, t("page.prev")),
    h("span", { class: "muted" }, total === null ? shown : t("page.of", { shown, total })),
    h("button", { type: "button", class: "small", disabled: page.next_offset === null || page.next_offset === undefined, onclick: () => go(page.next_offset) }, t("page.next")),
  );
}

/** Fetches a file from the API (a GET, or a POST with a JSON body and any `extra` headers) and returns it as a Blob. */
export async function fetchFile(method, path, body, extra = {}) {
  // The page's language, so a CSV saved from a Chinese page reads in Chinese whatever the browser's own setting.
  const headers = { Accept: "*/*", "Accept-Language": currentLang(), ...extra };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRF-Token"] = localStorage.getItem("doorstep.csrf") || "";
  }
  let res;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  } catch (e) {
    throw new NetworkError(String(e && e.message ? e.message : e));
  }
  if (!res.ok) {
    let problem = { title: res.statusText };
    try {
      problem = await res.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, problem);
  }
  return { blob: await res.blob(), headers: res.headers };
}

/**
 * A CSV download button: fetches `path` (or what `path()` gives at the tap, for filters chosen meanwhile) and
 * offers it saved under `name` (likewise).
 */
export function csvButton(path, name) {
  const box = h("span", {});
  const btn = h(
    "button",
    {
      type: "button",
      class: "small csv",
      onclick: async () => {
        btn.disabled = true;
        try {
          const { blob } = await fetchFile("GET", typeof path === "function" ? path() : path);
          const a = saveBlob(blob, typeof name === "function" ? name() : name, t("lists.csv_ready"));
          replace(box, a);
          a.click();
        } catch (e) {
          replace(box, problemView(e));
        } finally {
          btn.disabled = false;
        }
      },
    },
    t("lists.csv"),
  );
  return h("span", { class: "csv-box" }, btn, box);
}

/** A link that saves a Blob under `name`, clicked once for the user. */
export function saveBlob(blob, name, label) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, class: "button small", "data-blob": "true" }, label || name);
  return a;
}

/** Writes a status line (or an error) into `box`. */
export function say(box, text, kind = "ok") {
  replace(box, h("p", { class: `msg ${kind}`, role: kind === "error" ? "alert" : "status" }, text));
}

/** Runs `fn`, showing its problem in `box` instead of throwing. */
export async function guarded(box, fn) {
  try {
    return await fn();
  } catch (e) {
    replace(box, problemView(e));
    return undefined;
  }
}

/** POST/PUT/PATCH/DELETE JSON and return the body. */
export async function send(method, path, body, key) {
  const headers = key ? { "Idempotency-Key": key } : {};
  return (await call(method, path, { body, headers })).data;
}

/** A labelled form field. */
export function field(id, label, input) {
  input.id = id;
  if (!input.name) input.name = id;
  return h("div", { class: "field" }, h("label", { for: id, class: "label" }, label), input);
}

/** Today's date in company time as YYYY-MM-DD. */
export function todayIso() {
  const offset = Number(localStorage.getItem("doorstep.offset") || "480");
  return new Date(Date.now() + offset * 60000).toISOString().slice(0, 10);
}

/** The date `days` after an ISO date. */
export function addDays(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
