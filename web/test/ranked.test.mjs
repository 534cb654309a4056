// A whole election with ranked and graded questions (spec §8.1) through the web pages, in
// headless Chromium, on a real `scrutin serve` serving the pages built into the binary:
//   three trustees (threshold 2) and the credential authority make their role keys on the
//   key page; the official creates the election with the form: an STV question (2 seats),
//   a Schulze question, a majority-judgment question (the form's default grades) and an
//   approval question counted under encryption; a monitor is named;
//   a voter opens the booth in French on a phone: taps candidates into a ranking, takes one
//   out (the others move up), ranks another by keyboard, each change said in a live region,
//   and the review is refused in French for the questions left empty;
//   five voters vote in the booth — ranking with the keyboard alone on a desktop, or by
//   tapping on a 360 px phone; one first enters a ranking with two candidates at the same
//   STV rank, a candidate left without a grade and a gap in a Schulze ranking, and the booth
//   refuses it with an error per question before anything is encrypted; one audits the
//   encryption, whose description names the ranking in words;
//   after the close, while the monitor holds another close line, trustee 1's page refuses to
//   shuffle and posts nothing; then trustees 1 and 3 shuffle on their pages (trustee 2 is
//   absent; the page says how many shuffles are done and needed), then publish their
//   decryption shares; the official publishes the result. The result page must show the
//   STV quota, first-round counts and elected set, the Schulze order, the majority grades
//   and distribution, and the approval counts computed here from the plaintext choices;
//   the in-browser verifier must agree with `scrutin verify --json`. Every page state passes
//   axe-core (WCAG 2.1 A and AA; the booth's ranked question at 360 px included), is
//   screenshotted into target/screenshots/ranked-*.png, and requests nothing from another
//   origin.
//
// Run: cargo build -p scrutin && cd web/test && node ranked.test.mjs
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import {
  startServer, launchBrowser, newPage, checkpoint, scrutinBinary, startFakeMonitor, latestCode,
  removeUnlessKept,
} from './lib/harness.mjs';
import * as admin from './drivers/admin.mjs';
import { trusteeNextStep, authorityGenerate } from './drivers/ceremony.mjs';
import { generateKey } from './drivers/keys.mjs';
import { vote } from './drivers/booth.mjs';
import { verifyInBrowser } from './drivers/public.mjs';

const run = promisify(execFile);
const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s]`, ...a);

// The form's default grades in English, best first.
const GRADES = ['Excellent', 'Very good', 'Good', 'Fair', 'Poor', 'Reject'];

const QUESTIONS = [
  { question: 'Elect two members of the committee', answers: ['Ada', 'Blaise', 'Claude', 'Dorothy'], kind: 'ranked', method: 'stv', seats: 2 },
  { question: 'Which logo?', answers: ['Red', 'Green', 'Blue'], kind: 'ranked', method: 'schulze' },
  { question: 'Grade each proposal', answers: ['North park', 'South square', 'East market'], kind: 'grades' },
  { question: 'Which projects should be funded?', answers: ['Library', 'Garden', 'Solar roof'], min: 0, max: 3, blank: false },
];

const VOTERS = ['ann', 'ben', 'cat', 'dan', 'eve'].map((login) => [login, `${login}@example.org`]);

// Ballots in the order they are cast: [login, choices per question, options]. Ranks: one per
// candidate, 0 = unranked; grades: one index per candidate, 0 = Excellent.
const BALLOTS = [
  ['ann', [{ ranks: [1, 2, 0, 0], by: 'keyboard' }, { ranks: [1, 2, 3], by: 'keyboard' }, { grades: [0, 2, 1] }, [0, 2]], { audit: true }],
  ['ben', [{ ranks: [2, 1, 0, 3], by: 'tap' }, { ranks: [2, 1, 3], by: 'tap' }, { grades: [1, 1, 3] }, [1]], { mobile: true }],
  ['cat', [{ ranks: [0, 0, 1, 2], by: 'keyboard' }, { ranks: [1, 1, 2], by: 'keyboard' }, { grades: [2, 0, 5] }, []], {
    // Refused first: two candidates 1st for STV, a gap for Schulze, East market ungraded.
    invalidFirst: [{ ranks: [1, 1, 0, 0], by: 'keyboard' }, { ranks: [1, 0, 3], by: 'keyboard' }, { grades: [2, 0, null] }, []],
  }],
  ['dan', [{ ranks: [1, 0, 2, 0], by: 'tap' }, { ranks: [1, 3, 2], by: 'tap' }, { grades: [0, 3, 2] }, [0, 1, 2]], { mobile: true }],
  ['eve', [{ ranks: [0, 1, 0, 0], by: 'keyboard' }, { ranks: [2, 3, 1], by: 'keyboard' }, { grades: [1, 4, 1] }, [2]], {}],
];

// ---- the counts, from the plaintext choices ----

/** STV: the quota (rule 46), first preferences, and the seats filled at the first stage. */
function expectedStv(q, ballots) {
  const first = q.answers.map(() => 0);
  for (const b of ballots) first[b.ranks.indexOf(1)] += 1;
  const quota = Math.floor(ballots.length / (q.seats + 1)) + 1;
  const elected = q.answers.filter((_, a) => first[a] >= quota);
  // The ballots are chosen so that the first stage fills every seat: nothing else to follow.
  assert.equal(elected.length, q.seats, 'the test ballots fill the seats at the first stage');
  return { quota, first, elected };
}

/** Schulze (winning votes): the order, as groups of names, best first. */
function expectedSchulze(q, ballots) {
  const n = q.answers.length;
  const better = (r, i, j) => r[i] > 0 && (r[j] === 0 || r[i] < r[j]);
  const d = [...Array(n)].map(() => Array(n).fill(0));
  for (const b of ballots) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (better(b.ranks, i, j)) d[i][j] += 1;
  const p = d.map((row, i) => row.map((v, j) => (i !== j && v > d[j][i] ? v : 0)));
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i !== j && i !== k && j !== k) p[i][j] = Math.max(p[i][j], Math.min(p[i][k], p[k][j]));
      }
    }
  }
  const wins = q.answers.map((_, i) => q.answers.filter((__, j) => p[i][j] > p[j][i]).length);
  const levels = [...new Set(wins)].sort((x, y) => y - x);
  return levels.map((w) => q.answers.filter((_, i) => wins[i] === w));
}

/** Majority judgment: each candidate's distribution (best grade first) and majority grade. */
function expectedGrades(q, ballots) {
  return q.answers.map((answer, a) => {
    const given = ballots.map((b) => b.grades[a]).sort((x, y) => x - y); // best first
    const distribution = GRADES.map((_, g) => given.filter((x) => x === g).length);
    // The lower middlemost grade: for an even count, the worse of the two middle ones.
    return { answer, distribution, majority: GRADES[given[Math.floor(given.length / 2)]] };
  });
}

function expected() {
  const last = new Map();
  for (const [login, choices] of BALLOTS) last.set(login, choices);
  const cast = [...last.values()];
  return {
    stv: expectedStv(QUESTIONS[0], cast.map((c) => c[0])),
    schulze: expectedSchulze(QUESTIONS[1], cast.map((c) => c[1])),
    grades: expectedGrades(QUESTIONS[2], cast.map((c) => c[2])),
    approval: QUESTIONS[3].answers.map((answer, a) => ({ answer, count: cast.filter((c) => c[3].includes(a)).length })),
  };
}

/** What the result page shows of the four questions (section n = question n, from 1). */
async function readMixedResult(page, baseUrl, id) {
  const resp = await page.goto(`${baseUrl}/elections/${id}/result?lang=en`);
  assert.ok(resp.ok(), `result page: HTTP ${resp.status()}`);
  return page.evaluate(() => {
    const text = (el) => (el ? el.textContent.trim() : null);
    const section = (n) => document.querySelector(`section.question[data-question="${n}"]`);
    const firstRound = [...section(1).querySelectorAll('tr[data-round="1"] td')].map((td) => td.textContent.trim());
    return {
      stv: {
        quota: text(document.querySelector('#q1-quota')),
        elected: text(document.querySelector('#q1-elected')),
        // td 0 is the stage's action, then one per candidate, then the non-transferable votes.
        first: firstRound.slice(1, -1).map((v) => parseFloat(v)),
      },
      schulze: [...document.querySelectorAll('#q2-order li')].map((li) => li.textContent.trim()),
      grades: [...document.querySelectorAll('#q3-distribution tbody tr')].map((tr) => {
        const tds = [...tr.querySelectorAll('td')].map((td) => td.textContent.trim());
        return {
          answer: text(tr.querySelector('th')),
          distribution: tds.slice(0, -1).map(Number),
          majority: tds[tds.length - 1],
        };
      }),
      approval: [...section(4).querySelectorAll('table tbody tr')].map((tr) => ({
        answer: text(tr.querySelector('th')),
        count: Number(tr.querySelector('td').getAttribute('data-value')),
      })),
    };
  });
}

/**
 * A voter opens the booth in French on a 360 px phone and, without casting: taps three
 * candidates of the STV question into a ranking, takes the first out (the others move up),
 * ranks a fourth with the keyboard (Enter on its button), each change said in the live
 * region; the review is then refused with French errors for the questions left empty.
 * Returns the id of the login code used.
 */
async function frenchBooth(browser, server, monitor, id, credential, shot) {
  const page = await newPage(browser, server.url, { mobile: true, allowOrigins: [monitor.origin] });
  await page.goto(`${server.url}/elections/${id}?lang=fr`);
  await page.locator('#login').fill('eve');
  await page.locator('#send-code').click();
  await page.locator('#code').waitFor({ timeout: 30_000 });
  const { code, id: codeId } = await latestCode(server.outbox, 'eve@example.org');
  await page.locator('#code').fill(code);
  await page.locator('#verify-code').click();
  await page.locator('#credential').waitFor({ timeout: 30_000 });
  await page.locator('#credential').fill(credential);
  await page.locator('#credential-feedback.ok').waitFor({ timeout: 30_000 });
  await page.locator('#credential-continue').click();
  const fs = page.locator('#q0');
  await fs.waitFor({ timeout: 30_000 });
  assert.match(await page.locator('#q0-rules').textContent(), /^Classez autant de candidats .*2 sièges sont pourvus par vote unique transférable\.$/);
  assert.match(await page.locator('#q2-rules').textContent(), /la meilleure est « Excellent », la moins bonne « Reject »/);
  const rows = fs.locator('.choice.rank');
  const ranks = () => rows.locator('select').evaluateAll((ss) => ss.map((x) => Number(x.value)));
  const said = () => page.locator('#q0-count').textContent();
  const listed = () => fs.locator('ol.ranking-list li').allTextContents();
  for (const a of [2, 0, 3]) await rows.nth(a).getByRole('button', { name: /^Classer / }).tap();
  assert.deepEqual(await ranks(), [2, 0, 1, 3]);
  assert.equal(await said(), 'Dorothy : 3e choix.');
  await rows.nth(2).getByRole('button', { name: /^Retirer du classement/ }).tap();
  assert.deepEqual(await ranks(), [1, 0, 0, 2], 'taking the first out moves the others up');
  assert.equal(await said(), 'Claude : non classé.');
  assert.deepEqual(await listed(), ['Ada', 'Dorothy']);
  await rows.nth(1).getByRole('button', { name: /^Classer 3e choix/ }).focus();
  await page.keyboard.press('Enter');
  assert.deepEqual(await ranks(), [1, 3, 0, 2]);
  assert.equal(await said(), 'Blaise : 3e choix.');
  await shot(page, '02-booth-fr-phone-ranking');
  await page.locator('#to-review').click();
  await page.locator('#q1-error:not([hidden])').waitFor();
  assert.equal(await page.locator('#q0-error').isVisible(), false, 'the STV ranking is valid');
  assert.equal(await page.locator('#q1-error').textContent(), 'Classez au moins un candidat.');
  assert.equal(await page.locator('#q2-error').textContent(),
    'Donnez une mention à chaque candidat : North park, South square et East market n’en ont aucune.');
  await shot(page, '02-booth-fr-phone-refused');
  page.assertClean();
  await page.context().close();
  return codeId;
}

async function main() {
  const bin = await scrutinBinary();
  const work = await mkdtemp(path.join(tmpdir(), 'scrutin-ranked-'));
  const server = await startServer();
  const monitor = await startFakeMonitor(server.url);
  const browser = await launchBrowser();
  const shot = (page, name) => checkpoint(page, `ranked-${name}`);
  try {
    // ---- role keys ----
    const trustees = [];
    for (const [i, name] of ['Alice', 'Bob', 'Carol'].entries()) {
      const page = await newPage(browser, server.url, { allowOrigins: [monitor.origin] });
      const key = await generateKey(page, server.url, { name, keyPath: path.join(work, `${name}-key.json`) });
      trustees.push({ page, name, key, secrets: path.join(work, `trustee-${i + 1}.json`) });
    }
    const authority = await newPage(browser, server.url);
    const authorityKey = await generateKey(authority, server.url, {
      name: 'Dora', role: 'authority', keyPath: path.join(work, 'authority-key.json'),
    });
    log('role keys generated');

    // ---- the official creates the election with the form ----
    const official = await newPage(browser, server.url, { allowOrigins: [monitor.origin] });
    await admin.login(official, server.url, server.admin);
    const form = {
      title: 'Club elections 2026',
      trustees: trustees.map((t) => ({ name: t.name, key: t.key.publicKey })),
      threshold: 2,
      authority: { name: 'Dora', key: authorityKey.publicKey },
      monitors: [monitor.url],
      questions: QUESTIONS,
    };
    // A bad seat count is refused by the form, with the question named.
    await assert.rejects(
      admin.createElection(official, { ...form, questions: [{ ...QUESTIONS[0], seats: 4 }, ...QUESTIONS.slice(1)] }),
      /Question 1: the seats must be a whole number from 1 to fewer than the 4 candidates/,
    );
    await shot(official, '01-admin-seats-refused');
    const id = await admin.createElection(official, form);
    await shot(official, '02-admin-created');
    const toml = (await (await fetch(`${server.url}/api/elections/${id}`)).json()).definition;
    assert.deepEqual(toml.questions.map((q) => [q.kind ?? null, q.method ?? null, q.seats ?? null, q.grades ?? null]), [
      ['ranked', 'stv', 2, null], ['ranked', 'schulze', null, null], ['grades', 'majority-judgment', null, GRADES],
      [null, null, null, null],
    ], 'the definition holds the kinds, methods, seats and grades of the form');
    const report = await admin.importVoters(official, VOTERS.map((v) => v.join(',')).join('\n') + '\n');
    assert.equal(report.accepted, VOTERS.length, JSON.stringify(report));
    const links = await admin.issueRoleTokens(official);
    for (const [i, t] of trustees.entries()) t.url = links.trustees[i];
    log(`election ${id} created`);

    // ---- key ceremony, credentials, open ----
    for (const round of ['commit', 'deal', 'check']) {
      for (const t of trustees) {
        const r = await trusteeNextStep(t.page, t.url, { keyPath: t.key.keyPath, secretsPath: t.secrets });
        assert.equal(r.step, round, JSON.stringify(r));
      }
    }
    await admin.waitForKey(official);
    const privatePath = path.join(work, 'credentials.json');
    await authorityGenerate(authority, links.authority, { keyPath: authorityKey.keyPath, privatePath });
    const credentials = new Map(JSON.parse(await readFile(privatePath, 'utf8')).map((c) => [c.login, c.credential]));
    await admin.refresh(official);
    await admin.openElection(official);
    log('election open');

    // ---- the booth in French on a phone: ranking by tap and keyboard, said aloud ----
    let codeId = await frenchBooth(browser, server, monitor, id, credentials.get('eve'), shot);
    log('French booth on a phone: tap, removal closing the gap, keyboard, live region, errors');

    // ---- the voters ----
    for (const [n, [login, choices, opts]] of BALLOTS.entries()) {
      const page = await newPage(browser, server.url, { mobile: !!opts.mobile, allowOrigins: [monitor.origin] });
      const r = await vote(page, {
        baseUrl: server.url,
        election: id,
        login,
        email: `${login}@example.org`,
        outbox: server.outbox,
        credential: credentials.get(login),
        choices,
        audit: !!opts.audit,
        invalidFirst: opts.invalidFirst || null,
        afterCodeId: codeId,
        onStep: (s) => (n <= 2 && ['questions', 'refused', 'review', 'audit'].includes(s) ? shot(page, `03-voter${n + 1}-${s}`) : null),
      });
      codeId = r.codeId;
      if (login === 'ann') {
        // The review and the audit say the choices in words.
        for (const text of [r.review, r.audited.described]) {
          for (const line of ['1. Ada', '2. Blaise', 'Not ranked: Claude and Dorothy', '1. Red', '2. Green', '3. Blue',
            'North park: Excellent', 'South square: Good', 'East market: Very good', 'Library', 'Solar roof']) {
            assert.ok(text.includes(line), `"${line}" in ${text}`);
          }
        }
      }
      if (login === 'cat') {
        assert.deepEqual(r.refused, [
          'Same rank (1st choice) for Ada and Blaise: give each candidate a different rank.',
          'Your ranking skips the 2nd choice: number the candidates 1, 2, 3… without a gap (the next one is the 3rd choice).',
          'Give every candidate a grade: East market has none.',
          null,
        ]);
        assert.ok(r.review.includes('1. Red and Green (equal)'), r.review);
      }
      page.assertClean();
      log(`${login} voted${opts.mobile ? ' on a phone, by tapping' : ' by keyboard'}`);
      await page.context().close();
    }

    await admin.refresh(official);
    await admin.closeElection(official);
    await admin.refresh(official);
    assert.equal((await official.locator('#next-step').textContent()).trim(),
      'Waiting for the trustees to shuffle the ranked and graded ballots: 0 of the 2 shuffles needed so far (not yet shuffled: Alice, Bob, and Carol). Then they decrypt.');
    assert.deepEqual(await admin.lifecycleButton(official, 'tally'),
      { enabled: false, reason: 'Waiting for the trustees’ shuffles: 0 of the 2 needed.' });
    await shot(official, '04-admin-closed-shuffles');
    log('closed');

    // ---- a monitor holding another close line: the page refuses to shuffle ----
    monitor.forkClose = true;
    const posted = [];
    const watch = (req) => {
      if (req.method() === 'POST' && req.url().includes('/trustee/events')) posted.push(req.url());
    };
    trustees[0].page.on('request', watch);
    await assert.rejects(
      trusteeNextStep(trustees[0].page, trustees[0].url, { secretsPath: trustees[0].secrets }),
      /holds another close line \(position \d+: its hash [0-9a-f]{64}, this server’s [0-9a-f]{64}\): the board may be showing you a different record; do not shuffle/,
    );
    assert.equal(await trustees[0].page.locator('#monitor-check').getAttribute('data-status'), 'differs');
    await shot(trustees[0].page, '04-trustee1-shuffle-refused');
    trustees[0].page.off('request', watch);
    assert.deepEqual(posted, [], 'nothing posted on a forked close line');
    monitor.forkClose = false;

    // ---- trustees 1 and 3 shuffle, then decrypt ----
    const shuffled = [];
    for (const i of [0, 2]) {
      const asked = monitor.requests;
      const r = await trusteeNextStep(trustees[i].page, trustees[i].url, {
        secretsPath: trustees[i].secrets,
        onState: (s) => (s === 'trustee-shuffle' || s === 'trustee-shuffle-after' ? shot(trustees[i].page, `05-trustee${i + 1}-${s}`) : null),
      });
      assert.equal(r.step, 'shuffle', JSON.stringify(r));
      assert.ok(monitor.requests > asked, `trustee ${i + 1}'s page asked the monitor before shuffling`);
      shuffled.push(r.text);
    }
    // Trustee 1 waits for the second shuffle, the monitor's agreement still shown.
    assert.equal(await trustees[0].page.locator('#monitor-check').getAttribute('data-status'), 'agree');
    assert.match(shuffled[0], /Shuffles done so far: 0 of the 2 needed/);
    assert.match(shuffled[1], /Shuffles done so far: 1 of the 2 needed/);
    // Trustee 1, after its shuffle, waited for a second one; now it is the decryption's turn.
    for (const i of [0, 2]) {
      const r = await trusteeNextStep(trustees[i].page, trustees[i].url, {
        secretsPath: trustees[i].secrets,
        onState: (s) => (s === 'trustee-decrypt' ? shot(trustees[i].page, `06-trustee${i + 1}-decrypt`) : null),
      });
      assert.equal(r.step, 'decrypt', JSON.stringify(r));
    }
    assert.match(await trustees[0].page.locator('#f-shuffles').textContent(), /2 done; at least 2 needed/);
    await admin.refresh(official);
    await admin.tally(official);
    await shot(official, '07-admin-tallied');
    log('shuffled twice, decrypted, tallied');

    // ---- the result page: the counts of the plaintext choices ----
    const visitor = await newPage(browser, server.url);
    const want = expected();
    const shown = await readMixedResult(visitor, server.url, id);
    await shot(visitor, '08-result');
    assert.equal(parseFloat(shown.stv.quota), want.stv.quota, 'STV quota');
    assert.deepEqual(shown.stv.first, want.stv.first, 'STV first preferences');
    assert.equal(shown.stv.elected, want.stv.elected.join(', '), 'STV elected');
    assert.deepEqual(shown.schulze, want.schulze.map((g) => g.join(', ')), 'Schulze order');
    assert.deepEqual(shown.grades, want.grades, 'majority judgment');
    assert.deepEqual(shown.approval, want.approval, 'approval counts');
    visitor.assertClean();
    log('the result page shows the counts of the plaintext choices');

    const recordText = await (await fetch(`${server.url}/api/elections/${id}/record`)).text();
    const recordPath = path.join(work, 'record.jsonl');
    await writeFile(recordPath, recordText);
    const cli = JSON.parse((await run(bin, ['verify', recordPath, '--json'])).stdout);
    assert.equal(cli.status, 'tallied');
    const inBrowser = await verifyInBrowser(visitor, server.url, id);
    await shot(visitor, '09-verify');
    assert.ok(inBrowser.ok, JSON.stringify(inBrowser));
    for (const k of ['status', 'fingerprint', 'events', 'ballots', 'ballots_counted', 'proofs', 'head']) {
      assert.equal(inBrowser.report[k], cli[k], `verifier report field ${k}`);
    }
    log('the in-browser verifier agrees with scrutin verify');
  } finally {
    await browser.close();
    await server.stop();
    await monitor.stop();
    await removeUnlessKept(work);
  }
}

main().then(
  () => log('ranked and graded election through the pages: passed'),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
