// The key page, /keys: a trustee or the credential authority draws its role key in this
// browser (WebAssembly, crates/booth: the same code as `scrutin trustee keygen`), saves
// the key file (the format of the command-line tool) and gives the public key and its
// fingerprint to the election's officials. Nothing is sent to the server. A key file
// saved earlier can be checked here too. `?role=authority` preselects the role.
import { initI18n, t } from './i18n.js';
import { $, showStep, announce, showError, errorText, download, readFile } from './ui.js';
import { loadBooth } from './booth-wasm.js';
import { safeName } from './ceremony-common.js';

await initI18n(['keys']);

let drawn = null; // {role, name, key_file, public_key, fingerprint}: in this page only
let saved = false;

loadBooth().catch(() => {});

if (new URLSearchParams(location.search).get('role') === 'authority') {
  $('#role-authority').checked = true;
}

const fileName = (k) => `${k.role}-key-${safeName(k.name) || 'key'}.json`;
const roleText = (role) => t(role === 'authority' ? 'keys.role_is_authority' : 'keys.role_is_trustee');

$('#generate-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  showError('');
  const input = $('#key-name');
  const name = input.value.trim();
  if (!name) {
    input.setAttribute('aria-invalid', 'true');
    showError(t('keys.name_required'));
    input.focus();
    return;
  }
  input.removeAttribute('aria-invalid');
  const role = $('#role-authority').checked ? 'authority' : 'trustee';
  const button = $('#generate-button');
  button.disabled = true;
  try {
    const wasm = await loadBooth();
    drawn = { role, name, ...JSON.parse(wasm.generate_role_key(role, name)) };
    saved = false;
    $('#public-key').value = drawn.public_key;
    $('#fingerprint').textContent = drawn.fingerprint;
    $('#save-name').textContent = t('keys.save_name', { file: fileName(drawn) });
    showStep('result');
    announce(t('keys.drawn', { fingerprint: drawn.fingerprint }));
  } catch (e) {
    showError(errorText(e));
  } finally {
    button.disabled = false;
  }
});

$('#save-button').addEventListener('click', () => {
  if (!drawn) return;
  download(fileName(drawn), drawn.key_file);
  saved = true;
  announce(t('keys.saved', { file: fileName(drawn) }));
});

$('#copy-button').addEventListener('click', async () => {
  const field = $('#public-key');
  try {
    await navigator.clipboard.writeText(field.value);
    announce(t('keys.copied'));
  } catch (_) {
    field.focus();
    field.select();
    announce(t('keys.copy_select'));
  }
});

$('#again-button').addEventListener('click', () => {
  if (drawn && !saved) {
    showError(t('keys.not_saved'));
    $('#save-button').focus();
    return;
  }
  drawn = null;
  saved = false;
  showError('');
  announce('');
  $('#key-name').value = '';
  showStep('generate');
});

$('#check-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  showError('');
  const box = $('#check-result');
  box.hidden = true;
  const button = $('#check-button');
  button.disabled = true;
  try {
    const text = await readFile($('#check-file'));
    const wasm = await loadBooth();
    let info;
    try {
      info = JSON.parse(wasm.role_key_info(text));
    } catch (_) {
      throw new Error(t('keys.not_key_file'));
    }
    $('#c-role').textContent = roleText(info.role);
    $('#c-name').textContent = info.name;
    $('#c-public').textContent = info.public_key;
    $('#c-fingerprint').textContent = info.fingerprint;
    box.hidden = false;
    announce(t('keys.checked', { fingerprint: info.fingerprint }));
  } catch (e) {
    showError(errorText(e));
  } finally {
    button.disabled = false;
  }
});

// Leaving before the drawn key is saved loses it: the browser asks first.
window.addEventListener('beforeunload', (ev) => {
  if (drawn && !saved) ev.preventDefault();
});
