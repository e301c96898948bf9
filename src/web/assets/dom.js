// A few DOM helpers: build elements without HTML strings, so no customer text is ever parsed as markup.

/** Creates an element: `h("button", {class: "big", onclick}, "text", child)`. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** A button that needs a second tap within 4 s (destructive actions, without a dialog). */
export function confirmButton(label, confirmLabel, onConfirm, attrs = {}) {
  let armed = false;
  let timer = null;
  const btn = h("button", { type: "button", ...attrs }, label);
  btn.addEventListener("click", () => {
    if (armed) {
      clearTimeout(timer);
      armed = false;
      btn.textContent = label;
      btn.classList.remove("armed");
      onConfirm();
      return;
    }
    armed = true;
    btn.textContent = confirmLabel;
    btn.classList.add("armed");
    timer = setTimeout(() => {
      armed = false;
      btn.textContent = label;
      btn.classList.remove("armed");
    }, 4000);
  });
  return btn;
}
