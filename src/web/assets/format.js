// Pure view formatting: money in yuan, dates in company time, codes in readable groups.

/** Yuan with thousands separators and two decimals: 123450 fen is "¥1,234.50". */
export function money(cents) {
  const n = Number(cents);
  if (!Number.isFinite(n)) return "";
  const sign = n < 0 ? "-" : "";
  const abs = Math.abs(Math.round(n));
  const whole = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fen = String(abs % 100).padStart(2, "0");
  return `${sign}¥${whole}.${fen}`;
}

/** Parses what a worker types as yuan ("120", "120.5", "¥1,200.00") into fen, or null. */
export function parseYuan(text) {
  const t = String(text ?? "").trim().replace(/^¥/, "").replace(/元$/, "").replace(/,/g, "");
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(t)) return null;
  const [whole, frac = ""] = t.split(".");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0"));
}

/** The company's offset from UTC in minutes (Shanghai: +480); set once from the server. */
let offsetMinutes = 480;
export function setCompanyOffset(minutes) {
  if (Number.isFinite(minutes)) offsetMinutes = minutes;
}

function companyParts(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const local = new Date(d.getTime() + offsetMinutes * 60000);
  return {
    y: local.getUTCFullYear(),
    m: local.getUTCMonth() + 1,
    d: local.getUTCDate(),
    hh: String(local.getUTCHours()).padStart(2, "0"),
    mm: String(local.getUTCMinutes()).padStart(2, "0"),
  };
}

/** A date as people in Shanghai write it: "2026年3月5日" in Chinese, "2026-03-05" in English. */
export function date(iso, lang) {
  const p = companyParts(iso);
  if (!p) return "";
  if (lang === "zh-CN") return `${p.y}年${p.m}月${p.d}日`;
  return `${p.y}-${String(p.m).padStart(2, "0")}-${String(p.d).padStart(2, "0")}`;
}

/** A date and time in company time. */
export function dateTime(iso, lang) {
  const p = companyParts(iso);
  if (!p) return "";
  return `${date(iso, lang)} ${p.hh}:${p.mm}`;
}

/** The current instant as RFC 3339 with the company offset, as the API takes it. */
export function nowIso() {
  return new Date().toISOString();
}

/** A code in groups of four, as printed under the barcode: D7K3-QX9M-2PAF. */
export function grouped(code) {
  const c = String(code ?? "");
  return c.length === 12 ? `${c.slice(0, 4)}-${c.slice(4, 8)}-${c.slice(8)}` : c;
}

/** Bytes for people: "312 KB". */
export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * The cleaning price for a garment: the most specific row of the price list matching its kind, material and
 * service (a row's null kind or material matches any); between a kind-only and a material-only row the dearer
 * wins. Null when no row matches.
 */
export function priceFor(prices, kind, material, service) {
  let best = null;
  for (const p of prices) {
    if (p.service !== service) continue;
    if (p.kind && p.kind !== kind) continue;
    if (p.material && p.material !== material) continue;
    const spec = (p.kind ? 1 : 0) + (p.material ? 1 : 0);
    if (!best || spec > best.spec || (spec === best.spec && p.price_cents > best.row.price_cents)) {
      best = { spec, row: p };
    }
  }
  return best ? best.row.price_cents : null;
}
