// End-to-end test of the voting booth (/elections/{id}) in headless Chromium, against a
// real `scrutin demo --serve` (an open election, 5 voters, pages read from web/):
//   - a record that does not verify, a server announcing another fingerprint, or a mail
//     link naming another election's fingerprint: the page stops before any vote;
//   - a voter votes on a 360 px phone, auditing the encryption first (the audit data is
//     then checked on a second device's page and with `scrutin ballot check-audit`);
//   - another votes on a desktop through a #fingerprint=…&credential= link, as the
//     credential mail has it (the fingerprint matches; the link is taken off the address bar);
//   - the first one votes again;
//   - a mistyped credential (checksum) and too many choices are refused before encryption,
//     then that voter corrects the choices and casts by keyboard alone;
//   - a wrong one-time login code shows the attempts left, a new code is sent, and a session that
//     expires before the cast sends the voter back to sign in with the encrypted ballot kept;
//   - the language switch and the French page (no English text or raw key left visible);
//   - the closed election's page;
//   - finally the record, downloaded over HTTP, passes `scrutin verify` and counts the ballots.
// checkpoint() (axe-core WCAG 2.1 AA, screenshot, no foreign request) at each page state.
//
//   cd web/test && node booth.test.mjs
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  repo,
  launchBrowser,
  newPage,
  checkpoint,
  latestCode,
  startDemo,
  keepByDefault,
} from './lib/harness.mjs';
import { vote, checkAudit, signIn } from './drivers/booth.mjs';

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

async function json(url, opts = {}) {
  const r = await fetch(url, opts);
  if (!r.ok) throw new Error(`${opts.method || 'GET'} ${url}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? null : r.json();
}

/** The voters: login, mail address and credential (credentials.json, the authority's format). */
async function voters(demo) {
  const kept = JSON.parse(await readFile(path.join(demo.data, 'credentials.json'), 'utf8'));
  return kept.map((c) => ({ login: c.login, email: c.email, credential: c.credential }));
}

/** A credential with its last symbol changed: the checksum no longer matches. */
function mistyped(credential) {
  const last = credential[credential.length - 1];
  const other = [...credential.replace(/-/g, '')].find((c) => c !== last);
  return credential.slice(0, -1) + other;
}

async function headingVisible(page, name) {
  await page.getByRole('heading', { name, exact: true }).waitFor({ timeout: 30_000 });
}

/** Fails if English text or a raw translation key is visible on a page meant to be French. */
async function assertFrench(page, label) {
  const en = {
    ...JSON.parse(await readFile(path.join(repo, 'web/i18n/en/common.json'), 'utf8')),
    ...JSON.parse(await readFile(path.join(repo, 'web/i18n/en/booth.json'), 'utf8')),
  };
  const fr = {
    ...JSON.parse(await readFile(path.join(repo, 'web/i18n/fr/common.json'), 'utf8')),
    ...JSON.parse(await readFile(path.join(repo, 'web/i18n/fr/booth.json'), 'utf8')),
  };
  for (const k of Object.keys(en)) assert(k in fr, `${k} has no French translation`);
  assert((await page.getAttribute('html', 'lang')) === 'fr', `${label}: <html lang> is not fr`);
  const text = await page.evaluate(() => document.body.innerText);
  const key = text.match(/\b(booth|common)\.[a-z_]+\b/);
  assert(!key, `${label}: raw translation key visible: ${key && key[0]}`);
  for (const [k, v] of Object.entries(en)) {
    if (fr[k] === v) continue;
    for (const part of v.split(/\{\w+\}/)) {
      const p = part.trim();
      if (p.length >= 10 && !fr[k].includes(p)) {
        assert(!text.includes(p), `${label}: English text of ${k} visible: "${p}"`);
      }
    }
  }
  // Attributes read by screen readers too.
  const labels = await page.evaluate(() =>
    [...document.querySelectorAll('[aria-label]')].map((e) => e.getAttribute('aria-label')).join('\n'));
  assert(!/\b(booth|common)\.[a-z_]+\b/.test(labels), `${label}: raw key in an aria-label`);
}

async function main() {
  const demo = await startDemo();
  const browser = await launchBrowser();
  const base = demo.url;
  const election = demo.id;
  const work = await mkdtemp(path.join(tmpdir(), 'scrutin-booth-work-'));
  let failed = false;
  try {
    const [v1, v2, v3, v4, v5] = await voters(demo);
    assert(v1.email && v1.credential, 'voters read from the demo');
    const common = { baseUrl: base, election, outbox: demo.outbox };
    let lastCode = 0;
    const nextCode = (id) => { lastCode = Math.max(lastCode, id); return lastCode; };

    // 0. A record that does not verify in the browser, or a server announcing another
    //    fingerprint: no voting from this page.
    console.log('0. tampered record, wrong fingerprint');
    const tampered = await newPage(browser, base);
    await tampered.route(`**/api/elections/${election}/record*`, async (route) => {
      const resp = await route.fetch();
      const lines = (await resp.text()).split('\n');
      const i = lines.findIndex((l) => l.includes('"type":"election_key"'));
      lines[i] = lines[i].replace(/"public_key":"(.)/, (m, c) => `"public_key":"${c === '0' ? '1' : '0'}`);
      await route.fulfill({ response: resp, body: lines.join('\n') });
    });
    await tampered.goto(`${base}/elections/${election}?lang=en`);
    await headingVisible(tampered, 'This election’s record did not verify');
    const detail = await tampered.locator('#failed-detail').textContent();
    assert(/does not verify: check \S+ failed at event \d+/.test(detail), `failed check named: ${detail}`);
    await checkpoint(tampered, 'booth-record-tampered');
    const otherFp = await newPage(browser, base);
    await otherFp.route(`**/api/elections/${election}`, async (route) => {
      const resp = await route.fetch();
      const body = await resp.json();
      body.fingerprint = '0'.repeat(64);
      await route.fulfill({ response: resp, json: body });
    });
    await otherFp.goto(`${base}/elections/${election}?lang=en`);
    await headingVisible(otherFp, 'This election’s record did not verify');
    await otherFp.getByText('announces a different fingerprint').waitFor();
    // The link of a credential mail names the election's fingerprint: a page serving
    // another election (here, a link whose fingerprint differs from the record's) stops
    // before the credential is used, and takes the credential off the address bar.
    const phished = await newPage(browser, base);
    const wrongFp = 'f'.repeat(64);
    await phished.goto(`${base}/elections/${election}?lang=en#fingerprint=${wrongFp}&credential=${encodeURIComponent(v1.credential)}`);
    await headingVisible(phished, 'This election’s record did not verify');
    const warning = await phished.locator('#failed-detail').textContent();
    assert(warning.includes(`was sent for the election with fingerprint ${wrongFp}`), `link fingerprint warning: ${warning}`);
    const realFp = (await json(`${base}/api/elections/${election}`)).fingerprint;
    assert(warning.includes(realFp), `the warning names the election's fingerprint: ${warning}`);
    assert(!phished.url().includes('credential='), `credential left in the address bar: ${phished.url()}`);
    assert(await phished.locator('#credential').inputValue() === '', 'credential not filled in');

    // 1. On a phone: audit first, then cast.
    console.log('1. phone, audit first');
    const phone = await newPage(browser, base, { mobile: true });
    const r1 = await vote(phone, {
      ...common, ...v1, choices: [[0], [0, 2]], audit: true, afterCodeId: lastCode,
      onStep: (s) => checkpoint(phone, `booth-phone-${s}`),
    });
    nextCode(r1.codeId);
    assert(/^[0-9a-f]{64}$/.test(r1.tracker) && r1.seq > 0, `receipt ${JSON.stringify(r1)}`);
    assert(r1.audited && r1.audited.tracker !== r1.tracker, 'the audited ballot is not the cast one');
    const onBoard = await json(`${base}/api/elections/${election}/trackers/${r1.tracker}`);
    assert(onBoard.seq === r1.seq, 'the tracker is on the board at the receipt\'s position');
    const audited = await fetch(`${base}/api/elections/${election}/trackers/${r1.audited.tracker}`);
    assert(audited.status === 404, 'the audited ballot was not sent to the board');
    // After the cast the credential and choices are gone from the page.
    assert((await phone.locator('#credential').inputValue()) === '', 'credential cleared after casting');
    assert((await phone.locator('#questions input:checked').count()) === 0, 'choices cleared after casting');

    // The receipt can be downloaded.
    const [receiptFile] = await Promise.all([
      phone.waitForEvent('download'),
      phone.getByRole('button', { name: 'Download the receipt' }).click(),
    ]);
    assert(/^receipt-.*\.json$/.test(receiptFile.suggestedFilename()), `receipt file name ${receiptFile.suggestedFilename()}`);
    const receiptText = await readFile(await receiptFile.path(), 'utf8');
    const signed = JSON.parse(receiptText);
    assert(signed.tracker === r1.tracker && signed.seq === r1.seq && signed.weight === r1.weight
      && signed.signature && signed.head, `signed receipt file: ${receiptText}`);
    assert(r1.weight === 1 && r1.weightNotice === null, `weight 1, no notice: ${JSON.stringify(r1)}`);
    // The CLI checks the page's receipt file against the record.
    const receiptPath = path.join(work, 'receipt.json');
    await writeFile(receiptPath, receiptText);
    const recordNow = path.join(work, 'record-now.jsonl');
    await writeFile(recordNow, await (await fetch(`${base}/api/elections/${election}/record`)).text());
    const checked = execFileSync(demo.bin, ['receipt', 'check', receiptPath, '--record', recordNow], { encoding: 'utf8' });
    assert(/is on .* at position/.test(checked), `scrutin receipt check: ${checked}`);

    // The audit data checks out on a second device...
    console.log('   audit checked on a second device and with scrutin ballot check-audit');
    const second = await newPage(browser, base);
    const check = await checkAudit(second, { ...common, audit: r1.audited.data });
    assert(check.valid && check.text.includes('Ada') && check.text.includes('Solar roofs'), `second device: ${check.text}`);
    assert(check.tracker === r1.audited.tracker, `the second device shows the audited ballot's tracker: ${check.tracker}`);
    await checkpoint(second, 'booth-second-device-audit');
    const forged = JSON.parse(r1.audited.data);
    forged.choices = ['blank', [0, 1, 0, 0, 0]];
    const bad = await checkAudit(second, { ...common, audit: JSON.stringify(forged) });
    assert(!bad.valid && /does not check out/.test(bad.text), `a forged audit is refused: ${bad.text}`);
    await checkpoint(second, 'booth-second-device-forged');
    // ... and with the command the page gives.
    const record0 = await (await fetch(`${base}/api/elections/${election}/record`)).text();
    await writeFile(path.join(work, 'record.jsonl'), record0);
    await writeFile(path.join(work, 'audit.json'), r1.audited.data);
    const cli = execFileSync(demo.bin, ['ballot', 'check-audit', '--record', path.join(work, 'record.jsonl'),
      path.join(work, 'audit.json')], { encoding: 'utf8' });
    assert(cli.includes(r1.audited.tracker) && cli.includes('Ada') && cli.includes('Solar roofs'), `check-audit: ${cli}`);

    // 2. Desktop, through the #credential= link.
    console.log('2. desktop, credential in the link');
    const desk = await newPage(browser, base);
    const r2 = await vote(desk, {
      ...common, ...v2, choices: ['blank', [1]], viaFragment: true, afterCodeId: lastCode,
      fingerprint: (await json(`${base}/api/elections/${election}`)).fingerprint,
      onStep: (s) => checkpoint(desk, `booth-desktop-${s}`),
    });
    nextCode(r2.codeId);
    assert(!desk.url().includes('credential'), 'credential not left in the address bar');
    const boardLink = await desk.getByRole('link', { name: 'See your ballot on the public board' }).getAttribute('href');
    assert(boardLink === `/elections/${election}/board?tracker=${r2.tracker}`, `board link ${boardLink}`);
    // The tracker lookup form: refuses a malformed tracker, goes to the board otherwise.
    const lookup = desk.getByLabel('Tracker (64 hexadecimal characters)');
    await lookup.fill('not a tracker');
    await desk.getByRole('button', { name: 'Find it on the board' }).click();
    await desk.getByText('A tracker has 64 characters').waitFor();
    assert((await lookup.getAttribute('aria-invalid')) === 'true', 'malformed tracker marked invalid');
    await checkpoint(desk, 'booth-desktop-lookup-invalid');
    await lookup.fill(r2.tracker.toUpperCase().replace(/(.{8})/g, '$1 '));
    await Promise.all([
      desk.waitForURL(`${base}/elections/${election}/board?tracker=${r2.tracker}`),
      desk.getByRole('button', { name: 'Find it on the board' }).click(),
    ]);

    // 3. The first voter votes again (still signed in on the phone).
    console.log('3. re-vote');
    const r3 = await vote(phone, {
      ...common, ...v1, choices: [[2], []], afterCodeId: lastCode,
      onStep: (s) => (s === 'receipt' ? checkpoint(phone, 'booth-phone-revote-receipt') : null),
    });
    assert(r3.tracker !== r1.tracker && r3.seq > r2.seq, 're-vote gives a new ballot');
    await phone.getByText('The earlier ballot stays on the public board, but it is not counted.').waitFor();

    // 4. Refused before encryption: a mistyped credential, then too many choices.
    console.log('4. mistyped credential, too many choices');
    const p3 = await newPage(browser, base);
    await p3.goto(`${base}/elections/${election}?lang=en`);
    await headingVisible(p3, 'Sign in');
    nextCode(await signIn(p3, { ...v3, outbox: demo.outbox, afterCodeId: lastCode }));
    await headingVisible(p3, 'Your voting credential');
    const cred = p3.getByLabel('Voting credential', { exact: true });
    await cred.fill(mistyped(v3.credential));
    await p3.getByText('This credential has a typo').waitFor();
    await p3.getByRole('button', { name: 'Continue', exact: true }).click();
    await headingVisible(p3, 'Your voting credential');
    assert((await cred.getAttribute('aria-invalid')) === 'true', 'the mistyped credential is marked invalid');
    await checkpoint(p3, 'booth-credential-typo');
    await cred.fill(v3.credential.slice(0, 9));
    await p3.getByText('8 of 24 letters and digits typed.').waitFor();
    await cred.fill(v3.credential.toLowerCase().replace(/-/g, ' '));
    await p3.getByText(`Valid credential: ${v3.credential}`).waitFor();
    await p3.getByRole('button', { name: 'Continue', exact: true }).click();
    await headingVisible(p3, 'Your choices');
    const q2 = p3.locator('#questions fieldset').nth(1);
    await p3.locator('#questions fieldset').nth(0).getByLabel('Ada').check();
    for (const a of ['Library', 'Bicycle lanes', 'Solar roofs', 'Community garden']) await q2.getByLabel(a).check();
    await p3.getByRole('button', { name: 'Review my choices' }).click();
    await q2.getByText('Too many answers: you chose 4, the maximum is 3.').waitFor();
    assert((await q2.getAttribute('aria-invalid')) === 'true', 'the fieldset is marked invalid');
    const describedBy = (await q2.getAttribute('aria-describedby')) || '';
    const errId = await q2.locator('.field-error').getAttribute('id');
    assert(describedBy.split(' ').includes(errId), 'the error is linked to the fieldset');
    await headingVisible(p3, 'Your choices');
    assert((await p3.locator('#encrypt-progress').evaluate((e) => e.value)) === 0, 'nothing was encrypted');
    await checkpoint(p3, 'booth-too-many-choices');
    const info = await json(`${base}/api/elections/${election}`);
    assert(info.ballots === 3, `no ballot from the refused attempts (board has ${info.ballots})`);
    // Then by keyboard alone: the focus is on the first answer of the faulty question.
    assert(await q2.getByLabel('Library').evaluate((e) => e === document.activeElement), 'focus on the faulty question');
    const focused = () => p3.evaluate(() => {
      const e = document.activeElement;
      return (e.labels && e.labels[0] ? e.labels[0].textContent : e.textContent || '').trim();
    });
    const tabTo = async (name) => {
      for (let i = 0; i < 40 && (await focused()) !== name; i++) await p3.keyboard.press('Tab');
      assert((await focused()) === name, `Tab reaches "${name}"`);
    };
    await tabTo('Community garden');
    await p3.keyboard.press('Space');
    await tabTo('Review my choices');
    await p3.keyboard.press('Enter');
    await headingVisible(p3, 'Check your choices');
    assert((await q2.getAttribute('aria-invalid')) === null, 'the corrected question is no longer invalid');
    await tabTo('Encrypt my ballot');
    await p3.keyboard.press('Enter');
    await headingVisible(p3, 'Your ballot is encrypted, not yet cast');
    await tabTo('Cast this ballot');
    await p3.keyboard.press('Enter');
    await headingVisible(p3, 'Your ballot is cast');
    await checkpoint(p3, 'booth-keyboard-receipt');

    // 5. A wrong code, a new code, and a session that expires before the cast.
    console.log('5. wrong code, new code, expired session');
    const p4 = await newPage(browser, base, { mobile: true });
    await p4.goto(`${base}/elections/${election}?lang=en`);
    await headingVisible(p4, 'Sign in');
    await p4.getByLabel('Login', { exact: true }).fill(v4.login);
    await p4.getByRole('button', { name: 'Send me a code' }).click();
    await headingVisible(p4, 'Enter your login code');
    const c1 = await latestCode(demo.outbox, v4.email, { after: lastCode });
    nextCode(c1.id);
    const wrong = c1.code === '00000000' ? '11111111' : '00000000';
    await p4.getByLabel('One-time login code (8 digits)').fill(wrong);
    await p4.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p4.getByText(/^Wrong or expired code: \d+ attempts? left\.$/).waitFor();
    assert((await p4.getByLabel('One-time login code (8 digits)').getAttribute('aria-invalid')) === 'true', 'code marked invalid');
    await checkpoint(p4, 'booth-wrong-code');
    await p4.getByRole('button', { name: 'Send a new code' }).click();
    // The page empties the code field when the server answers, which may come after the
    // mail is in the outbox: type the new code only once the page says it was sent.
    await p4
      .getByText('A new code was sent if this login is on the voter list. Codes received earlier still work until they expire.')
      .waitFor({ state: 'attached' });
    const c2 = await latestCode(demo.outbox, v4.email, { after: c1.id });
    nextCode(c2.id);
    await p4.getByLabel('One-time login code (8 digits)').fill(c2.code);
    await p4.getByRole('button', { name: 'Sign in', exact: true }).click();
    await headingVisible(p4, 'Your voting credential');
    await p4.getByLabel('Voting credential', { exact: true }).fill(v4.credential);
    await p4.getByRole('button', { name: 'Continue', exact: true }).click();
    await headingVisible(p4, 'Your choices');
    await p4.locator('#questions fieldset').nth(0).getByLabel('Blaise').check();
    await p4.getByRole('button', { name: 'Review my choices' }).click();
    await headingVisible(p4, 'Check your choices');
    await p4.getByRole('button', { name: 'Encrypt my ballot' }).click();
    await headingVisible(p4, 'Your ballot is encrypted, not yet cast');
    const encTracker = (await p4.locator('#enc-tracker').textContent()).replace(/\s+/g, '');
    // The session ends on the server (as when it times out).
    const token = await p4.evaluate((id) => JSON.parse(sessionStorage.getItem(`scrutin.voter.${id}`)).token, election);
    await json(`${base}/api/elections/${election}/logout`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    await p4.getByRole('button', { name: 'Cast this ballot' }).click();
    await headingVisible(p4, 'Sign in');
    await p4.getByText('Your session has expired').waitFor();
    await checkpoint(p4, 'booth-session-expired');
    nextCode(await signIn(p4, { ...v4, outbox: demo.outbox, afterCodeId: lastCode }));
    await headingVisible(p4, 'Your ballot is encrypted, not yet cast');
    const kept = (await p4.locator('#enc-tracker').textContent()).replace(/\s+/g, '');
    assert(kept === encTracker, 'the encrypted ballot was kept across the new sign-in');
    await p4.getByRole('button', { name: 'Cast this ballot' }).click();
    await headingVisible(p4, 'Your ballot is cast');
    const r4 = (await p4.locator('#receipt-tracker').textContent()).replace(/\s+/g, '');
    assert(r4 === encTracker, 'the kept ballot was cast');

    // 6. The language switch and the French booth.
    console.log('6. French');
    const fr = await newPage(browser, base);
    await fr.goto(`${base}/elections/${election}`);
    await headingVisible(fr, 'Sign in');
    await fr.getByRole('link', { name: 'Français' }).click();
    await headingVisible(fr, 'Connexion');
    await assertFrench(fr, 'login');
    await checkpoint(fr, 'booth-fr-login');
    await fr.getByLabel('Identifiant', { exact: true }).fill(v5.login);
    await fr.getByRole('button', { name: 'M’envoyer un code' }).click();
    await headingVisible(fr, 'Saisissez votre code de connexion');
    await assertFrench(fr, 'code');
    await checkpoint(fr, 'booth-fr-code');
    const c5 = await latestCode(demo.outbox, v5.email, { after: lastCode });
    nextCode(c5.id);
    await fr.getByLabel('Code de connexion à usage unique (8 chiffres)').fill(c5.code);
    await fr.getByRole('button', { name: 'Se connecter', exact: true }).click();
    await headingVisible(fr, 'Votre code de vote');
    await fr.getByLabel('Code de vote', { exact: true }).fill(mistyped(v5.credential));
    await fr.getByText('faute de frappe').waitFor();
    await assertFrench(fr, 'credential typo');
    await fr.getByLabel('Code de vote', { exact: true }).fill(v5.credential);
    await fr.getByText('Code de vote valide').waitFor();
    await assertFrench(fr, 'credential');
    await checkpoint(fr, 'booth-fr-credential');
    await fr.getByRole('button', { name: 'Continuer', exact: true }).click();
    await headingVisible(fr, 'Vos choix');
    await fr.getByRole('button', { name: 'Relire mes choix' }).click();
    await fr.getByText('Choisissez une réponse, ou votez blanc.').waitFor();
    await assertFrench(fr, 'questions with an error');
    await checkpoint(fr, 'booth-fr-questions');
    await fr.locator('#questions fieldset').nth(0).getByLabel(/^Vote blanc/).check();
    for (const a of ['Library', 'Youth centre']) await fr.locator('#questions fieldset').nth(1).getByLabel(a).check();
    await fr.getByRole('button', { name: 'Relire mes choix' }).click();
    await headingVisible(fr, 'Vérifiez vos choix');
    await assertFrench(fr, 'review');
    await checkpoint(fr, 'booth-fr-review');
    await fr.getByRole('button', { name: 'Chiffrer mon bulletin' }).click();
    await headingVisible(fr, 'Votre bulletin est chiffré, pas encore déposé');
    await assertFrench(fr, 'encrypted');
    await fr.getByRole('button', { name: 'Auditer ce chiffrement' }).click();
    await headingVisible(fr, 'Audit de ce chiffrement');
    await fr.getByText('Ce sont bien les choix que vous avez faits.').waitFor();
    await assertFrench(fr, 'audit');
    await checkpoint(fr, 'booth-fr-audit');
    await fr.getByRole('button', { name: 'Chiffrer de nouveau mes choix' }).click();
    await headingVisible(fr, 'Votre bulletin est chiffré, pas encore déposé');
    await fr.getByRole('button', { name: 'Déposer ce bulletin' }).click();
    await headingVisible(fr, 'Votre bulletin est déposé');
    await fr.getByText('Vérifié : le tableau a signé ce reçu').waitFor({ timeout: 60_000 });
    await assertFrench(fr, 'receipt');
    await checkpoint(fr, 'booth-fr-receipt');

    // 7. The election closes: the booth says so.
    console.log('7. closed election');
    const { token: admin } = await json(`${base}/api/admin/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: demo.adminPassword }),
    });
    await json(`${base}/api/admin/elections/${election}/close`, {
      method: 'POST', headers: { Authorization: `Bearer ${admin}` },
    });
    const closed = await newPage(browser, base, { mobile: true });
    await closed.goto(`${base}/elections/${election}?lang=en`);
    await headingVisible(closed, 'This election is closed');
    await closed.getByText('No more ballots are accepted').waitFor();
    await checkpoint(closed, 'booth-closed');
    await fr.reload();
    await headingVisible(fr, 'Cette élection est close');
    await assertFrench(fr, 'closed');

    // 8. The record verifies and counts the ballots cast from the booth.
    console.log('8. scrutin verify');
    const record = await (await fetch(`${base}/api/elections/${election}/record`)).text();
    await writeFile(path.join(work, 'record.jsonl'), record);
    const report = JSON.parse(execFileSync(demo.bin, ['verify', '--json', path.join(work, 'record.jsonl')], { encoding: 'utf8' }));
    assert(report.status === 'closed', `record status ${report.status}`);
    assert(report.ballots === 6, `6 ballots on the board, found ${report.ballots}`);
    assert(report.ballots_counted === 5, `5 ballots counted (one re-vote), found ${report.ballots_counted}`);
    for (const p of [phone, second, p3, p4, fr]) p.assertClean();
    console.log(`booth test passed: ${report.ballots} ballots, ${report.ballots_counted} counted, record verified`);
  } catch (e) {
    failed = true;
    console.error(e && e.stack ? e.stack : e);
  } finally {
    await browser.close().catch(() => {});
    await demo.stop({ keep: failed || keepByDefault() });
    await rm(work, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

main();
