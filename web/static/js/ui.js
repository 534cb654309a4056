// Small DOM helpers shared by the pages. No framework: every page is plain HTML whose
// sections are shown one at a time.

import { t, currentLanguage } from './i18n.js';

/** Creates an element: el('p', {class: 'x', text: 'hi'}, child, …). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/**
 * Shows the <section data-step="name"> and hides its siblings; moves the focus to its
 * first heading so that keyboard and screen-reader users follow the step change.
 */
export function showStep(name) {
  for (const s of $$('[data-step]')) s.hidden = s.dataset.step !== name;
  const section = $(`[data-step="${name}"]`);
  const heading = section && section.querySelector('h1, h2');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
  return section;
}

/** Writes a message in the page's live region (#status, role="status"). */
export function announce(text) {
  const s = $('#status');
  if (s) s.textContent = text;
}

/** Shows an error in the page's alert region (#error, role="alert"); empty text clears it. */
export function showError(text) {
  const e = $('#error');
  if (!e) return;
  e.textContent = text || '';
  e.hidden = !text;
}

/** The user-facing text of a failure (API error, verifier error with check and seq). */
export function errorText(err) {
  if (!err) return '';
  if (err.check) return t('common.error_check', { check: err.check, seq: err.seq ?? '?', message: err.message });
  if (err.status === 429 || err.status === 503) {
    return t('common.error_busy', { seconds: err.retryAfter || 5 });
  }
  if (err.status === 0) return t('common.error_network');
  return err.message || String(err);
}

/** Offers `text` as a file download named `name`. */
export function download(name, text, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Reads a file chosen in an <input type="file"> as text. */
export function readFile(input) {
  const f = input.files && input.files[0];
  if (!f) return Promise.reject(new Error(t('common.no_file')));
  return f.text();
}

/** Disables `button` while `work()` runs; shows its failure in #error. */
export async function busy(button, work) {
  showError('');
  if (button) button.disabled = true;
  try {
    return await work();
  } catch (e) {
    showError(errorText(e));
    throw e;
  } finally {
    if (button) button.disabled = false;
  }
}

/** The name of the voter's time zone (IANA, e.g. "Europe/Paris"), or its short name. */
export function timeZoneName() {
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) return zone;
    const part = new Intl.DateTimeFormat('en', { timeZoneName: 'short' })
      .formatToParts(new Date())
      .find((p) => p.type === 'timeZoneName');
    return part ? part.value : 'UTC';
  } catch (_) {
    return 'UTC';
  }
}

/**
 * A Unix time (seconds) in the voter's time zone, with the zone's name, in the page's
 * language: "14 March 2027, 18:00 (Europe/Paris)", "14 mars 2027, 18:00 (Europe/Paris)".
 * Every page shows times through this function (the server-rendered pages through
 * local-time.js, which rewrites their <time datetime> elements with it).
 */
export function formatTime(secs, lang = document.documentElement.lang || 'en') {
  if (secs === null || secs === undefined || secs === '' || !Number.isFinite(Number(secs))) return '—';
  const d = new Date(Number(secs) * 1000);
  const zone = timeZoneName();
  // English dates in the day-month-year order of the rest of the site's texts.
  const locale = lang === 'en' ? 'en-GB' : lang;
  try {
    const date = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'long', year: 'numeric' }).format(d);
    const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
    return `${date}, ${time} (${zone})`;
  } catch (_) {
    return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  }
}

/** Items as a list in the page's language ("Bob and Carol", "Bob et Carol"). */
export function listOf(items) {
  try {
    return new Intl.ListFormat(currentLanguage(), { style: 'long', type: 'conjunction' }).format(items);
  } catch (_) {
    return items.join(', ');
  }
}
