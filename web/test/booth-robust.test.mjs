// End-to-end test of the booth's sturdiness in headless Chromium, against a real
// `scrutin demo --serve` (an open election, 5 voters, pages read from web/):
//   - the steps are browser history entries: Back from the review goes to the choices, Back
//     again to the credential, Forward comes back; an audited ballot is never offered for
//     casting again by Back; after the cast, Back does not bring back the cast ballot;
//   - the credential and the choices survive a reload and a language switch, in this tab's
//     sessionStorage only (never localStorage or a cookie; the secret never leaves the
//     page), and are gone once the ballot is cast and after signing out;
//   - a credential whose ballots another login cast is refused at the credential step;
//   - a voter who already voted is told so, and that a new ballot replaces the last one,
//     before choosing;
//   - a replaced ballot's tracker says "replaced by a later ballot, not counted" (API, board
//     lookup reached from the booth, board list);
//   - times in the voter's time zone with its name, the same on the booth and the board;
//   - the booth has the same election navigation as the board.
// checkpoint() (axe-core WCAG 2.1 AA, screenshot, no foreign request) at each new state.
//
//   cd web/test && node booth-robust.test.mjs
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { repo, launchBrowser, newPage, checkpoint, startDemo } from './lib/harness.mjs';
import { signIn, vote, fillChoices, waitForHeading } from './drivers/booth.mjs';

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

async function json(url, opts = {}) {
  const r = await fetch(url, opts);
  if (!r.ok) throw new Error(`${opts.method || 'GET'} ${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

async function voters(demo) {
  const kept = JSON.parse(await readFile(path.join(demo.data, 'credentials.json'), 'utf8'));
  return kept.map((c) => ({ login: c.login, email: c.email, credential: c.credential }));
}

const plain = (c) => c.replace(/[-\s]/g, '').toUpperCase();

/** What the page keeps in its storages and cookies, as text. */
async function stores(page) {
  return page.evaluate(() => ({
    session: JSON.stringify({ ...sessionStorage }),
    local: JSON.stringify({ ...localStorage }),
    cookies: document.cookie,
  }));
}

async function main() {
  const demo = await startDemo();
  const browser = await launchBrowser();
  const base = demo.url;
  const election = demo.id;
  let failed = false;
  const opened = [];
  try {
    const [v1, v2] = await voters(demo);
    const common = { baseUrl: base, election, outbox: demo.outbox };
    const fr = JSON.parse(await readFile(path.join(repo, 'web/i18n/fr/booth.json'), 'utf8'));

    // 1. History, reload and language switch, on a page in Paris time.
    console.log('1. history, reload, language switch');
    const page = await newPage(browser, base, { timezoneId: 'Europe/Paris' });
    opened.push(page);
    // No request may carry the secret credential (only its public key may be asked about).
    const leaks = [];
    page.on('request', (req) => {
      const body = `${req.url()} ${req.postData() || ''} ${JSON.stringify(req.headers())}`;
      if (plain(body).includes(plain(v1.credential))) leaks.push(req.url());
    });
    await page.goto(`${base}/elections/${election}?lang=en`);
    await waitForHeading(page, ['Sign in']);
    // The same election navigation as the board's, with the booth as the current page.
    const nav = page.getByRole('navigation', { name: 'This election' });
    for (const [name, href] of [['Vote', ''], ['Public board', '/board'], ['Result', '/result'], ['Verify this election', '/verify']]) {
      const link = nav.getByRole('link', { name, exact: true });
      assert((await link.getAttribute('href')) === `/elections/${election}${href}`, `booth nav link ${name}`);
    }
    assert((await nav.getByRole('link', { name: 'Vote' }).getAttribute('aria-current')) === 'page', 'Vote is the current page');
    const codeId = await signIn(page, { ...v1, outbox: demo.outbox });
    await waitForHeading(page, ['Your voting credential']);
    assert(await page.locator('#revote-notice').isHidden(), 'no "already voted" notice before the first ballot');
    await page.getByLabel('Voting credential', { exact: true }).fill(v1.credential);
    await page.getByText('Valid credential:').waitFor();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await waitForHeading(page, ['Your choices']);
    assert(page.url().endsWith('#step=questions'), `the step is in the address: ${page.url()}`);
    await fillChoices(page, [[1], [0, 2]]);
    await checkpoint(page, 'robust-questions');
    // A reload keeps the choices ticked and the step.
    await page.reload();
    await waitForHeading(page, ['Your choices']);
    assert(await page.locator('#questions fieldset').nth(0).locator('.choice input').nth(1).isChecked(), 'choice kept across a reload');
    assert(await page.locator('#questions fieldset').nth(1).locator('.choice input').nth(2).isChecked(), 'second question kept across a reload');
    await page.getByRole('button', { name: 'Review my choices' }).click();
    await waitForHeading(page, ['Check your choices']);
    assert(page.url().endsWith('#step=review'), `review in the address: ${page.url()}`);
    // Back: the choices; Back: the credential, still filled in; Forward twice: the review.
    await page.goBack();
    await waitForHeading(page, ['Your choices']);
    assert(await page.locator('#questions fieldset').nth(0).locator('.choice input').nth(1).isChecked(), 'choices kept by Back');
    await checkpoint(page, 'robust-back-to-choices');
    await page.goBack();
    await waitForHeading(page, ['Your voting credential']);
    assert(plain(await page.locator('#credential').inputValue()) === plain(v1.credential), 'credential kept by Back');
    await checkpoint(page, 'robust-back-to-credential');
    await page.goForward();
    await waitForHeading(page, ['Your choices']);
    await page.goForward();
    await waitForHeading(page, ['Check your choices']);
    await checkpoint(page, 'robust-forward-to-review');
    // The secret stays in this tab: sessionStorage, never localStorage or a cookie.
    let kept = await stores(page);
    assert(plain(kept.session).includes(plain(v1.credential)), 'the credential is kept in sessionStorage');
    assert(!plain(kept.local).includes(plain(v1.credential)) && kept.local === '{}', `nothing in localStorage: ${kept.local}`);
    assert(!plain(kept.cookies).includes(plain(v1.credential)), 'no credential in a cookie');
    // The language switch reloads the page in French at the same step, choices kept.
    await page.getByRole('link', { name: 'Français' }).click();
    await waitForHeading(page, [fr['booth.review_heading']]);
    assert((await page.getAttribute('html', 'lang')) === 'fr', 'the page is in French');
    await checkpoint(page, 'robust-review-fr');
    await page.getByRole('link', { name: 'English' }).click();
    await waitForHeading(page, ['Check your choices']);
    // Encrypt, audit, then Back: the audited ballot is not offered for casting.
    await page.getByRole('button', { name: 'Encrypt my ballot' }).click();
    await waitForHeading(page, ['Your ballot is encrypted, not yet cast']);
    await page.getByRole('button', { name: 'Audit this encryption' }).click();
    await waitForHeading(page, ['Audit of this encryption']);
    await page.goBack();
    await waitForHeading(page, ['Check your choices']);
    assert(await page.getByRole('button', { name: 'Cast this ballot' }).isHidden(), 'no cast button for an audited ballot');
    await checkpoint(page, 'robust-back-from-audit');
    await page.getByRole('button', { name: 'Encrypt my ballot' }).click();
    await waitForHeading(page, ['Your ballot is encrypted, not yet cast']);
    const t1 = (await page.locator('#enc-tracker').textContent()).replace(/\s+/g, '');
    await page.getByRole('button', { name: 'Cast this ballot' }).click();
    await waitForHeading(page, ['Your ballot is cast']);
    kept = await stores(page);
    assert(!plain(kept.session).includes(plain(v1.credential)), 'the credential is dropped from sessionStorage after the cast');
    // Back after the cast leads to the credential step, empty, never to the cast ballot.
    await page.goBack();
    await waitForHeading(page, ['Your voting credential']);
    assert((await page.locator('#credential').inputValue()) === '', 'no credential after the cast');
    // 2. The voter already voted: told before choosing, with the ballot that would be replaced.
    console.log('2. returning voter');
    const notice = page.locator('#revote-notice');
    await notice.waitFor();
    const seq1 = (await json(`${base}/api/elections/${election}/trackers/${t1}`)).seq;
    const noticeText = await notice.textContent();
    assert(noticeText.includes('You have already voted') && noticeText.includes(`event ${seq1}`)
      && noticeText.includes('replaces it'), `already-voted notice: ${noticeText}`);
    await checkpoint(page, 'robust-returning-voter');
    await page.getByLabel('Voting credential', { exact: true }).fill(v1.credential);
    await page.getByText('Valid credential:').waitFor();
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await waitForHeading(page, ['Your choices']);
    assert(await page.locator('#revote-notice-choices').isVisible(), 'the notice is on the choices step too');
    assert(leaks.length === 0, `the credential was sent: ${leaks.join(', ')}`);

    // 3. Another login cannot use this credential: refused at the credential step.
    console.log('3. credential of another login');
    const p2 = await newPage(browser, base);
    opened.push(p2);
    await p2.goto(`${base}/elections/${election}?lang=en`);
    await waitForHeading(p2, ['Sign in']);
    await signIn(p2, { ...v2, outbox: demo.outbox, afterCodeId: codeId });
    await waitForHeading(p2, ['Your voting credential']);
    await p2.getByLabel('Voting credential', { exact: true }).fill(v1.credential);
    await p2.getByText('Valid credential:').waitFor();
    await p2.getByRole('button', { name: 'Continue', exact: true }).click();
    await p2.getByText('This credential is already used by another login').waitFor();
    assert(await p2.getByRole('heading', { name: 'Your voting credential' }).isVisible(), 'still at the credential step');
    assert((await p2.locator('#credential').getAttribute('aria-invalid')) === 'true', 'the field is marked invalid');
    await checkpoint(p2, 'robust-credential-taken');
    await p2.getByLabel('Voting credential', { exact: true }).fill(v2.credential);
    await p2.getByRole('button', { name: 'Continue', exact: true }).click();
    await waitForHeading(p2, ['Your choices']);
    // Signing out drops the kept credential and choices.
    await fillChoices(p2, [[0], [1]]);
    assert(plain((await stores(p2)).session).includes(plain(v2.credential)), 'credential kept before signing out');
    await p2.getByRole('button', { name: 'Sign out' }).first().click();
    await waitForHeading(p2, ['Sign in']);
    const after = await stores(p2);
    assert(!plain(after.session).includes(plain(v2.credential)) && !after.session.includes('scrutin.booth.'),
      `nothing kept after signing out: ${after.session}`);

    // 4. The first voter votes again: the first ballot is replaced.
    console.log('4. replaced tracker');
    await fillChoices(page, [[0], [1]]);
    await page.getByRole('button', { name: 'Review my choices' }).click();
    await waitForHeading(page, ['Check your choices']);
    await page.getByRole('button', { name: 'Encrypt my ballot' }).click();
    await waitForHeading(page, ['Your ballot is encrypted, not yet cast']);
    await page.getByRole('button', { name: 'Cast this ballot' }).click();
    await waitForHeading(page, ['Your ballot is cast']);
    const t2 = (await page.locator('#receipt-tracker').textContent()).replace(/\s+/g, '');
    const st1 = await json(`${base}/api/elections/${election}/trackers/${t1}`);
    const st2 = await json(`${base}/api/elections/${election}/trackers/${t2}`);
    assert(st1.replaced === true && st1.replaced_by && st1.replaced_by.tracker === t2 && st1.replaced_by.seq === st2.seq,
      `the first ballot is replaced by the second: ${JSON.stringify(st1)}`);
    assert(st2.replaced === false && st2.replaced_by === null, `the last ballot is not replaced: ${JSON.stringify(st2)}`);
    // The booth's lookup leads to the board, which says so.
    await page.getByLabel('Tracker (64 hexadecimal characters)').fill(t1);
    await page.getByRole('button', { name: 'Find it on the board' }).click();
    const result = page.locator('#lookup-result[data-replaced="true"]');
    await result.waitFor();
    const said = await result.textContent();
    assert(/Replaced by a later ballot .*not counted/.test(said), `board lookup of a replaced tracker: ${said}`);
    const row = page.locator('table.ballots tr.replaced', { hasText: t1 });
    assert((await row.count()) === 1 && (await row.textContent()).includes('not counted'), 'the board list marks the replaced ballot');
    const lastRow = page.locator('table.ballots tr', { hasText: t2 });
    assert((await lastRow.textContent()).includes('Last ballot of its credential'), 'the last ballot is marked as such');
    await checkpoint(page, 'robust-board-replaced');

    // 5. Times in the voter's zone, with its name, on the booth and the board.
    console.log('5. times');
    const login = await json(`${base}/api/admin/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: demo.adminPassword }),
    });
    const auth = { Authorization: `Bearer ${login.token}` };
    const meta = await json(`${base}/api/admin/elections/${election}`, { headers: auth });
    const toml = (meta.description_toml ?? meta.meta?.description_toml).replace(/^title = .*$/m, 'title = "Scheduled"');
    const draft = await json(`${base}/api/admin/elections`, {
      method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' },
      // 10 March 2027 08:30 UTC and 14 March 2027 17:00 UTC (09:30 and 18:00 in Paris).
      body: JSON.stringify({ description: toml, opens_at: 1804667400, closes_at: 1805043600 }),
    });
    const board = await (await fetch(`${base}/elections/${draft.id}/board?lang=en`)).text();
    assert(board.includes('<time datetime="2027-03-14T17:00:00Z">2027-03-14 17:00 UTC</time>'), 'the board is rendered in UTC with a <time>');
    await page.goto(`${base}/elections/${draft.id}/board?lang=en`);
    const closes = page.locator('[data-field="closes_at"] time[data-localised]');
    await closes.waitFor();
    assert((await closes.textContent()) === '14 March 2027, 18:00 (Europe/Paris)', `board time: ${await closes.textContent()}`);
    await checkpoint(page, 'robust-board-times');
    await page.goto(`${base}/elections/${draft.id}/board?lang=fr`);
    await page.locator('[data-field="closes_at"] time[data-localised]').waitFor();
    const closesFr = await page.locator('[data-field="closes_at"] time').textContent();
    assert(closesFr === '14 mars 2027, 18:00 (Europe/Paris)', `French board time: ${closesFr}`);
    await page.goto(`${base}/elections/${draft.id}?lang=en`);
    await waitForHeading(page, ['This election is not open yet']);
    const opens = await page.locator('#closed-text').textContent();
    assert(opens.includes('10 March 2027, 09:30 (Europe/Paris)'), `booth time: ${opens}`);
    await checkpoint(page, 'robust-booth-times');

    for (const p of [page, p2]) p.assertClean();
    console.log('booth robustness: all checks passed');
  } catch (e) {
    failed = true;
    console.error(e);
    for (const [i, p] of opened.entries()) {
      await p.screenshot({ path: path.join(repo, 'target', `robust-failure-${i}.png`), fullPage: true }).catch(() => {});
      console.error(`page ${i}: ${p.url()}`);
    }
  } finally {
    await browser.close();
    await demo.stop();
  }
  console.log(failed ? '0 passed, 1 failed' : '1 passed, 0 failed');
  process.exit(failed ? 1 : 0);
}

main();
