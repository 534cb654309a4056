// The credential authority's page, /elections/{id}/authority#token=…: one credential per
// voter of the server's list, drawn in this browser by the protocol's own code
// (WebAssembly, crates/booth). The authority downloads the private credentials (the file
// of `scrutin credentials generate --server`, which `scrutin credentials mail` mails
// through the authority's own mail server) and, only after confirming it saved them,
// posts the public list, signed with the authority's role key (made on /keys; the page
// refuses a key the election does not name). The server never receives a private
// credential nor the key file. Before drawing, the page compares the last line of the record
// it downloaded with each monitor the election names (monitors.js, spec §14.4) and refuses
// on any disagreement, alarm or monitor it cannot reach.
import { apiWithRetry, electionIdFromPath } from './api.js';
import { initI18n, t } from './i18n.js';
import { $, $$, el, showStep, announce, showError, errorText, download, readFile } from './ui.js';
import { loadBooth } from './booth-wasm.js';
import {
  takeRoleToken, rememberRoleToken, forgetRoleToken, isToken, whoAmI, publicElection,
  record, tokenRefused, post, safeName, waiting, withStop,
} from './ceremony-common.js';
import { compareLine, lastLine, monitorsOf, showResults, firstProblem, resultVars } from './monitors.js';

await initI18n(['authority']);

const id = electionIdFromPath();
let token = id ? takeRoleToken('authority', id) : null;
let voters = null; // [{login, email, weight}] from the server's list
let generated = null; // {json, csv, count, weight}: kept in this page only
let savedJson = false;
let step = 'loading';

const base = `/api/elections/${encodeURIComponent(id || '')}`;
const jsonName = () => `credentials-${safeName(id)}.json`;
const csvName = () => `credentials-${safeName(id)}.csv`;

function go(name) {
  step = name;
  showStep(name);
}

const totalWeight = (list) => list.reduce((a, v) => a + Number(v.weight), 0);

/** The whole voter list, page by page (ordered by login). */
async function fetchVoters() {
  const all = [];
  const limit = 5000;
  for (;;) {
    const after = all.length ? all[all.length - 1].login : '';
    const page = await apiWithRetry(
      `${base}/authority/voters?limit=${limit}&after=${encodeURIComponent(after)}`,
      { token }, 5, waiting,
    );
    all.push(...page.voters);
    if (page.voters.length < limit) return all;
    announce(t('authority.fetching', { n: all.length }));
  }
}

let wasmForFacts = null; // the booth module, once loaded: fingerprints in the facts
loadBooth().then((w) => { wasmForFacts = w; }).catch(() => {});

/** The fingerprint of a public key, or '…' while the booth module is loading. */
function fingerprintOf(key) {
  if (!key) return '';
  if (!wasmForFacts) return '…';
  try {
    return wasmForFacts.key_fingerprint(key);
  } catch (_) {
    return '?';
  }
}

/**
 * Checks that `text` is the key file of the credential authority this election names
 * (`def.authority`); throws a plain refusal otherwise. Returns its fingerprint.
 */
function checkAuthorityKey(wasm, text, def) {
  let info;
  try {
    info = JSON.parse(wasm.role_key_info(text));
  } catch (_) {
    throw new Error(t('authority.not_key_file'));
  }
  if (info.role !== 'authority') throw new Error(t('authority.key_not_authority'));
  const named = def.authority || {};
  if (!named.key || info.public_key !== String(named.key).toLowerCase()) {
    throw new Error(t('authority.key_not_named', {
      fingerprint: info.fingerprint,
      name: named.name || '?',
      named: fingerprintOf(named.key),
    }));
  }
  return info.fingerprint;
}

function csvField(value) {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function mailCommand() {
  return `scrutin credentials mail --server ${location.origin} --election ${id} --private ${jsonName()} --send-mail SMTP_HOST --mail-from YOU@EXAMPLE.ORG`;
}

function resendCommand() {
  return `scrutin credentials mail --server ${location.origin} --election ${id} --private ${jsonName()} --resend --token ACCESS_KEY --send-mail SMTP_HOST --mail-from YOU@EXAMPLE.ORG`;
}

function timeText(secs) {
  return new Date(secs * 1000).toLocaleString(document.documentElement.lang || undefined, {
    dateStyle: 'medium',
    timeStyle: 'short',
  });
}

/**
 * The officials' requests to send a voter's credential again (open election): the pending
 * ones and the command that mails them from the private file, which never leaves the
 * authority's machine; the server holds no credential to send.
 */
async function showResends() {
  const page = await apiWithRetry(`${base}/authority/resends`, { token }, 5, waiting);
  const requests = page.requests || [];
  const pending = requests.filter((r) => r.sent_at == null);
  $('#resends-text').textContent = pending.length
    ? t('authority.resends_pending', { n: pending.length })
    : t('authority.resends_none');
  $('#resends-table tbody').replaceChildren(...requests.map((r) => el('tr', { 'data-login': r.login },
    el('th', { scope: 'row', class: 'mono', text: r.login }),
    el('td', { text: r.email }),
    el('td', {
      text: r.sent_at == null
        ? t('authority.resend_asked', { when: timeText(r.requested_at) })
        : t('authority.resend_done', { when: timeText(r.sent_at) }),
    }))));
  $('#resends-wrap').hidden = !requests.length;
  $('#resend-command').textContent = resendCommand();
  $('#resends-cli').hidden = !pending.length;
  $('#resends').hidden = false;
}

function showFacts(pub) {
  const def = pub.definition || {};
  $('#heading').textContent = t('authority.heading_of', { title: def.title || id });
  document.title = t('authority.title_of', { title: def.title || id });
  $('#f-election').textContent = def.title ? `${def.title} (${id})` : id;
  const named = def.authority || {};
  $('#f-authority').textContent = named.name
    ? t('authority.named_as', { name: named.name, fingerprint: fingerprintOf(named.key) })
    : '';
  // The voter list is read only when credentials are to be generated.
  for (const e of $$('.voter-facts')) e.hidden = !voters;
  $('#f-voters').textContent = voters ? String(voters.length) : '';
  $('#f-weight').textContent = voters ? String(totalWeight(voters)) : '';
  $('#f-published').textContent = pub.credentials != null
    ? t('authority.published_count', { n: pub.credentials })
    : t('authority.not_yet');
  $('#who').hidden = false;
  $('#mail-command').textContent = mailCommand();
}

/** Decides what the page shows from the election's public view and the voter list. */
async function start() {
  showError('');
  if (!id) {
    showError(t('authority.no_election'));
    go('problem');
    return;
  }
  if (!token) {
    go('notoken');
    return;
  }
  try {
    wasmForFacts = await loadBooth().catch(() => null);
    const who = await whoAmI(id, token);
    if (who.role !== 'credential_authority') {
      showError(t('authority.not_authority'));
      forgetRoleToken('authority', id);
      token = null;
      go('notoken');
      return;
    }
    const pub = await publicElection(id);
    if (pub.credentials != null) {
      showFacts(pub);
      showPublished(pub.credentials, pub.credentials === (generated && generated.count) ? generated : null);
      if (pub.state === 'open') await showResends();
      return;
    }
    if (pub.state !== 'draft') {
      showFacts(pub);
      $('#waiting-text').textContent = t('authority.too_late');
      go('waiting');
      return;
    }
    announce(t('authority.fetching', { n: 0 }));
    voters = await fetchVoters();
    showFacts(pub);
    announce('');
    if (!voters.length) {
      $('#waiting-text').textContent = t('authority.no_voters');
      go('waiting');
      return;
    }
    const n = voters.length;
    $('#generate-text').textContent = t('authority.generate_text', { n, weight: totalWeight(voters) });
    $('#generate-button').textContent = t('authority.generate_button', { n });
    $('#mailing').hidden = false;
    showMonitorsToAsk(pub.definition);
    go('generate');
  } catch (e) {
    if (tokenRefused(e)) {
      forgetRoleToken('authority', id);
      token = null;
      showError(t('authority.token_refused'));
      go('notoken');
    } else {
      showError(failure(e));
      go('problem');
    }
  }
}

function failure(e) {
  return e && e.check ? withStop(errorText(e), t('authority.do_not_continue')) : errorText(e);
}

function showPublished(count, mine) {
  $('#published-text').textContent = t('authority.published_text', { n: count });
  $('#published-files').hidden = !mine;
  $('#published-earlier').hidden = !!mine;
  $('#mailing').hidden = false;
  go('published');
}

$('#generate-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const button = $('#generate-button');
  showError('');
  button.disabled = true;
  try {
    const keyText = await readFile($('#key-file'));
    announce(t('authority.verifying'));
    const [wasm, rec, pub] = await Promise.all([loadBooth(), record(id), publicElection(id)]);
    wasmForFacts = wasm;
    const fingerprint = checkAuthorityKey(wasm, keyText, pub.definition || {});
    await confirmRecord(wasm, rec, pub.definition);
    announce(t('authority.drawing', { n: voters.length, fingerprint }));
    // Let the status be painted before the (synchronous) drawing starts.
    await new Promise((r) => setTimeout(r, 30));
    const names = voters.map((v) => ({ name: v.login, weight: Number(v.weight) }));
    const out = JSON.parse(wasm.generate_credentials(rec, JSON.stringify(names), keyText));
    $('#key-file').value = '';
    const issued = JSON.parse(out.private);
    if (issued.length !== voters.length || issued.some((c, i) => c.voter !== voters[i].login)) {
      throw new Error(t('authority.mismatch'));
    }
    const kept = voters.map((v, i) => ({
      login: v.login,
      email: v.email,
      weight: Number(v.weight),
      credential: issued[i].credential,
      ...(v.language ? { language: v.language } : {}),
    }));
    const link = (c) => `${location.origin}/elections/${encodeURIComponent(id)}#credential=${c}`;
    const csv = ['login,email,credential,voting_link']
      .concat(kept.map((k) => [k.login, k.email, k.credential, link(k.credential)].map(csvField).join(',')))
      .join('\r\n') + '\r\n';
    generated = {
      json: JSON.stringify(kept, null, 2),
      csv,
      count: kept.length,
      weight: totalWeight(kept),
      list: out.event_body,
    };
    savedJson = false;
    $('#save-confirm').checked = false;
    $('#save-text').textContent = t('authority.save_text', { n: generated.count });
    $('#save-files').textContent = t('authority.save_files', { json: jsonName(), csv: csvName() });
    go('save');
    announce(t('authority.drawn', { n: generated.count }));
  } catch (e) {
    showError(failure(e));
    announce('');
  } finally {
    button.disabled = false;
  }
});

function downloadJson() {
  if (!generated) return;
  download(jsonName(), generated.json);
  savedJson = true;
  announce(t('authority.offered', { file: jsonName() }));
}

function downloadCsv() {
  if (!generated) return;
  download(csvName(), generated.csv, 'text/csv');
  announce(t('authority.offered', { file: csvName() }));
}

// ---- the record everybody sees (spec §14.4) ----

/** Before drawing: which monitors will be asked, or that there is none. */
function showMonitorsToAsk(def) {
  const box = $('#monitor-check');
  const monitors = monitorsOf(def);
  $('#monitor-retry').hidden = true;
  $('#monitor-list').replaceChildren();
  delete box.dataset.status;
  const summary = $('#monitor-summary');
  summary.className = monitors.length ? '' : 'notice';
  summary.textContent = monitors.length
    ? t('authority.monitors_to_ask', { list: monitors.join(', ') })
    : t('authority.monitors_none');
}

/**
 * Compares the last line of `rec` (the record just downloaded from this server) with the
 * line each monitor of the election holds at its position; throws a plain refusal naming
 * the first disagreement, alarm or monitor that could not be reached. Without monitors,
 * says that nothing confirms the record, and goes on.
 */
async function confirmRecord(wasm, rec, def) {
  const box = $('#monitor-check');
  const summary = $('#monitor-summary');
  const list = $('#monitor-list');
  const monitors = monitorsOf(def);
  $('#monitor-retry').hidden = true;
  list.replaceChildren();
  if (!monitors.length) {
    summary.className = 'notice';
    summary.textContent = t('authority.monitors_none');
    box.dataset.status = 'none';
    return;
  }
  const at = lastLine(rec);
  if (!at) throw new Error(t('authority.no_record_line'));
  announce(t('authority.monitors_checking'));
  summary.className = '';
  summary.textContent = t('authority.monitors_checking');
  delete box.dataset.status;
  const outcome = await compareLine({ id, at, monitors, wasm });
  showResults(list, outcome, 'authority.monitor_');
  if (outcome.ok) {
    summary.className = 'ok';
    summary.textContent = t('authority.monitors_agree', { n: monitors.length, seq: outcome.close.seq });
    box.dataset.status = 'agree';
    return;
  }
  const problem = firstProblem(outcome.results);
  box.dataset.status = problem.status;
  summary.className = 'bad';
  summary.textContent = t('authority.monitors_refused');
  $('#monitor-retry').hidden = false;
  throw new Error(t(`authority.refuse_${problem.status}`, resultVars(problem, outcome.close)));
}

$('#monitor-retry').addEventListener('click', () => {
  if (step !== 'generate' || $('#generate-button').disabled) return;
  $('#generate-form').requestSubmit();
});

$('#download-json').addEventListener('click', downloadJson);
$('#download-json-again').addEventListener('click', downloadJson);
$('#download-csv').addEventListener('click', downloadCsv);
$('#download-csv-again').addEventListener('click', downloadCsv);

$('#publish-button').addEventListener('click', async (ev) => {
  if (!generated) return;
  if (!savedJson) {
    showError(t('authority.save_first'));
    $('#download-json').focus();
    return;
  }
  if (!$('#save-confirm').checked) {
    showError(t('authority.confirm_first'));
    $('#save-confirm').focus();
    return;
  }
  const button = ev.currentTarget;
  showError('');
  button.disabled = true;
  try {
    announce(t('authority.publishing'));
    await post(`${base}/authority/credentials`, token, generated.list);
    const pub = await publicElection(id);
    showFacts(pub);
    showPublished(pub.credentials ?? generated.count, generated);
    announce(t('authority.published_done', { n: generated.count }));
  } catch (e) {
    showError(failure(e));
    announce('');
    if (tokenRefused(e)) {
      forgetRoleToken('authority', id);
      token = null;
      go('notoken');
    }
  } finally {
    button.disabled = false;
  }
});

for (const b of $$('button.refresh')) {
  b.addEventListener('click', () => {
    announce(t('common.loading'));
    start().then(() => { if (step !== 'generate') announce(''); });
  });
}

$('#resends-refresh').addEventListener('click', () => {
  showError('');
  showResends().catch((e) => showError(failure(e)));
});

$('#token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const value = $('#token-input').value.trim().toLowerCase();
  if (!isToken(value)) {
    showError(t('authority.token_invalid_format'));
    $('#token-input').setAttribute('aria-invalid', 'true');
    return;
  }
  $('#token-input').removeAttribute('aria-invalid');
  $('#token-input').value = '';
  token = value;
  rememberRoleToken('authority', id, token);
  start();
});

// Leaving while drawn credentials are not yet published loses them: the browser asks first.
window.addEventListener('beforeunload', (ev) => {
  if (step === 'save') ev.preventDefault();
});

window.addEventListener('hashchange', () => {
  const fresh = takeRoleToken('authority', id);
  if (fresh && fresh !== token && step !== 'save') {
    token = fresh;
    start();
  }
});

await start();
