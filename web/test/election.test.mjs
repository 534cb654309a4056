// A whole election through the web pages, in headless Chromium, on a real `scrutin serve`
// serving the pages built into the binary (what ships):
//   the official logs in, creates the election with the form (3 trustees, threshold 2; two
//   questions, one with a blank vote) and imports the voter list (one voter of weight 2);
//   the three trustees generate the key on their pages; the credential authority generates
//   the credentials on its page (only the public list is uploaded); the official opens;
//   four voters vote in the booth — one on a phone audits the encryption first, one follows
//   the #credential= link, one votes blank, one votes twice (only the last ballot counts);
//   the official sees the turnout, closes; trustees 1 and 3 publish their decryption shares
//   on their pages (trustee 2 is absent); the official publishes the result. The result
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
import { startServer, launchBrowser, newPage, checkpoint, scrutinBinary } from './lib/harness.mjs';
import * as admin from './drivers/admin.mjs';
import { trusteeNextStep, authorityGenerate } from './drivers/ceremony.mjs';
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
  const browser = await launchBrowser();
  const shot = (page, name) => checkpoint(page, `election-${name}`);
  try {
    // ---- the official creates the election ----
    const official = await newPage(browser, server.url);
    await official.goto(`${server.url}/admin?lang=en`);
    await shot(official, '01-admin-login');
    await admin.login(official, server.url, server.admin);
    const id = await admin.createElection(official, {
      title: 'Association board 2026',
      description: 'Annual election of the board and of the projects to fund.',
      trustees: ['Alice', 'Bob', 'Carol'],
      threshold: 2,
      questions: QUESTIONS,
    });
    await shot(official, '02-admin-created');
    const report = await admin.importVoters(
      official,
      VOTERS.map((v) => v.join(',')).join('\n') + '\nnot-an-email-line\n',
    );
    assert.equal(report.accepted, VOTERS.length, JSON.stringify(report));
    assert.equal(report.rejected, 1, JSON.stringify(report));
    await shot(official, '03-admin-voters');
    const links = await admin.issueRoleTokens(official);
    assert.equal(links.trustees.length, 3);
    await shot(official, '04-admin-links');
    log(`election ${id} created, voters imported, role links issued`);

    // ---- the trustees generate the key on their pages: commit, deal, check ----
    const trustees = [];
    for (let i = 0; i < 3; i++) {
      trustees.push({
        page: await newPage(browser, server.url, { mobile: i === 1 }),
        url: links.trustees[i],
        secrets: path.join(work, `trustee-${i + 1}.json`),
      });
    }
    for (const round of ['commit', 'deal', 'check']) {
      for (const [i, t] of trustees.entries()) {
        const r = await trusteeNextStep(t.page, t.url, {
          secretsPath: t.secrets,
          onState: (s) => (i === 0 || (i === 1 && round === 'commit') ? shot(t.page, `05-trustee${i + 1}-${s}`) : null),
        });
        assert.equal(r.step, round, `trustee ${i + 1}: ${JSON.stringify(r)}`);
      }
      log(`trustees: ${round} done`);
    }
    await admin.waitForKey(official);

    // ---- the credential authority ----
    const authority = await newPage(browser, server.url);
    const privatePath = path.join(work, 'credentials.json');
    const gen = await authorityGenerate(authority, links.authority, {
      privatePath,
      onState: (s) => shot(authority, `06-${s}`),
    });
    assert.equal(gen.count, VOTERS.length);
    const credentials = new Map(JSON.parse(await readFile(privatePath, 'utf8')).map((c) => [c.login, c.credential]));
    const recordSoFar = await (await fetch(`${server.url}/api/elections/${id}/record`)).text();
    for (const c of credentials.values()) assert.ok(!recordSoFar.includes(c), 'a private credential reached the server');
    log('credentials generated; only the public list was uploaded');

    // ---- the official opens ----
    await admin.refresh(official);
    await shot(official, '07-admin-ready');
    await admin.openElection(official);
    await shot(official, '08-admin-open');
    log('election open');

    // ---- the voters ----
    const receipts = [];
    let codeId = 0;
    for (const [n, [login, choices, opts]] of BALLOTS.entries()) {
      const voter = VOTERS.find((v) => v[0] === login);
      const page = await newPage(browser, server.url, { mobile: !!opts.mobile });
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
      receipts.push({ login, ...r });
      log(`${login} voted${opts.audit ? ' (after an audit)' : ''}: tracker ${r.tracker.slice(0, 16)}…`);
      await page.context().close();
    }
    const t = await (async () => { await admin.refresh(official); return admin.turnout(official); })();
    assert.deepEqual([t.voters, t.ballots, t.counted], [VOTERS.length, BALLOTS.length, VOTERS.length], JSON.stringify(t));
    await shot(official, '10-admin-turnout');

    // ---- close; trustees 1 and 3 decrypt (2 is absent); publish the result ----
    await admin.closeElection(official);
    await shot(official, '11-admin-closed');
    for (const i of [0, 2]) {
      const r = await trusteeNextStep(trustees[i].page, trustees[i].url, {
        secretsPath: trustees[i].secrets,
        onState: (s) => shot(trustees[i].page, `12-trustee${i + 1}-${s}`),
      });
      assert.equal(r.step, 'decrypt', JSON.stringify(r));
    }
    await admin.refresh(official);
    await admin.tally(official);
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
