// The pages' texts, read from the translation files (web/i18n), so that drivers find
// buttons and labels by what the page shows in whichever language it is in.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { singular } from '../../static/js/i18n.js';

const i18nDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'i18n');
const cache = new Map();

/** The messages of namespace `ns` in `lang`, English filling any gap. */
export async function messages(lang, ns) {
  const key = `${lang}/${ns}`;
  if (!cache.has(key)) {
    const read = async (l) => JSON.parse(await readFile(path.join(i18nDir, l, `${ns}.json`), 'utf8'));
    cache.set(key, { ...(await read('en')), ...(lang === 'en' ? {} : await read(lang)) });
  }
  return cache.get(key);
}

/**
 * T(key, vars): the text of `key` (namespace `ns` or common) in the page's current
 * language, with its {placeholders} filled from `vars`. Throws on an unknown key.
 */
export async function texts(page, ns) {
  const lang = await page.evaluate(() => document.documentElement.lang || 'en');
  const m = { ...(await messages(lang, 'common')), ...(await messages(lang, ns)) };
  return (key, vars = {}) => {
    if (!(key in m)) throw new Error(`no text ${key}`);
    return m[key]
      .replace(/\{(\w+)\|([^{}|]*)\|([^{}|]*)\}/g, (s, name, one, other) =>
        (name in vars ? (singular(lang, vars[name]) ? one : other) : s))
      .replace(/\{(\w+)\}/g, (s, name) => (name in vars ? String(vars[name]) : s));
  };
}

/**
 * A regular expression matching a translated template whatever its {placeholders} hold, and
 * either form of its plural selectors {count|singular|plural}.
 */
export function pattern(template) {
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const source = template
    .split(/(\{\w+(?:\|[^{}|]*\|[^{}|]*)?\})/)
    .map((part, i) => {
      if (i % 2 === 0) return escape(part);
      const forms = part.slice(1, -1).split('|').slice(1);
      return forms.length ? `(?:${forms.map(escape).join('|')})` : '.+?';
    })
    .join('');
  return new RegExp(`^${source}$`);
}
