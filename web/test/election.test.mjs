// A whole election through the web pages, in headless Chromium, on a real `scrutin serve`
// serving the pages built into the binary (what ships):
//   the three trustees and the credential authority generate their role keys on the key
//   page; the official logs in, creates the election with the form, pasting their public
//   keys (the form shows the fingerprints their pages showed; 3 trustees, threshold 2; a
//   monitor; two questions, one with a blank vote) and imports the voter list (one voter
//   of weight 2); an attacker's key file is refused by the trustee page; the three
//   trustees generate the key on their pages with their key files; while the monitor holds
//   another last line of the record, the credential authority's page refuses to draw the
//   credentials and posts nothing; then the authority generates them on its page with its
//   key file, the monitor agreeing (only the signed public list is uploaded); the official sees every key proven and opens;
//   four voters vote in the booth — one on a phone audits the encryption first, one follows
//   the #credential= link, one votes blank, one votes twice (only the last ballot counts);
//   the voter of weight 2 is told their ballot counts twice; every receipt, signed by the
//   board, is checked against the record; each booth compares the board with the monitor
//   (a stand-in on another origin, which the booth's CSP admits) and warns when it holds
//   another chain; the official sees the turnout, closes; while the monitor holds another
//   close line, trustee 1's page refuses to decrypt and posts nothing; then trustees 1 and 3
//   publish their decryption shares on their pages (trustee 2 is absent), each page having
//   compared the close line with the monitor's; while the monitor raises an alarm, the
//   officials' page does not ask for the tally; then the official publishes the result. The result
//   page must show the plaintext count, the in-browser verifier must agree with
//   `scrutin verify --json`, and the first ballot of the voter who voted twice is still on
//   the board. Every page state passes axe-core (WCAG 2.1 A and AA), is screenshotted into
//   target/screenshots/election-*.png, and requests nothing from another origin.
//
// Run: cargo build -p scrutin && cd web/test && node election.test.mjs
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import {
  startServer, launchBrowser, newPage, checkpoint, scrutinBinary, startFakeMonitor, removeUnlessKept,
} from './lib/harness.mjs';
import * as admin from './drivers/admin.mjs';
import { trusteeNextStep, trusteeTryKey, authorityGenerate } from './drivers/ceremony.mjs';
import { generateKey } from './drivers/keys.mjs';
import { vote } from './drivers/booth.mjs';
import { readResult, verifyInBrowser, lookupTracker, readBoard } from './drivers/public.mjs';

const run = promisify(execFile);
const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s]`, ...a);

const QUESTIONS = [
  { question: 'Who should chair the association?', answers: ['Ada', 'Blaise', 'Claude'], min: 1, max: 1, blank: true },
  { question: 'Which projects should be funded?', answers: ['Library', 'Garden', 'Solar roof', 'Bicycles'], min: 0, max: 2, blank: false },
];

// login, email, weight
const VOTERS = [
  ['ann', 'ann@example.org', 1],
  ['ben', 'ben@example.org', 2],
  ['cat', 'cat@example.org', 1],
  ['dan', 'dan@example.org', 1],
];

// Ballots in the order they are cast: [login, choices per question, options].
const BALLOTS = [
  ['ann', [[1], [0, 2]], { audit: true, mobile: true }],
  ['ben', [[0], [2]], { viaFragment: true }],
  ['cat', ['blank', []], {}],
  ['dan', [[2], [1, 3]], {}],
  ['dan', [[1], [3]], { mobile: true }], // re-vote: only this one counts for dan
];

/** The count the result must show: the last ballot of each voter, with its weight. */
function expectedResult() {
  const last = new Map();
  for (const [login, choices] of BALLOTS) last.set(login, choices);
  const expected = QUESTIONS.map((q) => ({
    question: q.question,
    answers: q.answers.map((answer) => ({ answer, count: 0 })),
    blank: q.blank ? 0 : null,
  }));
  for (const [login, choices] of last) {
    const weight = VOTERS.find((v) => v[0] === login)[2];
    choices.forEach((c, q) => {
      if (c === 'blank') expected[q].blank += weight;
      else for (const i of c) expected[q].answers[i].count += weight;
    });
  }
  return expected;
}

async function main() {
  const bin = await scrutinBinary();
  const work = await mkdtemp(path.join(tmpdir(), 'scrutin-election-'));
  const server = await startServer(); // the pages built into the binary
  const monitor = await startFakeMonitor(server.url);
  const browser = await launchBrowser();
  const shot = (page, name) => checkpoint(page, `election-${name}`);
  try {
    // ---- the trustees and the credential authority make their keys ----
    const NAMES = ['Alice', 'Bob', 'Carol'];
    const trustees = [];
    for (const [i, name] of NAMES.entries()) {
      const page = await newPage(browser, server.url, { mobile: i === 1, allowOrigins: [monitor.origin] });
      const key = await generateKey(page, server.url, {
        name,
        keyPath: path.join(work, `${name}-key.json`),
        onState: (s) => (i === 0 ? shot(page, `00-trustee1-${s}`) : null),
      });
      trustees.push({ page, name, key, secrets: path.join(work, `trustee-${i + 1}.json`) });
    }
    const authority = await newPage(browser, server.url, { allowOrigins: [monitor.origin] });
    const authorityKey = await generateKey(authority, server.url, {
      name: 'Dora', role: 'authority', keyPath: path.join(work, 'authority-key.json'),
      onState: (s) => shot(authority, `00-authority-${s}`),
    });
    // An attacker's key, which the officials never received.
    const attacker = await generateKey(authority, server.url, { name: 'Alice', keyPath: path.join(work, 'attacker-key.json') });
    log('role keys generated on the key page');

    // ---- the official creates the election with their public keys ----
    const official = await newPage(browser, server.url, { allowOrigins: [monitor.origin] });
    await official.goto(`${server.url}/admin?lang=en`);
    await shot(official, '01-admin-login');
    await admin.login(official, server.url, server.admin);
    const { id, fingerprints } = await admin.createElection(official, {
      title: 'Association board 2026',
      description: 'Annual election of the board and of the projects to fund.',
      trustees: trustees.map((t) => ({ name: t.name, key: t.key.publicKey })),
      threshold: 2,
      authority: { name: 'Dora', key: authorityKey.publicKey },
      monitors: [monitor.url],
      questions: QUESTIONS,
      withFingerprints: true,
    });
    assert.deepEqual(fingerprints, {
      trustees: trustees.map((t) => t.key.fingerprint),
      authority: authorityKey.fingerprint,
    }, 'the official sees the fingerprints the key page showed each holder');
    await shot(official, '02-admin-created');
    const refusedImport = await admin.importVoters(
      official,
      VOTERS.map((v) => v.join(',')).join('\n') + '\nnot-an-email-line\n',
    );
    assert.equal(refusedImport.accepted, 0, JSON.stringify(refusedImport));
    assert.equal(refusedImport.rejected, 1, JSON.stringify(refusedImport));
    assert.equal(refusedImport.total, 0, 'a file with a bad line adds nobody');
    const report = await admin.importVoters(official, VOTERS.map((v) => v.join(',')).join('\n') + '\n');
    assert.equal(report.accepted, VOTERS.length, JSON.stringify(report));
    assert.equal(report.rejected, 0, JSON.stringify(report));
    await shot(official, '03-admin-voters');
    const links = await admin.issueRoleTokens(official);
    assert.equal(links.trustees.length, 3);
    await shot(official, '04-admin-links');
    log(`election ${id} created, voters imported, role links issued`);

    // ---- the attacker's key file is refused by the trustee page ----
    const refused = await trusteeTryKey(trustees[0].page, links.trustees[0], attacker.keyPath);
    assert.equal(refused.accepted, false);
    assert.ok(refused.text.includes(attacker.fingerprint) && refused.text.includes(trustees[0].key.fingerprint)
      && /Do not act in this election/.test(refused.text), refused.text);
    await shot(trustees[0].page, '05-trustee1-attacker-key-refused');

    // ---- the trustees generate the key on their pages: commit, deal, check ----
    for (const [i, t] of trustees.entries()) t.url = links.trustees[i];
    for (const round of ['commit', 'deal', 'check']) {
      for (const [i, t] of trustees.entries()) {
        const r = await trusteeNextStep(t.page, t.url, {
          keyPath: t.key.keyPath,
          secretsPath: t.secrets,
          onState: (s) => (i === 0 || (i === 1 && round === 'commit') ? shot(t.page, `05-trustee${i + 1}-${s}`) : null),
        });
        assert.equal(r.step, round, `trustee ${i + 1}: ${JSON.stringify(r)}`);
      }
      log(`trustees: ${round} done`);
    }
    await admin.waitForKey(official);
    const proven = await admin.progress(official);
    assert.deepEqual(proven.trustees.map((t) => [t.fingerprint, t.committed, t.complained]),
      trustees.map((t) => [t.key.fingerprint, true, false]), 'every trustee key proven, no complaint');

    // ---- the credential authority ----
    // Its page may reach the monitor; while the monitor holds another last line of the
    // record, the page refuses to draw the credentials and posts nothing (§14.4).
    const authorityCsp = (await fetch(`${server.url}/elections/${id}/authority`)).headers.get('content-security-policy');
    assert.ok(authorityCsp.includes(`connect-src 'self' ${monitor.origin};`), `authority page CSP: ${authorityCsp}`);
    monitor.fork = true;
    const authorityPosts = [];
    const watchAuthorityPosts = (req) => {
      if (req.method() === 'POST') authorityPosts.push(req.url());
    };
    authority.on('request', watchAuthorityPosts);
    const authorityAsked = monitor.requests;
    await assert.rejects(
      authorityGenerate(authority, links.authority, { keyPath: authorityKey.keyPath, privatePath: path.join(work, 'unused.json') }),
      /holds another line at position \d+, the last of this server’s record \(its hash [0-9a-f]{64}, this server’s [0-9a-f]{64}\): the board may be showing you a different record; do not generate the credentials/,
    );
    assert.ok(monitor.requests > authorityAsked, 'the authority page asked the monitor');
    assert.equal(await authority.locator('#monitor-check').getAttribute('data-status'), 'differs');
    assert.equal(await authority.locator(`#monitor-list li[data-monitor="${monitor.url}"]`).getAttribute('data-status'), 'differs');
    assert.ok(await authority.locator('#monitor-retry').isVisible(), 'the authority page offers to ask again');
    assert.ok(!(await authority.locator('section[data-step="save"]').isVisible()), 'no credential drawn');
    await shot(authority, '06-authority-monitor-fork-refused');
    authority.off('request', watchAuthorityPosts);
    assert.deepEqual(authorityPosts, [], 'nothing posted on another last line');
    assert.equal((await (await fetch(`${server.url}/api/elections/${id}`)).json()).credentials ?? null, null,
      'no credential list published');
    monitor.fork = false;
    log('a monitor holding another last line: the authority page refused to draw and posted nothing');
    const privatePath = path.join(work, 'credentials.json');
    const gen = await authorityGenerate(authority, links.authority, {
      keyPath: authorityKey.keyPath,
      privatePath,
      onState: (s) => shot(authority, `06-${s}`),
    });
    assert.equal(gen.count, VOTERS.length);
    assert.equal(await authority.locator('#monitor-check').getAttribute('data-status'), 'agree',
      'the monitor agreed before the authority drew the credentials');
    const credentials = new Map(JSON.parse(await readFile(privatePath, 'utf8')).map((c) => [c.login, c.credential]));
    const recordSoFar = await (await fetch(`${server.url}/api/elections/${id}/record`)).text();
    for (const c of credentials.values()) assert.ok(!recordSoFar.includes(c), 'a private credential reached the server');
    log('credentials generated; only the public list was uploaded');

    // ---- the official opens ----
    await admin.refresh(official);
    assert.match((await admin.progress(official)).authority, new RegExp(`${authorityKey.fingerprint}, proven`));
    await shot(official, '07-admin-ready');
    await admin.openElection(official);
    await shot(official, '08-admin-open');
    log('election open');

    // ---- the voters ----
    const receipts = [];
    let codeId = 0;
    for (const [n, [login, choices, opts]] of BALLOTS.entries()) {
      const voter = VOTERS.find((v) => v[0] === login);
      const page = await newPage(browser, server.url, { mobile: !!opts.mobile, allowOrigins: [monitor.origin] });
      monitor.lag = n % 2; // sometimes a line behind the board, as between two polls
      const r = await vote(page, {
        baseUrl: server.url,
        election: id,
        login,
        email: voter[1],
        outbox: server.outbox,
        credential: credentials.get(login),
        choices,
        audit: !!opts.audit,
        viaFragment: !!opts.viaFragment,
        afterCodeId: codeId,
        onStep: (s) => (n === 0 || ['receipt'].includes(s) ? shot(page, `09-voter${n + 1}-${s}`) : null),
      });
      codeId = r.codeId;
      const weight = voter[2];
      assert.equal(r.weight, weight, `${login}'s receipt weight`);
      if (weight > 1) assert.match(r.weightNotice || '', /Your ballot counts 2 times/, `${login} is told their weight`);
      else assert.equal(r.weightNotice, null);
      const agreed = page.locator('#monitor-check[data-phase="after"]');
      await agreed.waitFor({ timeout: 30_000 });
      assert.equal(await agreed.getAttribute('data-status'), 'agree', `the monitor agrees after ${login}'s vote`);
      receipts.push({ login, ...r });
      log(`${login} voted${opts.audit ? ' (after an audit)' : ''}: tracker ${r.tracker.slice(0, 16)}…`);
      await page.context().close();
    }
    monitor.lag = 0;

    // ---- a monitor holding another chain: the booth warns ----
    monitor.fork = true;
    const warned = await newPage(browser, server.url, { allowOrigins: [monitor.origin] });
    await warned.goto(`${server.url}/elections/${id}?lang=en`);
    await warned.locator('#monitor-check[data-status="disagree"]').waitFor({ timeout: 60_000 });
    assert.match(await warned.locator('#monitor-summary').textContent(), /holds a different record from this server’s board/);
    await shot(warned, '09-booth-monitor-disagrees');
    await warned.context().close();
    monitor.fork = false;
    log('every receipt checked; the booth compared the board with the monitor, and warned on a fork');

    const t = await (async () => { await admin.refresh(official); return admin.turnout(official); })();
    assert.deepEqual([t.voters, t.ballots, t.counted], [VOTERS.length, BALLOTS.length, VOTERS.length], JSON.stringify(t));
    await shot(official, '10-admin-turnout');

    // ---- close; trustees 1 and 3 decrypt (2 is absent); publish the result ----
    await admin.closeElection(official);
    await shot(official, '11-admin-closed');

    // ---- a monitor holding another close line: the trustee page refuses to decrypt ----
    // The trustee page (and the officials' page of this election) may reach the monitor.
    for (const [what, url] of [['trustee page', `/elections/${id}/trustee`], ['admin page', `/admin?election=${id}`]]) {
      const csp = (await fetch(`${server.url}${url}`)).headers.get('content-security-policy');
      assert.ok(csp.includes(`connect-src 'self' ${monitor.origin};`), `${what} CSP: ${csp}`);
    }
    monitor.forkClose = true;
    const posted = [];
    const watchPosts = (req) => {
      if (req.method() === 'POST' && req.url().includes('/trustee/events')) posted.push(req.url());
    };
    trustees[0].page.on('request', watchPosts);
    const askedBefore = monitor.requests;
    await assert.rejects(
      trusteeNextStep(trustees[0].page, trustees[0].url, { secretsPath: trustees[0].secrets }),
      /holds another close line \(position \d+: its hash [0-9a-f]{64}, this server’s [0-9a-f]{64}\): the board may be showing you a different record; do not decrypt/,
    );
    assert.ok(monitor.requests > askedBefore, 'the trustee page asked the monitor');
    assert.equal(await trustees[0].page.locator('#monitor-check').getAttribute('data-status'), 'differs');
    assert.equal(await trustees[0].page.locator(`#monitor-list li[data-monitor="${monitor.url}"]`).getAttribute('data-status'), 'differs');
    await shot(trustees[0].page, '12-trustee1-monitor-fork-refused');
    trustees[0].page.off('request', watchPosts);
    assert.deepEqual(posted, [], 'nothing posted on a forked close line');
    const afterFork = await (await fetch(`${server.url}/api/elections/${id}`)).json();
    assert.ok(!afterFork.trustees.some((tr) => tr.decryption_share), 'no decryption share published');
    monitor.forkClose = false;
    log('a monitor holding another close line: the trustee page refused to decrypt and posted nothing');

    for (const i of [0, 2]) {
      const r = await trusteeNextStep(trustees[i].page, trustees[i].url, {
        secretsPath: trustees[i].secrets,
        onState: (s) => shot(trustees[i].page, `12-trustee${i + 1}-${s}`),
      });
      assert.equal(r.step, 'decrypt', JSON.stringify(r));
    }
    for (const i of [0, 2]) {
      assert.equal(await trustees[i].page.locator('#monitor-check').getAttribute('data-status'), 'agree',
        `the monitor agreed before trustee ${i + 1} decrypted`);
    }
    await admin.refresh(official);

    // ---- a monitor raising an alarm: the officials' page does not ask for the tally ----
    monitor.alarms = [{ kind: 'rewrite', message: 'the board serves another line at position 3' }];
    await assert.rejects(admin.tally(official), /raised an alarm about this server’s board \(rewrite \(the board serves another line at position 3\)\): do not publish the result/);
    assert.equal(await official.locator('#tally-monitors').getAttribute('data-status'), 'alarm');
    assert.equal((await (await fetch(`${server.url}/api/elections/${id}`)).json()).state, 'closed', 'not tallied');
    await shot(official, '13-admin-tally-refused');
    monitor.alarms = [];
    await admin.tally(official);
    assert.equal(await official.locator('#tally-monitors').getAttribute('data-status'), 'agree');
    await shot(official, '13-admin-tallied');
    log('closed, two decryption shares, result published');

    // ---- the public pages ----
    const visitor = await newPage(browser, server.url);
    const expected = expectedResult();
    const result = await readResult(visitor, server.url, id);
    await shot(visitor, '14-result');
    assert.deepEqual(result, expected);
    log('the result page shows the plaintext count');

    const first = receipts.find((r) => r.login === 'dan');
    const found = await lookupTracker(visitor, server.url, id, first.tracker);
    assert.deepEqual([found.found, found.seq], [true, first.seq], 'a replaced ballot stays on the board');
    const audited = receipts[0].audited;
    assert.equal((await lookupTracker(visitor, server.url, id, audited.tracker)).found, false, 'an audited ballot is never cast');
    const board = await readBoard(visitor, server.url, id);
    assert.equal(board.ballots, BALLOTS.length);
    await shot(visitor, '15-board');

    const recordText = await (await fetch(`${server.url}/api/elections/${id}/record`)).text();
    const recordPath = path.join(work, 'record.jsonl');
    await writeFile(recordPath, recordText);
    const cli = JSON.parse((await run(bin, ['verify', recordPath, '--json'])).stdout);
    const inBrowser = await verifyInBrowser(visitor, server.url, id);
    await shot(visitor, '16-verify');
    assert.ok(inBrowser.ok, JSON.stringify(inBrowser));
    for (const k of ['status', 'fingerprint', 'events', 'ballots', 'ballots_counted', 'proofs', 'head']) {
      assert.equal(inBrowser.report[k], cli[k], `verifier report field ${k}`);
    }
    assert.equal(cli.status, 'tallied');
    assert.deepEqual(
      cli.result.questions.map((q) => ({ choices: q.choices, blank: q.blank ?? null })),
      expected.map((q) => ({ choices: q.answers.map((a) => a.count), blank: q.blank })),
    );
    assert.equal(board.head, cli.head);
    log('the in-browser verifier agrees with scrutin verify; the board head is the record head');
  } finally {
    await browser.close();
    await server.stop();
    await monitor.stop();
    await removeUnlessKept(work);
  }
}

main().then(
  () => {
    log('whole election through the pages: passed');
  },
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
