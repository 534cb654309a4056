// The trustee page, /elections/{id}/trustee#token=…: key generation (commit, deal, check)
// and the decryption share, computed in this browser by the protocol's own code
// (WebAssembly, crates/booth) on the record verified here, each event signed with the
// trustee's role key (made on /keys). Before anything is computed, the page checks that
// the key file (step 1) or the secret file (later steps, it embeds the key) holds the key
// the election names for this trustee, and refuses plainly otherwise. The secrets leave
// the browser only into the file the trustee saves (the format of `scrutin trustee
// commit`, so the command-line tool can take over with it); only public events are posted.
// When the election has ranked or graded questions (spec §8.1), at least `threshold`
// trustees shuffle their rows after the close (§11.12) before anyone decrypts: the page
// computes this trustee's shuffle (`trustee_shuffle`, the code of `scrutin trustee
// shuffle`) and posts the signed event, and says how many shuffles are done and needed.
// Before computing a shuffle or a decryption share, the page compares the `close` line of
// the record it downloaded with each monitor the election names (monitors.js, spec §14.4)
// and refuses on any disagreement, alarm or monitor it cannot reach.
import { electionIdFromPath } from './api.js';
import { initI18n, t } from './i18n.js';
import { $, $$, showStep, announce, showError, errorText, download, readFile, el } from './ui.js';
import { loadBooth } from './booth-wasm.js';
import {
  takeRoleToken, rememberRoleToken, forgetRoleToken, isToken, whoAmI, publicElection,
  record, listOf, withStop, tokenRefused, pollWhileVisible, post, safeName,
} from './ceremony-common.js';
import { compareClose, monitorsOf, showResults, firstProblem, resultVars } from './monitors.js';

await initI18n(['trustee']);

const id = electionIdFromPath();
let token = id ? takeRoleToken('trustee', id) : null;
let index = null; // this trustee's number
let election = null; // the public view of the election, last fetched
let current = null; // {step, action, text}: what the page shows now
let pending = null; // {secrets, event}: a commitment drawn but not yet published
let keyFile = null; // the text of the key file checked in step 1, in this page only
let saved = false;
let working = false;
let refreshFailed = false; // the last look at the election failed (its error is shown)

const base = `/api/elections/${encodeURIComponent(id || '')}`;
const secretName = () => `trustee-${index}-${safeName(id)}.json`;

// Loaded in the background so that the first step does not wait for it.
loadBooth().catch(() => {});

/** Whether the election has ranked or graded questions (§8.1). */
const hasMixed = (pub) => ((pub.definition && pub.definition.questions) || []).some((q) => q.kind);

/** {done, needed} shuffles after the close, or null when none is needed (§11.12). */
function shuffleCount(pub) {
  if (!hasMixed(pub) || !(pub.ballots_counted > 0)) return null;
  const trustees = pub.trustees || [];
  return { done: trustees.filter((tr) => tr.shuffled).length, needed: pub.definition.threshold };
}

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
      return waiting(me.complained ? 'trustee.waiting_complained' : 'trustee.waiting_open');
    case 'open':
      return waiting(me.complained ? 'trustee.waiting_complained' : 'trustee.waiting_close');
    case 'closed': {
      if (me.complained) return { step: 'done', text: t('trustee.done_complained'), poll: true };
      const mix = shuffleCount(pub);
      if (mix && shares === 0 && !me.shuffled) {
        return { step: 'act', action: 'shuffle', shuffles: mix.done, k: mix.needed };
      }
      if (mix && mix.done < mix.needed) {
        return waiting('trustee.waiting_shuffles', { shuffles: mix.done, k: mix.needed });
      }
      if (!me.decryption_share) return { step: 'act', action: 'decrypt', shares, k, mixed: !!mix };
      return { step: 'done', text: t('trustee.done_shared', { shares, k }), poll: true };
    }
    default: // tallied, archived
      return {
        step: 'done',
        text: t(me.complained ? 'trustee.done_complained' : 'trustee.done_tallied'),
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
  $('#f-key').textContent = me ? me.key_fingerprint : '';
  const mix = shuffleCount(pub);
  $('#f-shuffles-row').hidden = !hasMixed(pub);
  $('#f-shuffles').textContent = mix
    ? t('trustee.shuffles_text', { shuffles: mix.done, k: mix.needed })
    : t('trustee.shuffles_after_close', { k: def.threshold });
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
        + (tr.complained ? ` ${t('trustee.complained')}` : '');
      return el('tr', { role: 'row' },
        el('th', { scope: 'row', role: 'rowheader', text: name }),
        el('td', { role: 'cell', class: 'fingerprint', 'data-label': t('trustee.col_key'), text: tr.key_fingerprint }),
        cell(tr.committed, 'committed'), cell(tr.dealt, 'dealt'), cell(tr.checked, 'checked'),
        cell(tr.decryption_share, 'share'));
    }),
  );
  $('#progress').hidden = false;
  document.title = t('trustee.title_of', { title: def.title || id });
}

function cliCommand(action) {
  const sub = { commit: 'commit', deal: 'deal', check: 'check', shuffle: 'shuffle', decrypt: 'decrypt' }[action];
  if (!sub) return null;
  const key = sub === 'commit' ? ' --key YOUR_KEY_FILE' : '';
  return `scrutin trustee ${sub} --server ${location.origin} --election ${id} --token YOUR_TOKEN${key} --secret ${secretName()}`;
}

function render(next) {
  const key = JSON.stringify([next.step, next.action, next.text, next.error, next.shuffles]);
  const changed = !current
    || key !== JSON.stringify([current.step, current.action, current.text, current.error, current.shuffles]);
  current = next;
  const cmd = cliCommand(next.step === 'commit' ? 'commit' : next.action);
  $('#cli').hidden = !cmd;
  if (cmd) $('#cli-command').textContent = cmd;
  if (!changed) return;
  if (next.step === 'act') {
    const a = next.action;
    $('#act-heading').textContent = t(`trustee.${a}_heading`);
    const textKey = a === 'decrypt' && next.mixed ? 'trustee.decrypt_text_mixed' : `trustee.${a}_text`;
    $('#act-text').textContent = t(textKey, { k: next.k, shares: next.shares, shuffles: next.shuffles });
    $('#secret-label').textContent = t('trustee.secret_label', { file: secretName() });
    $('#act-button').textContent = t(`trustee.${a}_button`);
    $('#secret-file').value = '';
    showMonitorsToAsk(a);
    announce(t('trustee.your_turn'));
  }
  if (next.step === 'waiting') $('#waiting-text').textContent = next.text;
  if (next.step === 'done') {
    $('#done-text').textContent = next.text;
    $('#done-links').hidden = !next.links;
    $('#result-link').href = `/elections/${encodeURIComponent(id)}/result`;
    $('#board-link').href = `/elections/${encodeURIComponent(id)}/board`;
  }
  if (next.step === 'commit') {
    keyFile = null;
    $('#key-file').value = '';
    $('#identity').hidden = true;
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
  // A shuffle or decryption share comes as `events`: the parts of a long one first, all
  // appended together as consecutive lines (spec §11.15).
  const body = ev.events
    ? (ev.events.length === 1 ? ev.events[0] : { events: ev.events })
    : { type: ev.event_type, body: ev.event_body };
  await post(`${base}/trustee/events`, token, body);
  return ev;
}

/** The public key (hex) and role written in a key file or a secret file, or nulls. */
function keyIn(text) {
  try {
    const j = JSON.parse(text);
    const k = j && (j.signing_key ? j : j.role_key);
    return { key: (k && k.signing_key) || null, role: (k && k.role) || null };
  } catch (_) {
    return { key: null, role: null };
  }
}

/** "1 (Alice), key K7QH-…" for each trustee key the election names. */
function namedKeys(wasm) {
  return listOf(((election && election.definition && election.definition.trustees) || []).map((tr, i) => {
    let fingerprint;
    try {
      fingerprint = wasm.key_fingerprint(tr.key);
    } catch (_) {
      fingerprint = '?';
    }
    return t('trustee.named_key', { index: i + 1, name: tr.name, fingerprint });
  }));
}

/**
 * Which trustee of the verified record `rec` the key or secret file `text` is; throws a
 * plain refusal when it is not this trustee's key (`kind`: 'key' or 'secret').
 */
function identify(wasm, rec, text, kind) {
  let who;
  try {
    who = JSON.parse(wasm.trustee_identity(rec, text));
  } catch (e) {
    if (e && e.check) throw e; // the record did not verify
    const notFile = t(kind === 'key' ? 'trustee.not_key_file' : 'trustee.not_secret_file');
    const { key, role } = keyIn(text);
    if (!key) throw new Error(notFile);
    if (role && role !== 'trustee') throw new Error(t('trustee.key_not_trustee'));
    let fingerprint;
    try {
      fingerprint = wasm.key_fingerprint(key);
    } catch (_) {
      throw new Error(notFile);
    }
    throw new Error(t('trustee.key_not_named', { fingerprint, list: namedKeys(wasm) }));
  }
  if (who.index !== index) {
    throw new Error(t('trustee.key_other_trustee', { theirs: who.index, name: who.name, index }));
  }
  return who;
}

// Step 1: check the key file against the election's definition.
$('#key-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  withWork($('#key-button'), async () => {
    keyFile = null;
    $('#identity').hidden = true;
    const text = await readFile($('#key-file'));
    announce(t('trustee.verifying'));
    const [wasm, rec] = await Promise.all([loadBooth(), record(id)]);
    const who = identify(wasm, rec, text, 'key');
    keyFile = text;
    $('#identity-line').textContent = t('trustee.identity', { index: who.index, name: who.name, fingerprint: who.fingerprint });
    $('#identity').hidden = false;
    announce(t('trustee.key_checked', { index: who.index }));
    $('#commit-button').focus();
  });
});

// Then draw the secrets, make the trustee save them, then publish the signed commitment.
$('#commit-button').addEventListener('click', (ev) => withWork(ev.currentTarget, async () => {
  if (!keyFile) throw new Error(t('trustee.key_first'));
  announce(t('trustee.verifying'));
  const [wasm, rec] = await Promise.all([loadBooth(), record(id)]);
  identify(wasm, rec, keyFile, 'key');
  const out = JSON.parse(wasm.trustee_commit(rec, keyFile));
  if (out.index !== index) throw new Error(t('trustee.key_other_trustee', { theirs: out.index, name: '?', index }));
  pending = { secrets: out.secrets, event: { type: out.event_type, body: out.event_body } };
  saved = false;
  $('#save-confirm').checked = false;
  const alone = isAlone();
  $('#alone-text').hidden = !alone;
  $('#publish-commit').textContent = t(alone ? 'trustee.publish_alone' : 'trustee.publish_commit');
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
    const secrets = pending.secrets;
    pending = null;
    keyFile = null;
    const alone = isAlone();
    if (alone) await finishAlone(secrets);
    current = null;
    await refresh(true);
    announce(t(alone ? 'trustee.published_alone' : 'trustee.published_commit'));
  });
});

/**
 * Whether this trustee is the election's only one (threshold 1): then nothing waits for
 * another trustee between the key generation's steps (spec §6.6).
 */
function isAlone() {
  return ((election && election.definition && election.definition.trustees) || []).length === 1;
}

/**
 * The only trustee's deal and check, right after its commitment and with the secrets just
 * drawn (which it saved): each computed on the record downloaded and verified again here.
 */
async function finishAlone(secretText) {
  const wasm = await loadBooth();
  for (const action of ['deal', 'check']) {
    const rec = await record(id);
    identify(wasm, rec, secretText, 'secret');
    const fn = action === 'deal' ? wasm.trustee_deal : wasm.trustee_check;
    await postEvent(fn(rec, secretText));
    announce(t(`trustee.published_${action}`));
  }
}

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
    if (!parsed || !parsed.dkg || !parsed.role_key) throw new Error(t('trustee.not_secret_file'));
    if (parsed.election !== id) throw new Error(t('trustee.other_election', { theirs: parsed.election }));
    if (parsed.dkg.index !== index) throw new Error(t('trustee.wrong_trustee', { theirs: parsed.dkg.index, index }));
    announce(t('trustee.verifying'));
    const [wasm, rec] = await Promise.all([loadBooth(), record(id)]);
    identify(wasm, rec, text, 'secret');
    if (AFTER_CLOSE.includes(action)) await confirmClose(wasm, rec, action);
    const fn = {
      deal: wasm.trustee_deal,
      check: wasm.trustee_check,
      shuffle: wasm.trustee_shuffle,
      decrypt: wasm.trustee_decrypt,
    }[action];
    if (action === 'shuffle') {
      announce(t('trustee.shuffling'));
      // Let the page say so before the shuffle holds the main thread.
      await new Promise((resolve) => { setTimeout(resolve, 50); });
    }
    const out = fn(rec, text);
    input.value = '';
    announce(t('trustee.publishing'));
    const evt = await postEvent(out);
    const complaints = evt.complaints || [];
    if (action === 'check') {
      const box = $('#complaints');
      box.hidden = complaints.length === 0;
      const byIndex = new Map((election.trustees || []).map((tr) => [tr.index, tr]));
      box.textContent = complaints.length
        ? t('trustee.complaints', {
          list: listOf(complaints.map((d) => (byIndex.has(d) ? trusteeRef(byIndex.get(d)) : String(d)))),
        })
        : '';
    }
    current = null;
    await refresh(true);
    announce(t(`trustee.published_${action}`));
  });
});

// ---- the record everybody sees (spec §14.4) ----

/** Steps computed on the closed record, compared first with the monitors' close line. */
const AFTER_CLOSE = ['shuffle', 'decrypt'];

/** The text of `key` for `action`: the shuffle has its own (`trustee.shuffle_…`). */
const forAction = (action, key) => (action === 'shuffle' ? `trustee.shuffle_${key}` : `trustee.${key}`);

/** Before the shuffle or decryption step: which monitors will be asked, or that there is none. */
function showMonitorsToAsk(action) {
  const box = $('#monitor-check');
  box.hidden = !AFTER_CLOSE.includes(action);
  $('#monitor-retry').hidden = true;
  $('#monitor-list').replaceChildren();
  delete box.dataset.status;
  if (box.hidden) return;
  const monitors = monitorsOf(election && election.definition);
  const summary = $('#monitor-summary');
  summary.className = monitors.length ? '' : 'notice';
  summary.textContent = monitors.length
    ? t(forAction(action, 'monitors_to_ask'), { list: listOf(monitors) })
    : t('common.monitor_close_none');
}

/**
 * Compares the `close` line of `rec` (the record just downloaded from this server) with
 * each monitor's; throws a plain refusal naming the first disagreement, alarm or monitor
 * that could not be reached. Without monitors, says that nothing confirms the record.
 */
async function confirmClose(wasm, rec, action) {
  const box = $('#monitor-check');
  const summary = $('#monitor-summary');
  const monitors = monitorsOf(election && election.definition);
  box.hidden = false;
  $('#monitor-retry').hidden = true;
  if (!monitors.length) {
    summary.className = 'notice';
    summary.textContent = t('common.monitor_close_none');
    box.dataset.status = 'none';
    return;
  }
  announce(t('common.monitor_close_checking'));
  summary.className = '';
  summary.textContent = t('common.monitor_close_checking');
  const outcome = await compareClose({ id, record: rec, monitors, wasm });
  showResults($('#monitor-list'), outcome);
  if (outcome.ok) {
    summary.className = 'ok';
    summary.textContent = t('trustee.monitors_agree', { n: monitors.length, seq: outcome.close.seq });
    box.dataset.status = 'agree';
    return;
  }
  const problem = firstProblem(outcome.results);
  box.dataset.status = problem.status;
  summary.className = 'bad';
  summary.textContent = t(forAction(action, 'monitors_refused'));
  $('#monitor-retry').hidden = false;
  throw new Error(t(forAction(action, `refuse_${problem.status}`), resultVars(problem, outcome.close)));
}

$('#monitor-retry').addEventListener('click', () => {
  if (working || !current || !AFTER_CLOSE.includes(current.action)) return;
  $('#act-form').requestSubmit();
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
