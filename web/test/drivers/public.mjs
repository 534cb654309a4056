// Drives the public pages as a visitor does: the board (/elections/{id}/board), the result
// (/elections/{id}/result) and the in-browser verifier (/elections/{id}/verify), through
// their labels, button names and visible text. Names are read from the translation files,
// so the driver works whatever the page's language (English unless the context says else).
//
//   readBoard(page, baseUrl, election)
//     → { title, state, head, events, ballots, ballotsCounted, fingerprint, electionKey,
//         credentials, trackers: [{seq, tracker}] (the first page, newest first) }
//   lookupTracker(page, baseUrl, election, tracker) → { found: true|false|'malformed', seq, text }
//   readResult(page, baseUrl, election)
//     → [{ question, answers: [{answer, count}], blank }] (blank: null when the question
//       has no blank vote), or null while the result is not published
//   verifyInBrowser(page, baseUrl, election) → { ok: true, report } | { ok: false, check, seq, message }
//   verifyFile(page, baseUrl, election, filePath) → the same, for a record file chosen from disk
//
// `report` has the fields of `scrutin verify --json`: status, election, fingerprint, events,
// ballots, ballots_counted, proofs, head, and result (null, or {ballots_counted,
// total_weight, questions: [{question, answers: [{answer, count}], blank}]}).
import { texts } from '../lib/texts.mjs';

const VERIFY_TIMEOUT = 300_000;

const url = (baseUrl, election, page) => `${baseUrl}/elections/${encodeURIComponent(election)}/${page}`;

async function goto(page, target) {
  const resp = await page.goto(target);
  if (!resp || !resp.ok()) throw new Error(`${target}: HTTP ${resp ? resp.status() : 'no response'}`);
}

/** The text of the <dd> that follows the <dt> named `name` in the page's fact lists. */
async function fact(page, name) {
  const dd = page.locator('dl.facts dt', { hasText: name }).first().locator('xpath=following-sibling::dd[1]');
  if (!(await dd.count())) return null;
  return ((await dd.textContent()) || '').trim();
}

const integer = (text) => (text === null ? null : Number(String(text).replace(/[^0-9]/g, '')));
const hex = (text) => (text && /^[0-9a-f]{64}$/.test(text) ? text : null);

/** Reads the facts and the first page of ballots of the board. */
export async function readBoard(page, baseUrl, election) {
  await goto(page, url(baseUrl, election, 'board'));
  const T = await texts(page, 'public');
  const h1 = (await page.getByRole('heading', { level: 1 }).textContent()).trim();
  const kicker = T('public.board_kicker');
  const rows = page.locator('table.ballots tbody tr');
  const trackers = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const cells = rows.nth(i).locator('td');
    trackers.push({ seq: integer(await cells.nth(0).textContent()), tracker: (await cells.nth(1).textContent()).trim() });
  }
  return {
    title: h1.startsWith(kicker) ? h1.slice(kicker.length).trim() : h1,
    state: await fact(page, T('public.state')),
    head: hex(await fact(page, T('public.head'))),
    events: integer(await fact(page, T('public.events'))),
    ballots: integer(await fact(page, T('public.ballots'))),
    ballotsCounted: integer(await fact(page, T('public.ballots_counted'))),
    fingerprint: hex(await fact(page, T('public.fingerprint'))),
    electionKey: hex(await fact(page, T('public.election_key'))),
    credentials: integer(await fact(page, T('public.credentials'))),
    trackers,
  };
}

/** Types a tracker in the board's lookup form and submits it; reads the answer. */
export async function lookupTracker(page, baseUrl, election, tracker) {
  await goto(page, url(baseUrl, election, 'board'));
  const T = await texts(page, 'public');
  await page.getByLabel(T('public.lookup_label'), { exact: true }).fill(tracker);
  await Promise.all([
    page.waitForURL(/[?&]tracker=/),
    page.getByRole('button', { name: T('public.lookup_button'), exact: true }).click(),
  ]);
  const answer = page.locator('#lookup-result');
  await answer.waitFor();
  const text = ((await answer.textContent()) || '').replace(/\s+/g, ' ').trim();
  const found = await answer.getAttribute('data-found');
  const seq = await answer.getAttribute('data-seq');
  return {
    found: found === 'true' ? true : found === 'false' ? false : 'malformed',
    seq: seq === null ? null : Number(seq),
    text,
  };
}

/** Reads the result tables of the result page (null while the result is not published). */
export async function readResult(page, baseUrl, election) {
  await goto(page, url(baseUrl, election, 'result'));
  if (await page.locator('#not-published').count()) return null;
  return readResultTables(page, 'section.question', 'h2');
}

/**
 * The printable report (/elections/{id}/report): its counts per question (as readResult,
 * the heading being "Question n: text"), and its facts by data-field.
 */
export async function readReport(page, baseUrl, election, lang = 'en') {
  await goto(page, `${url(baseUrl, election, 'report')}?lang=${lang}`);
  const questions = await readResultTables(page, 'section[data-question]', 'h3');
  const facts = {};
  for (const dd of await page.locator('dd[data-field]').all()) {
    facts[await dd.getAttribute('data-field')] = ((await dd.textContent()) || '').trim();
  }
  return { questions, facts };
}

async function readResultTables(page, sectionSelector, headingSelector) {
  const sections = page.locator(sectionSelector);
  const out = [];
  for (let i = 0; i < (await sections.count()); i++) {
    const s = sections.nth(i);
    const question = ((await s.locator(headingSelector).first().textContent()) || '').trim();
    const answers = [];
    let blank = null;
    const rows = s.locator('table tbody tr');
    for (let r = 0; r < (await rows.count()); r++) {
      const row = rows.nth(r);
      const label = ((await row.locator('th').textContent()) || '').trim();
      const count = Number(await row.locator('td').first().getAttribute('data-value'));
      if ((await row.getAttribute('data-kind')) === 'blank') blank = count;
      else answers.push({ answer: label, count });
    }
    out.push({ question, answers, blank });
  }
  return out;
}

async function verifierOutcome(page, T) {
  const ok = page.getByRole('heading', { name: T('verify.ok_heading'), exact: true });
  const failed = page.getByRole('heading', { name: T('verify.failed_heading'), exact: true });
  const error = page.locator('#error');
  const deadline = Date.now() + VERIFY_TIMEOUT;
  for (;;) {
    if (await ok.isVisible()) break;
    if (await failed.isVisible()) {
      const field = async (name) => ((await page.locator(`[data-field="${name}"]`).getAttribute('data-value')) ?? null);
      const seq = await field('seq');
      return {
        ok: false,
        check: await field('check'),
        seq: seq === null ? null : Number(seq),
        message: ((await page.locator('#failure-text').textContent()) || '').trim(),
      };
    }
    if (await error.isVisible()) throw new Error(`verifier page error: ${(await error.textContent()).trim()}`);
    if (Date.now() > deadline) throw new Error('the verifier did not finish');
    await page.waitForTimeout(200);
  }
  const value = async (name) => page.locator(`#report [data-field="${name}"]`).getAttribute('data-value');
  const num = async (name) => {
    const v = await value(name);
    return v === null ? null : Number(v);
  };
  let result = null;
  if (await page.locator('#result-part').isVisible()) {
    const counted = page.locator('#result-counted');
    result = {
      ballots_counted: Number(await counted.getAttribute('data-ballots')),
      total_weight: Number(await counted.getAttribute('data-weight')),
      questions: await readResultTables(page, '#result-tables .question', 'caption'),
    };
  }
  return {
    ok: true,
    report: {
      status: await value('status'),
      election: await value('election'),
      fingerprint: await value('fingerprint'),
      events: await num('events'),
      ballots: await num('ballots'),
      ballots_counted: await num('ballots_counted'),
      proofs: await num('proofs'),
      head: await value('head'),
      result,
    },
  };
}

/** Opens the verifier page and waits for its texts (the language switch is mounted last). */
async function openVerifier(page, baseUrl, election) {
  await goto(page, url(baseUrl, election, 'verify'));
  await page.locator('#lang-switch a').first().waitFor();
}

/** Opens the verifier page, downloads the record from the server and verifies it. */
export async function verifyInBrowser(page, baseUrl, election) {
  await openVerifier(page, baseUrl, election);
  const T = await texts(page, 'verify');
  await page.getByRole('button', { name: T('verify.download_button'), exact: true }).click();
  return verifierOutcome(page, T);
}

/** Opens the verifier page and verifies the record file at `filePath`. */
export async function verifyFile(page, baseUrl, election, filePath) {
  await openVerifier(page, baseUrl, election);
  const T = await texts(page, 'verify');
  await page.getByLabel(T('verify.file_label'), { exact: true }).setInputFiles(filePath);
  await page.getByRole('button', { name: T('verify.file_button'), exact: true }).click();
  return verifierOutcome(page, T);
}

/**
 * Checks the receipt file at `filePath` on the verifier page, where a record has just
 * verified. Returns {status, text, seq}: `status` is what the page concluded (`on_record`,
 * `replaced`, `not_yet`, `missing`, `wrong_weight`, or a refusal: `unsigned`,
 * `other_election`, `not_receipt`, `failed`), `text` its sentence, `seq` the position shown.
 */
export async function checkReceiptFile(page, filePath) {
  const T = await texts(page, 'verify');
  const box = page.locator('#receipt-outcome');
  await box.evaluate((e) => { e.hidden = true; delete e.dataset.status; });
  await page.getByLabel(T('verify.receipt_label'), { exact: true }).setInputFiles(filePath);
  await page.getByRole('button', { name: T('verify.receipt_button'), exact: true }).click();
  await page.locator('#receipt-outcome[data-status]:not([hidden])').waitFor({ timeout: 60_000 });
  return {
    status: await box.getAttribute('data-status'),
    text: (await page.locator('#receipt-verdict').textContent()).trim(),
    seq: (await page.locator('#receipt-seq').textContent()).trim(),
  };
}
