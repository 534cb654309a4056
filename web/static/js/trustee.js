// The trustee page, /elections/{id}/trustee#token=…: key generation (commit, deal, check)
// and the decryption share, computed in this browser by the protocol's own code
// (WebAssembly, crates/booth) on the record verified here. The secrets leave the browser
// only into the file the trustee saves (the format of `scrutin trustee commit`, so the
// command-line tool can take over with it); only public events are posted.
import { electionIdFromPath } from './api.js';
import { initI18n, t } from './i18n.js';
import { $, $$, showStep, announce, showError, errorText, download, readFile, el } from './ui.js';
import { loadBooth } from './booth-wasm.js';
import {
  takeRoleToken, rememberRoleToken, forgetRoleToken, isToken, whoAmI, publicElection,
  record, listOf, withStop, tokenRefused, pollWhileVisible, post, safeName,
} from './ceremony-common.js';

await initI18n(['trustee']);

const id = electionIdFromPath();
let token = id ? takeRoleToken('trustee', id) : null;
let index = null; // this trustee's number
let election = null; // the public view of the election, last fetched
let current = null; // {step, action, text}: what the page shows now
let pending = null; // {secrets, event}: a commitment drawn but not yet published
let saved = false;
let working = false;
let refreshFailed = false; // the last look at the election failed (its error is shown)

const base = `/api/elections/${encodeURIComponent(id || '')}`;
const secretName = () => `trustee-${index}-${safeName(id)}.json`;

// Loaded in the background so that the first step does not wait for it.
loadBooth().catch(() => {});

function trusteeRef(tr) {
  return t('trustee.trustee_ref', { index: tr.index, name: tr.name });
}

/** What this trustee does next, from the public view of the election. */
function nextStep(pub) {
  const trustees = pub.trustees || [];
  const me = trustees.find((tr) => tr.index === index);
  const k = pub.definition ? pub.definition.threshold : 0;
  const shares = trustees.filter((tr) => tr.decryption_share).length;
  const waiting = (key, vars = {}) => ({ step: 'waiting', text: t(key, vars) });
  // "Waiting for trustee 3 (Carol)…" or "for trustees 1 (Alice) and 3 (Carol)…".
  const waitingFor = (key, flag) => {
    const late = trustees.filter((tr) => !tr[flag]);
    return waiting(late.length === 1 ? `${key}_one` : key, { list: listOf(late.map(trusteeRef)) });
  };
  if (!me) return { step: 'problem', error: t('trustee.no_such_trustee', { index }) };
  switch (pub.state) {
    case 'draft':
      if (!me.committed) return { step: 'commit' };
      if (trustees.some((tr) => !tr.committed)) return waitingFor('trustee.waiting_commit', 'committed');
      if (!me.dealt) return { step: 'act', action: 'deal' };
      if (trustees.some((tr) => !tr.dealt)) return waitingFor('trustee.waiting_deal', 'dealt');
      if (!me.checked) return { step: 'act', action: 'check' };
      if (trustees.some((tr) => !tr.checked)) return waitingFor('trustee.waiting_check', 'checked');
      if (!pub.election_key) return waiting('trustee.waiting_key');
      return waiting(me.disqualified ? 'trustee.waiting_open_disqualified' : 'trustee.waiting_open');
    case 'open':
      return waiting(me.disqualified ? 'trustee.waiting_open_disqualified' : 'trustee.waiting_close');
    case 'closed':
      if (me.disqualified) return { step: 'done', text: t('trustee.done_disqualified'), poll: true };
      if (!me.decryption_share) return { step: 'act', action: 'decrypt', shares, k };
      return { step: 'done', text: t('trustee.done_shared', { shares, k }), poll: true };
    default: // tallied, archived
      return {
        step: 'done',
        text: t(me.disqualified ? 'trustee.done_disqualified' : 'trustee.done_tallied'),
        links: true,
      };
  }
}

function showFacts(pub) {
  const def = pub.definition || {};
  const n = (def.trustees || []).length;
  const me = (pub.trustees || []).find((tr) => tr.index === index);
  $('#heading').textContent = t('trustee.heading_of', { title: def.title || id });
  $('#who-line').textContent = t('trustee.you_are', { index, n, name: me ? me.name : '?' });
  $('#f-election').textContent = def.title ? `${def.title} (${id})` : id;
  const fp = $('#f-fingerprint');
  fp.textContent = pub.fingerprint || t('trustee.fingerprint_later');
  fp.classList.toggle('muted', !pub.fingerprint);
  $('#f-threshold').textContent = t('trustee.threshold_text', { k: def.threshold, n });
  $('#who').hidden = false;
  const body = $('#progress-body');
  body.replaceChildren(
    ...(pub.trustees || []).map((tr) => {
      const cell = (done, col) => el('td', {
        role: 'cell',
        class: done ? 'ok' : 'muted',
        'data-label': t(`trustee.col_${col}`),
        text: done ? t('trustee.yes') : t('trustee.no'),
      });
      const name = trusteeRef(tr) + (tr.index === index ? ` ${t('trustee.you')}` : '')
        + (tr.disqualified ? ` ${t('trustee.disqualified')}` : '');
      return el('tr', { role: 'row' },
        el('th', { scope: 'row', role: 'rowheader', text: name }),
        cell(tr.committed, 'committed'), cell(tr.dealt, 'dealt'), cell(tr.checked, 'checked'),
        cell(tr.decryption_share, 'share'));
    }),
  );
  $('#progress').hidden = false;
  document.title = t('trustee.title_of', { title: def.title || id });
}

function cliCommand(action) {
  const sub = { commit: 'commit', deal: 'deal', check: 'check', decrypt: 'decrypt' }[action];
  if (!sub) return null;
  return `scrutin trustee ${sub} --server ${location.origin} --election ${id} --token YOUR_TOKEN --secret ${secretName()}`;
}

function render(next) {
  const key = JSON.stringify([next.step, next.action, next.text, next.error]);
  const changed = !current || key !== JSON.stringify([current.step, current.action, current.text, current.error]);
  current = next;
  const cmd = cliCommand(next.step === 'commit' ? 'commit' : next.action);
  $('#cli').hidden = !cmd;
  if (cmd) $('#cli-command').textContent = cmd;
  if (!changed) return;
  if (next.step === 'act') {
    const a = next.action;
    $('#act-heading').textContent = t(`trustee.${a}_heading`);
    $('#act-text').textContent = t(`trustee.${a}_text`, { k: next.k, shares: next.shares });
    $('#secret-label').textContent = t('trustee.secret_label', { file: secretName() });
    $('#act-button').textContent = t(`trustee.${a}_button`);
    $('#secret-file').value = '';
    announce(t('trustee.your_turn'));
  }
  if (next.step === 'waiting') $('#waiting-text').textContent = next.text;
  if (next.step === 'done') {
    $('#done-text').textContent = next.text;
    $('#done-links').hidden = !next.links;
    $('#result-link').href = `/elections/${encodeURIComponent(id)}/result`;
    $('#board-link').href = `/elections/${encodeURIComponent(id)}/board`;
  }
  if (next.error) showError(next.error);
  showStep(next.step);
}

/**
 * Fetches the public view of the election and shows the next step (not while a step is
 * being worked on or a drawn key awaits saving, unless `force`).
 */
async function refresh(force = false) {
  const busyNow = () => !force && (working || (current && current.step === 'save'));
  if (busyNow()) return;
  try {
    election = await publicElection(id);
  } catch (e) {
    showError(errorText(e));
    refreshFailed = true;
    if (!current || current.step === 'loading') render({ step: 'problem' });
    throw e;
  }
  if (!busyNow()) {
    if (refreshFailed) showError('');
    refreshFailed = false;
    showFacts(election);
    render(nextStep(election));
  }
}

/** The text of a failure, with what to do when the record did not verify. */
function failure(e) {
  return e && e.check ? withStop(errorText(e), t('trustee.do_not_continue')) : errorText(e);
}

async function withWork(button, fn) {
  showError('');
  working = true;
  if (button) button.disabled = true;
  try {
    await fn();
  } catch (e) {
    announce('');
    showError(failure(e));
    if (!tokenRefused(e)) return;
    forgetRoleToken('trustee', id);
    token = null;
    render({ step: 'notoken' });
  } finally {
    working = false;
    if (button) button.disabled = false;
  }
}

async function postEvent(out) {
  const ev = JSON.parse(out);
  await post(`${base}/trustee/events`, token, { type: ev.event_type, body: ev.event_body });
  return ev;
}

// Step 1: draw the secrets, make the trustee save them, then publish the commitment.
$('#commit-button').addEventListener('click', (ev) => withWork(ev.currentTarget, async () => {
  announce(t('trustee.verifying'));
  const [wasm, rec] = await Promise.all([loadBooth(), record(id)]);
  const out = JSON.parse(wasm.trustee_commit(rec, index));
  pending = { secrets: out.secrets, event: { type: out.event_type, body: out.event_body } };
  saved = false;
  $('#save-confirm').checked = false;
  $('#save-name').textContent = t('trustee.save_name', { file: secretName() });
  render({ step: 'save' });
  announce(t('trustee.drawn'));
}));

$('#save-button').addEventListener('click', () => {
  if (!pending) return;
  download(secretName(), pending.secrets);
  saved = true;
  announce(t('trustee.saved', { file: secretName() }));
});

$('#publish-commit').addEventListener('click', (ev) => {
  if (!pending) return;
  if (!saved) {
    showError(t('trustee.save_first'));
    $('#save-button').focus();
    return;
  }
  if (!$('#save-confirm').checked) {
    showError(t('trustee.confirm_first'));
    $('#save-confirm').focus();
    return;
  }
  withWork(ev.currentTarget, async () => {
    announce(t('trustee.publishing'));
    await post(`${base}/trustee/events`, token, pending.event);
    pending = null;
    current = null;
    await refresh(true);
    announce(t('trustee.published_commit'));
  });
});

// Steps 2, 3 and the decryption share: read the secret file here, compute, publish.
$('#act-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const action = current && current.action;
  if (!action) return;
  withWork($('#act-button'), async () => {
    const input = $('#secret-file');
    const text = await readFile(input);
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (_) {
      throw new Error(t('trustee.not_secret_file'));
    }
    if (!parsed || typeof parsed.index !== 'number') throw new Error(t('trustee.not_secret_file'));
    if (parsed.index !== index) throw new Error(t('trustee.wrong_trustee', { theirs: parsed.index, index }));
    announce(t('trustee.verifying'));
    const [wasm, rec] = await Promise.all([loadBooth(), record(id)]);
    const fn = { deal: wasm.trustee_deal, check: wasm.trustee_check, decrypt: wasm.trustee_decrypt }[action];
    const out = fn(rec, text);
    input.value = '';
    announce(t('trustee.publishing'));
    const evt = await postEvent(out);
    const complaints = evt.complaints || [];
    if (action === 'check') {
      const box = $('#complaints');
      box.hidden = complaints.length === 0;
      box.textContent = complaints.length
        ? t('trustee.complaints', { list: listOf(complaints.map(String)) })
        : '';
    }
    current = null;
    await refresh(true);
    announce(t(`trustee.published_${action}`));
  });
});

for (const b of $$('button.refresh')) {
  b.addEventListener('click', () => {
    showError('');
    announce(t('common.loading'));
    current = null;
    start().then(() => announce(''));
  });
}

$('#token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const value = $('#token-input').value.trim().toLowerCase();
  if (!isToken(value)) {
    showError(t('trustee.token_invalid_format'));
    $('#token-input').setAttribute('aria-invalid', 'true');
    return;
  }
  $('#token-input').removeAttribute('aria-invalid');
  $('#token-input').value = '';
  token = value;
  rememberRoleToken('trustee', id, token);
  showError('');
  start();
});

// Leaving while a drawn key is not yet published loses it: the browser asks first.
window.addEventListener('beforeunload', (ev) => {
  if (pending) ev.preventDefault();
});

// A new link opened in this tab (only the fragment differs): take its token.
window.addEventListener('hashchange', () => {
  const fresh = takeRoleToken('trustee', id);
  if (fresh && fresh !== token) {
    token = fresh;
    current = null;
    start();
  }
});

/** Learns who the token is, then shows the next step. */
async function start() {
  if (!id) {
    showError(t('trustee.no_election'));
    render({ step: 'problem' });
    return;
  }
  if (!token) {
    render({ step: 'notoken' });
    return;
  }
  try {
    const who = await whoAmI(id, token);
    if (who.role !== 'trustee') {
      showError(t('trustee.not_trustee'));
      forgetRoleToken('trustee', id);
      token = null;
      render({ step: 'notoken' });
      return;
    }
    index = who.index;
    await refresh();
  } catch (e) {
    if (tokenRefused(e)) {
      forgetRoleToken('trustee', id);
      token = null;
      showError(t('trustee.token_refused'));
      render({ step: 'notoken' });
    } else {
      showError(errorText(e));
      render({ step: 'problem' });
    }
  }
}

await start();
pollWhileVisible(async () => {
  if (!token || index === null || !current) return;
  if (['waiting', 'done'].includes(current.step) && !current.links) await refresh();
}, 5);
