// The JSON API of the server (docs/openapi.json). Every call returns the parsed body or
// throws an ApiError with the server's `code` (its `error` field), `message`, HTTP `status` and, on 429/503,
// `retryAfter` seconds.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/**
 * Calls the API. `opts`: {method, token, json, text, contentType, raw, cache}.
 * `cache`: the fetch cache mode (e.g. `no-cache` to skip a cached answer).
 * `raw: true` returns the Response's text instead of parsing JSON.
 */
export async function api(path, opts = {}) {
  const headers = {};
  let body;
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.text !== undefined) {
    headers['Content-Type'] = opts.contentType || 'text/plain';
    body = opts.text;
  }
  let resp;
  try {
    resp = await fetch(path, { method: opts.method || (body ? 'POST' : 'GET'), headers, body, cache: opts.cache });
  } catch (e) {
    throw new ApiError(0, 'network', e.message || String(e));
  }
  if (!resp.ok) {
    let code = 'http_' + resp.status;
    let message = resp.statusText;
    try {
      const err = await resp.json();
      code = err.error || code;
      message = err.message || message;
    } catch (_) {
      /* not JSON: keep the status text */
    }
    const retry = Number(resp.headers.get('Retry-After')) || undefined;
    throw new ApiError(resp.status, code, message, retry);
  }
  if (opts.raw) return resp.text();
  if (resp.status === 204) return null;
  const type = resp.headers.get('Content-Type') || '';
  return type.includes('json') ? resp.json() : resp.text();
}

/** Calls `api`, retrying after 429 or 503 as the server asks (at most `tries` times). */
export async function apiWithRetry(path, opts = {}, tries = 5, onWait = () => {}) {
  for (let i = 1; ; i++) {
    try {
      return await api(path, opts);
    } catch (e) {
      if (!(e instanceof ApiError) || ![0, 429, 503].includes(e.status) || i >= tries) throw e;
      const secs = e.retryAfter || Math.min(2 ** i, 30);
      onWait(secs);
      await new Promise((r) => setTimeout(r, secs * 1000));
    }
  }
}

/** The whole record of an election (JSON Lines text). */
export function fetchRecord(id) {
  return api(`/api/elections/${encodeURIComponent(id)}/record`, { raw: true });
}

/** The election id of a page under /elections/{id}. */
export function electionIdFromPath() {
  const m = location.pathname.match(/^\/elections\/([A-Za-z0-9_-]{1,64})(?:\/|$)/);
  return m ? m[1] : null;
}

/** Values of the URL fragment (#token=…&credential=…), which never reach the server. */
export function fragmentParams() {
  return new URLSearchParams(location.hash.replace(/^#/, ''));
}
