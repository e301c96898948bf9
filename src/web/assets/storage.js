// The storage screens: returns due and their deliveries, orders by status, and taking a customer's garments in.

import { get, ApiError } from "./api.js";
import { h, replace, confirmButton } from "./dom.js";
import { t, word, currentLang, fieldLine } from "./i18n.js";
import { money, parseYuan, date } from "./format.js";
import { register } from "./app.js";
import { problemView, actionKey, csvButton, query, table, pager, say, guarded, send, field, todayIso, addDays } from "./kit.js";

const PAGE = 20;

/** Each order step's key (kit.actionKey) by order and step: kept across a refresh of the lists, which rebuilds the rows. */
const steps = new Map();

function stepKey(id) {
  if (!steps.has(id)) steps.set(id, actionKey());
  return steps.get(id);
}

const STATUSES = ["accepted", "in_storage", "return_requested", "returned"];

/** A calendar day (`2026-11-15`) as people here write it. */
const day = (iso) => (iso ? date(`${iso}T12:00:00Z`, currentLang()) : "");

const orderPath = (customerId, orderId) => `/customers/${customerId}/storage-orders/${orderId}`;

function receiptLink(customerId, o) {
  return h("a", { href: `/api/v1${orderPath(customerId, o.order_id)}/receipt.html`, target: "_blank", rel: "noopener", class: "receipt-link" }, o.receipt_no);
}

/** A garment in the page's language: kind, material, brand, colour, size. */
function garmentText(g) {
  return [word("kind", g.kind), g.material ? word("material", g.material) : null, g.brand, g.colour, g.size].filter(Boolean).join(" · ");
}

/** The day `months` after `iso`, kept inside the month (31 January + 1 month is 28/29 February), as the server counts. */
function addMonths(iso, months) {
  const [y, m, d] = iso.split("-").map(Number);
  const first = new Date(Date.UTC(y, m - 1 + months, 1));
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  first.setUTCDate(Math.min(d, last));
  return first.toISOString().slice(0, 10);
}

/** The form fields the server names, as the form labels them. */
function fieldName(f) {
  const keys = { booked_for: "storage.book_day", note: "storage.note", term_months: "storage.term", planned_return_on: "storage.planned_return", delivery_preference: "storage.preference", items: null };
  return f in keys ? (keys[f] ? t(keys[f]) : "") : f;
}

/** A refused write as an alert naming each field as the form labels it (the server words its refusals in the page's language). */
function problemBox(err, nameOf = fieldName) {
  if (!(err instanceof ApiError)) return problemView(err);
  const fields = err.errors && err.errors.length ? err.errors : err.status === 409 && err.field ? [{ field: err.field, message: err.detail }] : [];
  if (!fields.length) return problemView(err);
  return h(
    "div",
    { class: "msg error", role: "alert", "data-problem": err.type || null },
    h("strong", {}, t("storage.refused")),
    h("ul", {}, fields.map((e) => h("li", {}, nameOf(e.field) ? fieldLine(nameOf(e.field), e.message) : e.message))),
  );
}

// ---------------------------------------------------------------- order actions

/**
 * The next steps of one order where it is listed: put it on a shelf, book (or move) its return delivery, mark it
 * returned; `booking` false leaves out the booking (a table row books in a panel below the table, where the date
 * field has room). `done(text)` runs after a step is recorded; each step keeps one Idempotency-Key across its retries.
 */
function orderActions(customerId, o, done, { booking = true, moves = true } = {}) {
  const status = h("div", { "aria-live": "polite" });
  const run = async (btn, write, text) => {
    btn.disabled = true;
    replace(status);
    try {
      await write();
      await done(text);
    } catch (e) {
      btn.disabled = false;
      // Someone else moved the order (or a lost answer was recorded after all): show it as it is now.
      if (e instanceof ApiError && e.status === 409 && e.field === "status") {
        await done(t("storage.moved_meanwhile", { receipt: o.receipt_no }), "error");
        return;
      }
      replace(status, problemBox(e));
    }
  };
  const path = orderPath(customerId, o.order_id);
  const move = (btn, next, text) => run(btn, () => stepKey(`${path}/status:${next}`)((key) => send("POST", `${path}/status`, { status: next }, key)), text);
  const parts = [];
  if (moves && o.status === "accepted") {
    const store = h("button", { type: "button", class: "small primary act-store", onclick: () => move(store, "in_storage", t("storage.stored_msg", { receipt: o.receipt_no })) }, t("storage.store"));
    parts.push(store);
  }
  if (booking && (o.status === "in_storage" || o.status === "return_requested")) {
    const today = todayIso();
    const planned = o.planned_return_on && o.planned_return_on > today ? o.planned_return_on : addDays(today, 1);
    const when = h("input", { type: "date", class: "book-date", min: today, max: addDays(today, 365), value: o.delivery_booked_for || planned, "aria-label": t("storage.book_day") });
    const note = h("input", { type: "text", class: "book-note", maxlength: 1000, placeholder: t("storage.note_placeholder"), "aria-label": t("storage.note") });
    const bookOnce = stepKey(`${path}/delivery`);
    const book = h(
      "button",
      {
        type: "button",
        class: "small act-book",
        onclick: () => {
          if (!when.value) return when.focus();
          const body = { booked_for: when.value, note: note.value.trim() || null };
          return run(book, () => bookOnce((key) => send("POST", `${path}/delivery`, body, key)), t("storage.booked_msg", { receipt: o.receipt_no, date: day(when.value) }));
        },
      },
      o.delivery_booked_for ? t("storage.rebook") : t("storage.book"),
    );
    parts.push(h("div", { class: "row-actions" }, when, note, book));
  }
  if (moves && o.status === "return_requested") {
    const returned = confirmButton(t("storage.mark_returned"), t("storage.returned_confirm"), () => move(returned, "returned", t("storage.returned_msg", { receipt: o.receipt_no })), { class: "small act-returned" });
    parts.push(returned);
  }
  return h("div", { class: "order-actions", dataset: { order: o.order_id } }, parts, status);
}

// ---------------------------------------------------------------- returns due

function returnsSection(box, refreshAll) {
  const dueBy = h("input", { type: "date", id: "due-by" });
  const booked = h(
    "select",
    { id: "booked" },
    h("option", { value: "" }, t("storage.booked_any")),
    h("option", { value: "false" }, t("storage.booked_no")),
    h("option", { value: "true" }, t("storage.booked_yes")),
  );
  const done = h("div", { id: "returns-status" });
  const list = h("div", { id: "returns" });
  let offset = 0;
  const params = () => ({ due_by: dueBy.value, booked: booked.value });
  const show = async (off = offset) => {
    offset = off;
    replace(list, h("p", { class: "msg" }, t("common.loading")));
    await guarded(list, async () => {
      const page = await get(`/storage/returns${query({ ...params(), limit: PAGE, offset })}`);
      if (!dueBy.value) dueBy.value = page.due_by;
      replace(
        list,
        h("p", { class: "muted", id: "returns-total" }, page.total ? t("storage.returns_total", { n: page.total, date: day(page.due_by) }) : t("storage.no_returns", { date: day(page.due_by) })),
        page.items.map((e) => returnCard(e, (text, kind) => refreshAll(text, kind, done))),
        page.offset > 0 || page.next_offset != null ? pager(page, show) : null,
      );
    });
  };
  const csv = csvButton(
    () => `/storage/returns${query({ ...params(), format: "csv" })}`,
    () => `storage-returns-${dueBy.value || todayIso()}.csv`,
  );
  replace(
    box,
    h("h2", {}, t("storage.returns")),
    h(
      "form",
      { class: "form-grid", id: "returns-filter", onsubmit: (ev) => { ev.preventDefault(); show(0); } },
      field("due-by", t("storage.due_by"), dueBy),
      field("booked", t("storage.booked_filter"), booked),
      h("div", { class: "actions" }, h("button", { type: "submit", id: "returns-apply" }, t("storage.show")), csv),
    ),
    done,
    list,
  );
  return show;
}

function returnCard(e, done) {
  const tags = [
    e.overdue ? h("span", { class: "tag danger" }, t("storage.overdue")) : null,
    e.do_not_contact ? h("span", { class: "tag warn" }, t("storage.return_only")) : null,
  ];
  return h(
    "article",
    { class: "entry-card return-entry", dataset: { customer: e.customer_id } },
    h("h3", {}, h("a", { href: `#/customers/${e.customer_id}` }, e.name), tags),
    e.phone ? h("a", { class: "phone", href: `tel:${e.phone}` }, `☎ ${e.phone}`) : null,
    e.address ? h("p", { class: "address" }, e.address) : null,
    e.delivery_preference ? h("p", {}, h("strong", {}, t("storage.preference")), " ", e.delivery_preference) : null,
    e.storage_orders.map((o) => {
      // The list names garments by their fields (its `description` is the CSV's English) and holds only those still stored.
      const items = o.items;
      return h(
        "section",
        { class: "return-order", dataset: { order: o.order_id } },
        h(
          "p",
          {},
          receiptLink(e.customer_id, o),
          " · ",
          h("span", { class: "order-status" }, word("storage_status", o.status)),
          " · ",
          o.delivery_booked_for ? t("storage.booked_on", { date: day(o.delivery_booked_for) }) : t("storage.planned_on", { date: day(o.planned_return_on) }),
        ),
        h(
          "ul",
          { class: "garments" },
          items.map((i) => h("li", {}, h("span", {}, garmentText(i), " ", h("span", { class: "muted place" }, [i.zone_id, i.position].filter(Boolean).join(" "))), h("span", { class: "num" }, money(i.declared_cents)))),
        ),
        o.status === "accepted" ? h("p", { class: "muted" }, t("storage.not_stored_yet")) : null,
        orderActions(e.customer_id, o, done),
      );
    }),
  );
}

// ---------------------------------------------------------------- orders by status

function ordersSection(box, refreshAll) {
  const status = h("select", { id: "order-status" }, STATUSES.map((s) => h("option", { value: s }, word("storage_status", s))), h("option", { value: "" }, t("storage.all")));
  const done = h("div", { id: "orders-status" });
  const list = h("div", { id: "orders" });
  const panel = h("div", { id: "booking-panel" });
  let offset = 0;
  const bookIn = (o, finish) => {
    replace(
      panel,
      h("h3", {}, t("storage.book"), " ", receiptLink(o.customer_id, o), " · ", o.customer_name),
      orderActions(o.customer_id, o, finish, { moves: false }),
      h("button", { type: "button", class: "small", onclick: () => replace(panel) }, t("common.cancel")),
    );
    panel.scrollIntoView({ block: "nearest" });
    panel.querySelector("input").focus();
  };
  const show = async (off = offset) => {
    offset = off;
    replace(panel);
    replace(list, h("p", { class: "msg" }, t("common.loading")));
    await guarded(list, async () => {
      const page = await get(`/storage/orders${query({ status: status.value, limit: PAGE, offset })}`);
      // Few columns, so a phone shows the next step without scrolling: who and which receipt in one cell, when and
      // how much in another, the status only when several are listed.
      const all = !status.value;
      const finish = (text, kind) => refreshAll(text, kind, done);
      const rowActions = (o) => {
        const open = o.status === "in_storage" || o.status === "return_requested";
        return h(
          "div",
          { class: "row-actions" },
          open ? h("button", { type: "button", class: "small act-open-book", onclick: () => bookIn(o, finish) }, o.delivery_booked_for ? t("storage.rebook") : t("storage.book")) : null,
          orderActions(o.customer_id, o, finish, { booking: false }),
        );
      };
      const rows = page.items.map((o) =>
        h(
          "tr",
          { dataset: { order: o.order_id } },
          h("td", {}, h("a", { href: `#/customers/${o.customer_id}` }, o.customer_name), h("br"), receiptLink(o.customer_id, o)),
          all ? h("td", { class: "order-status" }, word("storage_status", o.status)) : null,
          h("td", {}, o.delivery_booked_for ? t("storage.booked_on", { date: day(o.delivery_booked_for) }) : day(o.planned_return_on), h("br"), h("span", { class: "muted" }, t("storage.items_n", { n: o.item_count }), " · ", money(o.fee_cents + o.premium_cents))),
          h("td", {}, rowActions(o)),
        ),
      );
      const head = [t("storage.order"), all ? t("storage.status") : null, t("storage.return_items_fee"), t("storage.next_step")].filter(Boolean);
      replace(
        list,
        page.items.length
          ? table(head, rows, { id: "orders-table" })
          : h("p", { class: "muted", id: "no-orders" }, t("storage.no_orders")),
        page.offset > 0 || page.next_offset != null ? pager(page, show) : null,
      );
    });
  };
  status.addEventListener("change", () => show(0));
  replace(box, h("h2", {}, t("storage.orders")), h("div", { class: "form-grid" }, field("order-status", t("storage.status"), status)), done, list, panel);
  return show;
}

async function storageScreen(main) {
  const returns = h("section", { id: "storage-returns" });
  const orders = h("section", { id: "storage-orders" });
  let showReturns;
  let showOrders;
  // A step moves an order from one list to another: both are read again, and the step is said where it was taken.
  const refreshAll = async (text, kind = "ok", where) => {
    await Promise.all([showReturns(), showOrders()]);
    // The last step's message only: an earlier one in the other section goes.
    document.getElementById("storage-done")?.remove();
    say(where, text, kind);
    where.firstChild.id = "storage-done";
    where.scrollIntoView({ block: "nearest" });
  };
  showReturns = returnsSection(returns, refreshAll);
  showOrders = ordersSection(orders, refreshAll);
  replace(main, h("h1", {}, t("storage.title")), returns, orders);
  await Promise.all([showReturns(0), showOrders(0)]);
  document.body.dataset.painted = "storage";
}

// ---------------------------------------------------------------- a new order (on the customer screen)

/** The customer's garments with whether each can be stored now, and why not. */
async function storableGarments(customerId) {
  const [wardrobe, settings, orders] = await Promise.all([
    get(`/customers/${customerId}/wardrobe`),
    get("/storage/settings"),
    get(`/customers/${customerId}/storage-orders?limit=100`),
  ]);
  const open = orders.items.filter((o) => o.status !== "returned");
  const held = new Map();
  for (const o of await Promise.all(open.map((o) => get(orderPath(customerId, o.order_id))))) {
    for (const i of o.items) if (!i.released_at) held.set(i.garment_id, o.receipt_no);
  }
  const within = settings.cleaned_within_days;
  const offset = Number(localStorage.getItem("doorstep.offset") || "480");
  const since = Number.isFinite(within) ? Date.parse(`${addDays(todayIso(), -within)}T00:00:00Z`) - offset * 60000 : null;
  return wardrobe
    .flatMap((group) => group.garments)
    .map((g) => {
      let why = null;
      if (held.has(g.garment_id)) why = t("storage.err_open", { receipt: held.get(g.garment_id) });
      else if (!g.times_cleaned || !g.last_cleaned_at) why = t("storage.err_not_cleaned");
      else if (since !== null && Date.parse(g.last_cleaned_at) < since) why = t("storage.err_stale", { date: date(g.last_cleaned_at, currentLang()), days: within });
      return { g, why };
    });
}

/**
 * The "new storage order" form of a customer, in `box`: tick garments that can be stored, give each a declared
 * value, choose the term. `reload` reads the customer's orders again once one is recorded.
 */
export function newOrderForm(box, customerId, reload, message = null) {
  const open = h("button", { type: "button", class: "primary", id: "new-storage-order", onclick: () => orderForm(box, customerId, reload) }, t("storage.new_order"));
  replace(box, message, h("div", { class: "actions" }, open));
}

async function orderForm(box, customerId, reload) {
  replace(box, h("h3", {}, t("storage.new_order")), h("p", { class: "msg" }, t("common.loading")));
  let garments;
  try {
    garments = await storableGarments(customerId);
  } catch (e) {
    replace(box, h("h3", {}, t("storage.new_order")), problemView(e), h("div", { class: "actions" }, h("button", { type: "button", onclick: () => newOrderForm(box, customerId, reload) }, t("common.cancel"))));
    return;
  }
  const status = h("div", { id: "storage-order-status", "aria-live": "polite" });
  const rows = new Map();
  const storable = garments.filter((x) => !x.why);
  const blocked = garments.filter((x) => x.why);
  const lines = storable.map(({ g }) => {
    const tick = h("input", { type: "checkbox", name: "garment", value: g.garment_id, id: `store-${g.garment_id}` });
    const value = h("input", { type: "text", inputmode: "decimal", class: "declared", autocomplete: "off", placeholder: "¥", "aria-label": t("storage.declared_of", { garment: garmentText(g) }) });
    const note = h("div", { class: "condition" });
    // Ticking asks for the value; typing a value ticks the garment.
    tick.addEventListener("change", () => {
      if (tick.checked && !value.value) value.focus();
      if (!tick.checked) {
        value.classList.remove("invalid");
        replace(note);
      }
    });
    value.addEventListener("input", () => {
      if (value.value.trim()) tick.checked = true;
    });
    const last = g.last_cleaned_at ? t("storage.cleaned_on", { date: date(g.last_cleaned_at, currentLang()) }) : "";
    rows.set(g.garment_id, { g, tick, value, note });
    return h(
      "li",
      { class: "line", dataset: { garment: g.garment_id } },
      // The box sits in its own span so a long description cannot squeeze it.
      h("div", { class: "line-body" }, h("label", { class: "check", for: tick.id }, h("span", {}, tick), h("span", {}, garmentText(g), h("br"), h("span", { class: "muted" }, last))), value, note),
    );
  });
  const term = h("select", { id: "term-months" }, Array.from({ length: 24 }, (_, i) => i + 1).map((m) => h("option", { value: m, selected: m === 6 }, t("storage.months", { n: m }))));
  const today = todayIso();
  const returnOn = h("input", { type: "date", id: "planned-return", min: addDays(today, 1), max: addDays(today, 730) });
  const preference = h("input", { type: "text", id: "delivery-preference", maxlength: 500, placeholder: t("storage.preference_placeholder") });
  const termWarn = h("div", { "aria-live": "polite" });
  const checkTerm = () => {
    const ends = addMonths(today, Number(term.value));
    if (returnOn.value && returnOn.value > ends) say(termWarn, t("storage.warn_term", { date: day(ends) }), "error");
    else replace(termWarn);
  };
  term.addEventListener("change", checkTerm);
  returnOn.addEventListener("change", checkTerm);
  const returnField = field("planned-return", t("storage.planned_return"), returnOn);
  returnField.append(h("p", { class: "muted" }, t("storage.return_hint")));
  const once = actionKey();
  const submit = h("button", { type: "submit", class: "primary", id: "save-storage-order" }, t("storage.take_in"));
  const chosen = () => [...rows.values()].filter((r) => r.tick.checked);
  const onSubmit = async (ev) => {
    ev.preventDefault();
    replace(status);
    for (const r of rows.values()) {
      r.value.classList.remove("invalid");
      replace(r.note);
    }
    const picked = chosen();
    if (!picked.length) return say(status, t("storage.pick_garments"), "error");
    let bad = false;
    for (const r of picked) {
      if (parseYuan(r.value.value) === null) {
        bad = true;
        r.value.classList.add("invalid");
        say(r.note, t("storage.bad_value"), "error");
      }
    }
    if (bad) return say(status, t("storage.bad_values"), "error");
    const body = {
      items: picked.map((r) => ({ garment_id: r.g.garment_id, declared_value_cents: parseYuan(r.value.value) })),
      term_months: Number(term.value),
    };
    if (returnOn.value) body.planned_return_on = returnOn.value;
    if (preference.value.trim()) body.delivery_preference = preference.value.trim();
    submit.disabled = true;
    say(status, t("storage.saving"), "");
    try {
      const order = await once((key) => send("POST", `/customers/${customerId}/storage-orders`, body, key));
      await reload();
      newOrderForm(box, customerId, reload, savedView(order));
    } catch (e) {
      submit.disabled = false;
      // Point at the garment each complaint is about, and say the rules in the page's language.
      const nameOf = (f) => {
        const m = /^items\[(\d+)\]/.exec(f || "");
        return m && picked[Number(m[1])] ? garmentText(picked[Number(m[1])].g) : fieldName(f);
      };
      const fields = e instanceof ApiError ? (e.errors && e.errors.length ? e.errors : e.field ? [{ field: e.field, message: e.detail }] : []) : [];
      for (const x of fields) {
        const m = /^items\[(\d+)\]\.(\w+)/.exec(x.field);
        const r = m && picked[Number(m[1])];
        if (!r) continue;
        if (m[2] === "declared_value_cents") r.value.classList.add("invalid");
        say(r.note, x.message, "error");
      }
      replace(status, problemBox(e, nameOf));
    }
  };
  replace(
    box,
    h("h3", {}, t("storage.new_order")),
    h(
      "form",
      { id: "storage-order-form", onsubmit: onSubmit },
      storable.length ? h("p", { class: "muted" }, t("storage.pick_hint")) : h("p", { class: "msg", id: "nothing-storable" }, t("storage.nothing_storable")),
      h("ul", { class: "plain store-garments" }, lines),
      blocked.length
        ? h(
            "details",
            { id: "not-storable" },
            h("summary", {}, t("storage.not_storable", { n: blocked.length })),
            h("ul", { class: "plain" }, blocked.map(({ g, why }) => h("li", { dataset: { garment: g.garment_id } }, garmentText(g), h("br"), h("span", { class: "muted" }, why)))),
          )
        : null,
      h("div", { class: "form-grid" }, field("term-months", t("storage.term"), term), returnField, field("delivery-preference", t("storage.preference"), preference)),
      termWarn,
      h("div", { class: "actions" }, submit, h("button", { type: "button", onclick: () => newOrderForm(box, customerId, reload) }, t("common.cancel"))),
      status,
    ),
  );
  submit.disabled = !storable.length;
}

/** The order just recorded: its receipt, what it costs, and a planned return the paid term does not cover. */
function savedView(order) {
  return h(
    "div",
    { class: "msg ok", role: "status", id: "storage-order-saved" },
    h("strong", {}, t("storage.saved", { n: order.items.length })),
    " ",
    receiptLink(order.customer_id, order),
    h("p", {}, t("storage.saved_cost", { fee: money(order.fee_cents), premium: money(order.premium_cents), total: money(order.total_cents) })),
    h("p", {}, t("storage.saved_return", { date: day(order.planned_return_on), ends: day(order.term_ends_on) })),
    order.planned_return_on > order.term_ends_on ? h("p", { class: "hint" }, t("storage.warn_term", { date: day(order.term_ends_on) })) : null,
  );
}

register([{ prefix: "storage", role: "dispatcher", render: storageScreen }], [{ href: "#/storage", key: "nav.storage", role: "dispatcher" }]);
