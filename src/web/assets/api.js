// The JSON API as the page uses it: same-origin cookie session, CSRF header on writes, problem+json errors.

let csrf = localStorage.getItem("doorstep.csrf") || "";

/** Remembers the session's CSRF token (from /auth/me), also for retries after a reload. */
export function setCsrf(token) {
  csrf = token || "";
  localStorage.setItem("doorstep.csrf", csrf);
}

/** An answer that is not 2xx, with the server's problem+json fields. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.type = problem.type || "";
    this.title = problem.title || "";
    this.detail = problem.detail || "";
    this.hint = problem.hint || "";
    this.field = problem.field || "";
    this.errors = problem.errors || [];
    this.retryAfter = problem.retryAfter || 0;
  }
}

/** The network failed or timed out: nothing is known about what the server did. */
export class NetworkError extends Error {}

/**
 * Whether a failed write may still have been recorded (the network failed, it timed out, it is still running,
 * the server or a proxy failed): its retry must send the same Idempotency-Key. Any other answer refused it, so
 * the next attempt is a new write.
 */
export function outcomeUnknown(err) {
  if (err instanceof NetworkError) return true;
  return err instanceof ApiError && (err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500);
}

/**
 * Calls the API. `body` is JSON unless it is FormData; `headers` adds to the defaults. Resolves to
 * `{status, data, headers}`; rejects with ApiError (the server answered an error) or NetworkError.
 */
export async function call(method, path, { body, headers = {}, timeoutMs = 20000 } = {}) {
  const h = { Accept: "application/json", ...headers };
  if (method !== "GET" && method !== "HEAD") h["X-CSRF-Token"] = csrf;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    h["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers: h,
      body: payload,
      credentials: "same-origin",
      signal: ctl.signal,
    });
  } catch (e) {
    throw new NetworkError(String(e && e.message ? e.message : e));
  } finally {
    clearTimeout(timer);
  }
  const type = res.headers.get("content-type") || "";
  let data = null;
  if (type.includes("json")) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const problem = data || { title: res.statusText };
    problem.retryAfter = Number(res.headers.get("retry-after")) || 0;
    if (res.status === 401 && !path.startsWith("/auth/")) {
      location.assign("/app/login");
    }
    throw new ApiError(res.status, problem);
  }
  return { status: res.status, data, headers: res.headers };
}

/** GET shorthand returning the JSON body. */
export async function get(path) {
  return (await call("GET", path)).data;
}
