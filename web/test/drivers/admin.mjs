// Driver of the officials' pages (/admin): operates them as an official would, through
// labels, roles and visible text (English pages), and reads back what the page shows.
// Every function takes the playwright page; those after login() expect an election page
// (after createElection() or gotoElection()) unless said otherwise.

const TIMEOUT = 30_000;

/** Opens /admin and signs in. Resolves when the list of elections is shown. */
export async function login(page, baseUrl, { username, password }) {
  await page.goto(`${baseUrl}/admin`);
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Elections', level: 2 }).waitFor({ timeout: TIMEOUT });
}

/** Logs out (from any view once signed in). */
export async function logout(page) {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
}

/** The elections listed: [{id, title, state}] (the list view must be shown). */
export async function listElections(page) {
  const rows = page.locator('#list-table tbody tr');
  await page.locator('[data-step="list"]:not([hidden]):not([aria-busy])').waitFor({ timeout: TIMEOUT });
  const out = [];
  for (const row of await rows.all()) {
    out.push({
      id: await row.getAttribute('data-election'),
      title: (await row.locator('th').innerText()).trim(),
      state: await row.locator('td[data-state]').getAttribute('data-state'),
    });
  }
  return out;
}

/** Opens an election's page by its id (from anywhere on /admin once signed in). */
export async function gotoElection(page, id) {
  await page.evaluate((h) => { location.hash = h; }, `election=${encodeURIComponent(id)}`);
  await waitForElection(page, id);
}

async function waitForElection(page, id) {
  await page.locator(`#o-id:text-is("${id}")`).waitFor({ timeout: TIMEOUT });
}

const localTime = (secs) => {
  const d = new Date(secs * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};

/**
 * Fills the creation form and submits it. `trustees`: [{name, key}] (the public keys
 * their holders made on /keys); `authority`: {name, key}; `monitors`: URLs (optional).
 * `questions`: [{question, answers, min, max, blank}] to choose answers, or [{question,
 * answers, kind: 'ranked', method: 'schulze'|'irv'|'stv', seats}] or [{question, answers,
 * kind: 'grades', grades (optional: the form's default grades otherwise)}].
 * `opensAt`/`closesAt`: Unix seconds (optional). `id`: an identifier to ask for
 * (optional). Returns the new election's id, read from its page. Throws with the form's
 * error text if the creation is refused. Each key's fingerprint shown by the form is
 * returned in `fingerprints` when `withFingerprints` is set: {id, fingerprints:
 * {trustees: [...], authority}}.
 */
export async function createElection(page, {
  title, description = '', id, trustees, threshold, authority, monitors = [], questions, opensAt, closesAt,
  withFingerprints = false,
}) {
  const form = page.locator('#create-form');
  if (!(await form.isVisible())) {
    const link = page.getByRole('link', { name: 'New election' });
    if (!(await link.isVisible())) await page.getByRole('link', { name: 'All elections' }).click();
    await link.click();
  }
  await page.getByRole('heading', { name: 'New election' }).waitFor();
  // Start from the form: drop any edit made in the TOML tab.
  await page.getByRole('tab', { name: 'TOML (advanced)' }).click();
  const regenerate = page.getByRole('button', { name: 'Discard my edits and regenerate from the form' });
  if (await regenerate.isVisible()) await regenerate.click();
  await page.getByRole('tab', { name: 'Form' }).click();
  await form.getByLabel('Title', { exact: true }).fill(title);
  await form.getByLabel('Description (optional)').fill(description);
  if (id) await form.getByLabel('Identifier (optional)').fill(id);
  // Trustees: as many rows as names.
  const trusteeFs = form.getByRole('group', { name: 'Trustees' });
  while ((await trusteeFs.locator('li').count()) < trustees.length) {
    await form.getByRole('button', { name: 'Add a trustee' }).click();
  }
  while ((await trusteeFs.locator('li').count()) > trustees.length) {
    const n = await trusteeFs.locator('li').count();
    await trusteeFs.getByRole('button', { name: `Remove trustee ${n}` }).click();
  }
  const fingerprint = async (label) => {
    const input = form.getByLabel(label, { exact: true });
    const out = page.locator(`#${await input.getAttribute('id')}-fp`);
    await page.waitForFunction((el) => el.dataset.fingerprint, await out.elementHandle(), { timeout: TIMEOUT });
    return out.getAttribute('data-fingerprint');
  };
  const fingerprints = { trustees: [], authority: null };
  for (const [i, tr] of trustees.entries()) {
    await form.getByLabel(`Name of trustee ${i + 1}`, { exact: true }).fill(tr.name);
    await form.getByLabel(`Public key of trustee ${i + 1}`, { exact: true }).fill(tr.key);
    if (withFingerprints) fingerprints.trustees.push(await fingerprint(`Public key of trustee ${i + 1}`));
  }
  await form.getByLabel('Name of the credential authority', { exact: true }).fill(authority.name);
  await form.getByLabel('Public key of the credential authority', { exact: true }).fill(authority.key);
  if (withFingerprints) fingerprints.authority = await fingerprint('Public key of the credential authority');
  await form.getByLabel('Addresses of the monitors, one per line').fill(monitors.join('\n'));
  await form.getByLabel(/^Threshold/).fill(String(threshold));
  // Questions.
  const qsets = page.locator('#question-list > fieldset');
  while ((await qsets.count()) < questions.length) {
    await form.getByRole('button', { name: 'Add a question' }).click();
  }
  while ((await qsets.count()) > questions.length) {
    const n = await qsets.count();
    await form.getByRole('button', { name: `Remove Question ${n}` }).click();
  }
  for (const [i, q] of questions.entries()) {
    const fs = form.getByRole('group', { name: `Question ${i + 1}`, exact: true });
    await fs.getByLabel('Question', { exact: true }).fill(q.question);
    await fs.getByLabel('Answers, one per line').fill(q.answers.join('\n'));
    const kind = { ranked: 'Rank the candidates', grades: 'Grade the candidates (majority judgment)' }[q.kind]
      || 'Choose answers (one or several)';
    await fs.getByLabel('Kind of question').selectOption({ label: kind });
    if (q.kind === 'ranked') {
      const method = {
        schulze: 'Schulze (Condorcet)', irv: 'Instant-runoff (one winner)', stv: 'Single transferable vote (several seats)',
      }[q.method];
      await fs.getByLabel('Counting method').selectOption({ label: method });
      if (q.method === 'stv') await fs.getByLabel('Seats to fill').fill(String(q.seats));
      continue;
    }
    if (q.kind === 'grades') {
      // The form proposes grades in the page's language; replace them when given.
      if (q.grades) await fs.getByLabel('Grades, one per line, best first').fill(q.grades.join('\n'));
      continue;
    }
    await fs.getByLabel('Fewest answers to select').fill(String(q.min));
    await fs.getByLabel('Most answers to select').fill(String(q.max));
    await fs.getByLabel(/vote blank/).setChecked(!!q.blank);
  }
  await form.getByLabel('Opening time').fill(opensAt ? localTime(opensAt) : '');
  await form.getByLabel('Closing time').fill(closesAt ? localTime(closesAt) : '');
  await form.getByRole('button', { name: 'Create the election' }).click();
  const error = page.locator('#create-error');
  const created = page.locator('[data-step="election"]:not([hidden]) #o-id:not(:empty)');
  await Promise.race([
    created.waitFor({ timeout: TIMEOUT }),
    error.waitFor({ state: 'visible', timeout: TIMEOUT }),
  ]);
  if (await error.isVisible()) throw new Error(`creation refused: ${await error.innerText()}`);
  const newId = (await created.innerText()).trim();
  return withFingerprints ? { id: newId, fingerprints } : newId;
}

/** The TOML shown in the advanced tab of the creation form (the form must be shown). */
export async function generatedToml(page) {
  await page.getByRole('tab', { name: 'TOML (advanced)' }).click();
  const text = await page.getByLabel('Election description (TOML)').inputValue();
  await page.getByRole('tab', { name: 'Form' }).click();
  return text;
}

/** Sets the schedule (Unix seconds, or null to clear) and saves it. */
export async function setSchedule(page, { opensAt = null, closesAt = null }) {
  const form = page.locator('#schedule-form');
  await form.getByLabel('Opening time').fill(opensAt ? localTime(opensAt) : '');
  await form.getByLabel('Closing time').fill(closesAt ? localTime(closesAt) : '');
  await form.getByRole('button', { name: 'Save the schedule' }).click();
  await page.locator('#status:has-text("Schedule saved")').waitFor({ timeout: TIMEOUT });
}

/** The schedule shown: {opens, closes} as displayed text. */
export async function schedule(page) {
  return {
    opens: (await page.locator('#o-opens').innerText()).trim(),
    closes: (await page.locator('#o-closes').innerText()).trim(),
  };
}

/**
 * Imports voters from CSV text (pasted in the text box, or given as a file with
 * `{file: true}`). Returns the report read from the page:
 * {accepted, rejected, total, weight, errors: [{line, content, reason}], truncated}.
 */
export async function importVoters(page, csvText, { file = false } = {}) {
  const section = page.locator('#sec-voters');
  await section.getByRole('heading', { name: 'Voter list' }).scrollIntoViewIfNeeded();
  if (file) {
    await section.getByLabel('CSV file').setInputFiles({ name: 'voters.csv', mimeType: 'text/csv', buffer: Buffer.from(csvText) });
  } else {
    await section.getByLabel('Or paste the lines here').fill(csvText);
  }
  await page.locator('#r-accepted').evaluate((e) => { e.removeAttribute('data-value'); });
  const loads = (await page.locator('#roll-table').getAttribute('data-loads')) || '0';
  await section.getByRole('button', { name: 'Import the voters' }).click();
  await Promise.race([
    page.locator('#r-accepted[data-value]').waitFor({ timeout: TIMEOUT }),
    page.locator('#error:not([hidden])').waitFor({ timeout: TIMEOUT }),
  ]);
  if (await page.locator('#error').isVisible()) {
    throw new Error(`import refused: ${await page.locator('#error').innerText()}`);
  }
  // The roll is drawn again after every import, accepted or refused.
  await page.waitForFunction((b) => (document.querySelector('#roll-table').dataset.loads || '0') !== b, loads, { timeout: TIMEOUT });
  const value = async (id) => Number(await page.locator(`#${id}`).getAttribute('data-value'));
  const errors = [];
  for (const row of await page.locator('#r-errors tbody tr').all()) {
    const cells = row.locator('td');
    errors.push({
      line: Number(await cells.nth(0).innerText()),
      content: await cells.nth(1).innerText(),
      reason: await cells.nth(2).innerText(),
    });
  }
  return {
    accepted: await value('r-accepted'),
    rejected: await value('r-rejected'),
    total: await value('r-total'),
    weight: await value('r-weight'),
    errors,
    truncated: await page.locator('#r-truncated').isVisible(),
  };
}

/**
 * Issues the role links (confirming the revocation of earlier ones when asked). Returns
 * {trustees: [url, …] in trustee order, authority: url}, read from the page.
 */
export async function issueRoleTokens(page) {
  const section = page.locator('#sec-ceremony');
  const firstLink = page.locator('#token-list li input').first();
  const previous = (await firstLink.count()) ? await firstLink.inputValue() : null;
  await section.getByRole('button', { name: /Issue (the|new) links/ }).click();
  const dialog = page.getByRole('dialog');
  const list = page.locator('#token-list li');
  await Promise.race([
    dialog.waitFor({ timeout: TIMEOUT }),
    list.first().waitFor({ timeout: TIMEOUT }),
  ]);
  if (await dialog.isVisible()) {
    await dialog.getByRole('button', { name: 'Issue new links' }).click();
  }
  await page.waitForFunction((prev) => {
    const input = document.querySelector('#token-list li input');
    return input && input.value !== prev && !document.querySelector('#tokens').hidden;
  }, previous, { timeout: TIMEOUT });
  const trustees = [];
  for (const li of await page.locator('#token-list li[data-role="trustee"]').all()) {
    trustees.push(await li.locator('input').inputValue());
  }
  const authority = await page.locator('#token-list li[data-role="authority"] input').inputValue();
  return { trustees, authority };
}

/**
 * The ceremony progress shown: {stage, state, key, credentials, authority, trustees:
 * [{name, fingerprint, committed (key proven), dealt, checked, share, complained}]}.
 */
export async function progress(page) {
  const trustees = [];
  for (const row of await page.locator('#progress-table tbody tr').all()) {
    const done = async (col) => (await row.locator(`td[data-col="${col}"]`).getAttribute('data-done')) === 'true';
    trustees.push({
      name: (await row.locator('th').innerText()).trim(),
      fingerprint: (await row.locator('td[data-col="key"]').innerText()).trim(),
      committed: await done('committed'),
      dealt: await done('dealt'),
      checked: await done('checked'),
      share: await done('share'),
      complained: (await row.getAttribute('data-complained')) === 'true',
    });
  }
  const cred = await page.locator('#credentials-status').getAttribute('data-credentials');
  return {
    state: await page.locator('#o-state').getAttribute('data-state'),
    stage: await page.locator('#o-stage').getAttribute('data-stage'),
    key: (await page.locator('#key-status').getAttribute('data-key')) === 'published',
    credentials: cred === 'none' || cred === null ? null : Number(cred),
    authority: (await page.locator('#authority-status').innerText()).trim(),
    trustees,
  };
}

/** The state of a lifecycle button: {enabled, reason} for 'open', 'close' or 'tally'. */
export async function lifecycleButton(page, kind) {
  return {
    enabled: await page.locator(`#do-${kind}`).isEnabled(),
    reason: (await page.locator(`#why-${kind}`).innerText()).trim(),
  };
}

async function lifecycle(page, kind, name, state) {
  const button = page.getByRole('button', { name, exact: true });
  await button.waitFor();
  if (!(await button.isEnabled())) {
    throw new Error(`${name}: disabled (${(await page.locator(`#why-${kind}`).innerText()).trim()})`);
  }
  await button.click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name, exact: true }).click();
  await Promise.race([
    page.locator(`#o-state[data-state="${state}"]`).waitFor({ timeout: 60_000 }),
    page.locator('#error:not([hidden])').waitFor({ timeout: 60_000 }),
  ]);
  if (await page.locator('#error').isVisible()) {
    throw new Error(`${name}: ${await page.locator('#error').innerText()}`);
  }
}

/** Opens the election (button + confirmation); resolves when the page shows it open. */
export function openElection(page) {
  return lifecycle(page, 'open', 'Open the election', 'open');
}

/** Closes the election (button + confirmation); resolves when the page shows it closed. */
export function closeElection(page) {
  return lifecycle(page, 'close', 'Close the election', 'closed');
}

/** Launches the tally (button + confirmation); resolves when the page shows it tallied. */
export function tally(page) {
  return lifecycle(page, 'tally', 'Publish the result', 'tallied');
}

/** Turnout read from the page: {voters, ballots, counted, percent}. */
export async function turnout(page) {
  const value = async (id) => Number(await page.locator(`#${id}`).getAttribute('data-value'));
  return {
    voters: await value('t-voters'),
    ballots: await value('t-ballots'),
    counted: await value('t-counted'),
    percent: await value('t-turnout'),
  };
}

/** Waits until the page shows the record at `stage` (setup, open, closed, tallied); the page polls. */
export async function waitForStage(page, stage, { timeout = 60_000 } = {}) {
  await page.locator(`#o-stage[data-stage="${stage}"]`).waitFor({ timeout });
}

/** Waits until the page shows the election key as published (the page polls). */
export async function waitForKey(page, { timeout = 60_000 } = {}) {
  await page.locator('#key-status[data-key="published"]').waitFor({ timeout });
}

/** Clicks Refresh on the election page and waits for it to finish. */
export async function refresh(page) {
  // The status may still say "Updated." from an earlier refresh: cleared first, the wait
  // below is for this one's answer.
  await page.locator('#status').evaluate((s) => { s.textContent = ''; });
  await page.locator('#sec-overview').getByRole('button', { name: 'Refresh' }).click();
  await page.locator('#status:has-text("Updated")').waitFor({ timeout: TIMEOUT });
}

/** The audit log shown, after loading every page: [{actor, action, details}]. */
export async function auditLog(page) {
  const more = page.locator('#audit-more');
  while (await more.isVisible()) {
    const n = await page.locator('#audit-table tbody tr').count();
    await more.click();
    await page.waitForFunction((before) => document.querySelectorAll('#audit-table tbody tr').length > before
      || document.querySelector('#audit-more').hidden, n);
  }
  const out = [];
  for (const row of await page.locator('#audit-table tbody tr').all()) {
    out.push({
      action: await row.getAttribute('data-action'),
      actor: (await row.locator('td').nth(1).innerText()).trim(),
      details: (await row.locator('td').nth(3).innerText()).trim(),
    });
  }
  return out;
}

/** Mail counts shown: {queued, sent, failed}. */
export async function mailStatus(page) {
  const value = async (id) => Number(await page.locator(`#${id}`).getAttribute('data-value'));
  return { queued: await value('m-queued'), sent: await value('m-sent'), failed: await value('m-failed') };
}

/** The public links of the election page: {vote, board, result, verify} (absolute URLs). */
export async function publicLinks(page) {
  const href = (id) => page.locator(`#${id}`).evaluate((a) => a.href);
  return {
    vote: await href('link-vote'),
    board: await href('link-board'),
    result: await href('link-result'),
    verify: await href('link-verify'),
  };
}

/** The roll shown: [{login, email, weight, voted, otp}] (voted and otp only while voting). */
export function roll(page) {
  return page.locator('#roll-table tbody tr').evaluateAll((rows) => rows.map((r) => {
    const cells = [...r.children].map((c) => c.textContent.trim());
    const col = (name) => r.querySelector(`[data-col="${name}"]`)?.textContent.trim();
    return {
      login: cells[0], email: cells[1], weight: cells[2], voted: col('voted'), otp: col('otp'),
      reminder: col('reminder'), resend: col('resend'),
    };
  }));
}

/** Runs `work`, then waits until the roll has been drawn again (or an error is shown). */
async function rollChange(page, work) {
  const before = (await page.locator('#roll-table').getAttribute('data-loads')) || '0';
  await work();
  await Promise.race([
    page.waitForFunction((b) => (document.querySelector('#roll-table').dataset.loads || '0') !== b, before, { timeout: TIMEOUT }),
    page.locator('#error:not([hidden])').waitFor({ timeout: TIMEOUT }),
  ]);
  if (await page.locator('#error').isVisible()) {
    throw new Error(`roll: ${await page.locator('#error').innerText()}`);
  }
}

/** Searches the roll for `text` (empty: everyone). */
export async function searchRoll(page, text) {
  const section = page.locator('#roll');
  await rollChange(page, async () => {
    await section.getByLabel('Search by login or e-mail').fill(text);
    await section.getByRole('button', { name: 'Search', exact: true }).click();
  });
}

/** Adds one voter with the form under the roll. */
export async function addVoter(page, { login, email, weight = 1 }) {
  const form = page.locator('#roll-form');
  await rollChange(page, async () => {
    await form.getByLabel('Login').fill(login);
    await form.getByLabel('E-mail').fill(email);
    await form.getByLabel('Weight').fill(String(weight));
    await form.getByRole('button', { name: 'Add the voter' }).click();
  });
}

/** Asks for one voter's credential to be sent again (button + confirmation). */
export async function requestResend(page, login) {
  await rollChange(page, async () => {
    await page.locator('#roll-table').getByRole('button', { name: `Send ${login}’s credential again` }).click();
    await page.locator('#confirm-yes').click();
  });
}

/**
 * Sends the reminders (button + confirmation); returns the confirmation's title, which
 * states how many voters they go to.
 */
export async function sendReminders(page) {
  let title = '';
  await rollChange(page, async () => {
    await page.locator('#send-reminders').click();
    await page.locator('#confirm-dialog[open]').waitFor({ timeout: TIMEOUT });
    title = await page.locator('#confirm-title').innerText();
    await page.locator('#confirm-yes').click();
  });
  return title;
}

/** Removes one voter from the roll (button + confirmation). */
export async function removeVoter(page, login) {
  await rollChange(page, async () => {
    await page.locator('#roll-table').getByRole('button', { name: `Remove ${login}` }).click();
    await page.locator('#confirm-yes').click();
  });
}
