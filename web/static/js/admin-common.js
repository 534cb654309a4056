// Shared pieces of the officials' pages: the admin session (token in sessionStorage), API
// calls that notice an expired session, the confirmation dialog, times and numbers.
import { api, apiWithRetry, ApiError } from './api.js';
import { t, currentLanguage } from './i18n.js';
import { $, announce, errorText, formatTime } from './ui.js';

const TOKEN_KEY = 'scrutin.admin.token';
const USER_KEY = 'scrutin.admin.user';

/** A message for the next view to announce (e.g. after a deletion, the list). */
export const notices = { next: '' };

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get user() {
    return sessionStorage.getItem(USER_KEY) || '';
  },
  set(token, user) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, user);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
};

let onExpired = () => {};

/** What to do when the server says the session is no longer valid (401). */
export function setExpiredHandler(handler) {
  onExpired = handler;
}

/**
 * Calls the admin API with the session's token, retrying politely on 429/503 and network
 * failures; a 401 ends the session and hands over to the expiry handler.
 */
export async function adminApi(path, opts = {}) {
  const token = session.token;
  if (!token) {
    onExpired();
    throw new ApiError(401, 'unauthorized', t('admin.session_expired'));
  }
  try {
    return await apiWithRetry(path, { ...opts, token }, 3, (secs) =>
      announce(t('common.error_busy', { seconds: secs })),
    );
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      session.clear();
      onExpired();
    }
    throw e;
  }
}

/** Calls a public route of the API (no token), past the browser's cache. */
export function publicApi(path) {
  return apiWithRetry(path, { cache: 'no-cache' }, 3);
}

/** The message to show for a failure (an expired session is handled elsewhere). */
export function explain(err) {
  if (err instanceof ApiError && err.status === 401) return t('admin.session_expired');
  if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.message) {
    return t('admin.server_said', { message: err.message });
  }
  return errorText(err);
}

/** Election ids as the server accepts them. */
export const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function electionPath(id, rest = '') {
  return `/api/admin/elections/${encodeURIComponent(id)}${rest}`;
}

/** A Unix time (seconds) as the value of an <input type="datetime-local">, in local time. */
export function toLocalInput(secs) {
  if (secs === null || secs === undefined) return '';
  const d = new Date(secs * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The Unix time (seconds) of a datetime-local value (local time); null when empty, NaN when invalid. */
export function fromLocalInput(value) {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : NaN;
}

/** A Unix time as text in the page's language, or "not set". */
export function timeText(secs) {
  if (secs === null || secs === undefined) return t('admin.not_set');
  return formatTime(secs, currentLanguage());
}

/** A count in the page's language. */
export function num(n) {
  return Number(n).toLocaleString(currentLanguage());
}

/** The name of the browser's time zone, for hints next to time fields. */
export function timeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch (_) {
    return '';
  }
}

/**
 * Asks for confirmation in the page's modal <dialog id="confirm-dialog">; resolves true
 * when confirmed, false when cancelled (Cancel, Escape).
 */
export function confirmAction({ title, body, confirm, danger = false }) {
  const dialog = $('#confirm-dialog');
  $('#confirm-title').textContent = title;
  $('#confirm-body').textContent = body;
  const yes = $('#confirm-yes');
  const no = $('#confirm-no');
  yes.textContent = confirm;
  yes.classList.toggle('danger', danger);
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const done = (value) => {
      yes.removeEventListener('click', onYes);
      no.removeEventListener('click', onNo);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      if (opener && typeof opener.focus === 'function' && opener.isConnected) opener.focus();
      resolve(value);
    };
    const onYes = () => done(true);
    const onNo = () => done(false);
    const onClose = () => done(false);
    yes.addEventListener('click', onYes);
    no.addEventListener('click', onNo);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    no.focus();
  });
}

/** Copies text to the clipboard (falls back to selecting the given field). */
export async function copyText(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (_) {
    if (field) {
      field.focus();
      field.select();
      try {
        return document.execCommand('copy');
      } catch (__) {
        return false;
      }
    }
    return false;
  }
}

export { api, ApiError };
