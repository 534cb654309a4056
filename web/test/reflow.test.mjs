// Every page at the sizes people read it at: a 360 px phone, and a desktop window at
// 200 % zoom. A browser zoomed to 200 % lays a 1280 × 900 window out as a 640 × 450 CSS
// pixel viewport with two device pixels per CSS pixel, which is what this test sets
// (WCAG 2.1 1.4.4 Resize text, 1.4.10 Reflow). On each page, in each size and in both
// languages: nothing is wider than the window (no sideways scrolling, except inside the
// tables that scroll on their own), axe-core passes, and a screenshot is saved.
//
// Pages: home, keys, the officials' sign-in and their election, the booth's sign-in, the
// trustee and credential authority pages, the board with ballots, the verifier, the result
// and the printable report of a tallied election.
//
//   cd web/test && node reflow.test.mjs
//
// Needs target/debug/scrutin (or $SCRUTIN_BIN) built from this tree, and Chromium.
// Screenshots go to target/screenshots/reflow-*.png.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { repo, launchBrowser, checkAccessibility, screenshot, latestCode, startDemo } from './lib/harness.mjs';
import * as admin from './drivers/admin.mjs';

const run = promisify(execFile);
const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s]`, ...a);

const SIZES = {
  phone: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true },
  zoom200: { viewport: { width: 640, height: 450 }, deviceScaleFactor: 2 },
};

async function api(base, method, p, { token, json } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(`${base}${p}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function scrutin(bin, args) {
  try {
    return (await run(bin, args, { maxBuffer: 64 << 20 })).stdout;
  } catch (e) {
    throw new Error(`scrutin ${args.join(' ')} failed:\n${e.stdout}\n${e.stderr}`);
  }
}

/**
 * What sticks out sideways: the page's width beyond the window, and the elements whose
 * right edge passes it (outside the elements that scroll sideways on their own).
 */
async function overflow(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const scrollsItself = (el) => {
      for (let e = el; e && e !== document.body; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (['auto', 'scroll'].includes(s.overflowX) && e.scrollWidth > e.clientWidth - 1) return true;
        if (['auto', 'scroll', 'hidden'].includes(s.overflowX) && e !== el) return true;
      }
      return false;
    };
    const wide = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= width + 1 || scrollsItself(el)) continue;
      const name = el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '') + (el.className && typeof el.className === 'string' ? `.${el.className.split(' ')[0]}` : '');
      wide.push(`${name} (right edge ${Math.round(r.right)} px)`);
      if (wide.length > 4) break;
    }
    return { extra: document.documentElement.scrollWidth - width, wide };
  });
}

async function main() {
  const bin = process.env.SCRUTIN_BIN || path.join(repo, 'target', 'debug', 'scrutin');
  const demo = await startDemo();
  const { url, id } = demo;
  log(`demo server ${url}, election ${id}`);

  // Two ballots with the command-line tool, so that the board lists some.
  const credentials = JSON.parse(await readFile(path.join(demo.data, 'credentials.json'), 'utf8'));
  let after = 0;
  for (const [voter, choices] of [['voter1', [[1, 0, 0], [1, 1, 0, 0, 0]]], ['voter2', ['blank', [0, 0, 1, 0, 0]]]]) {
    await api(url, 'POST', `/api/elections/${id}/login`, { json: { login: voter } });
    const { code, id: codeId } = await latestCode(demo.outbox, `${voter}@example.org`, { after });
    after = codeId;
    const file = path.join(demo.data, `reflow-choices-${voter}.json`);
    await writeFile(file, JSON.stringify(choices));
    const credential = credentials.find((c) => c.login === voter).credential;
    await scrutin(bin, ['ballot', 'cast', '--server', url, '--election', id, '--login', voter, '--code', code,
      '--credential', credential, '--choices', file]);
  }

  const browser = await launchBrowser();
  let checked = 0;
  const failures = [];
  /** Opens `target` (a path, or a function that brings the page there) at every size and language. */
  async function check(name, target, { languages = ['en', 'fr'] } = {}) {
    for (const [size, options] of Object.entries(SIZES)) {
      for (const lang of languages) {
        const context = await browser.newContext({ ...options, locale: lang === 'fr' ? 'fr-FR' : 'en-GB' });
        // The language the visitor chose with the language switch, kept in the `lang` cookie.
        await context.addCookies([{ name: 'lang', value: lang, url }]);
        const page = await context.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(e.message));
        try {
          if (typeof target === 'string') {
            await page.goto(`${url}${target}`);
            await page.waitForLoadState('networkidle');
          } else {
            await target(page);
          }
          const label = `${name} (${size}, ${lang})`;
          const o = await overflow(page);
          if (o.extra > 1 || o.wide.length) {
            failures.push(`${label}: ${o.extra} px wider than the window; ${o.wide.join(', ')}`);
          }
          await checkAccessibility(page, label);
          await screenshot(page, `reflow-${name}-${size}-${lang}`);
          assert.deepEqual(errors, [], `${label}: uncaught errors`);
          checked += 1;
        } finally {
          await context.close();
        }
      }
    }
    log(`${name}: checked`);
  }

  try {
    await check('home', '/');
    await check('keys', '/keys');
    await check('admin-sign-in', '/admin');
    await check('admin-election', async (page) => {
      await admin.login(page, url, { username: 'admin', password: demo.adminPassword });
      await admin.gotoElection(page, id);
      await page.waitForLoadState('networkidle');
    }, { languages: ['en'] });
    await check('booth-sign-in', `/elections/${id}`);
    await check('trustee', `/elections/${id}/trustee`);
    await check('authority', `/elections/${id}/authority`);
    await check('board', `/elections/${id}/board`);
    await check('verify', `/elections/${id}/verify`);

    // Close, two trustees decrypt, tally: the result and the report.
    const { token } = await api(url, 'POST', '/api/admin/login', { json: { username: 'admin', password: demo.adminPassword } });
    await api(url, 'POST', `/api/admin/elections/${id}/close`, { token });
    const roles = JSON.parse(await readFile(path.join(demo.data, 'role-tokens.json'), 'utf8'));
    for (const t of roles.trustees.slice(0, 2)) {
      await scrutin(bin, ['trustee', 'decrypt', '--server', url, '--election', id, '--token', t.token,
        '--secret', path.join(demo.data, `trustee${t.index}.json`)]);
    }
    await api(url, 'POST', `/api/admin/elections/${id}/tally`, { token });
    await check('result', `/elections/${id}/result`);
    await check('report', `/elections/${id}/report`);
  } finally {
    await browser.close();
    await demo.stop();
  }
  assert.deepEqual(failures, [], `pages wider than the window:\n${failures.join('\n')}`);
  console.log(`reflow: ${checked} page states fit a 360 px phone and a window at 200 % zoom`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
