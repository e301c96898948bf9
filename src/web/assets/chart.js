// Small SVG charts drawn at the width they are shown (so text stays legible on a phone) and printable.

const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A round number step for an axis reaching `max` in about `n` ticks. */
export function niceStep(max, n = 4) {
  if (!(max > 0)) return 1;
  const raw = max / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/** An SVG path through points, skipping gaps (null y). */
export function linePath(points) {
  let d = "";
  let pen = false;
  for (const [x, y] of points) {
    if (y === null || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  }
  return d;
}

/** A closed band between an upper and a lower line over the same xs. */
export function bandPath(xs, upper, lower) {
  if (!xs.length) return "";
  const top = xs.map((x, i) => `${i ? "L" : "M"}${x.toFixed(1)},${upper[i].toFixed(1)}`).join("");
  const bottom = xs
    .map((x, i) => [x, lower[i]])
    .reverse()
    .map(([x, y]) => `L${x.toFixed(1)},${y.toFixed(1)}`)
    .join("");
  return `${top}${bottom}Z`;
}

/**
 * Weekly history and a forecast with 80% and 95% bands: `history` values end the week before `forecast[0]`.
 * `labels` names the legend entries; `dateLabel(iso)` formats axis dates.
 */
export function forecastChart({ history, forecast, width, height = 220, labels, dateLabel, title }) {
  const w = Math.max(280, Math.round(width));
  const pad = { l: 44, r: 10, t: 12, b: 40 };
  const n = history.length + forecast.length;
  const ymax = Math.max(1, ...history, ...forecast.map((f) => f.hi95));
  const step = niceStep(ymax);
  const top = Math.ceil(ymax / step) * step;
  const x = (i) => pad.l + (n <= 1 ? 0 : (i / (n - 1)) * (w - pad.l - pad.r));
  const y = (v) => pad.t + (1 - Math.max(0, v) / top) * (height - pad.t - pad.b);
  const grid = [];
  for (let v = 0; v <= top + 1e-9; v += step) {
    grid.push(s("line", { x1: pad.l, x2: w - pad.r, y1: y(v), y2: y(v), class: "grid" }));
    grid.push(s("text", { x: pad.l - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, Math.round(v).toLocaleString()));
  }
  const h0 = history.length;
  const fx = forecast.map((_, i) => x(h0 + i));
  // The forecast starts from the last week of history so the lines join.
  const joinX = h0 ? [x(h0 - 1), ...fx] : fx;
  const last = h0 ? history[h0 - 1] : null;
  const withJoin = (arr) => (last === null ? arr : [last, ...arr]);
  const band95 = bandPath(joinX, withJoin(forecast.map((f) => f.hi95)).map(y), withJoin(forecast.map((f) => f.lo95)).map(y));
  const band80 = bandPath(joinX, withJoin(forecast.map((f) => f.hi80)).map(y), withJoin(forecast.map((f) => f.lo80)).map(y));
  const hist = linePath(history.map((v, i) => [x(i), y(v)]));
  const mean = linePath(joinX.map((xx, i) => [xx, y(withJoin(forecast.map((f) => f.mean))[i])]));
  const ticks = [];
  if (h0) ticks.push([0, labels.historyStart]);
  // The first forecast week is marked where there is room for three dates on the axis.
  if (forecast.length && w >= 520) ticks.push([h0, dateLabel(forecast[0].week_start)]);
  if (forecast.length > 1) ticks.push([n - 1, dateLabel(forecast[forecast.length - 1].week_start)]);
  const xt = ticks.map(([i, text], k) =>
    s("text", { x: x(i), y: height - pad.b + 16, "text-anchor": k === 0 && i === 0 ? "start" : k === ticks.length - 1 ? "end" : "middle", class: "tick" }, text),
  );
  const legendY = height - 8;
  const legend = s(
    "g",
    { class: "legend" },
    s("rect", { x: pad.l, y: legendY - 9, width: 12, height: 10, class: "band95" }),
    s("text", { x: pad.l + 16, y: legendY }, labels.band95),
    s("rect", { x: pad.l + 70, y: legendY - 9, width: 12, height: 10, class: "band80" }),
    s("text", { x: pad.l + 86, y: legendY }, labels.band80),
    s("line", { x1: pad.l + 140, x2: pad.l + 156, y1: legendY - 4, y2: legendY - 4, class: "history" }),
    s("text", { x: pad.l + 160, y: legendY }, labels.history),
  );
  return s(
    "svg",
    { viewBox: `0 0 ${w} ${height}`, width: "100%", class: "chart", role: "img", "aria-label": title, preserveAspectRatio: "xMinYMin meet" },
    s("title", {}, title),
    grid,
    s("path", { d: band95, class: "band95" }),
    s("path", { d: band80, class: "band80" }),
    s("path", { d: hist, class: "history" }),
    s("path", { d: mean, class: "forecast" }),
    h0 && forecast.length ? s("line", { x1: x(h0), x2: x(h0), y1: pad.t, y2: height - pad.b, class: "now" }) : null,
    xt,
    legend,
  );
}

/** Horizontal bars, one a row: `{label, value, max, mark?, text}`; `mark` draws a tick (e.g. the 80% bound). */
export function barChart(rows, { width, title }) {
  const w = Math.max(280, Math.round(width));
  // Label above the bar, figures below it: long zone names and numbers never run off a phone's width.
  const rowH = 62;
  const height = rows.length * rowH + 4;
  const left = 8;
  const barW = w - left - 8;
  const items = rows.map((r, i) => {
    const y0 = i * rowH + 2;
    const max = r.max > 0 ? r.max : 1;
    const frac = Math.min(1, Math.max(0, r.value / max));
    const over = r.value > max;
    const mark = r.mark === undefined || r.mark === null ? null : Math.min(1, Math.max(0, r.mark / max));
    return s(
      "g",
      { class: over ? "bar over" : "bar" },
      s("text", { x: left, y: y0 + 14, class: "bar-label" }, r.label),
      s("text", { x: left, y: y0 + 54, class: "bar-value" }, r.text),
      s("rect", { x: left, y: y0 + 20, width: barW, height: 16, class: "track" }),
      s("rect", { x: left, y: y0 + 20, width: Math.max(0, frac * barW), height: 16, class: "fill" }),
      mark === null ? null : s("line", { x1: left + mark * barW, x2: left + mark * barW, y1: y0 + 17, y2: y0 + 39, class: "mark" }),
    );
  });
  return s("svg", { viewBox: `0 0 ${w} ${height}`, width: "100%", class: "chart bars", role: "img", "aria-label": title }, s("title", {}, title), items);
}

/** A funnel: each step a centred bar as wide as its share of the first step. */
export function funnelChart(steps, { width, title }) {
  const w = Math.max(280, Math.round(width));
  const rowH = 40;
  const height = steps.length * rowH + 4;
  const first = Math.max(1, steps[0] ? steps[0].value : 1);
  const items = steps.map((st, i) => {
    const frac = Math.max(0.02, Math.min(1, st.value / first));
    const bw = frac * (w - 16);
    const y0 = i * rowH + 2;
    return s(
      "g",
      { class: "step" },
      s("rect", { x: (w - bw) / 2, y: y0, width: bw, height: rowH - 8, class: "fill" }),
      s("text", { x: w / 2, y: y0 + rowH / 2, "text-anchor": "middle", class: "step-label" }, `${st.label}: ${st.text ?? st.value}`),
    );
  });
  return s("svg", { viewBox: `0 0 ${w} ${height}`, width: "100%", class: "chart funnel", role: "img", "aria-label": title }, s("title", {}, title), items);
}
