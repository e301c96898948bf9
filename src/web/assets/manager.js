// The manager's screens: the dashboard of charts, the editable calendar, price lists and storage settings, and
// the administrator's staff accounts.

import { call, get, ApiError } from "./api.js";
import { h, replace, confirmButton } from "./dom.js";
import { t, word, currentLang, zoneName } from "./i18n.js";
import { money, parseYuan, date, dateTime } from "./format.js";
import { register } from "./app.js";
import { forecastChart, barChart, funnelChart } from "./chart.js";
import { problemView, table, guarded, send, field, say, todayIso, query } from "./kit.js";
import { segmentTable } from "./office.js";

const CLASSES = ["winter", "spring_autumn", "summer", "all_season"];
const SERVICES = ["dry_clean", "wash", "press", "wash_and_press", "repair", "leather_care"];
const ROLES = ["pickup", "dispatcher", "manager", "admin"];
const TIERS = ["platinum", "gold", "silver", "bronze"];
const STAGES = ["new", "growing", "stable", "declining"];

function chartWidth(main) {
  return Math.min(main.clientWidth || 360, 940);
}

const day = (iso) => date(`${iso}T12:00:00Z`, currentLang());

// A shipped window kind nobody renamed (`named` false) is shown by its catalogue name in the reader's language.
const windowName = (kind, name, named) => (named === false ? t(`window_kind.${kind}`) : name);
const n0 = (v) => Math.round(v).toLocaleString();

// ---------------------------------------------------------------- dashboard

// A forecast's 80% range, or why there is none: an interval of 0–0 only comes from weeks that were empty before.
function rangeText(x) {
  return x.hi80 > 0 ? t("dash.range80", { lo: n0(x.lo80), hi: n0(x.hi80) }) : t("dash.none_before");
}

// The window open today: what the weekly forecast still expects, and the same window counted from the wardrobes
// on record (who is still a customer, what is still worn, who sends without a call) with what calls could add.
function openWindowView(o) {
  const w = o.window;
  const cls = word("season_class", w.outgoing);
  const left = o.outgoing_garments_left;
  const wr = o.from_wardrobes;
  return [
    h("h2", {}, t("dash.open_window")),
    h(
      "div",
      { class: "big-number", id: "window-left" },
      h("strong", {}, n0(left.mean)),
      h("span", {}, t("dash.window_left", { name: windowName(w.kind, w.name, w.named), to: day(w.ends_on), cls })),
      h("span", { class: "muted" }, rangeText(left)),
    ),
    wr
      ? h(
          "p",
          { id: "from-wardrobes" },
          t("dash.from_wardrobes", {
            customers: n0(wr.figures.customers),
            on_record: n0(wr.figures.on_record),
            cls: cls.toLowerCase(),
            n: n0(wr.figures.expected_unprompted),
            calls: n0(wr.figures.call_potential),
            value: money(wr.figures.call_potential_cents),
          }),
          " ",
          h("a", { href: `#/lists/reminders/window=${encodeURIComponent(w.id)}` }, t("dash.to_reminders")),
        )
      : null,
    wr && wr.timing_assumed ? h("p", { class: "muted", id: "timing-assumed" }, t("dash.timing_assumed")) : null,
    h("p", { class: "muted" }, wr ? t("dash.from_wardrobes_at", { at: dateTime(wr.fitted_at, currentLang()) }) : t("dash.from_wardrobes_pending")),
  ];
}

async function dashboardScreen(main) {
  const intake = h("section", { id: "intake" }, h("p", { class: "msg" }, t("common.loading")));
  const windowBox = h("section", { id: "put-away" });
  const openBox = h("section", { id: "open-window" });
  const storage = h("section", { id: "storage" });
  const revenue = h("section", { id: "storage-revenue" });
  const segments = h("section", { id: "segments-box" });
  const funnels = h("section", { id: "funnels" });
  replace(
    main,
    h("div", { class: "print-head" }, h("h1", {}, t("dash.title")), h("button", { type: "button", class: "small no-print", onclick: () => window.print() }, t("receipt.print"))),
    intake,
    openBox,
    windowBox,
    storage,
    revenue,
    segments,
    funnels,
  );
  const width = chartWidth(main);
  await Promise.all([
    guarded(intake, async () => {
      const f = await get("/forecasts/intake?weeks=26");
      const hist = f.history || { total: [], by_season_class: {} };
      const keep = 52;
      const half = width > 700 ? width / 2 - 8 : width;
      const chart = (key, hs, fc, w = width) =>
        h(
          "figure",
          { class: "chart-box", dataset: { series: key } },
          h("figcaption", {}, key === "total" ? t("dash.intake_total") : word("season_class", key), h("span", { class: "muted" }, ` · ${t("dash.model", { model: word("model", fc.model) })}`)),
          forecastChart({
            history: hs.slice(-keep),
            forecast: fc.weeks,
            width: w,
            title: t("dash.intake_title", { series: key === "total" ? t("dash.intake_total") : word("season_class", key) }),
            dateLabel: day,
            labels: { band80: "80%", band95: "95%", history: t("dash.history"), historyStart: day(addWeeks(f.first_forecast_week, -Math.min(keep, hs.length))) },
          }),
        );
      replace(
        intake,
        h("h2", {}, t("dash.intake")),
        h("p", { class: "muted" }, t("dash.intake_hint", { weeks: f.history_weeks })),
        chart("total", hist.total, f.total),
        h("div", { class: "chart-grid" }, CLASSES.filter((c) => f.by_season_class[c]).map((c) => chart(c, hist.by_season_class[c] || [], f.by_season_class[c], half))),
      );
      if (f.open_window) replace(openBox, openWindowView(f.open_window));
      if (f.next_window) {
        const w = f.next_window;
        const o = w.outgoing_garments;
        replace(
          windowBox,
          h("h2", {}, t("dash.next_window")),
          h(
            "div",
            { class: "big-number", id: "window-volume" },
            h("strong", {}, n0(o.mean)),
            h("span", {}, t("dash.window_garments", { name: windowName(w.window.kind, w.window.name, w.window.named), from: day(w.window.starts_on), to: day(w.window.ends_on), cls: word("season_class", w.window.outgoing) })),
            h("span", { class: "muted" }, rangeText(o)),
          ),
        );
      }
    }),
    guarded(storage, async () => {
      const s = await get("/forecasts/storage");
      const rows = s.zones.map((z) => {
        const expected = z.expected_occupancy ?? z.in_use_now;
        const hi = z.free_at_hi80 === null || z.free_at_hi80 === undefined ? null : z.capacity - z.free_at_hi80;
        return { label: zoneName(z.zone_id, z.name, z.named), value: expected, max: z.capacity, mark: hi, text: t("dash.zone_text", { now: n0(z.in_use_now), expected: n0(expected), cap: n0(z.capacity) }) };
      });
      replace(
        storage,
        h("h2", {}, t("dash.storage")),
        h("p", { class: "muted" }, s.expected_items ? t("dash.storage_expected", { name: windowName(s.window.kind, s.window.name, s.window.named), n: n0(s.expected_items.mean), lo: n0(s.expected_items.lo80), hi: n0(s.expected_items.hi80) }) : t("dash.storage_no_forecast")),
        rows.length ? barChart(rows, { width, title: t("dash.storage") }) : h("p", { class: "muted" }, t("dash.no_zones")),
        h("p", { class: "muted small-print" }, t("dash.storage_legend")),
      );
    }),
    revenueBox(revenue),
    guarded(segments, async () => {
      const v = await get("/lists/customer-value?limit=1");
      const seg = v.segments || {};
      // Best tier first, lifecycle in its own order (the API's maps are alphabetical).
      const tiers = TIERS.filter((tier) => seg[tier]).map((tier) => ({ label: t(`tier.${tier}`), value: Object.values(seg[tier]).reduce((a, b) => a + b, 0) }));
      const stages = Object.fromEntries(STAGES.map((k) => [k, 0]));
      for (const st of Object.values(seg)) for (const [k, n] of Object.entries(st)) stages[k] = (stages[k] || 0) + n;
      const most = Math.max(1, ...tiers.map((x) => x.value), ...Object.values(stages));
      replace(
        segments,
        h("h2", {}, t("dash.segments")),
        h(
          "div",
          { class: "chart-grid" },
          h("figure", { class: "chart-box" }, h("figcaption", {}, t("lists.tier")), barChart(tiers.map((x) => ({ ...x, max: most, text: n0(x.value) })), { width: width / (width > 640 ? 2 : 1) - 8, title: t("lists.tier") })),
          h("figure", { class: "chart-box" }, h("figcaption", {}, t("lists.stage")), barChart(Object.entries(stages).map(([k, n]) => ({ label: t(`stage.${k}`), value: n, max: most, text: n0(n) })), { width: width / (width > 640 ? 2 : 1) - 8, title: t("lists.stage") })),
        ),
        segmentTable(seg),
      );
    }),
    guarded(funnels, async () => {
      const page = await get("/campaigns?limit=3");
      const reports = await Promise.all(page.items.map((c) => get(`/campaigns/${c.campaign_id}/report`)));
      replace(
        funnels,
        h("h2", {}, t("dash.campaigns")),
        reports.length
          ? reports.map((r) =>
              h(
                "figure",
                { class: "chart-box funnel-box" },
                h("figcaption", {}, h("a", { href: `#/campaigns/${r.campaign.campaign_id}` }, r.campaign.name)),
                funnelChart(
                  [
                    { label: t("funnel.entries"), value: r.total.entries },
                    { label: t("funnel.reached"), value: r.total.reached },
                    { label: t("funnel.booked"), value: r.total.booked },
                    { label: t("funnel.cleaned"), value: r.total.pickups },
                  ],
                  { width, title: r.campaign.name },
                ),
                h("p", { class: "funnel-revenue" }, t("funnel.revenue_line", { money: money(r.total.revenue_cents), garments: r.total.garments_cleaned })),
              ),
            )
          : h("p", { class: "muted" }, t("campaigns.none")),
      );
    }),
  ]);
  document.body.dataset.painted = "dashboard";
}

// The storage business's revenue of one season (the orders accepted in that year, company time): its totals, and
// the same figures by month of acceptance and by zone. The season is picked here; the figures below it reload.
const REVENUE_YEARS = 6;

async function revenueBox(box) {
  const thisYear = Number(todayIso().slice(0, 4));
  const figures = h("div", { id: "revenue-figures" });
  const season = h(
    "select",
    { id: "revenue-season", onchange: () => revenueFigures(figures, Number(season.value)) },
    Array.from({ length: REVENUE_YEARS }, (_, i) => thisYear - i).map((y) => h("option", { value: y, selected: y === thisYear }, String(y))),
  );
  replace(box, h("div", { class: "section-head" }, h("h2", {}, t("dash.revenue")), h("label", { class: "season-pick" }, t("dash.revenue_season"), season)), figures);
  await revenueFigures(figures, thisYear);
}

// A month of the season's table ("2026-04"), without the year the selector already says: 4月, or April.
function monthName(group) {
  const [y, m] = group.split("-").map(Number);
  if (currentLang() === "zh-CN") return `${m}月`;
  return new Date(Date.UTC(y, m - 1, 15)).toLocaleString("en", { month: "long", timeZone: "UTC" });
}

async function revenueFigures(box, season) {
  box.dataset.season = String(season);
  replace(box, h("p", { class: "msg" }, t("common.loading")));
  await guarded(box, async () => {
    const r = await get(`/storage/report?season=${season}`);
    if (box.dataset.season !== String(season)) return; // another season was picked meanwhile
    const columns = (first) => [
      first,
      { label: t("dash.revenue_revenue"), num: true },
      { label: t("dash.revenue_fees"), num: true },
      { label: t("dash.revenue_premiums"), num: true },
      { label: t("dash.revenue_items"), num: true },
      { label: t("dash.revenue_held"), num: true },
    ];
    // Revenue first: on a phone it is in view before the table scrolls sideways.
    const row = (name, f, group, cls) =>
      h(
        "tr",
        { dataset: { group } },
        h("th", { scope: "row", class: cls }, name),
        h("td", { class: "num revenue" }, money(f.revenue_cents)),
        h("td", { class: "num" }, money(f.fee_cents)),
        h("td", { class: "num" }, money(f.premium_cents)),
        h("td", { class: "num" }, n0(f.items)),
        h("td", { class: "num" }, n0(f.held_items)),
      );
    const fact = (key, value, id) => [h("dt", {}, t(key)), h("dd", { class: "num", id }, value)];
    if (!r.orders) {
      replace(box, h("p", { class: "muted", id: "revenue-none" }, t("dash.revenue_none", { season: r.season })));
      return;
    }
    replace(
      box,
      h(
        "div",
        { class: "big-number", id: "revenue-total" },
        h("strong", {}, money(r.revenue_cents)),
        h("span", {}, t("dash.revenue_total", { season: r.season })),
        h("span", { class: "muted" }, t("dash.revenue_span", { from: day(r.from), to: day(r.to) })),
      ),
      h(
        "dl",
        { class: "facts figures", id: "revenue-totals" },
        fact("dash.revenue_orders", n0(r.orders), "revenue-orders"),
        fact("dash.revenue_items", n0(r.items), "revenue-items"),
        fact("dash.revenue_fees", money(r.fee_cents), "revenue-fees"),
        fact("dash.revenue_premiums", money(r.premium_cents), "revenue-premiums"),
        fact("dash.revenue_declared", money(r.declared_cents), "revenue-declared"),
        fact("dash.revenue_held", n0(r.held_items), "revenue-held"),
        fact("dash.revenue_held_declared", money(r.held_declared_cents), "revenue-held-declared"),
        fact("dash.revenue_returned", n0(r.returned_orders), "revenue-returned"),
      ),
      h("h3", {}, t("dash.revenue_by_month")),
      table(columns(t("dash.revenue_month")), r.by_month.map((m) => row(monthName(m.group), m, m.group)), { id: "revenue-by-month", class: "data figures-table" }),
      h("h3", {}, t("dash.revenue_by_zone")),
      table(columns(t("dash.revenue_zone")), r.by_zone.map((z) => row(zoneName(z.group, z.label, z.named), z, z.group, "zone-name")), { id: "revenue-by-zone", class: "data figures-table" }),
      h("p", { class: "muted small-print" }, t("dash.revenue_legend")),
    );
  });
}

function addWeeks(iso, weeks) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 7 * weeks);
  return d.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- settings

async function settingsScreen(main) {
  const cal = h("section", { id: "calendar" });
  const cleaning = h("section", { id: "cleaning-prices" });
  const storage = h("section", { id: "storage-settings" });
  replace(main, h("h1", {}, t("settings.title")), cal, cleaning, storage);
  await Promise.all([calendarBox(cal), cleaningBox(cleaning), storageBox(storage)]);
}

const md = (m, d) => `${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;

/** What a manager types as a month and day ("3-5", "3/5", "3月5日", "0305") as the API's MM-DD; other text as typed, for the server to refuse. */
function monthDay(text) {
  const s = String(text ?? "").trim();
  const m = /^(\d{1,2})\s*[-/.月\s]\s*(\d{1,2})\s*日?$/.exec(s) || /^(\d{2})(\d{2})$/.exec(s);
  return m ? md(Number(m[1]), Number(m[2])) : s;
}

/**
 * The id of a new window kind (2-31 lower-case letters, digits or _, starting with a letter), so nobody types one:
 * from an English name ("Late spring" is late_spring), else made up (window_m3k9x2); never one in `taken`.
 */
function kindId(name, taken) {
  const ascii = /^[\x20-\x7e]+$/.test(name);
  let id = ascii ? name.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^[^a-z]+/, "").slice(0, 27).replace(/_+$/, "") : "";
  if (id.length < 2) id = `window_${Date.now().toString(36).slice(-6)}`;
  let unique = id;
  for (let n = 2; taken.has(unique); n += 1) unique = `${id}_${n}`;
  return unique;
}

/** A kind's default date in `year` (a 29 February falls back to the 28th, as the server counts). */
function defaultDay(year, month, dayOfMonth) {
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${year}-${md(month, Math.min(dayOfMonth, last))}`;
}

/** A kind's default dates in `year`; an end before the start runs into the next year. */
function defaultDates(k, year) {
  const across = k.end_month * 100 + k.end_day < k.start_month * 100 + k.start_day;
  return { from: defaultDay(year, k.start_month, k.start_day), to: defaultDay(across ? year + 1 : year, k.end_month, k.end_day) };
}

/**
 * What the calendar's API refuses about a field, in the page's language: each field has one rule (the inputs keep
 * out the rest), so the field says which, whatever language the server wrote it in. `year` is the year being set.
 */
function calendarFieldText(name, message, year) {
  const rules = {
    starts_on: () => t("settings.err_in_year", { year }),
    ends_on: () => t("settings.err_end"),
    name: () => t("settings.err_name"),
    start: () => t("settings.err_month_day"),
    end: () => t("settings.err_month_day"),
    kind: () => t("settings.err_kind_id"),
    year: () => t("settings.err_year"),
  };
  return rules[name] ? rules[name]() : String(message || t("settings.err_field"));
}

/** A labelled field with a line under the input for what the server says about it. */
function noteField(id, label, input) {
  const f = field(id, label, input);
  const note = h("div", { class: "field-note", id: `${id}-note`, "aria-live": "polite" });
  input.setAttribute("aria-describedby", note.id);
  f.append(note);
  return f;
}

/** Marks a field of `noteField` as refused, saying why under it. */
function markField(input, text) {
  input.classList.add("invalid");
  input.setAttribute("aria-invalid", "true");
  say(input.parentElement.querySelector(".field-note"), text, "error");
}

/** Takes a field's refusal away (before the next try). */
function clearField(input) {
  input.classList.remove("invalid");
  input.removeAttribute("aria-invalid");
  const note = input.parentElement && input.parentElement.querySelector(".field-note");
  if (note) replace(note);
}

/**
 * Runs one calendar write; true when it was recorded. A refusal is said in the page's language: what the server
 * says about a field under its input (`inputs` maps the API's field names to them; `year` is the year being set),
 * the rest in `status`, where `own(err)` may word (or resolve to words for) a refusal the calendar knows. The kit
 * shows anything else.
 */
async function calendarWrite(status, inputs, write, { own = () => null, year = null } = {}) {
  Object.values(inputs).forEach(clearField);
  replace(status);
  try {
    await write();
    return true;
  } catch (e) {
    const named = e instanceof ApiError && e.status === 422 ? (e.errors.length ? e.errors : e.field ? [{ field: e.field, message: e.detail }] : []) : [];
    for (const f of named) if (inputs[f.field]) markField(inputs[f.field], calendarFieldText(f.field, f.message, year));
    const words = await own(e);
    if (words) say(status, words, "error");
    else if (named.length && named.every((f) => inputs[f.field])) say(status, t("settings.refused"), "error");
    else replace(status, problemView(e));
    return false;
  }
}

/** Why a window kind was refused, in the page's language, by the refusal's type; `null` for any other refusal. */
function kindRefusal(e) {
  if (!(e instanceof ApiError)) return null;
  if (e.status === 404) return t("settings.kind_gone");
  const words = { "kind-has-campaigns": "settings.kind_in_campaigns", "kind-returns-storage": "settings.kind_in_storage", "kind-exists": "settings.kind_taken" };
  const key = words[String(e.type).replace("urn:doorstep:problem:", "")];
  return key ? t(key) : null;
}

/**
 * The season calendar: one year's windows, whose dates may be set for that year only (a late spring), then the
 * window kinds with their default dates, deleted after a second tap, and a form adding one.
 */
async function calendarBox(box, year = Number(todayIso().slice(0, 4))) {
  await guarded(box, async () => {
    const c = await get(`/season-calendar${query({ year })}`);
    returnKinds(c.kinds);
    const windows = h("div", { id: "year-windows", "aria-live": "polite" });
    // Kinds added, changed or deleted: the whole calendar again, at the year shown, with a word where it was done.
    const reload = async (words, where) => {
      await calendarBox(box, Number(windows.dataset.year));
      const status = box.querySelector(where);
      if (status) say(status, words);
    };
    replace(
      box,
      h("h2", {}, t("settings.calendar")),
      h("p", { class: "muted" }, t("settings.calendar_hint")),
      h("h3", {}, t("settings.year_dates")),
      yearPicker(c.year, (y) => showYear(windows, y)),
      windows,
      h("h3", {}, t("settings.kinds")),
      h("p", { class: "muted" }, t("settings.kinds_hint")),
      h("ul", { class: "plain cards", id: "window-kinds" }, c.kinds.map((k) => kindCard(k, reload))),
      h("div", { id: "kinds-status", "aria-live": "polite" }),
      newKindForm(c.kinds, reload),
    );
    yearWindows(windows, c);
  });
}

/** Previous and next year around a year field (2000-2200, as the server keeps). */
function yearPicker(year, pick) {
  const input = h("input", { type: "number", id: "calendar-year", min: 2000, max: 2200, step: 1, value: year, inputmode: "numeric", "aria-label": t("settings.year") });
  const go = (y) => {
    if (!Number.isInteger(y) || y < 2000 || y > 2200) return markField(input, t("settings.err_year"));
    clearField(input);
    input.value = String(y);
    pick(y);
  };
  input.addEventListener("change", () => go(Number(input.value)));
  return h(
    "div",
    { class: "year-pick" },
    h("button", { type: "button", class: "small", id: "prev-year", onclick: () => go(Number(input.value) - 1) }, t("settings.prev_year")),
    h("div", { class: "field" }, input, h("div", { class: "field-note" })),
    h("button", { type: "button", class: "small", id: "next-year", onclick: () => go(Number(input.value) + 1) }, t("settings.next_year")),
  );
}

/** Reads a year's windows again and shows them. */
async function showYear(list, year, words = null, kind = null) {
  list.dataset.year = String(year);
  await guarded(list, async () => {
    const c = await get(`/season-calendar${query({ year })}`);
    if (list.dataset.year !== String(year)) return; // another year was picked meanwhile
    yearWindows(list, c);
    const status = kind && list.querySelector(`li[data-kind="${kind}"] .card-status`);
    if (words && status) say(status, words);
  });
}

/** A year's windows, each with its dates for that year, saved for that year only or put back to the default. */
function yearWindows(list, c) {
  const year = c.year;
  list.dataset.year = String(year);
  const kinds = new Map(c.kinds.map((k) => [k.window_kind, k]));
  const again = (words, kind) => showYear(list, year, words, kind);
  replace(
    list,
    h(
      "ul",
      { class: "plain cards" },
      c.windows.map((w) => {
        const name = windowName(w.kind, w.name, w.named);
        const key = `y-${w.kind}`;
        const start = h("input", { type: "date", value: w.starts_on, min: `${year}-01-01`, max: `${year}-12-31`, required: true });
        const end = h("input", { type: "date", value: w.ends_on, min: `${year}-01-01`, required: true });
        const status = h("div", { class: "card-status", "aria-live": "polite" });
        const inputs = { starts_on: start, ends_on: end };
        const save = async () => {
          const empty = Object.values(inputs).filter((i) => !i.value);
          if (empty.length) {
            Object.values(inputs).forEach(clearField);
            return empty.forEach((i) => markField(i, t("settings.err_date")));
          }
          const body = { starts_on: start.value, ends_on: end.value };
          const done = await calendarWrite(status, inputs, () => send("PUT", `/season-calendar/${year}/${encodeURIComponent(w.kind)}`, body), { own: kindRefusal, year });
          if (done) await again(t("settings.year_saved", { name, year, from: day(body.starts_on), to: day(body.ends_on) }), w.kind);
        };
        const k = kinds.get(w.kind);
        const dflt = k ? defaultDates(k, year) : null;
        const reset = async () => {
          const own = (e) => (e instanceof ApiError && e.status === 404 ? t("settings.no_override") : null);
          const done = await calendarWrite(status, {}, () => call("DELETE", `/season-calendar/${year}/${encodeURIComponent(w.kind)}`), { own, year });
          if (done) await again(dflt ? t("settings.year_reset", { from: day(dflt.from), to: day(dflt.to) }) : t("note.saved"), w.kind);
        };
        return h(
          "li",
          { class: "card", dataset: { kind: w.kind, overridden: String(w.overridden) } },
          h("div", { class: "card-head" }, h("strong", {}, name), w.overridden ? h("span", { class: "tag warn this-year-only" }, t("settings.this_year_only")) : null),
          h("p", { class: "muted" }, t("settings.outgoing", { cls: word("season_class", w.outgoing) }), w.overridden && dflt ? ` · ${t("settings.default_dates", { from: day(dflt.from), to: day(dflt.to) })}` : null),
          h("div", { class: "form-grid pair" }, noteField(`${key}-starts`, t("settings.starts_on"), start), noteField(`${key}-ends`, t("settings.ends_on"), end)),
          h(
            "div",
            { class: "actions" },
            h("button", { type: "button", class: "small save-year", onclick: save }, t("settings.save_year", { year })),
            w.overridden ? h("button", { type: "button", class: "small reset-year", onclick: reset }, t("settings.reset_year")) : null,
          ),
          status,
        );
      }),
    ),
  );
}

/**
 * The storage settings' return-window choice follows the calendar as kinds are added, renamed or deleted, in place:
 * the storage form's other fields keep what the manager typed. The choice made stays chosen.
 */
function returnKinds(kinds) {
  const select = document.getElementById("s-return");
  if (!select) return;
  const chosen = select.value;
  select.replaceChildren(...kinds.map((k) => h("option", { value: k.window_kind, selected: k.window_kind === chosen }, windowName(k.window_kind, k.name, k.named))));
}

/** A window kind: its default dates (saved as they are typed), and its deletion after a second tap. */
function kindCard(k, reload) {
  const name = windowName(k.window_kind, k.name, k.named);
  const key = `k-${k.window_kind}`;
  const start = h("input", { type: "text", value: md(k.start_month, k.start_day), maxlength: 10, placeholder: "03-15", autocomplete: "off" });
  const end = h("input", { type: "text", value: md(k.end_month, k.end_day), maxlength: 10, placeholder: "05-31", autocomplete: "off" });
  const status = h("div", { class: "card-status", "aria-live": "polite" });
  const inputs = { start, end };
  const save = async () => {
    start.value = monthDay(start.value);
    end.value = monthDay(end.value);
    const write = () => send("PUT", `/season-calendar/kinds/${encodeURIComponent(k.window_kind)}`, { name: k.name, outgoing: k.outgoing, start: start.value, end: end.value });
    const done = await calendarWrite(status, inputs, write, { own: kindRefusal });
    if (done) await reload(t("settings.kind_saved", { name }), `#window-kinds li[data-kind="${k.window_kind}"] .card-status`);
  };
  const remove = confirmButton(
    t("settings.delete_kind"),
    t("settings.delete_kind_confirm"),
    async () => {
      remove.disabled = true;
      const done = await calendarWrite(status, {}, () => call("DELETE", `/season-calendar/kinds/${encodeURIComponent(k.window_kind)}`), { own: kindRefusal });
      remove.disabled = false;
      if (done) await reload(t("settings.kind_deleted", { name }), "#kinds-status");
    },
    { class: "small danger delete-kind" },
  );
  return h(
    "li",
    { class: "card", dataset: { kind: k.window_kind } },
    h("div", { class: "card-head" }, h("strong", {}, name)),
    h("p", { class: "muted" }, t("settings.outgoing", { cls: word("season_class", k.outgoing) })),
    h("div", { class: "form-grid pair" }, noteField(`${key}-start`, t("settings.start"), start), noteField(`${key}-end`, t("settings.end"), end)),
    h("div", { class: "actions" }, h("button", { type: "button", class: "small save-kind", onclick: save }, t("note.save")), remove),
    status,
  );
}

/** A new window kind: its name, the clothes it puts away and its default dates; its id is made from the name. */
function newKindForm(kinds, reload) {
  const name = h("input", { type: "text", maxlength: 200, required: true, autocomplete: "off" });
  const outgoing = h("select", {}, CLASSES.map((c) => h("option", { value: c }, word("season_class", c))));
  const start = h("input", { type: "text", maxlength: 10, required: true, placeholder: "03-15", autocomplete: "off" });
  const end = h("input", { type: "text", maxlength: 10, required: true, placeholder: "05-31", autocomplete: "off" });
  const status = h("div", { id: "new-kind-status", "aria-live": "polite" });
  // The name stands in for the id the server checks: nobody types one.
  const inputs = { name, kind: name, outgoing, start, end };
  const submit = h("button", { type: "submit" }, t("settings.add_kind"));
  return h(
    "form",
    {
      class: "form-grid",
      id: "new-kind",
      onsubmit: async (ev) => {
        ev.preventDefault();
        start.value = monthDay(start.value);
        end.value = monthDay(end.value);
        const id = kindId(name.value.trim(), new Set(kinds.map((k) => k.window_kind)));
        submit.disabled = true;
        // Only ever a new kind: one of the same id added meanwhile by another manager is refused, not overwritten.
        const write = () => call("PUT", `/season-calendar/kinds/${id}`, { body: { name: name.value.trim(), outgoing: outgoing.value, start: start.value, end: end.value }, headers: { "If-None-Match": "*" } });
        const done = await calendarWrite(status, inputs, write, { own: kindRefusal });
        submit.disabled = false;
        if (done) await reload(t("settings.kind_added", { name: name.value.trim() }), "#new-kind-status");
      },
    },
    h("h4", {}, t("settings.add_kind")),
    noteField("nk-name", t("settings.kind_name"), name),
    noteField("nk-outgoing", t("settings.kind_outgoing"), outgoing),
    noteField("nk-start", t("settings.start"), start),
    noteField("nk-end", t("settings.end"), end),
    h("div", { class: "actions" }, submit),
    status,
  );
}

function priceInput(cents, label) {
  return h("input", { type: "text", inputmode: "decimal", value: (cents / 100).toFixed(2), size: 7, "aria-label": label });
}

async function cleaningBox(box) {
  await guarded(box, async () => {
    const p = await get("/prices/cleaning");
    const status = h("div", {});
    const save = async (body) => guarded(status, async () => { await send("PUT", "/prices/cleaning", body); await cleaningBox(box); say(box.lastElementChild, t("note.saved")); });
    const rows = p.items.map((r) => {
      const price = priceInput(r.price_cents, t("field.price"));
      return h(
        "tr",
        {},
        h("td", {}, word("service", r.service)),
        h("td", {}, r.kind ? word("kind", r.kind) : t("common.any")),
        h("td", {}, r.material ? word("material", r.material) : t("common.any")),
        h("td", { class: "num" }, price),
        h(
          "td",
          {},
          h("button", { type: "button", class: "small", onclick: () => { const c = parseYuan(price.value); if (c === null) return say(status, t("settings.bad_price"), "error"); save({ service: r.service, kind: r.kind, material: r.material, price_cents: c }); } }, t("note.save")),
          confirmButton(t("visit.remove"), t("visit.remove_confirm"), () => guarded(status, async () => { await call("DELETE", `/prices/cleaning/${r.price_id}`); await cleaningBox(box); }), { class: "small" }),
        ),
      );
    });
    const service = h("select", {}, SERVICES.map((s) => h("option", { value: s }, word("service", s))));
    const kind = h("input", { type: "text", placeholder: "coat", size: 10 });
    const material = h("input", { type: "text", placeholder: "wool", size: 10 });
    const price = h("input", { type: "text", inputmode: "decimal", size: 7 });
    replace(
      box,
      h("h2", {}, t("settings.cleaning_prices")),
      table([t("field.service"), t("field.kind"), t("field.material"), { label: t("field.price"), num: true }, ""], rows),
      h(
        "form",
        { class: "form-grid", onsubmit: (ev) => { ev.preventDefault(); const c = parseYuan(price.value); if (c === null) return say(status, t("settings.bad_price"), "error"); save({ service: service.value, kind: kind.value.trim() || null, material: material.value.trim() || null, price_cents: c }); } },
        field("np-service", t("field.service"), service),
        field("np-kind", t("field.kind"), kind),
        field("np-material", t("field.material"), material),
        field("np-price", t("visit.price"), price),
        h("div", { class: "actions" }, h("button", { type: "submit" }, t("settings.add_price"))),
      ),
      status,
    );
  });
}

async function storageBox(box) {
  await guarded(box, async () => {
    const [s, prices, zones, cal] = await Promise.all([get("/storage/settings"), get("/storage/prices"), get("/storage/zones"), get("/season-calendar")]);
    const status = h("div", { id: "storage-settings-status", "aria-live": "polite" });
    const rate = h("input", { type: "number", min: 0, max: 10000, value: s.insurance_rate_bp });
    const within = h("input", { type: "number", min: 1, max: 3650, value: s.cleaned_within_days ?? "" });
    const kind = h("select", {}, cal.kinds.map((k) => h("option", { value: k.window_kind, selected: k.window_kind === s.return_window_kind }, windowName(k.window_kind, k.name, k.named))));
    const priceItems = prices.items || prices;
    const zoneItems = zones.items || zones;
    replace(
      box,
      h("h2", {}, t("settings.storage")),
      h(
        "form",
        {
          class: "form-grid",
          id: "storage-settings-form",
          onsubmit: (ev) => {
            ev.preventDefault();
            guarded(status, async () => {
              await send("PUT", "/storage/settings", { insurance_rate_bp: Number(rate.value), cleaned_within_days: within.value ? Number(within.value) : null, return_window_kind: kind.value });
              say(status, t("note.saved"));
            });
          },
        },
        field("s-rate", t("settings.insurance_bp"), rate),
        field("s-within", t("settings.cleaned_within"), within),
        field("s-return", t("settings.return_window"), kind),
        h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("note.save"))),
      ),
      h("h3", {}, t("settings.storage_prices")),
      table(
        [t("field.kind"), t("field.material"), { label: t("settings.monthly"), num: true }, ""],
        priceItems.map((p) => {
          const price = priceInput(p.monthly_cents, t("settings.monthly"));
          return h(
            "tr",
            {},
            h("td", {}, p.kind ? word("kind", p.kind) : t("common.any")),
            h("td", {}, p.material ? word("material", p.material) : t("common.any")),
            h("td", { class: "num" }, price),
            h("td", {}, h("button", { type: "button", class: "small", onclick: () => { const c = parseYuan(price.value); if (c === null) return say(status, t("settings.bad_price"), "error"); guarded(status, async () => { await send("PUT", "/storage/prices", { kind: p.kind, material: p.material, monthly_cents: c }); say(status, t("note.saved")); }); } }, t("note.save"))),
          );
        }),
      ),
      h("h3", {}, t("settings.zones")),
      h("p", { class: "muted" }, t("settings.zones_hint")),
      h(
        "ul",
        { class: "plain zones" },
        zoneItems.map((z) => {
          // A shipped zone nobody renamed shows its name in the reader's words and keeps it until one is typed.
          const name = h("input", { type: "text", maxlength: 100, value: z.named === false ? "" : z.name, placeholder: zoneName(z.zone_id, z.name, z.named), class: "zone-name" });
          const kind = zoneKindSelect(z.kind, z.in_use > 0);
          const cap = h("input", { type: "number", min: 0, value: z.capacity });
          const save = () => guarded(status, async () => { await send("PUT", `/storage/zones/${encodeURIComponent(z.zone_id)}`, { name: name.value.trim() || z.name, kind: kind.value, capacity: Number(cap.value) }); say(status, t("note.saved")); });
          const key = `zone-${z.zone_id}`;
          return h(
            "li",
            { class: "zone-card", dataset: { zone: z.zone_id } },
            h("h4", { class: "zone-title" }, zoneName(z.zone_id, z.name, z.named)),
            h("div", { class: "form-grid" }, field(`${key}-name`, t("settings.zone_name"), name), field(`${key}-kind`, t("settings.zone_kind"), kind), field(`${key}-capacity`, t("settings.capacity"), cap)),
            h("p", { class: "muted" }, t("settings.zone_use", { id: z.zone_id, n: z.in_use })),
            h("div", { class: "actions" }, h("button", { type: "button", class: "small", onclick: save }, t("note.save"))),
          );
        }),
      ),
      newZoneForm(box, status),
      status,
    );
  });
}

const ZONE_KINDS = ["rack", "bin", "cold_vault"];

/** A zone's kind; a zone holding garments keeps its kind (the server refuses the change anyway). */
function zoneKindSelect(value, locked) {
  return h("select", { "aria-label": t("settings.zone_kind"), disabled: locked }, ZONE_KINDS.map((k) => h("option", { value: k, selected: k === value }, word("zone_kind", k))));
}

/** A new storage zone: a short id for the shelf labels, a name, a kind and how many garments it holds. */
function newZoneForm(box, status) {
  const id = h("input", { type: "text", maxlength: 40, pattern: "[A-Za-z0-9_\\-]{1,40}", required: true, autocomplete: "off", spellcheck: "false" });
  const name = h("input", { type: "text", maxlength: 100, required: true });
  const kind = zoneKindSelect("rack", false);
  const cap = h("input", { type: "number", min: 0, max: 1000000, required: true, value: 100 });
  return h(
    "form",
    {
      class: "form-grid",
      id: "new-zone",
      onsubmit: (ev) => {
        ev.preventDefault();
        guarded(status, async () => {
          await send("PUT", `/storage/zones/${encodeURIComponent(id.value.trim())}`, { name: name.value.trim() || z.name, kind: kind.value, capacity: Number(cap.value) });
          await storageBox(box);
          say(document.getElementById("storage-settings-status"), t("settings.zone_added"));
        });
      },
    },
    h("h4", {}, t("settings.add_zone")),
    field("zone-id", t("settings.zone_id"), id),
    field("zone-name", t("settings.zone_name"), name),
    field("zone-kind", t("settings.zone_kind"), kind),
    field("zone-capacity", t("settings.capacity"), cap),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("settings.add_zone"))),
  );
}

// ---------------------------------------------------------------- staff (administrators)

async function staffScreen(main) {
  const list = h("section", {});
  const status = h("div", { id: "staff-status" });
  const username = h("input", { type: "text", autocomplete: "off", maxlength: 64 });
  const display = h("input", { type: "text", maxlength: 200 });
  const role = h("select", {}, ROLES.map((r) => h("option", { value: r }, t(`role.${r}`))));
  const password = h("input", { type: "password", autocomplete: "new-password", maxlength: 200 });
  const show = async () => {
    await guarded(list, async () => {
      const people = await get("/staff");
      const items = people.items || people;
      replace(
        list,
        table(
          [t("login.username"), t("staff.display_name"), t("staff.role"), t("staff.active"), ""],
          items.map((p) => {
            const r = h("select", { "aria-label": t("staff.role") }, ROLES.map((x) => h("option", { value: x, selected: x === p.role }, t(`role.${x}`))));
            const pw = h("input", { type: "password", autocomplete: "new-password", placeholder: t("staff.new_password"), "aria-label": t("staff.new_password") });
            const patch = (body) => guarded(status, async () => { await call("PATCH", `/staff/${p.staff_id}`, { body }); await show(); say(status, t("note.saved")); });
            return h(
              "tr",
              { class: p.active ? null : "inactive" },
              h("td", {}, p.username),
              h("td", {}, p.display_name),
              h("td", {}, r, h("button", { type: "button", class: "small", onclick: () => patch({ role: r.value }) }, t("note.save"))),
              h("td", {}, p.active ? t("staff.yes") : t("staff.no")),
              h(
                "td",
                { class: "row-actions" },
                p.active
                  ? confirmButton(t("staff.deactivate"), t("staff.deactivate_confirm"), () => patch({ active: false }), { class: "small" })
                  : h("button", { type: "button", class: "small", onclick: () => patch({ active: true }) }, t("staff.activate")),
                pw,
                h("button", { type: "button", class: "small", onclick: () => (pw.value ? patch({ password: pw.value }) : pw.focus()) }, t("staff.reset_password")),
              ),
            );
          }),
        ),
      );
    });
  };
  replace(
    main,
    h("h1", {}, t("staff.title")),
    list,
    h("h2", {}, t("staff.new")),
    h(
      "form",
      {
        class: "form-grid",
        id: "new-staff",
        onsubmit: (ev) => {
          ev.preventDefault();
          guarded(status, async () => {
            await send("POST", "/staff", { username: username.value.trim(), display_name: display.value.trim() || null, role: role.value, password: password.value });
            username.value = "";
            password.value = "";
            display.value = "";
            await show();
            say(status, t("note.saved"));
          });
        },
      },
      field("st-username", t("login.username"), username),
      field("st-display", t("staff.display_name"), display),
      field("st-role", t("staff.role"), role),
      field("st-password", t("login.password"), password),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("staff.create"))),
    ),
    status,
  );
  await show();
}

register(
  [
    { prefix: "dashboard", role: "manager", render: dashboardScreen },
    { prefix: "settings", role: "manager", render: settingsScreen },
    { prefix: "staff", role: "admin", render: staffScreen },
  ],
  [
    { href: "#/dashboard", key: "nav.dashboard", role: "manager" },
    { href: "#/settings", key: "nav.settings", role: "manager" },
    { href: "#/staff", key: "nav.staff", role: "admin" },
  ],
);


