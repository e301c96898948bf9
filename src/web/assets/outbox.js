// The device's outbox: visits kept in IndexedDB under their Idempotency-Key and sent until the server answers.

import { call, ApiError, NetworkError } from "./api.js";

const DB = "doorstep";
const STORE = "outbox";
/** Longest a visit is retried before the worker is asked to check it: 5 days, well inside the 7 days the server
 * keeps Idempotency-Keys (`--idempotency-retention-days`), so no retry can outlive its key and record twice. */
export const GIVE_UP_MS = 5 * 24 * 3600 * 1000;
const MAX_BACKOFF_MS = 5 * 60 * 1000;

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "key" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const store = t.objectStore(STORE);
    const out = fn(store);
    t.oncomplete = () => resolve(out && "result" in out ? out.result : undefined);
    t.onerror = () => reject(t.error);
  });
}

/** Every entry, oldest first. */
export async function list() {
  const all = (await tx("readonly", (s) => s.getAll())) || [];
  return all.sort((a, b) => a.created_at - b.created_at);
}

/** Stores or replaces an entry. */
export function put(entry) {
  return tx("readwrite", (s) => s.put(entry));
}

/** Drops an entry. */
export function remove(key) {
  return tx("readwrite", (s) => s.delete(key));
}

/** The worker signed in on this device: a visit is sent under its own worker's session only, since keys are kept
 * per worker and another's session would record it a second time. */
let owner = null;

/** Whether `e` was queued by another worker than the one signed in (it waits for them). */
export function othersVisit(e) {
  return Boolean(e.staff_id && owner && e.staff_id !== owner);
}

/** Keeps a new visit for sending: `body` is the pickup, `key` its Idempotency-Key. */
export async function enqueue({ key, body, label }) {
  const now = Date.now();
  await put({ key, body, label, staff_id: owner, created_at: now, attempts: 0, next_at: now, state: "waiting", error: null });
  notify();
}

function notify(detail = {}) {
  window.dispatchEvent(new CustomEvent("outbox:changed", { detail }));
}

function backoff(attempts) {
  const base = Math.min(MAX_BACKOFF_MS, 2000 * 2 ** Math.min(attempts, 12));
  return base / 2 + Math.random() * (base / 2);
}

let timer = null;
let pumping = false;

/** Sends every due entry once; schedules itself again for the next due entry. */
export async function pump() {
  if (pumping) return;
  pumping = true;
  clearTimeout(timer);
  try {
    const run = async () => {
      for (const e of await list()) {
        if (e.state !== "waiting" || e.next_at > Date.now() || othersVisit(e)) continue;
        if (Date.now() - e.created_at > GIVE_UP_MS) {
          // One more try under its own key first: a visit recorded while its answer was lost is still kept by
          // the server, and replays instead of being recorded again.
          if (e.last_try) {
            e.state = "expired";
            await put(e);
            notify();
            continue;
          }
          e.last_try = true;
        }
        const stop = await sendOne(e);
        if (stop) break;
      }
    };
    if (navigator.locks) await navigator.locks.request("doorstep-outbox", run);
    else await run();
  } finally {
    pumping = false;
    schedule();
  }
}

/** The error an entry keeps (its last refusal, or the network failing) as the error it was, to be shown again. */
export function keptError(kept) {
  if (!kept) return null;
  if (kept.offline || kept.title === "offline") return new NetworkError(kept.detail || "");
  return new ApiError(kept.status || 0, kept);
}

/** Sends one entry; answers true when sending should pause (signed out). */
async function sendOne(e) {
  e.attempts += 1;
  try {
    const res = await call("POST", "/pickups", { body: e.body, headers: { "Idempotency-Key": e.key } });
    await remove(e.key);
    notify({ sent: e, result: res.data, replayed: res.headers.get("idempotent-replayed") === "true" });
    return false;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 422 || err.status === 400)) {
      e.state = "rejected";
      e.error = { status: err.status, type: err.type, title: err.title, detail: err.detail, hint: err.hint, errors: err.errors };
    } else if (err instanceof ApiError && err.status === 401) {
      e.next_at = Date.now() + 5000;
      await put(e);
      notify();
      return true;
    } else {
      const wait = err instanceof ApiError && err.retryAfter ? err.retryAfter * 1000 : backoff(e.attempts);
      e.next_at = Date.now() + wait;
      e.error = err instanceof NetworkError ? { offline: true, detail: err.message } : { status: err.status || 0, type: err.type || "", title: err.title || "", detail: err.message };
    }
    await put(e);
    notify();
    return false;
  }
}

async function schedule() {
  const waiting = (await list()).filter((e) => e.state === "waiting");
  if (!waiting.length) return;
  const next = Math.min(...waiting.map((e) => e.next_at));
  timer = setTimeout(pump, Math.max(250, next - Date.now()));
}

/** Starts sending `staffId`'s visits: now, whenever the network comes back, and when the page is shown again. */
export function start(staffId) {
  owner = staffId || null;
  window.addEventListener("online", () => {
    list().then(async (all) => {
      for (const e of all) if (e.state === "waiting") { e.next_at = Date.now(); await put(e); }
      pump();
    });
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) pump(); });
  pump();
}
