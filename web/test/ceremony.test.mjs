// The trustee and credential authority pages, end to end on a real server, mixed with the
// command-line tool to show that both read and write the same files:
//   role keys: trustees 1 and 2 and the credential authority on the key page, trustee 3
//   with `scrutin trustee keygen` (its file checked on the key page); a stranger's key and
//   the authority's key are refused by the trustee page, a trustee's key by the authority
//   page;
//   3 trustees (threshold 2): trustee 1 on the page (desktop, English), trustee 2 on the
//   page (360 px mobile, French), trustee 3 with the CLI (and one step on the page with the
//   CLI's secret file); the credential authority on the page; `scrutin credentials mail`
//   on the page's private file; two ballots cast with the CLI using the page's credentials;
//   trustee 1 decrypts on the page, trustee 2 with the CLI and the secret file the PAGE
//   saved; `scrutin verify` on the record; the result is the two ballots.
// Run: cd web/test && node ceremony.test.mjs   (exits non-zero on failure)
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import {
  repo, startServer, launchBrowser, newPage, checkpoint, adminToken, latestCode, scrutinBinary,
  removeUnlessKept,
} from './lib/harness.mjs';
import { trusteeNextStep, trusteeTryKey, authorityGenerate, visibleStep } from './drivers/ceremony.mjs';
import { generateKey, checkKeyFile } from './drivers/keys.mjs';

const run = promisify(execFile);
// The binary built from this tree (a release build may be older).
process.env.SCRUTIN_BIN ??= path.join(repo, 'target', 'debug', 'scrutin');

/** The election's description, naming each trustee and the authority with its public key. */
const description = (keys, authority) => `
title = "Ceremony test"
threshold = 2

[authority]
name = "Dora"
key = "${authority}"

[[trustee]]
name = "Alice"
key = "${keys[0]}"

[[trustee]]
name = "Bob"
key = "${keys[1]}"

[[trustee]]
name = "Carol"
key = "${keys[2]}"

[[question]]
text = "Who should preside?"
answers = ["Ada", "Blaise", "Claude"]
min = 1
max = 1
blank = true
`;

const VOTERS = [
  ['ann', 'ann@example.org', 1],
  ['bob', 'bob@example.org', 2],
  ['cyd', 'cyd@example.org', 1],
];

const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s]`, ...a);

async function main() {
  const bin = await scrutinBinary();
  const work = await mkdtemp(path.join(tmpdir(), 'scrutin-ceremony-'));
  const server = await startServer({ webDir: path.join(repo, 'web') });
  const browser = await launchBrowser();
  const scrutin = async (...args) => {
    try {
      const { stdout } = await run(bin, args, { maxBuffer: 64 << 20 });
      return stdout;
    } catch (e) {
      throw new Error(`scrutin ${args.join(' ')} failed:\n${e.stdout}\n${e.stderr}`);
    }
  };
  try {
    // ---- the election, its voters and the role tokens, through the HTTP API ----
    const admin = await adminToken(server);
    const call = async (method, url, { json, text, token = admin, type } = {}) => {
      const headers = { Authorization: `Bearer ${token}` };
      let body;
      if (json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
      if (text !== undefined) { headers['Content-Type'] = type; body = text; }
      const r = await fetch(`${server.url}${url}`, { method, headers, body });
      const answer = await r.text();
      if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${answer}`);
      return answer ? JSON.parse(answer) : null;
    };
    // ---- the role keys: on the key page, and with the command-line tool ----
    const p1 = await newPage(browser, server.url);
    const p2 = await newPage(browser, server.url, { mobile: true });
    const p3 = await newPage(browser, server.url);
    const cp = (page, prefix) => async (state) => checkpoint(page, `${prefix}-${state}`);
    const keyFile = (name) => path.join(work, `${name}-key.json`);
    const k1 = await generateKey(p1, server.url, { name: 'Alice', keyPath: keyFile('alice'), onState: cp(p1, 'ceremony-keys') });
    const k2 = await generateKey(p2, server.url, { name: 'Bob', lang: 'fr', keyPath: keyFile('bob'), onState: cp(p2, 'ceremony-keys-fr-mobile') });
    const kA = await generateKey(p3, server.url, { name: 'Dora', role: 'authority', keyPath: keyFile('dora'), onState: cp(p3, 'ceremony-keys-authority') });
    const cliKey = async (kind, name, file) => {
      const out = await scrutin(kind, 'keygen', '--name', name, '--out', file);
      return { publicKey: out.match(/public key +([0-9a-f]{64})/)[1], fingerprint: out.match(/fingerprint +(\S+)/)[1] };
    };
    const k3 = await cliKey('trustee', 'Carol', keyFile('carol'));
    const stranger = await cliKey('trustee', 'Alice', keyFile('mallory'));
    for (const k of [k1, k2, kA]) {
      assert.match(k.publicKey, /^[0-9a-f]{64}$/);
      assert.match(k.fingerprint, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    }
    // The file the CLI wrote reads on the key page, and the page's file has the CLI's format.
    const seen = await checkKeyFile(p3, server.url, { keyPath: keyFile('carol') });
    assert.deepEqual([seen.name, seen.publicKey, seen.fingerprint], ['Carol', k3.publicKey, k3.fingerprint]);
    await checkpoint(p3, 'ceremony-keys-checked');
    const aliceFile = JSON.parse(await readFile(keyFile('alice'), 'utf8'));
    assert.deepEqual(Object.keys(aliceFile).sort(), ['name', 'role', 'signing_key', 'signing_secret']);
    assert.equal(aliceFile.signing_key, k1.publicKey);
    log('role keys generated: 3 trustees and the authority');

    const DESCRIPTION = description([k1.publicKey, k2.publicKey, k3.publicKey], kA.publicKey);
    const meta = await call('POST', '/api/admin/elections', { json: { description: DESCRIPTION } });
    const id = meta.id;
    await call('POST', `/api/admin/elections/${id}/voters`, {
      text: VOTERS.map((v) => v.join(',')).join('\n') + '\n', type: 'text/csv',
    });
    const roles = await call('POST', `/api/admin/elections/${id}/roles`);
    const tokens = roles.trustees.map((tr) => tr.token);
    const trusteeUrl = (i) => `${server.url}/elections/${id}/trustee#token=${tokens[i - 1]}`;
    const authorityUrl = `${server.url}/elections/${id}/authority#token=${roles.credential_authority}`;
    const secret = (i) => path.join(work, `trustee${i}.json`);
    const cliTrustee = (step, i, file = secret(i)) => scrutin('trustee', step, '--server', server.url,
      '--election', id, '--token', tokens[i - 1], ...(step === 'commit' ? ['--key', keyFile('carol')] : []),
      '--secret', file);
    log(`election ${id} at ${server.url}`);

    const frUrl = (i) => trusteeUrl(i).replace('/trustee#', '/trustee?lang=fr#');

    // ---- no token, a bad token ----
    await p1.goto(`${server.url}/elections/${id}/trustee`);
    await p1.locator('section[data-step="notoken"]:not([hidden])').waitFor();
    await checkpoint(p1, 'ceremony-trustee-notoken');
    await p1.getByLabel('Access key (64 characters)').fill('0'.repeat(64));
    await p1.getByRole('button', { name: 'Continue' }).click();
    await p1.locator('#error', { hasText: 'not valid' }).waitFor();
    await checkpoint(p1, 'ceremony-trustee-badtoken');

    // A trustee's link opened on the authority's page is refused, and says why.
    await p3.goto(authorityUrl.replace(roles.credential_authority, tokens[2]));
    await p3.locator('#error', { hasText: 'not the credential authority’s' }).waitFor();
    await checkpoint(p3, 'ceremony-authority-trustee-token');

    // ---- a key the election does not name is refused, saying which keys it names ----
    let refused = await trusteeTryKey(p1, trusteeUrl(1), keyFile('mallory'));
    assert.equal(refused.accepted, false);
    assert.ok(refused.text.includes(stranger.fingerprint) && refused.text.includes(k1.fingerprint)
      && /1 \(Alice, key .*2 \(Bob, key .*Do not act in this election/.test(refused.text), refused.text);
    await checkpoint(p1, 'ceremony-t1-stranger-key');
    refused = await trusteeTryKey(p1, trusteeUrl(1), keyFile('dora'));
    assert.equal(refused.accepted, false);
    assert.match(refused.text, /credential authority’s key, not a trustee’s/);
    // Another trustee's key is that trustee's, not this link's.
    refused = await trusteeTryKey(p1, trusteeUrl(1), keyFile('bob'));
    assert.match(refused.text, /trustee 2’s \(Bob\), but your link is trustee 1’s/);

    // ---- key generation: step 1 ----
    let r = await trusteeNextStep(p1, trusteeUrl(1), { keyPath: keyFile('alice'), secretsPath: secret(1), onState: cp(p1, 'ceremony-t1') });
    assert.match(r.identity, new RegExp(`trustee 1 \\(Alice\\), key ${k1.fingerprint}`), r.identity);
    assert.equal(r.step, 'commit');
    assert.equal(new URL(p1.url()).hash, '', 'the token is left in the address bar');
    const fragmentKept = await p1.evaluate(() => location.href);
    assert.ok(!fragmentKept.includes(tokens[0]));
    assert.equal(await visibleStep(p1), 'waiting');
    const waitingText = await p1.locator('#waiting-text').textContent();
    assert.match(waitingText, /trustees 2 \(Bob\) and 3 \(Carol\)/, waitingText);
    assert.match(await p1.locator('#who-line').textContent(), /trustee 1 of 3, Alice/);
    const saved1 = JSON.parse(await readFile(secret(1), 'utf8'));
    assert.equal(saved1.dkg.index, 1);
    assert.equal(saved1.election, id);
    assert.deepEqual(Object.keys(saved1).sort(), ['dkg', 'election', 'role_key']);
    assert.equal(saved1.role_key.signing_key, k1.publicKey);
    // A reload keeps the token (this tab's sessionStorage) and shows the same step.
    await p1.reload();
    await p1.locator('section[data-step="waiting"]:not([hidden])').waitFor();
    await checkpoint(p1, 'ceremony-t1-waiting-commit');

    r = await trusteeNextStep(p2, frUrl(2), { keyPath: keyFile('bob'), secretsPath: secret(2), onState: cp(p2, 'ceremony-t2-fr-mobile') });
    assert.equal(r.step, 'commit');
    assert.equal(await p2.evaluate(() => document.documentElement.lang), 'fr');
    assert.match(await p2.locator('#waiting-text').textContent(), /de l’autorité de déchiffrement 3 \(Carol\), qui doit/);
    // On the 360 px phone the trustees' table fits its box: no cell (a key fingerprint, a
    // state) runs past the edge.
    await p2.locator('#progress:not([hidden]) tbody tr').first().waitFor();
    const clipped = await p2.evaluate(() => {
      const box = document.querySelector('#progress .table-scroll');
      const cells = [...box.querySelectorAll('tbody th, tbody td')].filter((c) => c.offsetParent
        && (c.scrollWidth > c.clientWidth + 1 || c.getBoundingClientRect().right > box.getBoundingClientRect().right + 1));
      return { overflow: box.scrollWidth - box.clientWidth, cells: cells.map((c) => c.textContent.slice(0, 30)) };
    });
    assert.deepEqual(clipped, { overflow: 0, cells: [] }, 'the trustees’ table fits a 360 px screen');
    await cliTrustee('commit', 3);
    log('every trustee committed');

    // Trustee 1's page, left open on "waiting", moves on by itself (polling).
    await p1.locator('section[data-step="act"]:not([hidden])').waitFor({ timeout: 20_000 });
    assert.equal((await p1.locator('#act-heading').textContent()).trim(), 'Key generation, step 2 of 3: deal your shares');

    // A record that does not verify: the page names the check and the event, posts nothing.
    await p1.route(`**/api/elections/${id}/record`, async (route) => {
      const resp = await route.fetch();
      const lines = (await resp.text()).split('\n');
      [lines[1], lines[2]] = [lines[2], lines[1]];
      await route.fulfill({ response: resp, body: lines.join('\n') });
    });
    await p1.getByLabel('Your secret file').setInputFiles(secret(1));
    await p1.getByRole('button', { name: 'Deal my shares' }).click();
    const failure = p1.locator('#error');
    await failure.waitFor({ state: 'visible' });
    assert.match(await failure.textContent(), /check \w+ failed at event \d+/, await failure.textContent());
    await checkpoint(p1, 'ceremony-t1-verifier-failure');
    await p1.unroute(`**/api/elections/${id}/record`);
    // Another trustee's secret file is refused before anything is computed.
    await p1.getByLabel('Your secret file').setInputFiles(secret(2));
    await p1.getByRole('button', { name: 'Deal my shares' }).click();
    await p1.locator('#error', { hasText: 'trustee 2’s; you are trustee 1' }).waitFor();
    await checkpoint(p1, 'ceremony-t1-wrong-file');

    // ---- step 2: deal (trustee 3 on the page with the secret file the CLI wrote) ----
    assert.equal((await trusteeNextStep(p1, trusteeUrl(1), { secretsPath: secret(1), onState: cp(p1, 'ceremony-t1') })).step, 'deal');
    assert.equal((await trusteeNextStep(p2, frUrl(2), { secretsPath: secret(2), onState: cp(p2, 'ceremony-t2-fr-mobile') })).step, 'deal');
    assert.equal((await trusteeNextStep(p3, trusteeUrl(3), { secretsPath: secret(3) })).step, 'deal');
    log('every trustee dealt');

    // ---- step 3: check ----
    assert.equal((await trusteeNextStep(p1, trusteeUrl(1), { secretsPath: secret(1), onState: cp(p1, 'ceremony-t1') })).step, 'check');
    assert.equal(await visibleStep(p1), 'waiting');
    assert.equal((await trusteeNextStep(p2, frUrl(2), { secretsPath: secret(2) })).step, 'check');
    // Trustee 3 checks with the command the page shows for its next step.
    await p3.goto('about:blank');
    await p3.goto(trusteeUrl(3));
    await p3.locator('section[data-step="act"]:not([hidden])').waitFor();
    await p3.getByText('Prefer the command line?').click();
    await checkpoint(p3, 'ceremony-t3-check-cli');
    const shown = (await p3.locator('#cli-command').textContent()).trim().split(/\s+/);
    assert.deepEqual(shown.slice(0, 3), ['scrutin', 'trustee', 'check']);
    assert.ok(shown.includes('YOUR_TOKEN') && !shown.join(' ').includes(tokens[2]));
    await scrutin(...shown.slice(1).map((a) => (a === 'YOUR_TOKEN' ? tokens[2] : /^trustee-3-.*\.json$/.test(a) ? secret(3) : a)));
    let pub = await call('GET', `/api/elections/${id}`);
    assert.ok(pub.election_key, 'the election key is published after the last check');
    r = await trusteeNextStep(p1, trusteeUrl(1), { secretsPath: secret(1), onState: cp(p1, 'ceremony-t1-keyready') });
    assert.equal(r.step, 'waiting');
    assert.match(r.text, /Key generation is complete/);
    log('election key published');

    // ---- the credential authority ----
    const requests = [];
    const pa = await newPage(browser, server.url, { mobile: false });
    pa.on('request', (req) => requests.push(`${req.method()} ${req.url()}\n${req.postData() || ''}`));
    const privatePath = path.join(work, 'credentials.json');
    const csvPath = path.join(work, 'credentials.csv');
    // A trustee's key is refused; then the authority's own.
    await assert.rejects(authorityGenerate(pa, authorityUrl, { keyPath: keyFile('alice'), privatePath, csvPath }),
      /a trustee’s key, not the credential authority’s/);
    await checkpoint(pa, 'ceremony-authority-wrong-key');
    const gen = await authorityGenerate(pa, authorityUrl, { keyPath: keyFile('dora'), privatePath, csvPath, onState: cp(pa, 'ceremony-authority') });
    assert.equal(gen.count, VOTERS.length);
    const kept = JSON.parse(await readFile(privatePath, 'utf8'));
    assert.deepEqual(kept.map((c) => [c.login, c.email, c.weight]), VOTERS);
    for (const c of kept) assert.match(c.credential, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);
    const csv = (await readFile(csvPath, 'utf8')).trim().split(/\r?\n/);
    assert.equal(csv[0], 'login,email,credential,voting_link');
    assert.equal(csv[1], `ann,ann@example.org,${kept[0].credential},${server.url}/elections/${id}#credential=${kept[0].credential}`);
    // No private credential ever went to the server: not in any request, not in its files.
    for (const c of kept) {
      assert.ok(!requests.some((q) => q.includes(c.credential)), 'a credential was sent to the server');
    }
    for (const f of await readdir(server.data)) {
      const bytes = await readFile(path.join(server.data, f)).catch(() => null);
      if (!bytes) continue;
      for (const c of kept) assert.ok(!bytes.includes(c.credential), `${f} holds a private credential`);
    }
    pub = await call('GET', `/api/elections/${id}`);
    assert.equal(pub.credentials, VOTERS.length);
    // Opened again: the list is already published, and the page says so.
    const pm = await newPage(browser, server.url, { mobile: true });
    const again = await authorityGenerate(pm, authorityUrl.replace('/authority#', '/authority?lang=fr#'),
      { privatePath: path.join(work, 'unused.json'), onState: cp(pm, 'ceremony-authority-fr-mobile') });
    assert.deepEqual(again, { count: VOTERS.length, alreadyPublished: true });
    assert.ok(await pm.locator('#published-earlier').isVisible());
    pm.assertClean();
    // The authority's own mailing with the command the page shows waits for the opening:
    // each mail carries the election fingerprint, which the opening fixes.
    const mailCommand = (await pa.locator('#mail-command').textContent()).trim().split(/\s+/);
    const sendAt = mailCommand.indexOf('--send-mail');
    assert.deepEqual(mailCommand.slice(0, 3), ['scrutin', 'credentials', 'mail']);
    assert.ok(sendAt > 0 && mailCommand[sendAt + 2] === '--mail-from');
    const mailArgs = mailCommand.slice(1, sendAt).map((a) => (/^credentials-.*\.json$/.test(a) ? privatePath : a));
    await assert.rejects(scrutin(...mailArgs, '--outbox', path.join(work, 'early-mails')), /not open yet/);
    log('credentials published');

    // ---- opening, mailing, then two ballots cast with the CLI, credentials from the page's file ----
    await call('POST', `/api/admin/elections/${id}/open`);
    // Now the authority mails from the page's private file (written to an outbox folder
    // here instead of --send-mail through an SMTP server); each mail's link carries the
    // fingerprint of the open election.
    const mails = path.join(work, 'credential-mails');
    await scrutin(...mailArgs, '--outbox', mails);
    const mailFiles = (await readdir(mails)).sort();
    assert.equal(mailFiles.length, VOTERS.length);
    const firstMail = await readFile(path.join(mails, mailFiles[0]), 'utf8');
    assert.ok(firstMail.includes('To: ann@example.org') && firstMail.includes(kept[0].credential), firstMail);
    const opened = await call('GET', `/api/elections/${id}`);
    assert.ok(firstMail.includes(opened.fingerprint), firstMail);
    // A file whose credentials are not the published ones is refused.
    const forged = kept.map((c) => ({ ...c, credential: kept[(kept.indexOf(c) + 1) % kept.length].credential }));
    await writeFile(path.join(work, 'forged.json'), JSON.stringify(forged));
    await assert.rejects(scrutin('credentials', 'mail', '--server', server.url, '--election', id,
      '--private', path.join(work, 'forged.json'), '--outbox', path.join(work, 'forged-mails')), /published list|weight/);
    log('credentials mailed');
    // An official asks for cyd's credential again: the authority's page lists the request
    // and gives the command that mails it from the private file; the command marks it done.
    await call('POST', `/api/admin/elections/${id}/roll/cyd/resend`);
    await pa.goto('about:blank'); // a new load, not a change of fragment only
    await pa.goto(authorityUrl);
    await pa.locator('#resends:not([hidden]) #resends-table tbody tr[data-login="cyd"]').waitFor();
    assert.match(await pa.locator('#resends-text').textContent(), /asked for 1 credential to be sent again/);
    const resendCommand = (await pa.locator('#resend-command').textContent()).trim();
    assert.match(resendCommand, /^scrutin credentials mail --server \S+ --election \S+ --private \S+ --resend --token ACCESS_KEY /);
    await checkpoint(pa, 'ceremony-authority-resend');
    const resent = path.join(work, 'resent');
    await scrutin('credentials', 'mail', '--server', server.url, '--election', id, '--private', privatePath,
      '--resend', '--token', roles.credential_authority, '--outbox', resent);
    const resentFiles = await readdir(resent);
    assert.equal(resentFiles.length, 1);
    assert.ok((await readFile(path.join(resent, resentFiles[0]), 'utf8')).includes('To: cyd@example.org'));
    await pa.locator('#resends-refresh').click();
    await pa.locator('#resends-text', { hasText: 'No credential waits to be sent again.' }).waitFor();
    assert.match(await pa.locator('#resends-table tbody tr[data-login="cyd"] td:last-child').textContent(), /^Sent again on /);
    log('a credential sent again on request');
    const choices = path.join(work, 'choices-');
    const ballots = [['ann', [[0, 1, 0]]], ['bob', [[0, 0, 1]]]];
    let after = 0;
    for (const [login, choice] of ballots) {
      const c = kept.find((k) => k.login === login);
      await fetch(`${server.url}/api/elections/${id}/login`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login }),
      });
      const code = await latestCode(server.outbox, c.email, { after });
      after = code.id;
      await writeFile(choices + login, JSON.stringify(choice));
      const out = await scrutin('ballot', 'cast', '--server', server.url, '--election', id, '--login', login,
        '--code', code.code, '--credential', c.credential, '--choices', choices + login);
      assert.match(out, /Ballot cast/);
    }
    r = await trusteeNextStep(p1, trusteeUrl(1), { secretsPath: secret(1), onState: cp(p1, 'ceremony-t1-open') });
    assert.equal(r.step, 'waiting');
    assert.match(r.text, /The election is open/);
    pub = await call('GET', `/api/elections/${id}`);
    assert.ok(pub.fingerprint);
    assert.equal((await p1.locator('#f-fingerprint').textContent()).trim(), pub.fingerprint);
    await call('POST', `/api/admin/elections/${id}/close`);
    log('two ballots cast, election closed');

    // ---- decryption: trustee 1 on the page, trustee 2 with the CLI and the page's file ----
    assert.equal((await trusteeNextStep(p1, trusteeUrl(1), { secretsPath: secret(1), onState: cp(p1, 'ceremony-t1') })).step, 'decrypt');
    r = await trusteeNextStep(p1, trusteeUrl(1), { secretsPath: secret(1) });
    assert.equal(r.step, 'done');
    await checkpoint(p1, 'ceremony-t1-done-shared');
    await cliTrustee('decrypt', 2);
    await call('POST', `/api/admin/elections/${id}/tally`);
    // Trustee 1's page, left open, sees the result by itself.
    await p1.locator('#done-links:not([hidden])').waitFor({ timeout: 20_000 });
    await checkpoint(p1, 'ceremony-t1-tallied');
    r = await trusteeNextStep(p2, frUrl(2), { secretsPath: secret(2), onState: cp(p2, 'ceremony-t2-fr-mobile') });
    assert.equal(r.step, 'done');

    // ---- the record verifies and holds the two ballots ----
    const recordText = await (await fetch(`${server.url}/api/elections/${id}/record`)).text();
    const recordPath = path.join(work, 'record.jsonl');
    await writeFile(recordPath, recordText);
    const report = JSON.parse(await scrutin('verify', recordPath, '--json'));
    assert.equal(report.status, 'tallied');
    assert.equal(report.ballots_counted, 2);
    const result = report.result.questions[0];
    // ann (weight 1) chose Blaise, bob (weight 2) Claude.
    assert.deepEqual(result.choices ?? result, [0, 1, 2], JSON.stringify(report.result));
    for (const c of kept) assert.ok(!recordText.includes(c.credential));
    assert.ok(!recordText.includes('example.org'));
    log('record verified: result', JSON.stringify(report.result.questions));

    // ---- one trustee (threshold 1): the whole key generation in one visit ----
    const single = DESCRIPTION.replace('threshold = 2', 'threshold = 1')
      .replace(/\n\[\[trustee\]\]\nname = "Bob"[^[]*/, '\n').replace(/\n\[\[trustee\]\]\nname = "Carol"[^[]*/, '\n');
    const one = (await call('POST', '/api/admin/elections', { json: { description: single } })).id;
    const oneRoles = await call('POST', `/api/admin/elections/${one}/roles`);
    assert.equal(oneRoles.trustees.length, 1);
    const oneUrl = `${server.url}/elections/${one}/trustee#token=${oneRoles.trustees[0].token}`;
    r = await trusteeNextStep(p1, oneUrl, {
      keyPath: keyFile('alice'), secretsPath: path.join(work, 'alone.json'), onState: cp(p1, 'ceremony-alone'),
    });
    assert.equal(r.step, 'whole-key-generation');
    const onePub = await call('GET', `/api/elections/${one}`);
    assert.ok(onePub.election_key, 'the election key is on the record after one visit');
    assert.deepEqual(onePub.trustees.map((tr) => [tr.committed, tr.dealt, tr.checked]), [[true, true, true]]);
    await p1.locator('section[data-step="waiting"]:not([hidden])').waitFor();
    await checkpoint(p1, 'ceremony-alone-done');
    log('one trustee: key generation in one visit');

    for (const p of [p1, p2, p3, pa]) p.assertClean();
    log('ceremony test passed');
  } finally {
    await browser.close();
    await server.stop();
    await removeUnlessKept(work);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
