// The receipt page's print button (no inline script: the page's CSP forbids it).

for (const btn of document.querySelectorAll("[data-print]")) {
  btn.addEventListener("click", () => window.print());
}
