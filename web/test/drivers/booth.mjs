// Driver of the voting booth (/elections/{id}): operates the page as a voter does, through
// its labels, roles and visible text (English pages, ?lang=en), never through its scripts.
//
//   vote(page, {baseUrl, election, login, email, outbox, credential, choices, …})
//     → {tracker, seq, codeId, audited}
//   checkAudit(page, {baseUrl, election, audit}) → {valid, text, tracker}
//   lookupTracker(page, baseUrl, election, tracker)
//
// `choices`: one entry per question, an array of the indices of the chosen answers
// (e.g. [[0, 2], [1]]), the string 'blank' for a blank vote, or {scores: [v, …]} (one
// value per answer) for a score question, {ranks: [r, …], by: 'keyboard'|'tap'} for a
// ranked question (one rank per candidate, 0 = unranked: ranked with the rank lists by
// keyboard, or by tapping each candidate's "Make …" button in order of preference), or
// {grades: [g, …]} for a graded question (one grade index per candidate, 0 = the best).
import { latestCode } from '../lib/harness.mjs';

const TIMEOUT = 60_000;

function heading(page, name) {
  return page.getByRole('heading', { name, exact: true });
}

async function visible(locator) {
  return locator.isVisible().catch(() => false);
}

/** Waits for the first of `headings` (names) to be visible; returns its name. */
export async function waitForHeading(page, names, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const n of names) if (await visible(heading(page, n))) return n;
    const err = page.locator('#error');
    if (await visible(err)) {
      const text = (await err.textContent()) || '';
      if (text.trim()) throw new Error(`booth error while waiting for ${names.join(' | ')}: ${text}`);
    }
    if (Date.now() > deadline) throw new Error(`none of the headings ${names.join(' | ')} appeared`);
    await page.waitForTimeout(100);
  }
}

/** The values per answer that `choices[q]` stands for (as the audit data holds them). */
function expectedValues(entry, answers) {
  if (entry === 'blank') return 'blank';
  if (entry && entry.scores) return entry.scores;
  if (entry && entry.ranks) return entry.ranks;
  if (entry && entry.grades) return entry.grades;
  const v = new Array(answers).fill(0);
  for (const i of entry) v[i] = 1;
  return v;
}

/** Ticks the answers of every question (the page's fieldsets, in order). */
export async function fillChoices(page, choices) {
  const fieldsets = page.locator('#questions fieldset.question');
  const n = await fieldsets.count();
  if (n !== choices.length) throw new Error(`the ballot has ${n} questions, ${choices.length} choices given`);
  const answerCounts = [];
  for (let q = 0; q < n; q++) {
    const fs = fieldsets.nth(q);
    const entry = choices[q];
    const blank = fs.getByLabel(/^Blank vote/);
    const answers = fs.locator('.choice:not(.blank-choice)');
    const count = await answers.count();
    answerCounts.push(count);
    if (entry === 'blank') {
      await blank.check();
      continue;
    }
    if (entry && entry.ranks) {
      answerCounts[q] = entry.ranks.length;
      await rank(page, fs, entry.ranks, entry.by);
      continue;
    }
    if (entry && entry.grades) {
      answerCounts[q] = entry.grades.length;
      await grade(page, fs, entry.grades);
      continue;
    }
    if (entry && entry.scores) {
      for (let a = 0; a < count; a++) {
        await answers.nth(a).getByRole('combobox').selectOption(String(entry.scores[a] || 0));
      }
      continue;
    }
    for (let a = 0; a < count; a++) {
      const box = answers.nth(a).locator('input');
      const want = entry.includes(a);
      const type = await box.getAttribute('type');
      if (want) await box.check();
      else if (type === 'checkbox' && (await box.isChecked())) await box.uncheck();
    }
  }
  return answerCounts;
}

/**
 * Ranks the candidates of the ranked question `fs`. By keyboard: each candidate's rank list
 * gets the focus and the arrow keys move it to the rank (no mouse). By tap: each
 * candidate's "Make …" button is tapped in order of preference (ties, which tapping cannot
 * make, are refused). Checks that the page's ranking list then shows this ranking.
 */
async function rank(page, fs, ranks, by = 'keyboard') {
  const rows = fs.locator('.choice.rank');
  const n = await rows.count();
  if (n !== ranks.length) throw new Error(`the question has ${n} candidates, ${ranks.length} ranks given`);
  if (by === 'tap') {
    const order = ranks.map((r, a) => [r, a]).filter(([r]) => r > 0).sort((x, y) => x[0] - y[0]);
    order.forEach(([r], i) => {
      if (r !== i + 1) throw new Error(`tapping ranks 1, 2, 3… in turn: cannot give ${JSON.stringify(ranks)}`);
    });
    for (const [, a] of order) await rows.nth(a).getByRole('button', { name: /^Make / }).tap();
  } else {
    for (let a = 0; a < n; a++) {
      const select = rows.nth(a).getByRole('combobox');
      await select.focus();
      let value = Number(await select.inputValue());
      for (let i = 0; value !== ranks[a] && i <= n; i++) {
        await page.keyboard.press(value < ranks[a] ? 'ArrowDown' : 'ArrowUp');
        value = Number(await select.inputValue());
      }
      if (value !== ranks[a]) throw new Error(`the keyboard could not set rank ${ranks[a]} (it shows ${value})`);
    }
  }
  const names = await rows.locator('label').allTextContents();
  const shown = (await fs.locator('ol.ranking-list li').allTextContents()).map((s) => s.trim());
  const want = [...new Set(ranks.filter((r) => r > 0))].sort((x, y) => x - y)
    .map((r) => names.filter((_, a) => ranks[a] === r));
  if (shown.length !== want.length || want.some((group, i) => group.some((name) => !shown[i].includes(name)))) {
    throw new Error(`the ranking list shows ${JSON.stringify(shown)}, expected ${JSON.stringify(want)}`);
  }
}

/**
 * Gives each candidate of the graded question `fs` its grade (a tap on touch screens);
 * a null grade leaves the candidate as it is.
 */
async function grade(page, fs, grades) {
  const groups = fs.locator('fieldset.grade-group');
  const touch = await page.evaluate(() => navigator.maxTouchPoints > 0);
  for (let a = 0; a < grades.length; a++) {
    if (grades[a] === null) continue; // left without a grade
    const radio = groups.nth(a).getByRole('radio').nth(grades[a]);
    if (touch) await radio.tap();
    else await radio.check();
    if (!(await radio.isChecked())) throw new Error(`grade ${grades[a]} of candidate ${a + 1} not checked`);
  }
}

/**
 * Signs in on the booth's login step: the login, then the code mailed to `email` (read
 * from the outbox, newer than `afterCodeId`). Returns the code's id.
 */
export async function signIn(page, { login, email, outbox, afterCodeId = 0, onStep = async () => {} }) {
  await onStep('login');
  await page.getByLabel('Login', { exact: true }).fill(login);
  await page.getByRole('button', { name: 'Send me a code' }).click();
  await waitForHeading(page, ['Enter your login code']);
  await onStep('code');
  const { code, id } = await latestCode(outbox, email, { after: afterCodeId });
  await page.getByLabel('One-time login code (8 digits)').fill(code);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  return id;
}

/**
 * Votes from the booth, as a voter: opens the page (with the credential in the URL
 * fragment if `viaFragment`, after the election `fingerprint` if given, as the
 * credential mail's link has them), signs in if needed (reading the one-time code from the
 * outbox), enters the credential, chooses, reviews, optionally audits the encryption
 * first (the audit must show the same choices; then the choices are encrypted again),
 * casts, waits for the page to check the board's signed receipt against the record, and
 * returns the receipt shown on the page: {tracker, seq, weight, weightNotice, codeId,
 * audited, review, refused} (`weightNotice`: what the choices step said of the credential's
 * weight, if anything; `review`: the text of the review step's list of choices). With
 * `invalidFirst` (choices that break the rules), those are entered first and the review
 * must be refused: `refused` holds each question's error text (null where none).
 * `onStep(name)` is awaited at each page state (for checkpoints).
 */
export async function vote(page, opts) {
  const {
    baseUrl,
    election,
    login,
    email,
    outbox,
    credential,
    choices,
    audit = false,
    viaFragment = false,
    fingerprint = null,
    afterCodeId = 0,
    invalidFirst = null,
    onStep = async () => {},
  } = opts;
  const fragment = [
    fingerprint ? `fingerprint=${fingerprint}` : null,
    viaFragment ? `credential=${encodeURIComponent(credential)}` : null,
  ].filter(Boolean).join('&');
  const url = `${baseUrl}/elections/${election}?lang=en` + (fragment ? `#${fragment}` : '');
  await page.goto(url);
  let codeId = afterCodeId;
  const first = await waitForHeading(page, ['Sign in', 'Your voting credential']);
  if (viaFragment && page.url().includes('credential=')) {
    throw new Error(`the credential is still in the address bar: ${page.url()}`);
  }
  if (first === 'Sign in') {
    codeId = await signIn(page, { login, email, outbox, afterCodeId, onStep });
    await waitForHeading(page, ['Your voting credential']);
  }
  const credInput = page.getByLabel('Voting credential', { exact: true });
  if (viaFragment) {
    const shown = (await credInput.inputValue()).replace(/[-\s]/g, '').toUpperCase();
    if (shown !== credential.replace(/[-\s]/g, '').toUpperCase()) {
      throw new Error(`the credential from the link is not in the field (${shown})`);
    }
  } else {
    await credInput.fill(credential);
  }
  await page.getByText('Valid credential:').waitFor();
  await onStep('credential');
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await waitForHeading(page, ['Your choices']);
  const notice = page.locator('#weight-notice');
  const weightNotice = (await notice.isVisible()) ? (await notice.textContent()).trim() : null;
  let refused = null;
  if (invalidFirst) {
    await fillChoices(page, invalidFirst);
    await page.getByRole('button', { name: 'Review my choices' }).click();
    await page.locator('#questions .field-error:not([hidden])').first().waitFor({ timeout: TIMEOUT });
    refused = (await page.locator('#questions fieldset.question').evaluateAll((sets) => sets.map((fs) => {
      const err = fs.querySelector(':scope > .field-error');
      return err && !err.hidden ? err.textContent.trim() : null;
    })));
    if (await heading(page, 'Check your choices').isVisible()) throw new Error('invalid choices reached the review');
    await onStep('refused');
  }
  const answerCounts = await fillChoices(page, choices);
  await onStep('questions');
  await page.getByRole('button', { name: 'Review my choices' }).click();
  await waitForHeading(page, ['Check your choices']);
  const review = (await page.locator('#review-list').innerText()).trim();
  await onStep('review');
  await page.getByRole('button', { name: 'Encrypt my ballot' }).click();
  await waitForHeading(page, ['Your ballot is encrypted, not yet cast']);
  await onStep('encrypted');
  let audited = null;
  if (audit) {
    const before = await page.locator('#enc-tracker').textContent();
    await page.getByRole('button', { name: 'Audit this encryption' }).click();
    await waitForHeading(page, ['Audit of this encryption']);
    const data = await page.getByLabel('Audit data (JSON)', { exact: true }).inputValue();
    const parsed = JSON.parse(data);
    const expected = choices.map((c, q) => expectedValues(c, answerCounts[q]));
    if (JSON.stringify(parsed.choices) !== JSON.stringify(expected)) {
      throw new Error(`the audit data holds ${JSON.stringify(parsed.choices)}, expected ${JSON.stringify(expected)}`);
    }
    await page.getByText('The audit data is valid').waitFor();
    await page.getByText('These are the choices you made.').waitFor();
    await onStep('audit');
    const described = (await page.locator('.audit-ok').first().innerText()).trim();
    audited = { data, tracker: before.replace(/\s+/g, ''), described };
    await page.getByRole('button', { name: 'Encrypt my choices again' }).click();
    await waitForHeading(page, ['Your ballot is encrypted, not yet cast']);
    const after = (await page.locator('#enc-tracker').textContent()).replace(/\s+/g, '');
    if (after === audited.tracker) throw new Error('the audited ballot was not replaced by a fresh encryption');
    await onStep('reencrypted');
  }
  await page.getByRole('button', { name: 'Cast this ballot' }).click();
  await waitForHeading(page, ['Your ballot is cast']);
  const check = page.locator('#receipt-board-check');
  await check.and(page.locator('.ok, .bad')).waitFor({ timeout: 60_000 });
  const checked = (await check.textContent()).trim();
  if (!checked.startsWith('Checked: the board signed this receipt')) throw new Error(`receipt check: ${checked}`);
  await onStep('receipt');
  const receipt = page.locator('dl.receipt');
  const tracker = (await receipt.locator('dd').nth(0).textContent()).replace(/\s+/g, '');
  const seq = Number(await receipt.locator('dd').nth(1).textContent());
  const weight = Number((await receipt.locator('dd').nth(2).textContent()).trim().split(/\s/)[0]);
  if (audited && tracker === audited.tracker) throw new Error('the audited ballot was cast');
  return { tracker, seq, weight, weightNotice, codeId, audited, review, refused };
}

/**
 * Checks audit data on the booth's "check audit data" step, as on a second device.
 * Returns {valid, text, tracker}: whether the page accepted it, the result's text, and the
 * tracker of the audited ballot it shows (null if refused).
 */
export async function checkAudit(page, { baseUrl, election, audit }) {
  await page.goto(`${baseUrl}/elections/${election}?lang=en#check-audit`);
  await waitForHeading(page, ['Check audit data']);
  await page.getByLabel('Audit data to check (JSON)').fill(audit);
  await page.getByRole('button', { name: 'Check', exact: true }).click();
  const result = page.locator('#check-result');
  await result.locator('p').first().waitFor();
  const text = (await result.textContent()) || '';
  const shown = page.locator('#check-audit-tracker');
  const tracker = (await shown.count()) ? (await shown.textContent()).replace(/\s+/g, '') : null;
  return { valid: text.includes('The audit data is valid'), text, tracker };
}

/** Opens the public board at a tracker (the page another part renders). */
export async function lookupTracker(page, baseUrl, election, tracker) {
  await page.goto(`${baseUrl}/elections/${election}/board?tracker=${tracker}`);
}
