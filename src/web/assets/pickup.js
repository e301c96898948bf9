// The pickup worker's screens: scan a door, the customer card, record the visit, and the outbox.

import { call, get, ApiError, NetworkError, outcomeUnknown } from "./api.js";
import { h, replace, confirmButton } from "./dom.js";
import { t, word, currentLang } from "./i18n.js";
import { problemView } from "./kit.js";
import { money, parseYuan, date, dateTime, grouped, priceFor, nowIso } from "./format.js";
import { scanCode, scanPhoto, shrinkPhoto, startViewfinder, feedback } from "./scan.js";
import * as outbox from "./outbox.js";

export const CATEGORIES = ["men", "women", "children"];
export const SEASONS = ["winter", "spring_autumn", "summer", "all_season"];
export const KINDS = [
  "coat", "jacket", "down_jacket", "suit", "blazer", "trousers", "skirt", "dress", "shirt", "blouse",
  "sweater", "t_shirt", "jeans", "scarf", "tie", "uniform", "sportswear", "bedding", "curtain", "other",
];
export const MATERIALS = [
  "wool", "cashmere", "silk", "leather", "suede", "fur", "down", "cotton", "linen", "denim", "synthetic",
  "blend", "other",
];
const SERVICES = ["dry_clean", "wash", "press", "wash_and_press", "repair", "leather_care"];

let stopCamera = null;
let prices = JSON.parse(localStorage.getItem("doorstep.prices") || "[]");

/** Loads the cleaning price list (kept on the device for offline visits). */
export async function refreshPrices() {
  try {
    const data = await get("/prices/cleaning");
    prices = data.items || [];
    localStorage.setItem("doorstep.prices", JSON.stringify(prices));
  } catch {
    /* the cached list stays */
  }
}

function stopViewfinder() {
  if (stopCamera) {
    stopCamera();
    stopCamera = null;
  }
}

/** The scan screen: the code field keeps focus; camera and photo are one tap away. */
export function scanScreen(main) {
  stopViewfinder();
  const status = h("div", { class: "status", "aria-live": "polite" });
  const input = h("input", {
    id: "code",
    name: "code",
    class: "code-input",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    inputmode: "text",
    enterkeyhint: "go",
    placeholder: t("scan.code_placeholder"),
    "aria-label": t("scan.code_label"),
  });
  const video = h("video", { class: "viewfinder", hidden: true, muted: true, playsinline: true });
  const fileInput = h("input", { type: "file", accept: "image/*", capture: "environment", id: "photo", class: "visually-hidden" });

  const done = (result) => {
    feedback(true);
    showCard(main, result.customer, result.garment || null);
  };
  const fail = (err) => {
    feedback(false);
    replace(status, problemView(err));
    input.focus();
  };

  const form = h(
    "form",
    {
      class: "scan-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const code = input.value.trim();
        if (!code) return;
        replace(status, h("p", { class: "msg" }, t("scan.looking_up")));
        try {
          done(await scanCode(code));
        } catch (e) {
          input.select();
          fail(e);
        }
      },
    },
    h("label", { for: "code", class: "label" }, t("scan.code_label")),
    input,
    h("button", { type: "submit", class: "primary" }, t("scan.find")),
  );

  fileInput.addEventListener("change", async () => {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (!file) return;
    replace(status, h("p", { class: "msg" }, t("scan.reading_photo")));
    try {
      const t0 = performance.now();
      const small = await shrinkPhoto(file);
      const t1 = performance.now();
      const result = await scanPhoto(small);
      // Where a slow scan spent its time (the app's figures read these).
      Object.assign(document.body.dataset, {
        lastUpload: String(small.size),
        lastOriginal: String(file.size),
        lastShrinkMs: String(Math.round(t1 - t0)),
        lastScanMs: String(Math.round(performance.now() - t1)),
        lastDecodeMs: String(result.decode_ms ?? ""),
      });
      done(result);
    } catch (e) {
      fail(e);
    }
  });

  const cameraBtn = h(
    "button",
    {
      type: "button",
      class: "big",
      id: "camera",
      onclick: async () => {
        if (stopCamera) {
          stopViewfinder();
          video.hidden = true;
          cameraBtn.textContent = t("scan.camera");
          return;
        }
        replace(status, h("p", { class: "msg" }, t("scan.point_camera")));
        video.hidden = false;
        cameraBtn.textContent = t("scan.camera_stop");
        try {
          stopCamera = await startViewfinder(video, {
            onResult: (r) => {
              stopCamera = null;
              video.hidden = true;
              done(r);
            },
            onError: (e) => {
              stopCamera = null;
              video.hidden = true;
              cameraBtn.textContent = t("scan.camera");
              fail(e);
            },
          });
        } catch (e) {
          video.hidden = true;
          cameraBtn.textContent = t("scan.camera");
          replace(status, h("div", { class: "msg error", role: "alert" }, t("scan.no_camera")));
        }
      },
    },
    t("scan.camera"),
  );
  const photoBtn = h("label", { for: "photo", class: "button big", role: "button", tabindex: "0" }, t("scan.photo"));

  replace(
    main,
    h("h1", {}, t("scan.title")),
    form,
    h("div", { class: "scan-actions" }, cameraBtn, photoBtn, fileInput),
    video,
    status,
    outboxPanel(),
  );
  // A USB or Bluetooth scanner types into whatever has focus: keep it on the code field.
  main.onclick = (ev) => {
    const t = ev.target;
    if (!(t instanceof HTMLInputElement) && !(t instanceof HTMLButtonElement) && !(t instanceof HTMLLabelElement) && !(t instanceof HTMLAnchorElement)) input.focus();
  };
  input.focus();
}

function banner(kind, text) {
  return h("div", { class: `banner ${kind}`, role: "alert" }, text);
}

function wardrobeView(groups) {
  if (!groups.length) return h("p", { class: "muted" }, t("card.no_garments"));
  return groups.map((g) =>
    h(
      "section",
      { class: "wardrobe-group" },
      h("h3", {}, `${word("season_class", g.season_class)} · ${word("category", g.category)}`),
      h(
        "ul",
        { class: "garments" },
        g.garments.map((x) =>
          h(
            "li",
            {},
            h("span", {}, garmentName(x)),
            h("span", { class: "num" }, t("card.times_cleaned", { n: x.times_cleaned })),
          ),
        ),
      ),
    ),
  );
}

function garmentName(g) {
  return [word("kind", g.kind), g.brand, g.colour, g.size, word("material", g.material)].filter(Boolean).join(" · ");
}

let pendingCard = null;

/** The customer card: who lives here, what to watch out for, the wardrobe and the last pickups. */
export function showCard(main, card, scannedGarment) {
  stopViewfinder();
  pendingCard = { card, scannedGarment };
  location.hash = `#/c/${card.customer.customer_id}`;
}

/** Shows a customer's card by id (the one a scan just answered, else loaded). */
export async function cardScreen(main, customerId) {
  main.onclick = null;
  if (pendingCard && pendingCard.card.customer.customer_id === customerId) {
    const { card, scannedGarment } = pendingCard;
    pendingCard = null;
    renderCard(main, card, scannedGarment);
    return;
  }
  replace(main, h("p", { class: "msg" }, t("common.loading")));
  try {
    renderCard(main, await get(`/customers/${customerId}/card`), null);
  } catch (e) {
    replace(main, problemView(e), h("a", { href: "#/", class: "button" }, t("nav.scan")));
  }
}

function renderCard(main, card, scannedGarment) {
  const c = card.customer;
  const banners = [];
  if (c.do_not_contact) banners.push(banner("warn", t("card.do_not_contact")));
  for (const cmp of card.open_complaints) {
    banners.push(banner("danger", `${t("card.open_complaint")} (${date(cmp.occurred_at, currentLang())}): ${cmp.body}`));
  }
  const phone = c.phone ? h("a", { href: `tel:${String(c.phone).replace(/[^0-9+]/g, "")}`, class: "phone" }, c.phone) : null;
  const note = h("div", { class: "note-box" });
  replace(
    main,
    banners,
    h("h1", { class: "customer-name" }, c.name),
    h("p", { class: "address" }, c.address || t("card.no_address")),
    phone,
    scannedGarment ? h("p", { class: "msg" }, t("card.scanned_garment", { name: garmentName(scannedGarment) })) : null,
    h(
      "div",
      { class: "actions" },
      h("a", { href: `#/v/${c.customer_id}`, class: "button primary big", id: "start-visit" }, t("card.start_visit")),
    ),
    h("h2", {}, t("card.wardrobe")),
    wardrobeView(card.wardrobe),
    h("h2", {}, t("card.last_pickups")),
    card.last_pickups.length
      ? h(
          "ul",
          { class: "pickups" },
          card.last_pickups.map((p) =>
            h(
              "li",
              {},
              h("a", { href: `/app/receipt/${c.customer_id}/${p.pickup_id}` }, dateTime(p.collected_at, currentLang())),
              h("span", { class: "num" }, `${t("card.garments", { n: p.line_count })} · ${money(p.total_cents)}`),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("card.no_pickups")),
    h("h2", {}, t("card.record")),
    note,
  );
  renderNoteForm(note, c.customer_id);
  sessionStorage.setItem(`doorstep.card.${c.customer_id}`, JSON.stringify(card));
}

function renderNoteForm(box, customerId) {
  const kind = h(
    "select",
    { name: "kind", "aria-label": t("note.kind") },
    h("option", { value: "note" }, t("note.note")),
    h("option", { value: "complaint" }, t("note.complaint")),
  );
  const body = h("textarea", { name: "body", rows: "3", maxlength: "4000", placeholder: t("note.placeholder"), "aria-label": t("note.placeholder") });
  const status = h("div", { "aria-live": "polite" });
  const save = h("button", { type: "submit" }, t("note.save"));
  // One key and one time per note: tapping Save again after a timeout records the note once.
  let attempt = null;
  replace(
    box,
    h(
      "form",
      {
        class: "note-form",
        onsubmit: async (ev) => {
          ev.preventDefault();
          if (!body.value.trim()) return;
          const note = { kind: kind.value, channel: "door", body: body.value.trim() };
          if (!attempt || attempt.kind !== note.kind || attempt.body !== note.body) {
            attempt = { ...note, occurred_at: nowIso(), key: uuid() };
          }
          save.disabled = true;
          try {
            await call("POST", `/customers/${customerId}/interactions`, {
              body: { ...note, occurred_at: attempt.occurred_at },
              headers: { "Idempotency-Key": attempt.key },
            });
            attempt = null;
            body.value = "";
            replace(status, h("p", { class: "msg ok" }, t("note.saved")));
          } catch (e) {
            if (!outcomeUnknown(e)) attempt = null;
            replace(status, problemView(e));
          } finally {
            save.disabled = false;
          }
        },
      },
      kind,
      body,
      save,
    ),
    status,
  );
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hx = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hx.slice(0, 8)}-${hx.slice(8, 12)}-${hx.slice(12, 16)}-${hx.slice(16, 20)}-${hx.slice(20)}`;
}

function draftKey(customerId) {
  return `doorstep.draft.${customerId}`;
}

/** A visit being recorded: its Idempotency-Key is made when it starts and kept with the draft. */
function loadDraft(customerId) {
  const saved = localStorage.getItem(draftKey(customerId));
  if (saved) return JSON.parse(saved);
  return { key: uuid(), customer_id: customerId, started_at: nowIso(), lines: [], notes: "" };
}

function saveDraft(d) {
  localStorage.setItem(draftKey(d.customer_id), JSON.stringify(d));
}

function defaults() {
  return JSON.parse(localStorage.getItem("doorstep.garment_defaults") || "{}");
}

function serviceFor(kind, material) {
  if (material === "leather" || material === "suede" || material === "fur") return "leather_care";
  if (["coat", "suit", "blazer", "down_jacket", "dress"].includes(kind) || ["wool", "cashmere", "silk"].includes(material)) return "dry_clean";
  return "wash";
}

/** A select of enum `values`, named in the page's language by their catalogue `group`. */
export function select(name, values, group, value, attrs = {}) {
  return h(
    "select",
    { name, ...attrs },
    attrs.optional ? h("option", { value: "" }, "—") : null,
    values.map((v) => h("option", { value: v, selected: v === value }, word(group, v))),
  );
}

/** Records a visit: known garments tap-added, tags scanned, new garments described, priced, totalled. */
export async function visitScreen(main, customerId, restore) {
  stopViewfinder();
  main.onclick = null;
  let card = JSON.parse(sessionStorage.getItem(`doorstep.card.${customerId}`) || "null");
  if (!card) {
    try {
      card = await get(`/customers/${customerId}/card`);
      sessionStorage.setItem(`doorstep.card.${customerId}`, JSON.stringify(card));
    } catch (e) {
      replace(main, problemView(e));
      return;
    }
  }
  const draft = restore || loadDraft(customerId);
  saveDraft(draft);
  const known = card.wardrobe.flatMap((g) => g.garments);
  const linesBox = h("ol", { class: "lines", id: "lines" });
  const totalBox = h("p", { class: "total num", id: "total" });
  const status = h("div", { "aria-live": "polite" });

  const addLine = (line) => {
    draft.lines.push(line);
    saveDraft(draft);
    feedback(true);
    renderLines();
  };
  const priceOf = (kind, material, service) => priceFor(prices, kind, material, service);
  const lineFor = (garment, ref) => {
    const service = serviceFor(garment.kind, garment.material);
    return { ...ref, label: garmentName(garment), kind: garment.kind, material: garment.material || null, service, price_cents: priceOf(garment.kind, garment.material || null, service) ?? 0, condition: "" };
  };

  function renderLines() {
    replace(
      linesBox,
      draft.lines.map((l, i) => {
        const price = h("input", { class: "price num", inputmode: "decimal", value: (l.price_cents / 100).toFixed(2), "aria-label": t("visit.price") });
        price.addEventListener("change", () => {
          const v = parseYuan(price.value);
          price.classList.toggle("invalid", v === null);
          if (v !== null) {
            l.price_cents = v;
            saveDraft(draft);
            renderTotal();
          }
        });
        const service = select("service", SERVICES, "service", l.service, { "aria-label": t("visit.service") });
        service.addEventListener("change", () => {
          l.service = service.value;
          const p = priceOf(l.kind, l.material, l.service);
          if (p !== null) l.price_cents = p;
          saveDraft(draft);
          renderLines();
        });
        const cond = h("input", { class: "condition", value: l.condition, maxlength: "1000", placeholder: t("visit.condition"), "aria-label": t("visit.condition") });
        cond.addEventListener("change", () => {
          l.condition = cond.value;
          saveDraft(draft);
        });
        return h(
          "li",
          { class: "line" },
          h("div", { class: "line-head" }, h("strong", {}, l.label), confirmButton(t("visit.remove"), t("visit.remove_confirm"), () => {
            draft.lines.splice(i, 1);
            saveDraft(draft);
            renderLines();
          }, { class: "small" })),
          h("div", { class: "line-body" }, service, price, cond),
        );
      }),
    );
    renderTotal();
  }
  function renderTotal() {
    const sum = draft.lines.reduce((a, l) => a + (l.price_cents || 0), 0);
    totalBox.textContent = `${t("visit.total")}: ${money(sum)} · ${t("card.garments", { n: draft.lines.length })}`;
  }

  const knownList = h(
    "ul",
    { class: "known" },
    known.map((g) =>
      h("li", {}, h("button", { type: "button", class: "garment-add", onclick: () => addLine(lineFor(g, { garment_id: g.garment_id })) }, `+ ${garmentName(g)}`)),
    ),
  );

  const tagInput = h("input", { id: "tag", class: "code-input", autocomplete: "off", autocapitalize: "characters", placeholder: t("visit.tag_placeholder"), "aria-label": t("visit.tag_label") });
  const newBox = h("div", { class: "new-garment" });
  const tagForm = h(
    "form",
    {
      onsubmit: async (ev) => {
        ev.preventDefault();
        const code = tagInput.value.trim();
        if (!code) return;
        tagInput.value = "";
        try {
          const r = await get(`/tags/${encodeURIComponent(code)}`);
          if (!r.garment) {
            renderNewGarment(r.code);
            replace(status, h("p", { class: "msg" }, t("visit.new_tag")));
          } else if (r.garment.customer_id !== customerId) {
            replace(status, h("div", { class: "msg error" }, t("visit.other_customers_tag")));
          } else if (draft.lines.some((l) => l.garment_id === r.garment.garment_id)) {
            // A scanner that fires twice must not bill a garment twice; a second service is added on purpose from the list.
            replace(status, h("div", { class: "msg" }, t("visit.already_added")));
          } else {
            addLine(lineFor(r.garment, { garment_id: r.garment.garment_id }));
            replace(status);
          }
        } catch (e) {
          if (e instanceof NetworkError) {
            renderNewGarment(code);
            replace(status, h("p", { class: "msg" }, t("visit.tag_offline")));
          } else if (e instanceof ApiError && e.status === 422) {
            replace(status, h("div", { class: "msg error" }, t("visit.not_a_tag")));
          } else {
            replace(status, problemView(e));
          }
        }
      },
    },
    tagInput,
    h("button", { type: "submit" }, t("visit.add_tag")),
  );

  function renderNewGarment(tagCode) {
    const d = defaults();
    const f = {
      category: select("category", CATEGORIES, "category", d.category || "women", { "aria-label": t("field.category") }),
      kind: select("kind", KINDS, "kind", d.kind || "coat", { "aria-label": t("field.kind") }),
      season_class: select("season_class", SEASONS, "season_class", d.season_class || "winter", { "aria-label": t("field.season_class") }),
      material: select("material", MATERIALS, "material", d.material || "", { optional: true, "aria-label": t("field.material") }),
      brand: h("input", { name: "brand", maxlength: "100", placeholder: t("field.brand"), "aria-label": t("field.brand") }),
      cut: h("input", { name: "cut", maxlength: "100", placeholder: t("field.cut"), "aria-label": t("field.cut") }),
      size: h("input", { name: "size", maxlength: "100", placeholder: t("field.size"), "aria-label": t("field.size") }),
      colour: h("input", { name: "colour", maxlength: "100", placeholder: t("field.colour"), "aria-label": t("field.colour") }),
      special_size: h("input", { type: "checkbox", name: "special_size", id: "special_size" }),
    };
    replace(
      newBox,
      h(
        "form",
        {
          class: "garment-form",
          onsubmit: (ev) => {
            ev.preventDefault();
            const g = {
              category: f.category.value,
              kind: f.kind.value,
              season_class: f.season_class.value,
              material: f.material.value || null,
              brand: f.brand.value.trim() || null,
              cut: f.cut.value.trim() || null,
              size: f.size.value.trim() || null,
              colour: f.colour.value.trim() || null,
              special_size: f.special_size.checked,
            };
            if (tagCode) g.tag_code = tagCode;
            localStorage.setItem("doorstep.garment_defaults", JSON.stringify({ category: g.category, kind: g.kind, season_class: g.season_class, material: g.material }));
            addLine(lineFor(g, { garment: g }));
            replace(newBox, newButton());
          },
        },
        tagCode ? h("p", { class: "msg" }, `${t("visit.tag")}: ${grouped(tagCode)}`) : null,
        h("div", { class: "grid" }, f.category, f.kind, f.season_class, f.material, f.brand, f.cut, f.size, f.colour),
        h("label", { class: "check" }, f.special_size, t("field.special_size")),
        h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("visit.add_garment")), h("button", { type: "button", onclick: () => replace(newBox, newButton()) }, t("common.cancel"))),
      ),
    );
    f.brand.focus();
  }
  const newButton = () => h("button", { type: "button", class: "big", id: "new-garment", onclick: () => renderNewGarment(null) }, t("visit.new_garment"));
  replace(newBox, newButton());

  const notes = h("textarea", { rows: "2", maxlength: "4000", placeholder: t("visit.notes"), "aria-label": t("visit.notes") }, draft.notes || "");
  notes.addEventListener("change", () => {
    draft.notes = notes.value;
    saveDraft(draft);
  });

  const submit = h(
    "button",
    {
      type: "button",
      class: "primary big",
      id: "submit-visit",
      onclick: async () => {
        if (!draft.lines.length) {
          replace(status, h("div", { class: "msg error" }, t("visit.empty")));
          return;
        }
        if (draft.lines.some((l) => !Number.isFinite(l.price_cents))) return;
        const body = {
          customer_id: customerId,
          collected_at: draft.started_at,
          notes: draft.notes || null,
          lines: draft.lines.map((l) => {
            const line = { service: l.service, price_cents: l.price_cents };
            if (l.garment_id) line.garment_id = l.garment_id;
            else line.garment = l.garment;
            if (l.condition && l.condition.trim()) line.condition = l.condition.trim();
            return line;
          }),
        };
        submit.disabled = true;
        await outbox.enqueue({ key: draft.key, body, label: card.customer.name });
        localStorage.removeItem(draftKey(customerId));
        waitForSend(main, draft.key, customerId);
      },
    },
    t("visit.submit"),
  );

  replace(
    main,
    h("h1", {}, t("visit.title", { name: card.customer.name })),
    restore && restore.error ? problemView(outbox.keptError(restore.error)) : null,
    h("h2", {}, t("visit.known")),
    known.length ? knownList : h("p", { class: "muted" }, t("card.no_garments")),
    h("h2", {}, t("visit.scan_tag")),
    tagForm,
    newBox,
    h("h2", {}, t("visit.lines")),
    linesBox,
    totalBox,
    notes,
    status,
    h("div", { class: "sticky-actions" }, submit),
  );
  renderLines();
}

/** After submit: the receipt once the server answers, or a note that the visit waits on the phone. */
function waitForSend(main, key, customerId) {
  const status = h("div", { class: "msg", "aria-live": "polite" }, t("visit.sending"));
  replace(main, h("h1", {}, t("visit.sending_title")), status);
  let settled = false;
  const onChange = async (ev) => {
    const sent = ev.detail && ev.detail.sent;
    if (sent && sent.key === key) {
      settled = true;
      window.removeEventListener("outbox:changed", onChange);
      location.assign(`/app/receipt/${customerId}/${ev.detail.result.pickup_id}`);
      return;
    }
    const mine = (await outbox.list()).find((e) => e.key === key);
    if (!mine) return;
    if (mine.state === "rejected") {
      settled = true;
      window.removeEventListener("outbox:changed", onChange);
      await outbox.remove(key);
      const restore = { ...loadDraftFromBody(mine), error: mine.error };
      saveDraft(restore);
      visitScreen(main, customerId, restore);
    } else if (mine.attempts > 0 && !settled) {
      replace(status, h("p", {}, t("visit.kept_on_phone")), h("a", { href: "#/", class: "button primary big" }, t("visit.next_door")));
    }
  };
  window.addEventListener("outbox:changed", onChange);
  outbox.pump();
}

function loadDraftFromBody(entry) {
  return {
    key: entry.key,
    customer_id: entry.body.customer_id,
    started_at: entry.body.collected_at,
    notes: entry.body.notes || "",
    lines: entry.body.lines.map((l) => ({
      garment_id: l.garment_id,
      garment: l.garment,
      label: l.garment ? [word("kind", l.garment.kind), l.garment.brand].filter(Boolean).join(" · ") : t("visit.known_garment"),
      kind: l.garment ? l.garment.kind : null,
      material: l.garment ? l.garment.material : null,
      service: l.service,
      price_cents: l.price_cents,
      condition: l.condition || "",
    })),
  };
}

/** The outbox as the worker sees it: what waits, what the server refused, what is too old. */
export function outboxPanel() {
  const box = h("section", { class: "outbox", id: "outbox" });
  const render = async () => {
    const all = await outbox.list();
    if (!all.length) {
      replace(box);
      return;
    }
    replace(
      box,
      h("h2", {}, t("outbox.title", { n: all.length })),
      h(
        "ul",
        {},
        all.map((e) =>
          h(
            "li",
            { class: `outbox-${e.state}` },
            h("strong", {}, e.label || e.body.customer_id),
            h("span", {}, ` · ${t(outbox.othersVisit(e) ? "outbox.others" : `outbox.${e.state}`)} · ${dateTime(new Date(e.created_at).toISOString(), currentLang())}`),
            e.state === "rejected" || e.state === "expired"
              ? h("a", { href: `#/fix/${e.key}`, class: "button small" }, t("outbox.fix"))
              : null,
            confirmButton(t("outbox.discard"), t("outbox.discard_confirm"), async () => {
              await outbox.remove(e.key);
            }, { class: "small" }),
          ),
        ),
      ),
    );
  };
  window.addEventListener("outbox:changed", render);
  render();
  return box;
}

/** Brings a refused or expired visit back into the editor, with the server's reasons. */
export async function fixScreen(main, key) {
  const e = (await outbox.list()).find((x) => x.key === key);
  if (!e) {
    location.hash = "#/";
    return;
  }
  await outbox.remove(key);
  // The entry's own key stays, expired or not: if the visit was recorded after all, the server replays it (or
  // refuses a changed one) instead of recording it twice.
  const restore = { ...loadDraftFromBody(e), error: e.error };
  saveDraft(restore);
  visitScreen(main, e.body.customer_id, restore);
}
