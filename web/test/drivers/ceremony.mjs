// Drives the trustee page and the credential authority page as a person would: by the
// visible labels and button names (read from the page's translation files, so the same
// driver works in English and French), file downloads and the file input.
//
//   trusteeNextStep(page, trusteeUrl, { keyPath, secretsPath, onState })
//     → { step: 'commit'|'deal'|'check'|'shuffle'|'decrypt'|'waiting'|'done', secretsPath, text, identity }
//   trusteeTryKey(page, trusteeUrl, keyPath) → { accepted, text }: step 1's key check only
//   authorityGenerate(page, authorityUrl, { keyPath, privatePath, csvPath, onState })
//     → { count, alreadyPublished }
//   visibleStep(page) → the data-step of the section shown ('loading' while it loads)
//
// `onState(name)` (optional, async) is called at each page state the driver goes through,
// for the caller's checkpoints: 'trustee-<step>' / 'authority-<step>' before acting,
// 'trustee-save' / 'authority-save' while the secret is offered, '…-after' after posting.
import { readFile } from 'node:fs/promises';
import { texts, pattern } from '../lib/texts.mjs';


/** The step the page shows: the data-step of its visible section. */
export async function visibleStep(page) {
  return page.evaluate(() => {
    const s = document.querySelector('section[data-step]:not([hidden])');
    return s ? s.dataset.step : null;
  });
}

async function settled(page) {
  await page.waitForFunction(() => {
    const s = document.querySelector('section[data-step]:not([hidden])');
    return s && s.dataset.step !== 'loading';
  }, null, { timeout: 30_000 });
  return visibleStep(page);
}

async function errorShown(page) {
  const e = page.locator('#error');
  return (await e.isVisible()) ? (await e.textContent()).trim() : null;
}

/**
 * Waits until the live status says `done` (the step finished) or an error is shown (then
 * throws with its text).
 */
async function waitFor(page, done, what) {
  const status = page.locator('#status');
  for (let i = 0; i < 1200; i++) {
    const err = await errorShown(page);
    if (err) throw new Error(`${what}: the page says: ${err}`);
    if (((await status.textContent()) || '').trim() === done) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`${what}: no answer after 120 s`);
}

/** Opens `url` afresh (a link differing only by its fragment would not reload the page). */
async function open(page, url) {
  await page.goto('about:blank');
  await page.goto(url);
  return settled(page);
}

/**
 * Gives the key file to step 1 of the trustee page (which must be at that step) and waits
 * for the page's verdict: `accepted` with the identity line shown, or refused with the
 * error shown.
 */
async function giveKey(page, T, keyPath) {
  await page.getByLabel(T('trustee.key_label'), { exact: true }).setInputFiles(keyPath);
  await page.getByRole('button', { name: T('trustee.key_button'), exact: true }).click();
  const identity = page.locator('#identity:not([hidden])');
  for (let i = 0; i < 600; i++) {
    if (await identity.isVisible()) return { accepted: true, text: (await page.locator('#identity-line').textContent()).trim() };
    const err = await errorShown(page);
    if (err) return { accepted: false, text: err };
    await page.waitForTimeout(100);
  }
  throw new Error('key check: no answer after 60 s');
}

/** Opens the trustee page at step 1 and gives it `keyPath`, without committing. */
export async function trusteeTryKey(page, trusteeUrl, keyPath) {
  const step = await open(page, trusteeUrl);
  if (step !== 'commit') throw new Error(`the trustee page shows ${step}, not step 1`);
  return giveKey(page, await texts(page, 'trustee'), keyPath);
}

/**
 * Opens the trustee page and performs the next step available to this trustee: for
 * 'commit', gives the key file `keyPath`, then saves the downloaded secret file as
 * `secretsPath`; for the later steps, gives `secretsPath` to the file input. Returns what
 * it did ('waiting' and 'done': nothing to do now, or ever), with the page's explanation
 * in `text` (and, for 'commit', the identity line in `identity`).
 */
export async function trusteeNextStep(page, trusteeUrl, { keyPath, secretsPath, onState = async () => {} } = {}) {
  const step = await open(page, trusteeUrl);
  const T = await texts(page, 'trustee');
  const section = (name) => page.locator(`section[data-step="${name}"]`);
  const button = (name) => page.getByRole('button', { name, exact: true });
  if (step === 'waiting' || step === 'done') {
    await onState(`trustee-${step}`);
    const text = (await section(step).locator('p').first().textContent()).trim();
    return { step, secretsPath, text };
  }
  if (step === 'commit') {
    if (!keyPath) throw new Error('step 1 needs the trustee\'s key file (keyPath)');
    await onState('trustee-commit');
    const verdict = await giveKey(page, T, keyPath);
    if (!verdict.accepted) throw new Error(`commit: the page refused the key: ${verdict.text}`);
    await onState('trustee-identity');
    await button(T('trustee.commit_button')).click();
    await page.locator('section[data-step="save"]:not([hidden])').waitFor({ timeout: 60_000 }).catch(async (e) => {
      throw new Error(`commit: ${(await errorShown(page)) || e.message}`);
    });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      button(T('trustee.save_button')).click(),
    ]);
    if (!/^trustee-\d+-[A-Za-z0-9_-]+\.json$/.test(download.suggestedFilename())) {
      throw new Error(`unexpected secret file name ${download.suggestedFilename()}`);
    }
    await download.saveAs(secretsPath);
    await page.getByLabel(T('trustee.save_confirm')).check();
    await onState('trustee-save');
    // The only trustee publishes its commitment, dealing and check with one click.
    const alone = await page.locator('#alone-text').isVisible();
    await button(T(alone ? 'trustee.publish_alone' : 'trustee.publish_commit')).click();
    await waitFor(page, T(alone ? 'trustee.published_alone' : 'trustee.published_commit'), 'commit');
    await onState('trustee-commit-after');
    return { step: alone ? 'whole-key-generation' : 'commit', secretsPath, identity: verdict.text };
  }
  if (step === 'act') {
    const heading = (await section('act').locator('h2').textContent()).trim();
    const action = ['deal', 'check', 'shuffle', 'decrypt'].find((a) => T(`trustee.${a}_heading`) === heading);
    if (!action) throw new Error(`unknown trustee step: ${heading}`);
    await onState(`trustee-${action}`);
    const text = (await section('act').locator('#act-text').textContent()).trim();
    const label = T('trustee.secret_label', { file: '' }).replace(/\s*\(\)\s*$/, '');
    await page.getByLabel(label).setInputFiles(secretsPath);
    await button(T(`trustee.${action}_button`)).click();
    await waitFor(page, T(`trustee.published_${action}`), action);
    await onState(`trustee-${action}-after`);
    return { step: action, secretsPath, text };
  }
  throw new Error(`the trustee page shows ${step}: ${(await errorShown(page)) || ''}`);
}

/**
 * Opens the credential authority page, gives it the authority's key file `keyPath`,
 * generates the credentials, saves the private file
 * (JSON) as `privatePath` and, if `csvPath` is given, the CSV for a mailing tool, confirms
 * and publishes the public list. Returns the number of credentials. If the list was
 * already published, does nothing and returns {count, alreadyPublished: true}.
 */
export async function authorityGenerate(page, authorityUrl, { keyPath, privatePath, csvPath, onState = async () => {} } = {}) {
  const step = await open(page, authorityUrl);
  const T = await texts(page, 'authority');
  const button = (name) => page.getByRole('button', { name, exact: true });
  if (step === 'published') {
    await onState('authority-published');
    const count = Number((await page.locator('#f-published').textContent()).trim());
    return { count, alreadyPublished: true };
  }
  if (step !== 'generate') {
    throw new Error(`the authority page shows ${step}: ${(await errorShown(page)) || ''}`);
  }
  await onState('authority-generate');
  if (!keyPath) throw new Error('generating the credentials needs the authority\'s key file (keyPath)');
  await page.getByLabel(T('authority.key_label'), { exact: true }).setInputFiles(keyPath);
  await page.getByRole('button', { name: pattern(T('authority.generate_button')) }).click();
  const saveStep = page.locator('section[data-step="save"]:not([hidden])');
  for (let i = 0; ; i++) {
    if (await saveStep.isVisible()) break;
    const err = await errorShown(page);
    if (err) throw new Error(`generate: the page says: ${err}`);
    if (i > 1200) throw new Error('generate: no answer after 120 s');
    await page.waitForTimeout(100);
  }
  const save = async (name, file) => {
    const [download] = await Promise.all([page.waitForEvent('download'), button(name).click()]);
    await download.saveAs(file);
    return download.suggestedFilename();
  };
  await save(T('authority.download_json'), privatePath);
  if (csvPath) await save(T('authority.download_csv'), csvPath);
  await page.getByLabel(T('authority.save_confirm')).check();
  await onState('authority-save');
  await button(T('authority.publish_button')).click();
  const count = JSON.parse(await readFile(privatePath, 'utf8')).length;
  await waitFor(page, T('authority.published_done', { n: count }), 'publish');
  await onState('authority-published-after');
  return { count, alreadyPublished: false };
}
