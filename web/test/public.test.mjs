// The public pages end to end: `scrutin demo --serve` (an open election), ballots cast
// with the CLI, the board and its tracker lookup, close + trustee decryptions + tally, the
// result page against the plaintext count, the printable report, the in-browser verifier against
// `scrutin verify --json`, receipts (saved by `scrutin ballot cast --receipt`) checked on
// the verifier page (counted, replaced, and a tampered one refused), and a tampered record
// file refused naming the check.
//
//   cd web/test && node public.test.mjs
//
// Needs target/debug/scrutin (or $SCRUTIN_BIN) built from this tree, and Chromium. Screenshots go to
// target/screenshots/public-*.png.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { repo, launchBrowser, newPage, checkpoint, latestCode, startDemo } from './lib/harness.mjs';
import { readBoard, lookupTracker, readResult, readReport, verifyInBrowser, verifyFile, checkReceiptFile } from './drivers/public.mjs';

const run = promisify(execFile);
const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s]`, ...a);

async function scrutin(bin, args) {
  try {
    const { stdout } = await run(bin, args, { maxBuffer: 64 << 20 });
    return stdout;
  } catch (e) {
    throw new Error(`scrutin ${args.join(' ')} failed:\n${e.stdout}\n${e.stderr}`);
  }
}

async function apiCall(base, method, p, { token, json } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(`${base}${p}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Casts a ballot with the CLI; the one-time code comes from the outbox. */
async function castWithCli(bin, demo, voter, credential, choices, after) {
  await apiCall(demo.url, 'POST', `/api/elections/${demo.id}/login`, { json: { login: voter } });
  const { code, id: codeId } = await latestCode(path.join(demo.data, 'outbox'), `${voter}@example.org`, { after });
  const choicesPath = path.join(demo.data, `choices-${voter}-${codeId}.json`);
  const receiptPath = path.join(demo.data, `receipt-${voter}-${codeId}.json`);
  await writeFile(choicesPath, JSON.stringify(choices));
  const out = await scrutin(bin, ['ballot', 'cast', '--server', demo.url, '--election', demo.id, '--login', voter,
    '--code', code, '--credential', credential, '--choices', choicesPath, '--receipt', receiptPath]);
  const m = out.match(/event (\d+) of the record\. Tracker: ([0-9a-f]{64})/);
  assert.ok(m, out);
  return { seq: Number(m[1]), tracker: m[2], codeId, receiptPath };
}

/** Adds `choices` (per question: array of values, or 'blank') to the expected count. */
function count(expected, choices) {
  choices.forEach((c, q) => {
    if (c === 'blank') expected[q].blank += 1;
    else c.forEach((v, a) => { expected[q].answers[a].count += v; });
  });
}

async function main() {
  // The debug build of the current tree (target/release may hold an older build).
  const bin = process.env.SCRUTIN_BIN || path.join(repo, 'target', 'debug', 'scrutin');
  const demo = await startDemo();
  log(`demo server ${demo.url}, election ${demo.id}`);
  const browser = await launchBrowser();
  try {
    const desktop = await newPage(browser, demo.url);
    const mobile = await newPage(browser, demo.url, { mobile: true });
    const credentials = JSON.parse(await readFile(path.join(demo.data, 'credentials.json'), 'utf8'));
    const cred = (login) => credentials.find((c) => c.login === login).credential;

    // ---- the board of an open election with no ballot; the result not published yet ----
    let board = await readBoard(desktop, demo.url, demo.id);
    assert.equal(board.ballots, 0);
    assert.equal(board.credentials, 5);
    assert.equal(board.trackers.length, 0);
    assert.ok(board.fingerprint && board.electionKey, JSON.stringify(board));
    await checkpoint(desktop, 'public-board-empty');
    assert.equal(await readResult(desktop, demo.url, demo.id), null);
    await checkpoint(desktop, 'public-result-not-published');
    log('board and result before voting: ok');

    // ---- ballots cast with the CLI (voter1 votes again: only the last ballot counts) ----
    const questions = [
      { question: 'Who should chair the council?', answers: ['Ada', 'Blaise', 'Claude'], blank: 0 },
      { question: 'Which projects should be funded (up to 3)?', answers: ['Library', 'Bicycle lanes', 'Solar roofs', 'Community garden', 'Youth centre'], blank: null },
    ];
    const expected = questions.map((q) => ({ question: q.question, answers: q.answers.map((a) => ({ answer: a, count: 0 })), blank: q.blank }));
    const ballots = [
      ['voter1', [[1, 0, 0], [1, 1, 0, 0, 0]], false],
      ['voter2', [[0, 1, 0], [0, 1, 1, 0, 0]], true],
      ['voter3', ['blank', [0, 0, 0, 0, 1]], true],
      ['voter1', [[0, 0, 1], [0, 0, 0, 1, 0]], true],
    ];
    const receipts = [];
    let after = 0;
    for (const [voter, choices, counts] of ballots) {
      const r = await castWithCli(bin, demo, voter, cred(voter), choices, after);
      after = r.codeId;
      receipts.push(r);
      if (counts) count(expected, choices);
    }
    log(`cast ${receipts.length} ballots`);

    board = await readBoard(desktop, demo.url, demo.id);
    const head = await apiCall(demo.url, 'GET', `/api/elections/${demo.id}/head`);
    assert.equal(board.ballots, 4);
    assert.equal(board.ballotsCounted, 3);
    assert.equal(board.head, head.head);
    assert.equal(board.events, head.events);
    assert.deepEqual(board.trackers, [...receipts].reverse().map((r) => ({ seq: r.seq, tracker: r.tracker })));
    await checkpoint(desktop, 'public-board');

    const found = await lookupTracker(desktop, demo.url, demo.id, receipts[1].tracker.toUpperCase());
    assert.deepEqual([found.found, found.seq], [true, receipts[1].seq], found.text);
    await checkpoint(desktop, 'public-board-lookup-found');
    const missing = await lookupTracker(mobile, demo.url, demo.id, 'ab'.repeat(32));
    assert.equal(missing.found, false, missing.text);
    await checkpoint(mobile, 'public-board-lookup-missing-mobile');
    const malformed = await lookupTracker(desktop, demo.url, demo.id, 'not-a-tracker<script>');
    assert.equal(malformed.found, 'malformed', malformed.text);
    await checkpoint(desktop, 'public-board-lookup-malformed');
    log('board, head and tracker lookup: ok');

    // ---- close, decryption shares of trustees 1 and 2 (CLI), tally ----
    const { token: admin } = await apiCall(demo.url, 'POST', '/api/admin/login', { json: { username: 'admin', password: demo.adminPassword } });
    await apiCall(demo.url, 'POST', `/api/admin/elections/${demo.id}/close`, { token: admin });
    assert.equal(await readResult(desktop, demo.url, demo.id), null);
    const roles = JSON.parse(await readFile(path.join(demo.data, 'role-tokens.json'), 'utf8'));
    for (const t of roles.trustees.slice(0, 2)) {
      await scrutin(bin, ['trustee', 'decrypt', '--server', demo.url, '--election', demo.id, '--token', t.token,
        '--secret', path.join(demo.data, `trustee${t.index}.json`)]);
    }
    await apiCall(demo.url, 'POST', `/api/admin/elections/${demo.id}/tally`, { token: admin });
    log('closed and tallied');

    // ---- the result page equals the plaintext count ----
    const result = await readResult(desktop, demo.url, demo.id);
    assert.deepEqual(result, expected);
    const svg = desktop.locator('section.question svg[role="img"]');
    assert.equal(await svg.count(), 2);
    const desc = await svg.first().locator('desc').textContent();
    assert.match(desc, /Blaise: 1 \(33\.3%\)/);
    await checkpoint(desktop, 'public-result');
    assert.deepEqual(await readResult(mobile, demo.url, demo.id), expected);
    await checkpoint(mobile, 'public-result-mobile');
    // French, once: the switch link sets the language (and its cookie).
    await desktop.getByRole('link', { name: 'Français' }).click();
    await desktop.waitForURL(/lang=fr/);
    assert.equal(await desktop.evaluate(() => document.documentElement.lang), 'fr');
    assert.ok(await desktop.getByRole('columnheader', { name: 'Réponse' }).first().isVisible());
    await checkpoint(desktop, 'public-result-fr');
    assert.deepEqual(await readResult(desktop, demo.url, demo.id), expected, 'the French page, by its cookie');
    await desktop.goto(`${demo.url}/elections/${demo.id}/result?lang=en`);
    log('result page: ok');

    // ---- the printable report states the same counts, head and length as the API ----
    const tallyHead = await apiCall(demo.url, 'GET', `/api/elections/${demo.id}/head`);
    for (const [page, lang, name] of [[desktop, 'en', 'public-report'], [mobile, 'fr', 'public-report-fr-mobile']]) {
      const report = await readReport(page, demo.url, demo.id, lang);
      assert.deepEqual(
        report.questions.map((q) => ({ answers: q.answers, blank: q.blank })),
        expected.map((q) => ({ answers: q.answers, blank: q.blank })),
      );
      assert.equal(report.facts.head, tallyHead.head);
      assert.match(report.facts.length, new RegExp(`^${tallyHead.events} `));
      assert.equal(await page.locator('script').count(), 0);
      await checkpoint(page, name);
    }
    await desktop.emulateMedia({ media: 'print' });
    await checkpoint(desktop, 'public-report-print');
    await desktop.emulateMedia({ media: 'screen' });
    log('printable report: ok');

    // ---- the in-browser verifier agrees with `scrutin verify --json` ----
    const recordText = await (await fetch(`${demo.url}/api/elections/${demo.id}/record`)).text();
    const recordPath = path.join(demo.data, 'record.jsonl');
    await writeFile(recordPath, recordText);
    const cli = JSON.parse(await scrutin(bin, ['verify', recordPath, '--json']));
    const inBrowser = await verifyInBrowser(desktop, demo.url, demo.id);
    assert.ok(inBrowser.ok, JSON.stringify(inBrowser));
    const r = inBrowser.report;
    for (const k of ['status', 'election', 'fingerprint', 'events', 'ballots', 'ballots_counted', 'proofs', 'head']) {
      assert.equal(r[k], cli[k], `report field ${k}`);
    }
    assert.equal(r.result.ballots_counted, cli.result.ballots_counted);
    assert.equal(r.result.total_weight, cli.result.total_weight);
    assert.deepEqual(
      r.result.questions.map((q) => ({ choices: q.answers.map((a) => a.count), blank: q.blank })),
      cli.result.questions.map((q) => ({ choices: q.choices, blank: q.blank ?? null })),
    );
    assert.deepEqual(r.result.questions, expected);
    // The conclusions in plain sentences: the same ones as `scrutin verify`, in order.
    const says = await desktop.locator('#says li').evaluateAll((items) => items.map((li) => li.dataset.key));
    assert.ok(says.length > 0, 'the verifier page states its conclusions');
    assert.deepEqual(says, cli.conclusions.map((c) => c.key));
    await checkpoint(desktop, 'public-verify-ok');

    // ---- receipts checked against the verified record ----
    const counted = await checkReceiptFile(desktop, receipts[1].receiptPath);
    assert.equal(counted.status, 'on_record', counted.text);
    assert.equal(counted.seq, String(receipts[1].seq));
    assert.match(counted.text, new RegExp(`^On the board at position ${receipts[1].seq}, and counted`));
    await checkpoint(desktop, 'public-verify-receipt-counted');
    const replaced = await checkReceiptFile(desktop, receipts[0].receiptPath);
    assert.equal(replaced.status, 'replaced', replaced.text);
    assert.match(replaced.text, new RegExp(`position ${receipts[3].seq}\\): this ballot is not counted`));
    const receipt = JSON.parse(await readFile(receipts[1].receiptPath, 'utf8'));
    const tamperedReceiptPath = path.join(demo.data, 'tampered-receipt.json');
    await writeFile(tamperedReceiptPath, JSON.stringify({ ...receipt, weight: receipt.weight + 1 }));
    const forged = await checkReceiptFile(desktop, tamperedReceiptPath);
    assert.equal(forged.status, 'unsigned', forged.text);
    assert.match(forged.text, /not signed by this election’s board key, so it proves nothing/);
    await checkpoint(desktop, 'public-verify-receipt-refused');
    log('receipts on the verifier page: counted, replaced, and a tampered one refused');
    const onMobile = await verifyInBrowser(mobile, demo.url, demo.id);
    assert.ok(onMobile.ok && onMobile.report.head === cli.head, JSON.stringify(onMobile));
    await checkpoint(mobile, 'public-verify-ok-mobile');
    log('in-browser verifier = scrutin verify --json: ok');

    // ---- a tampered record file chosen from disk is refused, naming the check ----
    const lines = recordText.trimEnd().split('\n');
    const last = JSON.parse(lines[lines.length - 1]);
    assert.equal(last.type, 'result');
    last.body.questions[0].choices[0] += 1;
    lines[lines.length - 1] = JSON.stringify(last);
    const tamperedPath = path.join(demo.data, 'tampered.jsonl');
    await writeFile(tamperedPath, `${lines.join('\n')}\n`);
    let cliFailure;
    try {
      await run(bin, ['verify', tamperedPath, '--json']);
    } catch (e) {
      cliFailure = e.stderr;
    }
    const cm = (cliFailure || '').match(/check (\w+) failed(?: at event (\d+))?/);
    assert.ok(cm, `scrutin verify accepted the tampered record: ${cliFailure}`);
    await mobile.goto(`${demo.url}/elections/${demo.id}/verify`);
    await checkpoint(mobile, 'public-verify-choose-mobile');
    const refused = await verifyFile(desktop, demo.url, demo.id, tamperedPath);
    assert.equal(refused.ok, false, JSON.stringify(refused));
    assert.equal(refused.check, cm[1]);
    assert.equal(refused.seq, cm[2] === undefined ? null : Number(cm[2]));
    assert.equal(refused.seq, lines.length - 1);
    // The failure is said in words: the page's sentence is the one the command line gives.
    const cliRefusal = JSON.parse((await run(bin, ['verify', tamperedPath, '--json']).catch((e) => e)).stdout);
    assert.equal(await desktop.locator('#failure-said').getAttribute('data-key'), cliRefusal.failure.key);
    assert.ok((await desktop.locator('#failure-said').textContent()).trim().length > 0);
    await checkpoint(desktop, 'public-verify-tampered');
    log(`tampered record refused: check ${refused.check} at event ${refused.seq}`);

    // ---- an unknown election: an HTML 404 page with a link home ----
    const resp = await desktop.goto(`${demo.url}/elections/no-such-election/board`);
    assert.equal(resp.status(), 404);
    assert.match(resp.headers()['content-type'], /^text\/html/);
    assert.ok(await desktop.getByRole('link', { name: 'Go to the home page' }).isVisible());
    await checkpoint(desktop, 'public-not-found');
    log('all public page checks passed');
  } finally {
    await browser.close();
    await demo.stop();
  }
}

main().then(
  () => {
    console.log('1 passed, 0 failed');
    process.exit(0);
  },
  (e) => {
    console.error(e);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
