// Shared by the trustee page and the credential authority page: the role token carried in
// the URL fragment (#token=…, never sent to the server by the browser), kept for this tab
// only; the public view of the election; polling while the page is visible.
import { api, apiWithRetry, ApiError, fragmentParams } from './api.js';
import { t } from './i18n.js';
import { announce } from './ui.js';

const TOKEN = /^[0-9a-f]{64}$/;

function storageKey(role, id) {
  return `scrutin.${role}.${id}`;
}

/**
 * The role token of this page: read from the fragment (then removed from the address bar,
 * so it is not left on screen nor in the history), or kept from earlier in this tab
 * (sessionStorage, so that a reload works). `null` if there is none.
 */
export function takeRoleToken(role, id) {
  const fragment = fragmentParams();
  const fromUrl = (fragment.get('token') || '').trim().toLowerCase();
  if (location.hash) {
    history.replaceState(history.state, '', location.pathname + location.search);
  }
  if (TOKEN.test(fromUrl)) {
    rememberRoleToken(role, id, fromUrl);
    return fromUrl;
  }
  try {
    const kept = sessionStorage.getItem(storageKey(role, id));
    return kept && TOKEN.test(kept) ? kept : null;
  } catch (_) {
    return null;
  }
}

/** Whether `text` looks like a role token (64 hexadecimal characters). */
export function isToken(text) {
  return TOKEN.test(text);
}

export function rememberRoleToken(role, id, token) {
  try {
    sessionStorage.setItem(storageKey(role, id), token);
  } catch (_) {
    /* storage disabled: a reload will need the link again */
  }
}

export function forgetRoleToken(role, id) {
  try {
    sessionStorage.removeItem(storageKey(role, id));
  } catch (_) {
    /* nothing kept */
  }
}

/** Who the token is: {role: 'trustee', index} or {role: 'credential_authority'}. */
export function whoAmI(id, token) {
  return apiWithRetry(`/api/elections/${encodeURIComponent(id)}/role`, { token }, 5, waiting);
}

/** The public view of the election (definition, state, stage, fingerprint, trustees' progress). */
export function publicElection(id) {
  return apiWithRetry(`/api/elections/${encodeURIComponent(id)}`, { cache: 'no-cache' }, 5, waiting);
}

/** Tells the user that the server asked us to wait. */
export function waiting(seconds) {
  announce(t('common.error_busy', { seconds }));
}

/** The whole record, retried when the server is busy. */
export function record(id) {
  return apiWithRetry(`/api/elections/${encodeURIComponent(id)}/record`, { raw: true, cache: 'no-cache' }, 5, waiting);
}

export { listOf } from './ui.js';

/** Whether the failure means the token is not (or no longer) valid. */
export function tokenRefused(err) {
  return err instanceof ApiError && (err.status === 401 || err.status === 403);
}

/**
 * Calls `refresh()` every `seconds` while the page is visible, and at once when it becomes
 * visible again. Returns a function that stops it.
 */
export function pollWhileVisible(refresh, seconds = 5) {
  let timer = null;
  let running = false;
  const tick = async () => {
    if (running || document.visibilityState !== 'visible') return;
    running = true;
    try {
      await refresh();
    } catch (_) {
      /* shown by refresh itself; try again at the next tick */
    } finally {
      running = false;
    }
  };
  const onVisible = () => {
    if (document.visibilityState === 'visible') tick();
  };
  timer = setInterval(tick, seconds * 1000);
  document.addEventListener('visibilitychange', onVisible);
  return () => {
    clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisible);
  };
}

/**
 * Posts JSON with the role token, again after a 429 or 503 (the server refused it before
 * doing anything), but not after a network failure (the post may have landed: the caller
 * looks at the election again instead).
 */
export async function post(path, token, json) {
  for (let i = 1; ; i++) {
    try {
      return await api(path, { token, json });
    } catch (e) {
      if (!(e instanceof ApiError) || ![429, 503].includes(e.status) || i >= 5) throw e;
      const secs = e.retryAfter || Math.min(2 ** i, 30);
      waiting(secs);
      await new Promise((r) => setTimeout(r, secs * 1000));
    }
  }
}

/** A file name made only of safe characters. */
export function safeName(text) {
  return String(text).replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
}

/** Two sentences: `first` (closed with a full stop if it has none) and `then`. */
export function withStop(first, then) {
  const text = String(first).trim();
  return `${/[.!?…]$/.test(text) ? text : `${text}.`} ${then}`;
}
