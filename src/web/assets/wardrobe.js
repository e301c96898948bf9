// The customer screen's wardrobe: every garment on record by season and category, each correctable in place.

import { call } from "./api.js";
import { h, replace } from "./dom.js";
import { t, word, currentLang } from "./i18n.js";
import { date } from "./format.js";
import { guarded, say } from "./kit.js";
import { CATEGORIES, SEASONS, KINDS, MATERIALS, select } from "./pickup.js";

const TEXTS = ["brand", "size", "colour"];

/** A garment in a few words: kind, then brand, size and colour where recorded. */
function label(g) {
  return [word("kind", g.kind), g.brand, g.size, g.colour].filter(Boolean).join(" · ");
}

/**
 * The wardrobe of `card` in `box`: a garment recorded with the wrong season, size or kind is on the wrong lists
 * (a winter coat filed as summer is never on the spring reminders), so each one opens a form that corrects it.
 * `reload` shows the customer again after a correction.
 */
export function wardrobeBox(box, card, customerId, reload) {
  if (!card.wardrobe.length) {
    replace(box);
    return;
  }
  const editor = h("div", { id: "garment-editor" });
  const open = (g, button) => {
    for (const b of box.querySelectorAll("button.garment[aria-expanded=true]")) b.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-expanded", "true");
    replace(editor, garmentForm(g, customerId, () => replace(editor), reload));
    button.closest(".wardrobe-group").after(editor);
    editor.querySelector("select, input")?.focus();
  };
  replace(
    box,
    h("h2", {}, t("card.wardrobe")),
    h("p", { class: "muted" }, t("wardrobe.hint")),
    card.wardrobe.map((group) =>
      h(
        "div",
        { class: "wardrobe-group" },
        h("h3", {}, `${word("season_class", group.season_class)} · ${word("category", group.category)}`),
        h(
          "ul",
          { class: "garment-list" },
          group.garments.map((g) => {
            const button = h("button", { type: "button", class: "small garment", "aria-expanded": "false", dataset: { garment: g.garment_id }, onclick: () => open(g, button) }, label(g));
            return h("li", {}, button);
          }),
        ),
      ),
    ),
    editor,
  );
}

/** The correction form of one garment: only what was changed is sent. */
function garmentForm(g, customerId, close, reload) {
  const status = h("div", { class: "status", "aria-live": "polite" });
  const f = {
    category: select("category", CATEGORIES, "category", g.category, { id: "g-category" }),
    season_class: select("season_class", SEASONS, "season_class", g.season_class, { id: "g-season" }),
    kind: select("kind", KINDS, "kind", g.kind, { id: "g-kind" }),
    material: select("material", MATERIALS, "material", g.material || "", { optional: true, id: "g-material" }),
    brand: h("input", { id: "g-brand", maxlength: 100, value: g.brand || "" }),
    size: h("input", { id: "g-size", maxlength: 100, value: g.size || "" }),
    colour: h("input", { id: "g-colour", maxlength: 100, value: g.colour || "" }),
    special_size: h("input", { type: "checkbox", id: "g-special", checked: !!g.special_size }),
  };
  const labelled = (key, input) => h("div", { class: "field" }, h("label", { for: input.id, class: "label" }, t(`field.${key}`)), input);
  const save = h("button", { type: "submit", class: "primary", id: "save-garment" }, t("note.save"));
  const submit = async (ev) => {
    ev.preventDefault();
    const patch = {};
    for (const k of ["category", "season_class", "kind"]) if (f[k].value !== g[k]) patch[k] = f[k].value;
    if ((f.material.value || null) !== (g.material || null)) patch.material = f.material.value || null;
    for (const k of TEXTS) {
      const v = f[k].value.trim();
      if (v !== (g[k] || "")) patch[k] = v || null;
    }
    if (f.special_size.checked !== !!g.special_size) patch.special_size = f.special_size.checked;
    if (!Object.keys(patch).length) return close();
    save.disabled = true;
    await guarded(status, async () => {
      await call("PATCH", `/customers/${customerId}/garments/${g.garment_id}`, { body: patch });
      say(status, t("note.saved"));
      reload();
    });
    save.disabled = false;
  };
  return h(
    "form",
    { class: "garment-form", id: "garment-form", onsubmit: submit },
    h("h3", {}, label(g)),
    g.last_cleaned_at ? h("p", { class: "muted" }, t("wardrobe.cleaned", { n: g.times_cleaned, date: date(g.last_cleaned_at, currentLang()) })) : null,
    h(
      "div",
      { class: "form-grid" },
      labelled("category", f.category),
      labelled("season_class", f.season_class),
      labelled("kind", f.kind),
      labelled("material", f.material),
      labelled("brand", f.brand),
      labelled("size", f.size),
      labelled("colour", f.colour),
    ),
    h("label", { class: "check" }, f.special_size, t("field.special_size")),
    h("div", { class: "actions" }, save, h("button", { type: "button", onclick: close }, t("common.cancel"))),
    status,
  );
}
