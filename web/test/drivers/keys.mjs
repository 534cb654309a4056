// Drives the key page (/keys) as a trustee or the credential authority would: by the
// visible labels and button names (read from the translation files, so the same driver
// works in English and French).
//
//   generateKey(page, baseUrl, { name, role, keyPath, lang, onState })
//     → { publicKey, fingerprint, keyPath }   (the key file saved as `keyPath`)
//   checkKeyFile(page, baseUrl, { keyPath, lang }) → { role, name, publicKey, fingerprint }
//
// `onState(name)` (optional, async) is called at 'keys-form' and 'keys-result'.
import { texts } from '../lib/texts.mjs';

async function open(page, baseUrl, lang) {
  await page.goto(`${baseUrl}/keys?lang=${lang}`);
  await page.locator('#generate-form').waitFor();
  await page.waitForFunction(() => document.querySelector('#lang-switch a'));
  return texts(page, 'keys');
}

async function errorShown(page) {
  const e = page.locator('#error');
  return (await e.isVisible()) ? (await e.textContent()).trim() : null;
}

/** Generates a key on /keys, saves its file as `keyPath`, returns its public key and fingerprint. */
export async function generateKey(page, baseUrl, {
  name, role = 'trustee', keyPath, lang = 'en', onState = async () => {},
}) {
  const T = await open(page, baseUrl, lang);
  await page.getByLabel(T(role === 'authority' ? 'keys.role_authority' : 'keys.role_trustee')).check();
  await page.getByLabel(T('keys.name_label')).fill(name);
  await onState('keys-form');
  await page.getByRole('button', { name: T('keys.generate_button'), exact: true }).click();
  await page.locator('section[data-step="result"]:not([hidden])').waitFor({ timeout: 30_000 }).catch(async (e) => {
    throw new Error(`keys: ${(await errorShown(page)) || e.message}`);
  });
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: T('keys.save_button'), exact: true }).click(),
  ]);
  if (!/^(trustee|authority)-key-[A-Za-z0-9_-]+\.json$/.test(download.suggestedFilename())) {
    throw new Error(`unexpected key file name ${download.suggestedFilename()}`);
  }
  await download.saveAs(keyPath);
  await page.locator('#status', { hasText: download.suggestedFilename() }).waitFor();
  await onState('keys-result');
  const publicKey = await page.getByLabel(T('keys.public_key'), { exact: true }).inputValue();
  const fingerprint = (await page.locator('#fingerprint').textContent()).trim();
  return { publicKey, fingerprint, keyPath };
}

/** Checks a key file on /keys; returns what the page shows of it. */
export async function checkKeyFile(page, baseUrl, { keyPath, lang = 'en' }) {
  const T = await open(page, baseUrl, lang);
  await page.getByLabel(T('keys.check_label'), { exact: true }).setInputFiles(keyPath);
  await page.getByRole('button', { name: T('keys.check_button'), exact: true }).click();
  await page.locator('#check-result:not([hidden])').waitFor({ timeout: 30_000 }).catch(async (e) => {
    throw new Error(`check key: ${(await errorShown(page)) || e.message}`);
  });
  const text = async (sel) => (await page.locator(sel).textContent()).trim();
  return {
    role: await text('#c-role'),
    name: await text('#c-name'),
    publicKey: await text('#c-public'),
    fingerprint: await text('#c-fingerprint'),
  };
}
