// The dispatcher's screens: the call queue, campaigns, lists, customers and label sheets.

import { call, get, ApiError } from "./api.js";
import { h, replace, confirmButton } from "./dom.js";
import { t, word, currentLang } from "./i18n.js";
import { money, date, dateTime, grouped } from "./format.js";
import { register, atLeast } from "./app.js";
import { wardrobeBox } from "./wardrobe.js";
import { problemView, actionKey, csvButton, query, table, pager, fetchFile, saveBlob, say, guarded, send, field, todayIso, addDays } from "./kit.js";

const LISTS = [
  { kind: "reminders", path: "reminders", campaign: true, filters: ["window", "on", "cap_days"] },
  { kind: "storage_upsell", path: "storage-upsell", campaign: true, filters: ["window", "on", "lead_days", "months"] },
  { kind: "special_sizes", path: "special-sizes", campaign: true, filters: ["on", "threshold", "min_garments"] },
  { kind: "at_risk", path: "at-risk", campaign: true, filters: ["on", "status", "factor", "min_pickups"] },
  { kind: "customer_value", path: "customer-value", campaign: false, role: "manager", filters: ["on", "tier", "stage"] },
];
const TIERS = ["platinum", "gold", "silver", "bronze"];
const STAGES = ["new", "growing", "stable", "declining"];
const RISK_STATUSES = ["slipping", "gone"];
const PAGE = 20;

function listOf(kind) {
  return LISTS.find((l) => l.kind === kind || l.path === kind);
}

function garmentLine(g) {
  const parts = [word("kind", g.kind), g.material ? word("material", g.material) : null, g.brand, g.size, g.colour].filter(Boolean);
  const last = g.last_cleaned_at ? ` · ${t("queue.last_cleaned", { date: date(g.last_cleaned_at, currentLang()) })}` : "";
  return `${parts.join(" · ")}${last}`;
}

// ---------------------------------------------------------------- queue

/** Entries worked in this sitting, so a "no answer" moves on to the next entry instead of showing it again. */
const worked = new Set(JSON.parse(sessionStorage.getItem("doorstep.worked") || "[]"));
function markWorked(entry) {
  worked.add(`${entry.campaign_id}/${entry.customer_id}`);
  sessionStorage.setItem("doorstep.worked", JSON.stringify([...worked]));
}

async function queueScreen(main) {
  replace(main, h("h1", {}, t("queue.title")), h("p", { class: "msg" }, t("common.loading")));
  let page;
  try {
    page = await get(`/queue${query({ limit: 100 })}`);
  } catch (e) {
    replace(main, h("h1", {}, t("queue.title")), problemView(e));
    return;
  }
  const items = page.items || [];
  const fresh = items.filter((e) => !worked.has(`${e.campaign_id}/${e.customer_id}`));
  const current = fresh[0] || null;
  const dueNow = (e) => e.status === "call_back" && e.call_back_at && new Date(e.call_back_at) <= new Date();
  const upcoming = fresh.slice(1, 11);
  replace(
    main,
    h("h1", {}, t("queue.title")),
    h("p", { class: "muted", id: "queue-count" }, t("queue.count", { n: page.total ?? items.length })),
    current ? entryCard(main, current, dueNow(current)) : h("p", { class: "msg ok", id: "queue-empty" }, t("queue.empty")),
    worked.size && !current && items.length
      ? h("button", { type: "button", class: "small", onclick: () => { worked.clear(); sessionStorage.removeItem("doorstep.worked"); queueScreen(main); } }, t("queue.start_over"))
      : null,
    upcoming.length
      ? h(
          "section",
          { class: "upcoming" },
          h("h2", {}, t("queue.next")),
          h("ol", { class: "plain" }, upcoming.map((e) => h("li", {}, h("strong", {}, e.name), " · ", e.campaign_name, dueNow(e) ? h("span", { class: "tag warn" }, t("queue.call_back_due")) : null))),
        )
      : null,
  );
  document.body.dataset.painted = "queue";
}

function entryCard(main, e, due) {
  const snap = e.snapshot || {};
  const garments = Array.isArray(snap.garments) ? snap.garments : [];
  const note = h("textarea", { id: "outcome-note", rows: 2, maxlength: 2000, placeholder: t("queue.note_placeholder") });
  const status = h("div", { class: "status", "aria-live": "polite" });
  // One key per attempt at this entry: a retry after a lost answer is recorded once.
  const once = actionKey();
  const record = async (outcome, extra = {}) => {
    for (const b of main.querySelectorAll(".outcomes button")) b.disabled = true;
    say(status, t("queue.saving"), "");
    try {
      await once((key) =>
        call("POST", `/campaigns/${e.campaign_id}/entries/${e.customer_id}/outcomes`, {
          body: { outcome, notes: note.value, ...extra },
          headers: { "Idempotency-Key": key },
        }),
      );
      markWorked(e);
      await queueScreen(main);
      const top = main.querySelector("h1");
      if (top) top.after(h("p", { class: "msg ok", role: "status", id: "outcome-saved" }, t("queue.saved", { name: e.name, outcome: t(`outcome.${outcome}`) })));
    } catch (err) {
      for (const b of main.querySelectorAll(".outcomes button")) b.disabled = false;
      replace(status, problemView(err));
    }
  };
  const callBack = h("input", { type: "datetime-local", id: "call-back-at" });
  const bookDay = h("input", { type: "date", id: "booked-for", value: addDays(todayIso(), 1), min: todayIso() });
  return h(
    "article",
    { class: "entry-card", id: "entry", dataset: { customer: e.customer_id, campaign: e.campaign_id } },
    h("p", { class: "muted" }, `${e.campaign_name} · #${e.rank}`, e.attempts ? ` · ${t("queue.attempts", { n: e.attempts })}` : ""),
    due ? h("div", { class: "banner warn" }, t("queue.call_back_due_at", { at: dateTime(e.call_back_at, currentLang()) })) : null,
    h("h2", { class: "customer-name" }, h("a", { href: `#/customers/${e.customer_id}` }, e.name)),
    snap.open_complaint ? h("div", { class: "banner danger", id: "complaint-flag" }, t("card.open_complaint")) : null,
    e.phone ? h("a", { class: "phone", href: `tel:${e.phone}`, id: "call" }, `☎ ${e.phone}`) : h("p", { class: "muted" }, t("queue.no_phone")),
    e.address ? h("p", { class: "address" }, e.address) : null,
    snap.reason ? h("p", { class: "reason" }, h("strong", {}, t("queue.reason")), " ", reasonText(snap)) : null,
    garments.length
      ? h("section", {}, h("h3", {}, t("queue.outstanding", { n: garments.length })), h("ul", { class: "garments" }, garments.map((g) => h("li", {}, garmentLine(g), g.last_price_cents ? h("span", { class: "num" }, money(g.last_price_cents)) : null))))
      : null,
    field("outcome-note", t("queue.note"), note),
    h(
      "div",
      { class: "outcomes" },
      h("button", { type: "button", id: "o-no-answer", onclick: () => record("no_answer") }, t("outcome.no_answer")),
      h("button", { type: "button", id: "o-declined", onclick: () => record("declined") }, t("outcome.declined")),
      confirmButton(t("outcome.left"), t("queue.left_confirm"), () => record("left"), { id: "o-left" }),
      confirmButton(t("outcome.never_contact"), t("queue.never_confirm"), () => record("never_contact"), { id: "o-never", class: "danger" }),
      h(
        "div",
        { class: "outcome-with" },
        h("label", { for: "booked-for", class: "label" }, t("queue.booked_for")),
        bookDay,
        h("button", { type: "button", class: "primary", id: "o-booked", onclick: () => (bookDay.value ? record("booked", { booked_for: bookDay.value }) : bookDay.focus()) }, t("outcome.booked")),
      ),
      h(
        "div",
        { class: "outcome-with" },
        h("label", { for: "call-back-at", class: "label" }, t("queue.call_back_at")),
        callBack,
        h("button", { type: "button", id: "o-call-back", onclick: () => (callBack.value ? record("call_back", { call_back_at: new Date(callBack.value).toISOString() }) : callBack.focus()) }, t("outcome.call_back")),
      ),
    ),
    status,
  );
}

// ---------------------------------------------------------------- campaigns

async function campaignsScreen(main, parts) {
  if (parts[0] === "new") return newCampaignScreen(main, parts[1] || "reminders");
  if (parts[0]) return campaignScreen(main, parts[0], Number(parts[1] || 0));
  const box = h("div", {});
  replace(main, h("h1", {}, t("campaigns.title")), h("p", {}, h("a", { class: "button primary", href: "#/campaigns/new", id: "new-campaign" }, t("campaigns.new"))), box);
  const show = async (offset) => {
    await guarded(box, async () => {
      const page = await get(`/campaigns${query({ limit: PAGE, offset })}`);
      const rows = page.items.map((c) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: `#/campaigns/${c.campaign_id}` }, c.name)),
          h("td", {}, t(`list.${c.list}`)),
          h("td", {}, date(`${c.as_of}T12:00:00Z`, currentLang())),
          h("td", { class: "num" }, c.entries),
          h("td", { class: "num" }, c.open),
          h("td", { class: "num" }, c.booked),
        ),
      );
      replace(
        box,
        page.items.length ? table([t("campaigns.name"), t("campaigns.list"), t("campaigns.as_of"), { label: t("campaigns.entries"), num: true }, { label: t("campaigns.open"), num: true }, { label: t("campaigns.booked"), num: true }], rows) : h("p", { class: "muted" }, t("campaigns.none")),
        pager(page, show),
      );
    });
  };
  await show(0);
}

/** The put-away window open today, else the next to start: the default for lists that need one. */
async function defaultWindow() {
  const today = todayIso();
  const year = Number(today.slice(0, 4));
  try {
    const [a, b] = await Promise.all([get(`/season-calendar?year=${year}`), get(`/season-calendar?year=${year + 1}`)]);
    const windows = [...a.windows, ...b.windows].filter((w) => w.ends_on >= today).sort((x, y) => (x.starts_on < y.starts_on ? -1 : 1));
    return windows.length ? windows[0].id : "";
  } catch {
    return "";
  }
}

function filterInputs(list, values = {}) {
  const inputs = {};
  const fields = list.filters.map((f) => {
    let input;
    if (f === "on") input = h("input", { type: "date", value: values.on || "" });
    else if (f === "tier") input = h("select", {}, h("option", { value: "" }, t("common.any")), TIERS.map((x) => h("option", { value: x, selected: values.tier === x }, t(`tier.${x}`))));
    else if (f === "status") input = h("select", {}, h("option", { value: "" }, t("common.any")), RISK_STATUSES.map((x) => h("option", { value: x, selected: values.status === x }, t(`risk.${x}`))));
    else if (f === "stage") input = h("select", {}, h("option", { value: "" }, t("common.any")), STAGES.map((x) => h("option", { value: x, selected: values.stage === x }, t(`stage.${x}`))));
    else if (f === "window") input = h("input", { type: "text", placeholder: "2027-spring", value: values.window || "", autocomplete: "off" });
    else input = h("input", { type: "number", step: "any", min: 0, value: values[f] ?? "" });
    inputs[f] = input;
    return field(`f-${f}`, t(`filter.${f}`), input);
  });
  const read = () => Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, i.value.trim()]));
  return { fields, read };
}

/** Why an entry ranks where it does, in the page's language, from its fields (the server's `reason` is English, for CSVs);
 * lateness is counted to `asOf`, the list's day (a past day's list says how late they were then). */
function reasonText(x, asOf = todayIso()) {
  const n = (v) => Number.isFinite(v);
  const parts = [];
  if (n(x.outstanding) && n(x.expected_value_cents)) {
    const worn = n(x.in_use_value_cents) ? x.in_use_value_cents : x.expected_value_cents;
    parts.push(t("reason.outstanding", { n: x.outstanding, value: money(worn) }));
    if (Array.isArray(x.garments) && x.garments.length) {
      const counts = new Map();
      for (const g of x.garments) counts.set(g.kind, (counts.get(g.kind) || 0) + 1);
      const kinds = [...counts].sort((a, b) => b[1] - a[1]).map(([k, c]) => word("kind", k) + (c > 1 ? ` ×${c}` : ""));
      parts.push(kinds.join(currentLang() === "en" ? ", " : "、"));
    }
    if (x.usual && x.usual.usual_date) {
      const late = Math.round((Date.parse(asOf) - Date.parse(x.usual.usual_date)) / 86400000);
      const when = date(x.usual.usual_date, currentLang());
      parts.push(late > 0 ? t("reason.usual_late", { date: when, days: late }) : t("reason.usual", { date: when }));
    }
    if (n(x.p_active)) parts.push(t("reason.active", { pct: Math.round(x.p_active * 100) }));
    if (n(x.call_value_cents)) parts.push(t("reason.call_value", { value: money(x.call_value_cents) }));
  } else if (n(x.candidates) && n(x.estimated_fee_cents)) {
    parts.push(t("reason.to_store", { n: x.candidates, fee: money(x.estimated_fee_cents) }));
    if (n(x.p_active)) parts.push(t("reason.active", { pct: Math.round(x.p_active * 100) }));
  } else if (n(x.special_garments) && n(x.garments)) {
    const sizes = Array.isArray(x.sizes) ? x.sizes.join(", ") : "";
    parts.push(t("reason.special", { n: x.special_garments, all: x.garments, pct: Math.round((x.share || 0) * 100), sizes }));
    if (n(x.yearly_spend_cents)) parts.push(t("reason.spends", { money: money(Math.round(x.yearly_spend_cents)) }));
  } else if (n(x.days_since) && n(x.usual_interval_days)) {
    const x2 = (x.days_since / Math.max(1, x.usual_interval_days)).toFixed(1);
    parts.push(t("reason.overdue", { days: Math.round(x.days_since), usual: Math.round(x.usual_interval_days), x: x2 }));
    if (n(x.yearly_loss_cents)) parts.push(t("reason.spends", { money: money(x.yearly_loss_cents) }));
    if (n(x.p_active)) {
      parts.push(t("reason.active", { pct: Math.round(x.p_active * 100) }));
      parts.push(t(x.status === "gone" ? "reason.gone" : "reason.slipping"));
    }
  } else {
    return x.reason || "";
  }
  if (x.tier) parts.push(t("reason.tier", { tier: word("tier", x.tier) }));
  if (x.open_complaint) parts.push(t("reason.complaint"));
  return parts.join(currentLang() === "en" ? "; " : "；");
}

function listRows(list, items, on) {
  if (list.kind === "customer_value") {
    return {
      head: ["#", t("field.name"), t("lists.tier"), t("lists.stage"), { label: t("lists.pickups"), num: true }, { label: t("lists.spend"), num: true }],
      rows: items.map((x, i) => h("tr", {}, h("td", {}, i + 1), h("td", {}, h("a", { href: `#/customers/${x.customer_id}` }, x.name)), h("td", {}, t(`tier.${x.tier}`)), h("td", {}, t(`stage.${x.stage}`)), h("td", { class: "num" }, x.pickups), h("td", { class: "num" }, money(x.spend_cents)))),
    };
  }
  return {
    head: ["#", t("field.name"), t("field.phone"), t("lists.reason")],
    rows: items.map((x) =>
      h(
        "tr",
        {},
        h("td", {}, x.rank),
        h("td", {}, h("a", { href: `#/customers/${x.customer_id}` }, x.name), x.open_complaint ? h("span", { class: "tag danger" }, t("card.open_complaint")) : null),
        h("td", {}, x.phone ? h("a", { href: `tel:${x.phone}` }, x.phone) : ""),
        h("td", { class: "reason-cell" }, reasonText(x, on)),
      ),
    ),
  };
}

async function newCampaignScreen(main, kind) {
  const list = listOf(kind) && listOf(kind).campaign ? listOf(kind) : LISTS[0];
  const name = h("input", { type: "text", maxlength: 200, value: `${t(`list.${list.kind}`)} ${todayIso()}` });
  const select = h(
    "select",
    { onchange: () => (location.hash = `#/campaigns/new/${select.value}`) },
    LISTS.filter((l) => l.campaign).map((l) => h("option", { value: l.kind, selected: l.kind === list.kind }, t(`list.${l.kind}`))),
  );
  const max = h("input", { type: "number", min: 1, max: 100000, step: 1 });
  const filters = filterInputs(list, list.filters.includes("window") ? { window: await defaultWindow() } : {});
  const preview = h("div", { id: "preview" });
  const status = h("div", { class: "status" });
  const params = () => {
    const f = filters.read();
    const out = {};
    for (const [k, v] of Object.entries(f)) if (v !== "") out[k] = ["window", "on", "status"].includes(k) ? v : Number(v);
    return out;
  };
  const doPreview = async () => {
    replace(preview, h("p", { class: "msg" }, t("common.loading")));
    await guarded(preview, async () => {
      const page = await get(`/lists/${list.path}${query({ ...params(), limit: 10 })}`);
      const total = max.value ? Math.min(Number(max.value), page.total) : page.total;
      const { head, rows } = listRows(list, page.items, page.on);
      replace(preview, h("p", { class: "msg", id: "preview-total", dataset: { total } }, t("campaigns.preview_total", { n: total })), table(head, rows));
      create.disabled = total === 0;
    });
  };
  const once = actionKey();
  const create = h(
    "button",
    {
      type: "button",
      class: "primary",
      id: "create-campaign",
      disabled: true,
      onclick: async () => {
        create.disabled = true;
        const body = { name: name.value.trim(), list: list.kind, ...params() };
        if (max.value) body.max_entries = Number(max.value);
        try {
          const c = await once((key) => send("POST", "/campaigns", body, key));
          location.hash = `#/campaigns/${c.campaign_id}`;
        } catch (e) {
          create.disabled = false;
          replace(status, problemView(e));
        }
      },
    },
    t("campaigns.create"),
  );
  replace(
    main,
    h("h1", {}, t("campaigns.new")),
    h(
      "form",
      { class: "form-grid", onsubmit: (ev) => { ev.preventDefault(); doPreview(); } },
      field("c-name", t("campaigns.name"), name),
      field("c-list", t("campaigns.list"), select),
      filters.fields,
      field("c-max", t("campaigns.max_entries"), max),
      h("div", { class: "actions" }, h("button", { type: "submit", id: "preview-campaign" }, t("campaigns.preview")), create),
    ),
    status,
    preview,
  );
}

async function campaignScreen(main, id, offset) {
  replace(main, h("p", { class: "msg" }, t("common.loading")));
  let c;
  try {
    c = await get(`/campaigns/${id}`);
  } catch (e) {
    replace(main, problemView(e));
    return;
  }
  const assignBox = h("section", {});
  const progress = h("section", {});
  const entries = h("section", {});
  replace(
    main,
    h("p", {}, h("a", { href: "#/campaigns" }, `← ${t("campaigns.title")}`)),
    h("h1", {}, c.name),
    h(
      "dl",
      { class: "facts", id: "campaign-facts" },
      h("dt", {}, t("campaigns.list")), h("dd", {}, t(`list.${c.list}`)),
      h("dt", {}, t("campaigns.entries")), h("dd", { id: "campaign-entries" }, c.entries),
      h("dt", {}, t("campaigns.unassigned")), h("dd", {}, c.unassigned),
      h("dt", {}, t("campaigns.open")), h("dd", {}, c.open),
      h("dt", {}, t("campaigns.booked")), h("dd", {}, c.booked),
      h("dt", {}, t("campaigns.follow_until")), h("dd", {}, date(`${c.follow_until}T12:00:00Z`, currentLang())),
    ),
    assignBox,
    progress,
    entries,
  );
  // Assign: everyone who can take calls, ticked to share the unassigned entries in turn.
  await guarded(assignBox, async () => {
    const people = await get("/assignees");
    const status = h("div", {});
    const boxes = people.map((p) => h("label", { class: "check" }, h("input", { type: "checkbox", value: p.staff_id, name: "assignee" }), `${p.display_name} · ${t(`role.${p.role}`)}`));
    replace(
      assignBox,
      h("h2", {}, t("campaigns.assign")),
      h("div", { class: "checks" }, boxes),
      h(
        "button",
        {
          type: "button",
          id: "assign",
          onclick: async () => {
            const ids = [...assignBox.querySelectorAll("input[name=assignee]:checked")].map((i) => i.value);
            if (!ids.length) return say(status, t("campaigns.pick_someone"), "error");
            await guarded(status, async () => {
              const r = await send("POST", `/campaigns/${id}/assign`, { staff_ids: ids });
              const n = r.assigned.reduce((a, x) => a + x.entries, 0);
              await campaignScreen(main, id, 0);
              const top = main.querySelector("h1");
              if (top) top.after(h("p", { class: "msg ok", role: "status" }, t("campaigns.assigned", { n })));
            });
          },
        },
        t("campaigns.assign_unassigned"),
      ),
      status,
    );
  });
  if (atLeast("manager")) {
    await guarded(progress, async () => {
      const r = await get(`/campaigns/${id}/report`);
      const rows = [...r.dispatchers, r.total].map((d) =>
        h(
          "tr",
          { class: d === r.total ? "total-row" : null },
          h("td", {}, d === r.total ? t("campaigns.total") : d.display_name || t("campaigns.nobody")),
          h("td", { class: "num" }, d.entries),
          h("td", { class: "num" }, d.worked),
          h("td", { class: "num" }, d.reached),
          h("td", { class: "num" }, d.booked),
          h("td", { class: "num" }, d.pickups),
          h("td", { class: "num" }, money(d.revenue_cents)),
        ),
      );
      replace(
        progress,
        h("h2", {}, t("campaigns.progress")),
        table([t("campaigns.dispatcher"), ...["entries", "worked", "reached", "booked", "pickups", "revenue"].map((k) => ({ label: t(`funnel.${k}`), num: true }))], rows, { id: "progress" }),
      );
    });
  }
  const showEntries = async (off) => {
    await guarded(entries, async () => {
      const page = await get(`/campaigns/${id}/entries${query({ limit: PAGE, offset: off })}`);
      const rows = page.items.map((e) => h("tr", {}, h("td", {}, e.rank), h("td", {}, h("a", { href: `#/customers/${e.customer_id}` }, e.name)), h("td", {}, t(`status.${e.status}`)), h("td", {}, e.booked_for || "")));
      replace(
        entries,
        h("h2", {}, t("campaigns.entries")),
        page.total ? h("div", { class: "actions" }, csvButton(`/campaigns/${id}/entries?format=csv`, `campaign-${c.as_of}.csv`)) : null,
        // A dispatcher is shown the entries assigned to them: say so rather than show an empty table.
        page.total ? table(["#", t("field.name"), t("campaigns.status"), t("outcome.booked")], rows) : h("p", { class: "msg", id: "no-entries" }, t("campaigns.none_yours")),
        page.total ? pager(page, showEntries) : null,
      );
    });
  };
  await showEntries(offset);
}

// ---------------------------------------------------------------- lists

async function listsScreen(main, parts) {
  const visible = LISTS.filter((l) => !l.role || atLeast(l.role));
  const list = visible.find((l) => l.path === parts[0]) || visible[0];
  const values = Object.fromEntries(new URLSearchParams(parts[1] || ""));
  if (list.filters.includes("window") && !values.window) values.window = await defaultWindow();
  const filters = filterInputs(list, values);
  const box = h("div", { id: "list-box" });
  const tabs = h("nav", { class: "tabs", "aria-label": t("lists.title") }, visible.map((l) => h("a", { href: `#/lists/${l.path}`, class: l === list ? "current" : null, "aria-current": l === list ? "page" : null }, t(`list.${l.kind}`))));
  const params = () => Object.fromEntries(Object.entries(filters.read()).filter(([, v]) => v !== ""));
  let again = null;
  const show = async (offset) => {
    clearTimeout(again);
    replace(box, h("p", { class: "msg" }, t("common.loading")));
    await guarded(box, async () => {
      let page;
      try {
        page = await get(`/lists/${list.path}${query({ ...params(), limit: PAGE, offset })}`);
      } catch (e) {
        // Still being prepared (a large company just restarted): say so, and ask again when the server says.
        if (!(e instanceof ApiError && e.status === 503 && e.retryAfter > 0)) throw e;
        replace(box, problemView(e), h("p", { class: "muted", id: "list-retry" }, t("lists.retrying", { s: e.retryAfter })));
        again = setTimeout(() => box.isConnected && show(offset), e.retryAfter * 1000);
        return;
      }
      const { head, rows } = listRows(list, page.items, page.on);
      replace(
        box,
        h("p", { class: "muted", id: "list-total" }, t("lists.total", { n: Number(page.total).toLocaleString(currentLang()), on: date(`${page.on}T12:00:00Z`, currentLang()) })),
        h(
          "div",
          { class: "actions" },
          csvButton(`/lists/${list.path}${query({ ...params(), format: "csv" })}`, `${list.path}-${page.on}.csv`),
          list.campaign ? h("a", { class: "button small", href: `#/campaigns/new/${list.kind}` }, t("lists.make_campaign")) : null,
        ),
        list.kind === "customer_value" && page.segments ? segmentTable(page.segments) : null,
        table(head, rows),
        pager(page, show),
      );
    });
  };
  replace(
    main,
    h("h1", {}, t("lists.title")),
    tabs,
    h("form", { class: "form-grid", onsubmit: (ev) => { ev.preventDefault(); show(0); } }, filters.fields, h("div", { class: "actions" }, h("button", { type: "submit" }, t("lists.apply")))),
    box,
  );
  await show(0);
}

/** Tier x stage counts (customers), as the value list's meta gives them. */
export function segmentTable(segments) {
  const rows = TIERS.filter((tier) => segments[tier]).map((tier) =>
    h("tr", {}, h("th", { scope: "row" }, t(`tier.${tier}`)), STAGES.map((st) => h("td", { class: "num" }, (segments[tier] || {})[st] || 0))),
  );
  return table([t("lists.tier"), ...STAGES.map((st) => ({ label: t(`stage.${st}`), num: true }))], rows, { class: "data segments", id: "segments" });
}

// ---------------------------------------------------------------- customers

async function customersScreen(main, parts) {
  if (parts[0]) return customerScreen(main, parts[0]);
  const q = h("input", { type: "search", id: "customer-q", placeholder: t("customers.search_placeholder"), autocomplete: "off" });
  const box = h("div", {});
  const show = async (offset) => {
    await guarded(box, async () => {
      const page = await get(`/customers${query({ q: q.value.trim(), limit: PAGE, offset })}`);
      const rows = page.items.map((c) =>
        h("tr", {}, h("td", {}, h("a", { href: `#/customers/${c.customer_id}` }, c.name)), h("td", {}, c.phone || ""), h("td", {}, c.address || ""), h("td", {}, c.do_not_contact ? h("span", { class: "tag danger" }, t("field.do_not_contact")) : "")),
      );
      replace(box, table([t("field.name"), t("field.phone"), t("field.address"), ""], rows), pager(page, show));
    });
  };
  replace(
    main,
    h("h1", {}, t("customers.title")),
    h("form", { class: "search", role: "search", onsubmit: (ev) => { ev.preventDefault(); show(0); } }, h("label", { for: "customer-q", class: "visually-hidden" }, t("customers.search")), q, h("button", { type: "submit" }, t("customers.search"))),
    box,
  );
  q.focus();
  await show(0);
}

/** The customer's open complaints, each with a box to say what was done and close it. */
function complaintsView(list, customerId, reload) {
  if (!list.length) return null;
  return h(
    "div",
    { class: "banner danger", id: "complaints" },
    h("strong", {}, t("card.open_complaint")),
    list.map((x) => {
      const text = h("textarea", { rows: 2, maxlength: 4000, placeholder: t("complaint.resolution_placeholder"), "aria-label": t("complaint.resolution") });
      const status = h("div", { class: "status", "aria-live": "polite" });
      const resolve = async () => {
        const resolution = text.value.trim();
        if (!resolution) return say(status, t("complaint.empty"), "error");
        button.disabled = true;
        await guarded(status, async () => {
          await send("POST", `/customers/${customerId}/interactions/${x.interaction_id}/resolve`, { resolution });
          say(status, t("complaint.resolved"));
          reload();
        });
        button.disabled = false;
      };
      const button = h("button", { type: "button", class: "small", onclick: resolve }, t("complaint.resolve"));
      return h("div", { class: "complaint-resolve" }, h("p", {}, h("time", { datetime: x.occurred_at }, date(x.occurred_at, currentLang())), " ", x.body), text, h("div", { class: "actions" }, button), status);
    }),
  );
}

async function customerScreen(main, id) {
  replace(main, h("p", { class: "msg" }, t("common.loading")));
  let card;
  try {
    card = await get(`/customers/${id}/card`);
  } catch (e) {
    replace(main, problemView(e));
    return;
  }
  const c = card.customer;
  const edit = h("section", {});
  const labels = h("section", {});
  const history = h("section", {});
  const storage = h("section", {});
  const storageForm = h("section", { id: "storage-form" });
  const wardrobe = h("section", { id: "wardrobe" });
  const personal = atLeast("admin") ? h("section", { id: "personal-data" }) : null;
  replace(
    main,
    h("p", {}, h("a", { href: "#/customers" }, `← ${t("customers.title")}`)),
    h("h1", { class: "customer-name" }, c.name),
    c.do_not_contact ? h("div", { class: "banner warn" }, t("card.do_not_contact")) : null,
    complaintsView(card.open_complaints, id, () => customerScreen(main, id)),
    c.phone ? h("a", { class: "phone", href: `tel:${c.phone}` }, `☎ ${c.phone}`) : null,
    h("p", { class: "address" }, c.address || t("card.no_address")),
    wardrobe,
    edit,
    labels,
    storage,
    storageForm,
    history,
    personal,
  );
  wardrobeBox(wardrobe, card, id, () => customerScreen(main, id));
  customerEdit(edit, c, () => customerScreen(main, id));
  customerLabels(labels, c);
  const showStorage = () => guarded(storage, async () => {
    const page = await get(`/customers/${id}/storage-orders?limit=20`);
    if (!page.items.length) {
      replace(storage, h("h2", {}, t("customers.storage")), h("p", { class: "muted" }, t("customers.no_storage")));
      return;
    }
    replace(
      storage,
      h("h2", {}, t("customers.storage")),
      table(
        [t("customers.receipt"), t("campaigns.status"), t("customers.return_on"), { label: t("customers.items"), num: true }, { label: t("customers.fee"), num: true }],
        page.items.map((o) =>
          h(
            "tr",
            {},
            h("td", {}, h("a", { href: `/api/v1/customers/${id}/storage-orders/${o.order_id}/receipt.html`, target: "_blank", rel: "noopener" }, o.receipt_no), " ", h("a", { href: `/api/v1/customers/${id}/storage-orders/${o.order_id}/receipt.pdf`, target: "_blank", rel: "noopener" }, "PDF")),
            h("td", {}, word("storage_status", o.status)),
            h("td", {}, o.planned_return_on),
            h("td", { class: "num" }, o.item_count),
            h("td", { class: "num" }, money(o.fee_cents + o.premium_cents)),
          ),
        ),
      ),
    );
  });
  showStorage();
  // Imported when used: a static import would run storage.js first and put its menu entry before these.
  import("./storage.js").then(({ newOrderForm }) => newOrderForm(storageForm, id, showStorage));
  if (personal) import("./privacy.js").then(({ personalDataBox }) => personalDataBox(personal, id, () => customerScreen(main, id)));
  guarded(history, async () => {
    const page = await get(`/customers/${id}/history?limit=30`);
    replace(
      history,
      h("h2", {}, t("customers.history")),
      page.items.length
        ? h(
            "ul",
            { class: "history" },
            page.items.map((x) =>
              x.type === "pickup"
                ? h("li", {}, h("time", {}, dateTime(x.at, currentLang())), " ", h("a", { href: `/app/receipt/${id}/${x.pickup_id}` }, t("customers.pickup", { n: x.line_count })), " ", h("span", { class: "num" }, money(x.total_cents)))
                : h("li", { class: x.kind === "complaint" ? "complaint" : null }, h("time", {}, dateTime(x.at, currentLang())), " ", h("strong", {}, word("interaction", x.kind)), " ", x.body),
            ),
          )
        : h("p", { class: "muted" }, t("card.no_pickups")),
    );
  });
}

function customerEdit(box, c, reload) {
  const consent = h("input", { type: "checkbox", id: "consent", checked: !!c.label_consent_at });
  const method = h("input", { type: "text", id: "consent-method", maxlength: 200, value: c.label_consent_method || "", placeholder: t("customers.consent_method_placeholder") });
  const dnc = h("input", { type: "checkbox", id: "dnc", checked: c.do_not_contact });
  const name = h("input", { type: "text", maxlength: 200, value: c.name });
  const phone = h("input", { type: "tel", maxlength: 40, value: c.phone || "" });
  const address = h("input", { type: "text", maxlength: 500, value: c.address || "" });
  const notes = h("textarea", { rows: 2, maxlength: 4000 }, c.notes || "");
  const status = h("div", {});
  replace(
    box,
    h("h2", {}, t("customers.edit")),
    h(
      "form",
      {
        class: "form-grid",
        id: "customer-form",
        onsubmit: async (ev) => {
          ev.preventDefault();
          const body = { name: name.value, phone: phone.value.trim() || null, address: address.value.trim() || null, notes: notes.value, do_not_contact: dnc.checked };
          if (consent.checked && !c.label_consent_at) body.label_consent = { given_at: new Date().toISOString(), method: method.value.trim() };
          else if (consent.checked && method.value.trim() !== (c.label_consent_method || "")) body.label_consent = { given_at: c.label_consent_at, method: method.value.trim() };
          else if (!consent.checked && c.label_consent_at) body.label_consent = null;
          await guarded(status, async () => {
            await call("PATCH", `/customers/${c.customer_id}`, { body });
            await reload();
            const top = document.querySelector("main h1");
            if (top) top.after(h("p", { class: "msg ok", role: "status", id: "customer-saved" }, t("note.saved")));
          });
        },
      },
      field("c-name", t("field.name"), name),
      field("c-phone", t("field.phone"), phone),
      field("c-address", t("field.address"), address),
      field("c-notes", t("field.notes"), notes),
      h("label", { class: "check" }, consent, t("customers.consent")),
      field("consent-method", t("field.label_consent_method"), method),
      h("label", { class: "check" }, dnc, t("card.do_not_contact")),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "save-customer" }, t("note.save"))),
    ),
    status,
  );
}

function customerLabels(box, c) {
  const status = h("div", {});
  // One key per replacement: a retry after a lost answer gets the label issued, not yet another one.
  const once = actionKey();
  const reason = h("input", { type: "text", id: "label-reason", maxlength: 200, placeholder: t("labels.reason_placeholder") });
  const show = async () => {
    await guarded(box, async () => {
      const all = await get(`/customers/${c.customer_id}/labels`);
      const active = all.find((l) => !l.revoked_at);
      replace(
        box,
        h("h2", {}, t("labels.door_label")),
        active ? h("p", { id: "active-code", class: "code" }, grouped(active.code)) : h("p", { class: "muted" }, t("labels.none")),
        c.label_consent_at
          ? h(
              "div",
              { class: "form-grid" },
              field("label-reason", t("labels.reason"), reason),
              h(
                "div",
                { class: "actions" },
                confirmButton(active ? t("labels.replace") : t("labels.issue"), t("labels.replace_confirm"), async () => {
                  await guarded(status, async () => {
                    await once((key) =>
                      call("POST", `/customers/${c.customer_id}/labels${query({ reason: reason.value.trim() })}`, {
                        headers: { "Idempotency-Key": key },
                      }),
                    );
                    const { blob, headers } = await fetchFile("POST", "/labels/door-sheet", { customer_ids: [c.customer_id], lang: currentLang() });
                    await show();
                    const a = saveBlob(blob, "door-label.pdf", t("labels.pdf_ready", { n: headers.get("x-label-count") || 1 }));
                    replace(status, h("p", { class: "msg ok", role: "status" }, a));
                  });
                }, { id: "replace-label" }),
              ),
            )
          : h("p", { class: "muted" }, t("labels.needs_consent")),
        status,
      );
    });
  };
  show();
}

// ---------------------------------------------------------------- labels

async function labelsScreen(main) {
  const selected = new Map();
  const chosen = h("ul", { class: "chips", id: "chosen" });
  const result = h("div", { id: "sheet-result", "aria-live": "polite" });
  const count = h("p", { class: "muted", id: "unprinted" });
  const q = h("input", { type: "search", id: "label-q", placeholder: t("customers.search_placeholder"), autocomplete: "off" });
  const found = h("ul", { class: "plain found" });
  const redraw = () => {
    replace(chosen, [...selected.values()].map((c) => h("li", {}, c.name, h("button", { type: "button", class: "small", "aria-label": t("visit.remove"), onclick: () => { selected.delete(c.customer_id); redraw(); } }, "×"))));
    printSelected.disabled = selected.size === 0;
    printSelected.textContent = t("labels.print_selected", { n: selected.size });
  };
  // "Print every unprinted" asked again after a lost answer (even after a reload) must print the same labels, not
  // the next batch.
  const onceUnprinted = actionKey("doorstep.unprinted-sheet-key");
  const sheet = async (body) => {
    replace(result, h("p", { class: "msg" }, t("labels.making")));
    // One sheet at a time: a second tap while it is made would print (and mark) the labels twice.
    const buttons = [printAll, printSelected];
    const was = buttons.map((b) => b.disabled);
    for (const b of buttons) b.disabled = true;
    await guarded(result, async () => {
      const print = (extra) => fetchFile("POST", "/labels/door-sheet", { ...body, lang: currentLang() }, extra);
      const { blob, headers } = body.unprinted ? await onceUnprinted((key) => print({ "Idempotency-Key": key })) : await print();
      const n = Number(headers.get("x-label-count") || 0);
      const a = saveBlob(blob, `door-labels-${todayIso()}.pdf`, t("labels.pdf_ready", { n }));
      a.id = "sheet-pdf";
      a.dataset.count = String(n);
      replace(result, h("p", { class: "msg ok" }, a));
    });
    buttons.forEach((b, i) => (b.disabled = was[i]));
    await refreshCount();
  };
  const refreshCount = async () => {
    await guarded(count, async () => {
      const u = await get("/labels/unprinted");
      count.textContent = t("labels.unprinted", { n: u.customers, per: u.per_sheet, max: u.max_per_request });
      printAll.disabled = u.customers === 0;
    });
  };
  const printAll = h("button", { type: "button", class: "primary", id: "print-unprinted", onclick: () => sheet({ unprinted: true }) }, t("labels.print_unprinted"));
  const printSelected = h("button", { type: "button", id: "print-selected", disabled: true, onclick: () => sheet({ customer_ids: [...selected.keys()] }) }, t("labels.print_selected", { n: 0 }));
  const tags = h("input", { type: "number", id: "tag-count", min: 1, max: 240, value: 24 });
  const tagResult = h("div", {});
  replace(
    main,
    h("h1", {}, t("labels.title")),
    h("section", {}, h("h2", {}, t("labels.unprinted_title")), count, printAll),
    h(
      "section",
      {},
      h("h2", {}, t("labels.selected_title")),
      h(
        "form",
        {
          class: "search",
          role: "search",
          onsubmit: async (ev) => {
            ev.preventDefault();
            await guarded(found, async () => {
              const page = await get(`/customers${query({ q: q.value.trim(), limit: 10 })}`);
              replace(
                found,
                page.items.map((c) =>
                  h("li", {}, h("button", { type: "button", class: "small", disabled: !c.label_consent_at, onclick: () => { selected.set(c.customer_id, c); redraw(); } }, "+"), " ", c.name, c.label_consent_at ? "" : ` · ${t("labels.needs_consent")}`),
                ),
              );
            });
          },
        },
        h("label", { for: "label-q", class: "visually-hidden" }, t("customers.search")),
        q,
        h("button", { type: "submit" }, t("customers.search")),
      ),
      found,
      chosen,
      printSelected,
    ),
    result,
    h(
      "section",
      {},
      h("h2", {}, t("labels.tags_title")),
      h("p", { class: "muted" }, t("labels.tags_hint")),
      h(
        "form",
        {
          class: "search",
          onsubmit: async (ev) => {
            ev.preventDefault();
            await guarded(tagResult, async () => {
              const { blob, headers } = await fetchFile("POST", "/labels/tag-sheet", { count: Number(tags.value), lang: currentLang() });
              replace(tagResult, h("p", { class: "msg ok" }, saveBlob(blob, `garment-tags-${todayIso()}.pdf`, t("labels.pdf_ready", { n: headers.get("x-label-count") }))));
            });
          },
        },
        h("label", { for: "tag-count", class: "visually-hidden" }, t("labels.tag_count")),
        tags,
        h("button", { type: "submit", id: "print-tags" }, t("labels.print_tags")),
      ),
      tagResult,
    ),
  );
  await refreshCount();
}

register(
  [
    { prefix: "queue", role: "dispatcher", render: queueScreen },
    { prefix: "campaigns", role: "dispatcher", render: campaignsScreen },
    { prefix: "lists", role: "dispatcher", render: listsScreen },
    { prefix: "customers", role: "dispatcher", render: customersScreen },
    { prefix: "labels", role: "dispatcher", render: labelsScreen },
  ],
  [
    { href: "#/queue", key: "nav.queue", role: "dispatcher" },
    { href: "#/campaigns", key: "nav.campaigns", role: "dispatcher" },
    { href: "#/lists", key: "nav.lists", role: "dispatcher" },
    { href: "#/customers", key: "nav.customers", role: "dispatcher" },
    { href: "#/labels", key: "nav.labels", role: "dispatcher" },
  ],
);


