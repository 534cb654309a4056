// Translations (web/i18n/<lang>/<namespace>.json: flat {"key": "text with {name}"}).
//
// The language is, in order: ?lang= in the address, the `lang` cookie (set by the
// switch, also read by the server-rendered pages), the browser's languages, English.
// Elements carry their key: data-i18n="key" (text), data-i18n-attr="attr:key;attr:key"
// (attributes such as aria-label or placeholder). The English text in the HTML is what a
// page shows until its translations load.

export const LANGUAGES = { en: 'English', fr: 'Français' };
const FALLBACK = 'en';

let lang = FALLBACK;
const messages = {};

function cookieLang() {
  const m = document.cookie.match(/(?:^|;\s*)lang=([a-z]{2})/);
  return m ? m[1] : null;
}

/** The language this page uses. */
export function detectLanguage() {
  const q = new URLSearchParams(location.search).get('lang');
  const candidates = [q, cookieLang(), ...(navigator.languages || [navigator.language])];
  for (const c of candidates) {
    const code = (c || '').slice(0, 2).toLowerCase();
    if (code in LANGUAGES) return code;
  }
  return FALLBACK;
}

export function currentLanguage() {
  return lang;
}

/** Loads the namespaces (always including "common") and translates the page. */
export async function initI18n(namespaces) {
  lang = detectLanguage();
  document.documentElement.lang = lang;
  const names = ['common', ...namespaces.filter((n) => n !== 'common')];
  await Promise.all(
    names.map(async (ns) => {
      for (const l of new Set([FALLBACK, lang])) {
        const resp = await fetch(`/i18n/${l}/${ns}.json`);
        if (!resp.ok) throw new Error(`missing translation file ${l}/${ns}.json`);
        // Read first, then merge: `messages[l] || {}` evaluated before the await would
        // let namespaces loading in parallel overwrite each other.
        const loaded = await resp.json();
        messages[l] = Object.assign(messages[l] || {}, loaded);
      }
    }),
  );
  translatePage(document);
  mountLanguageSwitch();
}

/**
 * Whether the count `value` (a number, or a number written with digit grouping) takes the
 * singular in `code`: 1 in English, 0 and 1 in French (as `singular` in
 * crates/server/src/web/i18n.rs).
 */
export function singular(code, value) {
  const digits = String(value).replace(/[^0-9]/g, '');
  if (!digits) return false;
  const n = Number(digits);
  return code === 'fr' ? n < 2 : n === 1;
}

/**
 * The text of `key` with {placeholders} filled from `vars`, and plural selectors
 * {name|singular|plural} replaced by the form the count `name` takes in this language.
 */
export function t(key, vars = {}) {
  const which = messages[lang]?.[key] !== undefined ? lang : FALLBACK;
  const text = messages[which]?.[key] ?? key;
  return text
    .replace(/\{(\w+)\|([^{}|]*)\|([^{}|]*)\}/g, (m, name, one, other) =>
      name in vars ? (singular(which, vars[name]) ? one : other) : m)
    .replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Translates every element under `root` that carries data-i18n or data-i18n-attr. */
export function translatePage(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
  const title = document.querySelector('title[data-i18n]');
  if (title) document.title = title.textContent;
}

/** Sets the language (cookie shared with the server-rendered pages) and reloads. */
export function setLanguage(code) {
  if (!(code in LANGUAGES)) return;
  document.cookie = `lang=${code}; path=/; max-age=31536000; SameSite=Lax`;
  const url = new URL(location.href);
  url.searchParams.delete('lang');
  // The same address with a #fragment (a booth step) would only scroll: reload it instead.
  if (url.toString() === location.href) location.reload();
  else location.replace(url.toString());
}

/** Fills <nav class="lang-switch"> (or the element #lang-switch) with one link per language. */
function mountLanguageSwitch() {
  const host = document.getElementById('lang-switch');
  if (!host) return;
  host.replaceChildren();
  host.setAttribute('aria-label', t('common.language'));
  for (const [code, name] of Object.entries(LANGUAGES)) {
    const a = document.createElement('a');
    a.href = `?lang=${code}${location.hash}`;
    a.lang = code;
    a.hreflang = code;
    a.textContent = name;
    if (code === lang) a.setAttribute('aria-current', 'true');
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      setLanguage(code);
    });
    host.append(a);
  }
}
