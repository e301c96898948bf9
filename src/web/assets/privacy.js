// The administrator's personal-data duties: a customer's data handed over or erased, and who read whose data.

import { get, call } from "./api.js";
import { h, replace, confirmButton } from "./dom.js";
import { t, currentLang } from "./i18n.js";
import { dateTime } from "./format.js";
import { register } from "./app.js";
import { table, pager, saveBlob, say, guarded, field, todayIso, addDays } from "./kit.js";

const ACTIONS = ["scan", "card_view", "customer_read", "history_view", "customer_export", "customer_erasure", "list_export"];
const PAGE = 50;

/** The start of a company day (`YYYY-MM-DD`) as an instant the API takes. */
function dayStart(day) {
  const offset = Number(localStorage.getItem("doorstep.offset") || "480");
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${day}T00:00:00${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/**
 * The customer screen's personal-data box (administrators): everything held about the customer as a file, who
 * read it, and erasure after a second tap. `reload` shows the customer again once erased.
 */
export function personalDataBox(box, customerId, reload) {
  const status = h("div", { class: "status", "aria-live": "polite" });
  const download = h("button", {
    type: "button",
    id: "export-data",
    onclick: () =>
      guarded(status, async () => {
        download.disabled = true;
        const { data } = await call("GET", `/customers/${customerId}/export`).finally(() => (download.disabled = false));
        const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
        const a = saveBlob(blob, `customer-${customerId}.json`, t("privacy.export_ready"));
        a.id = "export-file";
        replace(status, h("p", { class: "msg ok", role: "status" }, a));
      }),
  }, t("privacy.export"));
  const erase = confirmButton(
    t("privacy.erase"),
    t("privacy.erase_confirm"),
    () =>
      guarded(status, async () => {
        erase.disabled = true;
        await call("POST", `/customers/${customerId}/erase`).finally(() => (erase.disabled = false));
        say(status, t("privacy.erased"));
        reload();
      }),
    { id: "erase-customer", class: "danger" },
  );
  replace(
    box,
    h("h2", {}, t("privacy.title")),
    h("p", { class: "muted" }, t("privacy.hint")),
    h("div", { class: "actions" }, download, h("a", { class: "button", href: `#/access-log/${customerId}`, id: "who-read" }, t("privacy.who_read")), erase),
    status,
  );
}

/** `#/access-log[/customer_id]`: who read or exported whose data, newest first, by customer, action and days. */
async function accessLogScreen(main, parts) {
  const customer = h("input", { type: "text", maxlength: 36, value: parts[0] || "", placeholder: t("privacy.customer_placeholder"), autocomplete: "off", spellcheck: "false" });
  const action = h("select", {}, h("option", { value: "" }, t("privacy.any_action")), ACTIONS.map((a) => h("option", { value: a }, t(`access.${a}`))));
  const from = h("input", { type: "date", value: addDays(todayIso(), -30) });
  const until = h("input", { type: "date", value: todayIso() });
  const box = h("div", { id: "access-entries", "aria-live": "polite" });
  const show = async (offset) => {
    const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    const id = customer.value.trim();
    if (id) q.set("customer_id", id);
    if (action.value) q.set("action", action.value);
    if (from.value) q.set("from", dayStart(from.value));
    if (until.value) q.set("until", dayStart(addDays(until.value, 1)));
    await guarded(box, async () => {
      const page = await get(`/access-log?${q}`);
      if (!page.items.length) {
        replace(box, h("p", { class: "muted" }, t("privacy.no_entries")));
        return;
      }
      const rows = page.items.map((e) =>
        h(
          "tr",
          {},
          h("td", {}, h("time", { datetime: e.at }, dateTime(e.at, currentLang()))),
          h("td", {}, e.username || "—"),
          h("td", {}, t(`access.${e.action}`)),
          h("td", {}, e.customer_id ? h("a", { href: `#/customers/${e.customer_id}` }, t("privacy.customer_link")) : "—"),
          h("td", {}, e.detail || ""),
        ),
      );
      replace(box, table([t("privacy.when"), t("privacy.who"), t("privacy.action"), t("privacy.customer"), t("privacy.detail")], rows), pager(page, show));
    });
  };
  replace(
    main,
    h("h1", {}, t("privacy.log_title")),
    h("p", { class: "muted" }, t("privacy.log_hint")),
    h(
      "form",
      { class: "form-grid", id: "access-filter", onsubmit: (ev) => { ev.preventDefault(); show(0); } },
      field("access-customer", t("privacy.customer"), customer),
      field("access-action", t("privacy.action"), action),
      field("access-from", t("privacy.from"), from),
      field("access-until", t("privacy.until"), until),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("privacy.show"))),
    ),
    box,
  );
  await show(0);
  document.body.dataset.painted = "access-log";
}

register([{ prefix: "access-log", role: "admin", render: accessLogScreen }], [{ href: "#/access-log", key: "nav.access_log", role: "admin" }]);
