// The officials' pages end to end, on a real `scrutin serve`: sign in (and a wrong password),
// the list, the creation form (client-side errors, a description the server refuses, then a
// real election: 3 trustees and the credential authority named with the public keys they
// made with `scrutin … keygen`, the fingerprints shown by the form checked against the
// CLI's, threshold 2, two questions, one with blank votes), the voter
// import with bad lines, the schedule, role links (and their re-issue, which revokes the
// first ones), the open button refused before the key ceremony; then the ceremony done
// outside the pages with the `scrutin` CLI while the page follows it, opening, ballots cast
// with the CLI, turnout, closing, decryption shares with the CLI, the tally (after the page
// compared the close line with the election's monitor, a stand-in on another origin that
// the page's CSP admits) and the audit log; an expired session; mobile and French views. A checkpoint (axe-core, screenshot, no
// foreign request) at each page state. Run: cd web/test && node admin.test.mjs
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  repo, scrutinBinary, startServer, launchBrowser, newPage, checkpoint, latestCode, adminToken, startFakeMonitor,
  removeUnlessKept,
} from './lib/harness.mjs';
import * as admin from './drivers/admin.mjs';

const run = promisify(execFile);

function check(cond, message) {
  if (!cond) throw new Error(`check failed: ${message}`);
}

function eq(actual, expected, message) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`check failed: ${message}: expected ${e}, got ${a}`);
}

const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${msg}`);

const bin = await scrutinBinary();
const scrutin = async (...args) => {
  try {
    const { stdout } = await run(bin, args, { maxBuffer: 1 << 24 });
    return stdout;
  } catch (e) {
    throw new Error(`scrutin ${args.join(' ')} failed:\n${e.stdout}\n${e.stderr}`);
  }
};

const server = await startServer({ webDir: path.join(repo, 'web') });
const monitor = await startFakeMonitor(server.url);
const work = await mkdtemp(path.join(tmpdir(), 'scrutin-admin-test-'));
const browser = await launchBrowser();
let failed = false;
try {
  const page = await newPage(browser, server.url, { allowOrigins: [monitor.origin] });
  page.setDefaultTimeout(30_000);

  // ---- sign in ----
  await page.goto(`${server.url}/admin`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await checkpoint(page, 'admin-login-desktop');
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#login-error:has-text("Wrong user name or password")').waitFor();
  await checkpoint(page, 'admin-login-wrong-password');
  await admin.login(page, server.url, server.admin);
  await page.locator('#list-empty').waitFor();
  await checkpoint(page, 'admin-list-empty');
  log('signed in');

  // ---- creation form: errors first ----
  await page.getByRole('link', { name: 'New election' }).click();
  await page.getByRole('heading', { name: 'New election' }).waitFor();
  await checkpoint(page, 'admin-create-form');
  await page.getByRole('button', { name: 'Create the election' }).click();
  const createError = page.locator('#create-error');
  await createError.waitFor();
  const clientErrors = await createError.innerText();
  check(/Give the election a title/.test(clientErrors), `title error shown: ${clientErrors}`);
  check(/Give trustee 1 a name/.test(clientErrors), `trustee error shown: ${clientErrors}`);
  check(/Paste the public key of trustee 1/.test(clientErrors), `trustee key error shown: ${clientErrors}`);
  check(/Give the credential authority a name/.test(clientErrors), `authority error shown: ${clientErrors}`);
  check(/Question 1: write the question/.test(clientErrors), `question error shown: ${clientErrors}`);
  check(await page.getByLabel('Title', { exact: true }).getAttribute('aria-invalid') === 'true', 'title marked invalid');
  await checkpoint(page, 'admin-create-client-errors');
  // A mistyped public key is explained under its field.
  await page.getByLabel('Public key of trustee 1', { exact: true }).fill('0123abc');
  await page.locator('#f-trustee-key-1-fp', { hasText: 'has 7' }).waitFor();
  await page.getByLabel('Public key of trustee 1', { exact: true }).fill('f'.repeat(64));
  await page.locator('#f-trustee-key-1-fp', { hasText: 'not a public key' }).waitFor();
  await checkpoint(page, 'admin-create-bad-key');
  // The tabs work with the keyboard (arrow keys), as tabs do.
  await page.getByRole('tab', { name: 'Form' }).focus();
  await page.keyboard.press('ArrowRight');
  eq(await page.getByRole('tab', { name: 'TOML (advanced)' }).getAttribute('aria-selected'), 'true', 'arrow key selects the TOML tab');
  check(await page.getByRole('tab', { name: 'TOML (advanced)' }).evaluate((e) => e === document.activeElement), 'focus follows');
  // A description the server refuses (422 invalid_description), typed in the TOML tab.
  await page.getByLabel('Election description (TOML)').fill('title = "x"\ntrustees = ["A"]\nthreshold = 2\n');
  await page.locator('#toml-edited').waitFor();
  await page.getByRole('button', { name: 'Create the election' }).click();
  await page.locator('#create-error:has-text("The server refused the description")').waitFor();
  await checkpoint(page, 'admin-create-server-error');
  await page.getByRole('button', { name: 'Discard my edits and regenerate from the form' }).click();
  await page.locator('#toml-edited').waitFor({ state: 'hidden' });
  await page.getByRole('tab', { name: 'Form' }).click();
  log('creation errors shown');

  // ---- the role keys, made by their holders with the CLI ----
  const keyPath = (name) => path.join(work, `${name}-key.json`);
  const keygen = async (kind, name) => {
    const out = await scrutin(kind, 'keygen', '--name', name, '--out', keyPath(name));
    return { name, key: out.match(/public key +([0-9a-f]{64})/)[1], fingerprint: out.match(/fingerprint +(\S+)/)[1] };
  };
  const roleKeys = [await keygen('trustee', 'Alice'), await keygen('trustee', 'Bob'), await keygen('trustee', 'Chloé')];
  const authorityKey = await keygen('credentials', 'Dora');

  // ---- create the election through the form ----
  const now = Math.floor(Date.now() / 1000);
  const title = 'Association board "2026" \\ vote';
  const description = 'Annual general meeting.\nTwo questions: the chair and the projects.';
  const questions = [
    { question: 'Who should preside?', answers: ['Ada', 'Blaise', 'Claude'], min: 1, max: 1, blank: true },
    { question: 'Which projects? (up to two)', answers: ['Library', 'Garden', 'Bikes'], min: 0, max: 2, blank: false },
  ];
  const { id, fingerprints } = await admin.createElection(page, {
    title,
    description,
    trustees: roleKeys.map(({ name, key }) => ({ name, key })),
    threshold: 2,
    authority: { name: authorityKey.name, key: authorityKey.key.toUpperCase() },
    monitors: [monitor.url],
    questions,
    opensAt: now + 2 * 86400,
    closesAt: now + 3 * 86400,
    withFingerprints: true,
  });
  eq(fingerprints, { trustees: roleKeys.map((k) => k.fingerprint), authority: authorityKey.fingerprint },
    'the form shows the fingerprints the key holders see');
  log(`created ${id}`);
  check(/^[0-9a-f]{24}$/.test(id), `random id ${id}`);
  await page.locator('#o-events[data-value="1"]').waitFor();
  eq(await page.locator('#el-heading').innerText(), title, 'title shown, quotes and backslash intact');
  eq(await page.locator('#d-description').innerText(), description, 'description with its line break');
  await page.waitForFunction(() => !document.querySelector('#d-trustees').textContent.includes('?'));
  eq(await page.locator('#d-trustees').innerText(),
    roleKeys.map((k) => `${k.name} (key ${k.fingerprint})`).join(', '), 'trustees with their key fingerprints');
  eq(await page.locator('#d-authority').innerText(), `Dora (key ${authorityKey.fingerprint})`, 'authority');
  eq(await page.locator('#d-monitors').innerText(), monitor.url, 'monitors');
  eq((await page.locator('#d-questions > li').count()), 2, 'two questions');
  check((await page.locator('#d-questions').innerText()).includes('Blank vote allowed.'), 'blank allowed on question 1');
  const toml = await page.locator('#d-toml').textContent();
  check(toml.includes('title = "Association board \\"2026\\" \\\\ vote"'), `TOML escapes: ${toml}`);
  check(toml.includes('description = "Annual general meeting.\\nTwo questions'), 'TOML newline escape');
  const pub = await (await fetch(`${server.url}/api/elections/${id}`)).json();
  eq(pub.definition.questions.map((q) => [q.min, q.max, q.blank]), [[1, 1, true], [0, 2, false]], 'rules on the record');
  eq(pub.definition.threshold, 2, 'threshold on the record');
  eq(pub.definition.trustees.map((tr) => [tr.name, tr.key]), roleKeys.map(({ name, key }) => [name, key]), 'trustees and keys on the record');
  eq([pub.definition.authority.name, pub.definition.authority.key], ['Dora', authorityKey.key], 'authority and key on the record');
  // The booth's, the trustee page's, the authority page's and this election's admin page's CSP
  // let them reach the monitor's origin, and only it; the other pages reach no other origin.
  for (const url of [`/elections/${id}`, `/elections/${id}/trustee`, `/elections/${id}/authority`, `/admin?election=${id}`, `/admin?lang=en&election=${id}`]) {
    const csp = (await fetch(`${server.url}${url}`)).headers.get('content-security-policy');
    check(csp.includes(`connect-src 'self' ${monitor.origin};`), `CSP of ${url}: ${csp}`);
  }
  check(/election=/.test(new URL(page.url()).search), `the election's view names it in the query: ${page.url()}`);
  for (const url of ['/admin', '/admin?election=no-such-election', '/elections/no-such-election/authority']) {
    const otherCsp = (await fetch(`${server.url}${url}`)).headers.get('content-security-policy');
    check(otherCsp.includes("connect-src 'self';"), `CSP of ${url}: ${otherCsp}`);
  }
  const sched = await admin.schedule(page);
  check(sched.opens !== 'not set' && sched.closes !== 'not set', `schedule shown: ${JSON.stringify(sched)}`);
  await checkpoint(page, 'admin-election-draft-desktop');

  // ---- voter list ----
  const csv = [
    'login,email,weight',
    'voter1,voter1@example.org',
    'voter2,voter2@example.org,2',
    'voter3,voter3@example.org',
    'this line has no comma',
    'voter4,not-an-email',
    'voter1,duplicate@example.org',
    'voter5,voter5@example.org,abc',
    '',
  ].join('\n');
  const report = await admin.importVoters(page, csv);
  eq([report.accepted, report.rejected, report.total, report.weight], [0, 4, 0, 0], 'a file with bad lines adds nobody');
  eq(report.errors.map((e) => e.line), [5, 6, 7, 8], 'bad line numbers');
  eq(report.errors[0].content, 'this line has no comma', 'bad line content shown');
  check(report.errors.every((e) => e.reason.length > 3), 'every bad line has a reason');
  check(!report.truncated, 'not truncated');
  await checkpoint(page, 'admin-voters-report');
  const fixed = csv.split('\n').slice(0, 4).join('\n');
  const report1 = await admin.importVoters(page, fixed);
  eq([report1.accepted, report1.rejected, report1.total, report1.weight], [3, 0, 3, 4], 'the corrected file imports');
  const report2 = await admin.importVoters(page, 'voter4,voter4@example.org\n', { file: true });
  eq([report2.accepted, report2.rejected, report2.total, report2.weight], [1, 0, 4, 5], 'second import, from a file');
  log('voters imported');
  const logins = async () => (await admin.roll(page)).map((v) => v.login);
  // A periodic refresh may draw the roll once more; the last drawing lists all four.
  await page.waitForFunction(() => document.querySelectorAll('#roll-table tbody tr').length === 4, null, { timeout: 10_000 }).catch(() => {});
  eq(await logins(), ['voter1', 'voter2', 'voter3', 'voter4'], 'the roll lists the voters');
  await admin.searchRoll(page, 'VOTER2');
  eq(await logins(), ['voter2'], 'roll search');
  await admin.searchRoll(page, '');
  await admin.addVoter(page, { login: 'voter9', email: 'voter9@example.org', weight: 2 });
  const added = (await admin.roll(page)).find((v) => v.login === 'voter9');
  eq([added?.email, added?.weight], ['voter9@example.org', '2'], 'a voter added by hand');
  await checkpoint(page, 'admin-roll-draft');
  await admin.removeVoter(page, 'voter9');
  eq(await logins(), ['voter1', 'voter2', 'voter3', 'voter4'], 'a voter removed');
  log('roll edited');

  // ---- schedule ----
  const closesAt = now + 86400 + 3600;
  await admin.setSchedule(page, { opensAt: null, closesAt });
  const sched2 = await admin.schedule(page);
  eq(sched2.opens, 'not set', 'opening time cleared');
  const meta = await (await fetch(`${server.url}/api/admin/elections/${id}`, {
    headers: { Authorization: `Bearer ${await adminToken(server)}` },
  })).json();
  eq([meta.opens_at, meta.closes_at], [null, Math.floor(closesAt / 60) * 60], 'schedule stored (minute precision)');
  log('schedule changed');

  // ---- the next step, at the top of the page ----
  const nextStep = async () => (await page.locator('#next-step').innerText()).trim();
  check(await page.evaluate(() => Boolean(document.querySelector('#sec-lifecycle').compareDocumentPosition(document.querySelector('#sec-overview')) & Node.DOCUMENT_POSITION_FOLLOWING)),
    'the next step and the lifecycle buttons come first');
  const firstStep = await nextStep();
  check(/^Waiting for trustees Alice, Bob,? and Chloé to prove their keys/.test(firstStep), `next step: ${firstStep}`);

  // ---- open refused before the key ceremony ----
  let open = await admin.lifecycleButton(page, 'open');
  check(!open.enabled, 'open disabled before the ceremony');
  check(/Waiting for the trustees’ key generation/.test(open.reason), `reason: ${open.reason}`);
  const tallyBtn = await admin.lifecycleButton(page, 'tally');
  check(!tallyBtn.enabled && /after closing/.test(tallyBtn.reason), `tally reason: ${tallyBtn.reason}`);
  const refused = await fetch(`${server.url}/api/admin/elections/${id}/open`, {
    method: 'POST', headers: { Authorization: `Bearer ${await adminToken(server)}` },
  });
  eq(refused.status, 409, 'the server refuses to open before the ceremony');

  // ---- role links ----
  const first = await admin.issueRoleTokens(page);
  eq(first.trustees.length, 3, 'three trustee links');
  const linkRe = (role) => new RegExp(`^${server.url}/elections/${id}/${role}#token=[0-9a-f]{64}$`);
  check(first.trustees.every((u) => linkRe('trustee').test(u)), `trustee links: ${first.trustees}`);
  check(linkRe('authority').test(first.authority), `authority link: ${first.authority}`);
  await checkpoint(page, 'admin-role-links');
  // Re-issuing asks for confirmation, then revokes the first links.
  await page.locator('#sec-ceremony').getByRole('button', { name: 'Issue new links' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  check((await dialog.innerText()).includes('revoke'), 'the dialog says links are revoked');
  await checkpoint(page, 'admin-reissue-dialog');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  const links = await admin.issueRoleTokens(page);
  check(links.trustees[0] !== first.trustees[0], 'new links differ');
  const token = (url) => new URL(url).hash.replace('#token=', '');
  const whoOld = await fetch(`${server.url}/api/elections/${id}/role`, { headers: { Authorization: `Bearer ${token(first.trustees[0])}` } });
  eq(whoOld.status, 401, 'first links revoked');
  const whoNew = await (await fetch(`${server.url}/api/elections/${id}/role`, { headers: { Authorization: `Bearer ${token(links.trustees[0])}` } })).json();
  eq(whoNew.index, 1, 'new trustee link works');
  await page.getByRole('button', { name: 'I have handed them over: hide the links' }).click();
  await page.locator('#tokens').waitFor({ state: 'hidden' });
  eq(await page.locator('#token-list li').count(), 0, 'links hidden and gone from the page');
  log('role links issued');

  // ---- the ceremony with the CLI, followed by the page ----
  const trusteeTokens = links.trustees.map(token);
  const secret = (i) => path.join(work, `trustee${i + 1}.json`);
  const doneCells = page.locator('#progress-table td[data-done="true"]');
  const before = await admin.progress(page);
  eq(before.trustees.map((tr) => [tr.fingerprint, tr.committed]), roleKeys.map((k) => [k.fingerprint, false]),
    'each trustee\'s key fingerprint, not yet proven');
  check(before.authority.includes(authorityKey.fingerprint) && /proven when it publishes/.test(before.authority),
    `authority status: ${before.authority}`);
  for (const [step, cells] of [['commit', 3], ['deal', 6], ['check', 9]]) {
    for (const [i, tok] of trusteeTokens.entries()) {
      const key = step === 'commit' ? ['--key', keyPath(roleKeys[i].name)] : [];
      await scrutin('trustee', step, '--server', server.url, '--election', id, '--token', tok, ...key, '--secret', secret(i));
    }
    await page.waitForFunction((n) => document.querySelectorAll('#progress-table td[data-done="true"]').length >= n, cells, { timeout: 30_000 });
    log(`trustees: ${step} seen on the page`);
    if (step === 'commit') {
      const proven = await admin.progress(page);
      eq(proven.trustees.map((tr) => tr.committed), [true, true, true], 'every trustee key proven');
      await page.locator('#next-step:has-text("to post their dealings")').waitFor({ timeout: 30_000 });
      check(/^Waiting for trustees Alice, Bob,? and Chloé to post their dealings\.$/.test(await nextStep()), `next step: ${await nextStep()}`);
      await checkpoint(page, 'admin-ceremony-progress');
    }
  }
  eq(await doneCells.count(), 9, 'every key-generation step done');
  await admin.waitForKey(page);
  open = await admin.lifecycleButton(page, 'open');
  check(!open.enabled && /credential authority/.test(open.reason), `reason: ${open.reason}`);
  const privateFile = path.join(work, 'credentials.json');
  await scrutin('credentials', 'generate', '--server', server.url, '--election', id,
    '--token', token(links.authority), '--key', keyPath('Dora'), '--private', privateFile);
  await page.locator('#credentials-status[data-credentials="4"]').waitFor({ timeout: 30_000 });
  const progress = await admin.progress(page);
  eq([progress.key, progress.credentials, progress.stage], [true, 4, 'setup'], 'progress read from the page');
  check(/proven: the published credential list is signed/.test(progress.authority), `authority proven: ${progress.authority}`);
  open = await admin.lifecycleButton(page, 'open');
  check(open.enabled, `open enabled: ${open.reason}`);
  eq(await nextStep(), 'Ready to open.', 'next step once ready');
  await checkpoint(page, 'admin-ready-to-open');
  log('ceremony done');

  // ---- open, vote, turnout ----
  await admin.openElection(page);
  await admin.waitForStage(page, 'open');
  check((await page.locator('#o-fingerprint').innerText()).match(/^[0-9a-f]{64}$/), 'fingerprint shown');
  check(!(await page.locator('#voters-form').isVisible()), 'voter import hidden once open');
  check(/^Voting until \S/.test(await nextStep()), `next step while open: ${await nextStep()}`);
  await checkpoint(page, 'admin-open');
  const creds = JSON.parse(await readFile(privateFile, 'utf8'));
  const credOf = (login) => creds.find((c) => c.login === login);
  let lastMail = 0;
  async function vote(login, choices) {
    const c = credOf(login);
    const r = await fetch(`${server.url}/api/elections/${id}/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login }),
    });
    eq(r.status, 202, `code requested for ${login}`);
    const { code, id: mailId } = await latestCode(server.outbox, c.email, { after: lastMail });
    lastMail = mailId;
    const file = path.join(work, `choices-${login}-${mailId}.json`);
    await writeFile(file, JSON.stringify(choices));
    const out = await scrutin('ballot', 'cast', '--server', server.url, '--election', id,
      '--login', login, '--code', code, '--credential', c.credential, '--choices', file);
    check(out.includes('Tracker:'), `ballot cast: ${out}`);
  }
  await vote('voter1', [[0, 1, 0], [1, 0, 1]]);
  await vote('voter2', ['blank', [0, 0, 0]]);
  await vote('voter1', [[1, 0, 0], [0, 1, 0]]); // a re-vote: only the last one counts
  await page.waitForFunction(() => document.querySelector('#t-ballots')?.dataset.value === '3', null, { timeout: 30_000 });
  eq(await admin.turnout(page), { voters: 4, ballots: 3, counted: 2, percent: 50 }, 'turnout');
  check((await page.locator('#t-voters').innerText()).includes('total weight 5'), 'weights shown');
  await admin.refresh(page);
  const during = await admin.roll(page);
  eq(during.map((v) => v.voted), ['Yes', 'Yes', 'No', 'No'], 'who voted, on the roll');
  check(during.slice(0, 2).every((v) => ['Sent', 'Waiting to be sent'].includes(v.otp)), `login code mails: ${JSON.stringify(during)}`);
  check(!(await page.locator('#roll-form').isVisible()), 'no voter can be added once open');
  const turnoutText = await page.locator('#sec-turnout').innerText();
  check(!/voter1|voter2|example\.org/.test(turnoutText), 'no identity in the turnout');
  // Three login codes and three ballot confirmations (queued after each receipt, so the
  // page may show the last ones at its next refresh).
  await page.waitForFunction(() => ['m-sent', 'm-queued']
    .map((id) => Number(document.querySelector(`#${id}`)?.dataset.value || 0))
    .reduce((a, b) => a + b) === 6, null, { timeout: 30_000 });
  const mail = await admin.mailStatus(page);
  check(mail.sent + mail.queued === 6 && mail.failed === 0, `mail counts: ${JSON.stringify(mail)}`);
  await checkpoint(page, 'admin-turnout');
  log('ballots cast, turnout seen');

  // ---- a credential sent again, reminders ----
  await admin.requestResend(page, 'voter3');
  let roll = await admin.roll(page);
  check(/^Asked on .*waiting for the credential authority/.test(roll[2].resend), `re-send pending: ${roll[2].resend}`);
  await checkpoint(page, 'admin-resend-pending');
  check((await page.locator('#reminder-status').innerText()).startsWith('2 voters have not voted yet.'),
    `reminder status: ${await page.locator('#reminder-status').innerText()}`);
  eq(await admin.sendReminders(page), 'Send a reminder to 2 voters?', 'the confirmation counts the voters');
  roll = await admin.roll(page);
  eq(roll.map((v) => v.reminder !== '—'), [false, false, true, true], 'reminders to those who have not voted only');
  check(await page.locator('#send-reminders').isDisabled(), 'no second reminder within the hour');
  check(/at most one per hour/.test(await page.locator('#reminder-status').innerText()), 'when the next reminder may go');
  await checkpoint(page, 'admin-reminded');
  log('credential re-send asked, reminders sent');

  // ---- close, decryption shares, tally ----
  await admin.closeElection(page);
  await admin.waitForStage(page, 'closed');
  let t = await admin.lifecycleButton(page, 'tally');
  check(!t.enabled && /0 of the 2 needed/.test(t.reason), `tally waits for shares: ${t.reason}`);
  eq(await nextStep(), 'Waiting for 2 of the 3 trustees to decrypt (0 of the 2 shares needed so far).', 'next step once closed');
  await checkpoint(page, 'admin-closed');
  for (const i of [0, 2]) {
    await scrutin('trustee', 'decrypt', '--server', server.url, '--election', id, '--token', trusteeTokens[i], '--secret', secret(i));
  }
  await page.locator('#do-tally:not([disabled])').waitFor({ timeout: 30_000 });
  t = await admin.lifecycleButton(page, 'tally');
  check(/2 decryption shares published/.test(t.reason), `tally ready: ${t.reason}`);
  await admin.tally(page);
  await admin.waitForStage(page, 'tallied');
  eq(await page.locator('#tally-monitors').getAttribute('data-status'), 'agree', 'the monitor confirmed the close line before the tally');
  const result = await (await fetch(`${server.url}/api/elections/${id}/result`)).json();
  // voter1 (weight 1) re-voted Ada and Garden; voter2 (weight 2) voted blank and nothing.
  eq(result.result.questions, [{ blank: 2, choices: [1, 0, 0] }, { choices: [0, 1, 0] }], 'the result');
  eq(result.result.trustees, [1, 3], 'trustees 1 and 3 decrypted');
  log('tallied');

  // ---- audit log ----
  const audit = await admin.auditLog(page);
  const actions = audit.map((e) => e.action);
  for (const a of ['election.create', 'voters.import', 'election.schedule', 'election.role_tokens',
    'trustee.trustee_commitment', 'trustee.dealer_shares', 'trustee.trustee_check', 'credentials.publish',
    'election.open', 'election.close', 'trustee.decryption_share', 'election.tally']) {
    check(actions.includes(a), `audit log has ${a}: ${actions}`);
  }
  eq(actions.filter((a) => a === 'election.role_tokens').length, 2, 'two link issues in the audit log');
  check(audit.find((e) => e.action === 'election.open').actor === 'admin', 'actor of the opening');
  await page.locator('#h-audit').scrollIntoViewIfNeeded();
  await checkpoint(page, 'admin-tallied-audit');
  const pl = await admin.publicLinks(page);
  eq(pl, {
    vote: `${server.url}/elections/${id}`,
    board: `${server.url}/elections/${id}/board`,
    result: `${server.url}/elections/${id}/result`,
    verify: `${server.url}/elections/${id}/verify`,
  }, 'public links');

  // ---- a new election from this one's definition (the definition itself is fixed) ----
  await page.getByRole('button', { name: 'New election from this definition' }).click();
  await page.getByRole('heading', { name: 'New election' }).waitFor();
  const copied = await page.getByLabel('Election description (TOML)').inputValue();
  check(copied.includes('title = "Association board \\"2026\\"') && !/^id *=/m.test(copied), `copied TOML: ${copied}`);
  check(await page.locator('#toml-edited').isVisible(), 'copied TOML counts as an edit');
  await page.locator('#create-form').getByRole('link', { name: 'Cancel' }).click();

  // ---- the list ----
  const list = await admin.listElections(page);
  eq(list, [{ id, title, state: 'tallied' }], 'the list');
  await checkpoint(page, 'admin-list');

  // ---- an unknown election ----
  await page.goto(`${server.url}/admin#election=no-such-election`);
  await page.locator('#error:has-text("no such election")').waitFor();
  await page.getByRole('link', { name: 'All elections' }).click();
  await page.locator('[data-step="list"]:not([hidden]):not([aria-busy])').waitFor();

  // ---- an abandoned draft is deleted by its official ----
  const auth = { Authorization: `Bearer ${await adminToken(server)}` };
  await admin.gotoElection(page, id);
  await admin.waitForStage(page, 'tallied');
  check(await page.locator('#delete-box').isHidden(), 'no delete button once the election is past its draft');
  await page.getByRole('link', { name: 'All elections' }).click();
  await page.locator('[data-step="list"]:not([hidden]):not([aria-busy])').waitFor();
  const draftToml = meta.description_toml.replace(/^title = .*$/m, 'title = "Abandoned draft"');
  const created = await fetch(`${server.url}/api/admin/elections`, {
    method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ description: draftToml }),
  });
  eq(created.status, 201, 'a second draft created');
  const draftId = (await created.json()).id;
  const draftVoter = await fetch(`${server.url}/api/admin/elections/${draftId}/voters`, {
    method: 'POST', headers: { ...auth, 'Content-Type': 'text/csv; charset=utf-8' },
    body: 'login,email\nada,ada@example.org\n',
  });
  check(draftVoter.ok, `voter added to the draft: ${draftVoter.status}`);
  await page.getByRole('button', { name: 'Refresh' }).first().click();
  check((await admin.listElections(page)).some((e) => e.id === draftId), 'the draft is listed');
  await admin.gotoElection(page, draftId);
  await page.getByRole('button', { name: 'Delete this draft election' }).click();
  await page.locator('#confirm-dialog[open]').waitFor();
  await checkpoint(page, 'admin-delete-confirm');
  await page.locator('#confirm-yes').click();
  await page.locator('#status:has-text("The draft election “Abandoned draft” was deleted.")').waitFor();
  const listed = await admin.listElections(page);
  check(!listed.some((e) => e.id === draftId) && listed.some((e) => e.id === id), `the draft is gone from the list: ${JSON.stringify(listed)}`);
  await checkpoint(page, 'admin-list-after-delete');
  eq((await fetch(`${server.url}/api/admin/elections/${draftId}`, { headers: auth })).status, 404, 'the draft is gone');
  eq((await fetch(`${server.url}/api/elections/${draftId}/record`)).status, 404, 'its record is gone');
  const serverLog = await (await fetch(`${server.url}/api/admin/audit-log`, { headers: auth })).json();
  check(serverLog.entries.some((e) => e.action === 'election.delete' && e.details.election === draftId),
    `the deletion is in the server's audit log: ${JSON.stringify(serverLog.entries.slice(-2))}`);
  log('draft deleted');

  // ---- an expired session goes back to the sign-in form with a message ----
  const pageToken = await page.evaluate(() => sessionStorage.getItem('scrutin.admin.token'));
  await fetch(`${server.url}/api/admin/logout`, { method: 'POST', headers: { Authorization: `Bearer ${pageToken}` } });
  await page.getByRole('button', { name: 'Refresh' }).first().click();
  await page.locator('#login-notice:has-text("Your session has expired")').waitFor();
  await checkpoint(page, 'admin-session-expired');
  await page.getByLabel('User name').fill(server.admin.username);
  await page.getByLabel('Password').fill(server.admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Elections', level: 2 }).waitFor();
  await admin.logout(page);
  page.assertClean();
  await page.context().close();
  log('session expiry handled');

  // ---- mobile ----
  const mobile = await newPage(browser, server.url, { mobile: true });
  await mobile.goto(`${server.url}/admin`);
  await mobile.getByRole('heading', { name: 'Sign in' }).waitFor();
  await checkpoint(mobile, 'admin-login-mobile');
  // Signing in from an election's address leads to that election, and says once who is
  // signed in.
  await mobile.goto(`${server.url}/admin?election=${id}#election=${id}`);
  await mobile.getByLabel('User name').fill(server.admin.username);
  await mobile.getByLabel('Password').fill(server.admin.password);
  await mobile.getByRole('button', { name: 'Sign in' }).click();
  await admin.waitForStage(mobile, 'tallied');
  const signedIn = (await mobile.locator('body').innerText()).split('Signed in as').length - 1;
  check(signedIn === 1, `"Signed in as" shown once (${signedIn} times)`);
  const overflow = await mobile.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 0, `no horizontal scrolling at 360 px (overflow ${overflow}px)`);
  await checkpoint(mobile, 'admin-election-mobile');

  // ---- French ----
  await mobile.goto(`${server.url}/admin?lang=fr#election=${id}`);
  await mobile.getByRole('heading', { name: 'Administration des élections' }).waitFor();
  await mobile.locator('#o-stage[data-stage="tallied"]').waitFor();
  check((await mobile.locator('#o-state').innerText()) === 'Dépouillée', 'state in French');
  eq((await mobile.locator('#next-step').innerText()).trim(), 'Le résultat est publié.', 'next step in French');
  await checkpoint(mobile, 'admin-election-fr');
  await mobile.context().close();
  log('mobile and French done');
  console.log('admin pages: all checks passed');
} catch (e) {
  failed = true;
  console.error(e);
  console.error(server.log().slice(-4000));
} finally {
  await browser.close();
  await server.stop();
  await monitor.stop();
  await removeUnlessKept(work);
}
process.exit(failed ? 1 : 0);
