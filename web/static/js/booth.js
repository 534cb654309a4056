// The voting booth, /elections/{id}: load the election and verify its record in the
// browser (WebAssembly, crates/booth), sign in with a one-time login code, take the voting
// credential (typed, or from #credential= in the URL fragment, which never reaches the
// server; the credential mail's link also carries #fingerprint=, and the page stops if the
// election it verified has another fingerprint), the choices with their rules, a review, the encryption, an optional Benaloh
// audit (the audited ballot is never cast; the choices are encrypted again), the cast and
// its receipt. The steps are entries of the browser's history (#step=NAME: Back and
// Forward move between them; an audited ballot is never shown for casting again). The
// credential and the choices are kept in this tab's sessionStorage only, so that a reload
// or a language switch keeps them; they are dropped once the ballot is cast and on sign-out.
// Before the choices, the server says whether this login may use the credential (only its
// public key is sent) and whether the login already voted. The voter sees their credential's weight; the
// receipt, signed by the board, is checked against the record downloaded afterwards and
// saved as a JSON file (`scrutin receipt check`). When the election names monitors, the
// board's head is compared with each monitor's before and after casting (the page's
// Content-Security-Policy lets it reach those origins only).
import { initI18n, t, currentLanguage } from './i18n.js';
import { api, apiWithRetry, ApiError, electionIdFromPath, fragmentParams } from './api.js';
import { $, $$, el, showStep, announce, showError, errorText, download, readFile, formatTime } from './ui.js';
import { loadBooth } from './booth-wasm.js';
import {
  renderQuestions,
  collectChoices,
  resetQuestions,
  choicesList,
  sameChoices,
} from './booth-questions.js';

// ---- state -------------------------------------------------------------------------

const id = electionIdFromPath();
const S = {
  info: null, // GET /api/elections/{id}
  booth: null, // BoothElection (verified record)
  wasm: null, // the booth module (parse_credential)
  definition: null,
  fingerprint: null,
  credential: null, // normalised credential, in memory only
  credentialFromLink: false,
  linkFingerprint: null, // the fingerprint the voter's mail link carries, if any
  weight: null, // the credential's weight on the signed list
  choices: null,
  encrypted: null, // {ballot, tracker, audit}
  pendingCast: false, // a 401 interrupted the cast: go back to it after signing in
  voterStatus: null, // GET /api/elections/{id}/voter: whether this login already voted
  login: '',
  codeRequested: false,
};

// Read the credential from the fragment first of all, and take it off the address bar
// (and out of the history entry) before anything else happens.
{
  const params = fragmentParams();
  const cred = params.get('credential');
  if (cred) {
    S.credential = cred.trim();
    S.credentialFromLink = true;
  }
  const fp = params.get('fingerprint');
  if (fp) S.linkFingerprint = fp.trim().toLowerCase();
  if (params.has('credential') || params.has('token') || params.has('fingerprint')) {
    const rest = params.has('check-audit') ? '#check-audit' : '';
    history.replaceState(history.state, '', location.pathname + location.search + rest);
  }
}

// ---- small helpers -----------------------------------------------------------------

const sessionKey = () => `scrutin.voter.${id}`;

function getSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(sessionKey()) || 'null');
    if (s && s.token && (!s.expires_at || s.expires_at > Date.now() / 1000 + 5)) return s;
  } catch (_) {
    /* unreadable: no session */
  }
  sessionStorage.removeItem(sessionKey());
  return null;
}

function setSession(s) {
  if (s) sessionStorage.setItem(sessionKey(), JSON.stringify(s));
  else sessionStorage.removeItem(sessionKey());
  const bar = $('#session-bar');
  bar.hidden = !s;
  $('#session-login').textContent = s ? s.login : '';
}

/** Shows an error in the alert region and brings it into view. */
function fail(text) {
  showError(text);
  if (text) $('#error').scrollIntoView({ block: 'nearest' });
}

function clearMessages() {
  showError('');
  announce('');
}

// ---- the steps in the browser's history ------------------------------------------

/** Steps with an entry in the history; the others (loading, encrypting, casting…) pass. */
const HISTORY_STEPS = new Set(['credential', 'questions', 'review', 'encrypted', 'audit', 'receipt', 'check-audit']);
/** Sign-in steps share one entry: once signed in, Back does not lead to them. */
const SIGN_IN_STEPS = new Set(['login', 'code']);
let currentStep = null;

/** The step the address names: #step=NAME, or #check-audit (the link for a second device). */
function stepFromHash() {
  if (location.hash === '#check-audit') return 'check-audit';
  const m = /^#step=([a-z-]+)$/.exec(location.hash);
  return m ? m[1] : null;
}

function stepUrl(step) {
  return location.pathname + location.search + (step === 'check-audit' ? '#check-audit' : `#step=${step}`);
}

/**
 * Records `step` in the history: `how` is 'push' (a new entry, unless the current one is
 * this step), 'replace' (rewrite the current entry) or 'none' (the history moved itself).
 * The first step shown, and the first after signing in, replace the entry they start from.
 */
function record(step, how) {
  if (how === 'none' || !(HISTORY_STEPS.has(step) || SIGN_IN_STEPS.has(step))) return;
  const prev = history.state && history.state.scrutinStep;
  const state = { scrutinStep: step };
  if (how === 'replace' || !prev || SIGN_IN_STEPS.has(step) || SIGN_IN_STEPS.has(prev)) {
    history.replaceState(state, '', stepUrl(step));
  } else if (prev !== step) {
    history.pushState(state, '', stepUrl(step));
  }
}

/** Goes to a step, clearing the previous step's messages, and records it in the history. */
function go(step, how = 'push') {
  clearMessages();
  const section = showStep(step);
  currentStep = step;
  record(step, how);
  return section;
}

/**
 * The step to show for `step`, given what this page still holds: a step whose data is gone
 * (a cast ballot's choices, an audited ballot) gives way to the one before it.
 */
function reachable(step) {
  if (step === 'check-audit') return step;
  if (!getSession()) return 'login';
  switch (step) {
    case 'receipt':
      return lastReceipt ? step : reachable('credential');
    case 'audit':
      return S.encrypted && S.encrypted.audited ? step : reachable('review');
    case 'encrypted':
      // An audited ballot can no longer be secret: it is never offered for casting again.
      return S.encrypted && !S.encrypted.audited ? step : reachable('review');
    case 'review':
      return S.choices ? step : reachable('questions');
    case 'questions':
      return S.credential && S.weight ? step : 'credential';
    default:
      return 'credential';
  }
}

/** Shows `step` with what it needs drawn again. */
function enterStep(step, how = 'push') {
  switch (step) {
    case 'credential':
      return showCredential(how);
    case 'questions':
      return showQuestions(how);
    case 'review':
      return showReview(how);
    case 'encrypted':
      return showEncrypted(how);
    case 'audit':
      return showAudit(how);
    case 'receipt':
      return renderReceipt(lastReceipt, how);
    default:
      return go(step, how);
  }
}

window.addEventListener('popstate', (ev) => {
  // Before the record is verified, or while encrypting or casting, the page goes on.
  if (!S.booth || currentStep === 'encrypting' || currentStep === 'casting') return;
  const wanted = (ev.state && ev.state.scrutinStep) || stepFromHash() || 'credential';
  // Going back before the encrypted ballot drops it, as "Change my choices" does.
  if (['credential', 'questions', 'review'].includes(wanted) && !S.pendingCast) S.encrypted = null;
  const step = reachable(wanted);
  enterStep(step, step === wanted ? 'none' : 'replace');
});

// ---- what survives a reload: this tab's sessionStorage only --------------------------

const draftKey = () => `scrutin.booth.${id}`;
const receiptKey = () => `scrutin.receipt.${id}`;

/** The state of every control of the questions' form, by id (or name and value). */
function formState() {
  const out = {};
  for (const e of $$('#questions input, #questions select, #questions textarea')) {
    const key = e.id || `${e.name}=${e.value}`;
    out[key] = e.type === 'checkbox' || e.type === 'radio' ? e.checked : e.value;
  }
  return out;
}

function restoreForm(state) {
  if (!state) return;
  for (const e of $$('#questions input, #questions select, #questions textarea')) {
    const key = e.id || `${e.name}=${e.value}`;
    if (!(key in state)) continue;
    if (e.type === 'checkbox' || e.type === 'radio') e.checked = Boolean(state[key]);
    else e.value = state[key];
    e.dispatchEvent(new Event('input', { bubbles: true }));
    e.dispatchEvent(new Event('change', { bubbles: true }));
  }
}

/**
 * Keeps the credential and the choices in sessionStorage (gone with the tab; never
 * localStorage, a cookie or the server), so that a reload or a language switch keeps them.
 */
function saveDraft() {
  if (restoring) return;
  try {
    if (!S.credential && !S.choices) {
      sessionStorage.removeItem(draftKey());
      return;
    }
    sessionStorage.setItem(draftKey(), JSON.stringify({
      credential: S.credential,
      fromLink: S.credentialFromLink,
      choices: S.choices,
      form: formState(),
    }));
  } catch (_) {
    /* storage full or refused: the page works without it */
  }
}

function clearDraft() {
  try {
    sessionStorage.removeItem(draftKey());
  } catch (_) {
    /* nothing kept */
  }
}

let restoring = false;

/** Takes back what saveDraft kept (the credential of a mail link comes first). */
function restoreDraft() {
  let draft = null;
  try {
    draft = JSON.parse(sessionStorage.getItem(draftKey()) || 'null');
    lastReceipt = JSON.parse(sessionStorage.getItem(receiptKey()) || 'null');
  } catch (_) {
    draft = null;
  }
  if (!draft) return;
  if (!S.credential && typeof draft.credential === 'string') {
    S.credential = draft.credential;
    S.credentialFromLink = Boolean(draft.fromLink);
  }
  if (S.credential) {
    try {
      S.weight = Number(S.booth.credential_weight(S.credential));
    } catch (_) {
      S.weight = null;
    }
  }
  restoring = true;
  try {
    restoreForm(draft.form);
  } finally {
    restoring = false;
  }
  if (Array.isArray(draft.choices) && S.weight) S.choices = draft.choices;
}

/** Lets the browser paint (progress bars) before a long synchronous computation. */
function nextPaint() {
  return new Promise((resolve) => {
    const done = () => setTimeout(resolve, 0);
    requestAnimationFrame(done);
    setTimeout(resolve, 100); // rAF does not run in a hidden tab
  });
}

/** "0123abcd…" → "0123 abcd …": groups of four, easier to read aloud or compare. */
function grouped(hex, size = 4) {
  return (hex || '').replace(new RegExp(`(.{${size}})(?=.)`, 'g'), '$1 ');
}

function fieldError(input, errorEl, text) {
  errorEl.textContent = text || '';
  errorEl.hidden = !text;
  if (text) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  } else {
    input.removeAttribute('aria-invalid');
  }
}

function secondsText(err) {
  return err.retryAfter || 30;
}

/** Runs `work` with `button` disabled; an unexpected failure is shown in the alert region. */
async function withButton(button, work) {
  if (button) button.disabled = true;
  try {
    return await work();
  } catch (e) {
    fail(errorText(e));
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- loading and verifying ---------------------------------------------------------

/**
 * The record up to and including its `open` event: all the booth needs (definition,
 * election key, credential list, fingerprint), verified in full by `BoothElection`
 * without downloading and re-verifying every ballot of a large election. Falls back to
 * the whole record if no `open` line is found.
 */
async function recordUntilOpen() {
  const path = `/api/elections/${encodeURIComponent(id)}/record`;
  let resp;
  try {
    resp = await fetch(path);
  } catch (e) {
    throw new ApiError(0, 'network', e.message || String(e));
  }
  if (!resp.ok || !resp.body) {
    // Let the API client turn the failure into an ApiError (and retry 429/503).
    return apiWithRetry(path, { raw: true }, 5, (s) => announce(t('common.error_busy', { seconds: s })));
  }
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let scanned = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (value) text += decoder.decode(value, { stream: true });
    if (done) text += decoder.decode();
    let nl;
    while ((nl = text.indexOf('\n', scanned)) !== -1) {
      const line = text.slice(scanned, nl);
      scanned = nl + 1;
      let type = null;
      try {
        type = JSON.parse(line).type;
      } catch (_) {
        /* a malformed line: the verifier will name it */
      }
      if (type === 'open') {
        reader.cancel().catch(() => {});
        return text.slice(0, scanned);
      }
    }
    if (done) return text;
  }
}

function showElectionInfo(info) {
  const def = info.definition || {};
  const title = def.title || id;
  const h1 = $('#election-title');
  h1.removeAttribute('data-i18n');
  h1.textContent = title;
  document.title = t('booth.page_title', { title });
  const desc = $('#election-description');
  desc.replaceChildren();
  for (const para of (def.description || '').split(/\n\s*\n/)) {
    if (para.trim()) desc.append(el('p', { text: para.trim() }));
  }
  $('#lookup-form').action = `/elections/${encodeURIComponent(id)}/board`;
  const sched = $('#election-schedule');
  if (info.state === 'open' && info.closes_at) {
    sched.textContent = t('booth.closes_at', { time: formatTime(info.closes_at, currentLanguage()) });
    sched.hidden = false;
  }
  setFingerprint(info.fingerprint);
  $('#election-info').hidden = false;
}

function setFingerprint(fp) {
  if (!fp) {
    $('.fp-line').hidden = true;
    return;
  }
  $('.fp-line').hidden = false;
  $('#fp-short').textContent = grouped(fp.slice(0, 16)) + ' …';
  $('#fp-full').textContent = grouped(fp);
}

function showClosed(info) {
  const text = $('#closed-text');
  const heading = $('#closed-heading');
  const lang = currentLanguage();
  $('#closed-result').hidden = true;
  switch (info.state) {
    case 'draft':
      heading.textContent = t('booth.not_open_heading');
      text.textContent = info.opens_at
        ? t('booth.not_open_at', { time: formatTime(info.opens_at, lang) })
        : t('booth.not_open');
      break;
    case 'closed':
      heading.textContent = t('booth.closed_heading_closed');
      text.textContent = info.closes_at
        ? t('booth.closed_at', { time: formatTime(info.closes_at, lang) })
        : t('booth.closed');
      break;
    case 'tallied':
    case 'archived':
      heading.textContent = t('booth.closed_heading_tallied');
      text.textContent = t(info.state === 'tallied' ? 'booth.tallied' : 'booth.archived');
      $('#closed-result-link').href = `/elections/${encodeURIComponent(id)}/result`;
      $('#closed-result').hidden = false;
      break;
    default:
      heading.textContent = t('booth.closed_heading');
      text.textContent = t('booth.not_votable', { state: info.state });
  }
  go('closed');
}

async function load() {
  if (!id) {
    go('missing');
    return;
  }
  $('#lookup-form').action = `/elections/${encodeURIComponent(id)}/board`;
  try {
    S.info = await apiWithRetry(`/api/elections/${encodeURIComponent(id)}`, {}, 5, (s) =>
      announce(t('common.error_busy', { seconds: s })),
    );
  } catch (e) {
    if (e.status === 404) go('missing');
    else fail(errorText(e));
    return;
  }
  showElectionInfo(S.info);
  if (S.info.state !== 'open') {
    showClosed(S.info);
    return;
  }
  $('#loading-text').textContent = t('booth.loading_record');
  let record;
  try {
    [record, S.wasm] = await Promise.all([recordUntilOpen(), loadBooth()]);
  } catch (e) {
    fail(errorText(e));
    return;
  }
  $('#loading-text').textContent = t('booth.loading_verify');
  await nextPaint();
  try {
    S.booth = new S.wasm.BoothElection(record);
    S.definition = JSON.parse(S.booth.definition_json());
    S.fingerprint = S.booth.fingerprint();
  } catch (e) {
    $('#failed-detail').textContent = errorText(e);
    go('failed');
    return;
  }
  if (S.info.fingerprint && S.info.fingerprint !== S.fingerprint) {
    $('#failed-detail').textContent = t('booth.fingerprint_mismatch');
    go('failed');
    return;
  }
  // The link of the voter's mail names the election it was sent for: a page that loads
  // another election (a look-alike server, a swapped id) stops here, credential unused.
  if (S.linkFingerprint && S.linkFingerprint !== S.fingerprint) {
    S.credential = null;
    S.credentialFromLink = false;
    $('#failed-detail').textContent = t('booth.link_fingerprint_mismatch', {
      expected: S.linkFingerprint.slice(0, 64),
      actual: S.fingerprint,
    });
    go('failed');
    return;
  }
  // What is shown from now on comes from the verified record.
  setFingerprint(S.fingerprint);
  renderQuestions($('#questions'), S.definition.questions);
  const deviceLink = $('#audit-device-link');
  deviceLink.href = `${location.origin}/elections/${encodeURIComponent(id)}#check-audit`;
  deviceLink.textContent = deviceLink.href;
  $('#audit-cli').textContent =
    `curl -o record.jsonl ${location.origin}/api/elections/${encodeURIComponent(id)}/record\n` +
    'scrutin ballot check-audit --record record.jsonl audit.json';
  const verified = t('booth.verified', { events: JSON.parse(S.booth.report()).events });
  restoreDraft();
  saveDraft();
  const wanted = stepFromHash();
  if (wanted === 'check-audit') go('check-audit', 'replace');
  else startVoting(wanted);
  announce(verified);
  compareMonitors('before').catch(() => {});
}

/** Sign-in if needed, then the credential (or the step `wanted`, when it can be shown). */
function startVoting(wanted = null) {
  const session = getSession();
  setSession(session);
  if (!session) {
    go('login');
    return;
  }
  if (S.pendingCast && S.encrypted) {
    S.pendingCast = false;
    showEncrypted();
    return;
  }
  const step = reachable(wanted || 'credential');
  if (step !== 'credential') showVoterStatus();
  enterStep(step);
}

/**
 * Asks the server whether this login already voted; if so, the credential and choices
 * steps say so, and that a new ballot replaces the last one.
 */
async function showVoterStatus() {
  const session = getSession();
  if (!session) return;
  try {
    S.voterStatus = await api(`/api/elections/${encodeURIComponent(id)}/voter`, { token: session.token });
  } catch (_) {
    S.voterStatus = null;
  }
  renderVoterStatus();
}

function renderVoterStatus() {
  const st = S.voterStatus;
  const last = st && st.voted && st.last_ballot;
  const text = last
    ? t('booth.already_voted', { seq: last.seq, tracker: grouped(last.tracker.slice(0, 16)) })
    : '';
  for (const n of [$('#revote-notice'), $('#revote-notice-choices')]) {
    n.textContent = text;
    n.hidden = !text;
  }
}

// ---- sign in -----------------------------------------------------------------------

async function requestCode(button, again) {
  const input = $('#login');
  const login = input.value.trim();
  if (!login) {
    fieldError(input, $('#login-error'), t('booth.login_required'));
    return;
  }
  fieldError(input, $('#login-error'), '');
  clearMessages();
  await withButton(button, async () => {
    try {
      await api(`/api/elections/${encodeURIComponent(id)}/login`, { json: { login } });
    } catch (e) {
      if (e.status === 429) fail(t('booth.too_many_codes', { seconds: secondsText(e) }));
      else if (e.code === 'election_not_open') fail(t('booth.not_open_anymore'));
      else fail(errorText(e));
      return;
    }
    S.login = login;
    S.codeRequested = true;
    const section = go('code');
    $('#code').value = '';
    fieldError($('#code'), $('#code-error'), '');
    announce(again ? t('booth.code_resent') : t('booth.code_sent'));
    if (again) $('#code').focus();
    return section;
  });
}

async function verifyCode(button) {
  const input = $('#code');
  const code = input.value.replace(/[\s-]/g, '');
  if (!/^[0-9]{4,12}$/.test(code)) {
    fieldError(input, $('#code-error'), t('booth.code_format'));
    return;
  }
  fieldError(input, $('#code-error'), '');
  clearMessages();
  await withButton(button, async () => {
    let r;
    try {
      r = await api(`/api/elections/${encodeURIComponent(id)}/verify-code`, { json: { login: S.login, code } });
    } catch (e) {
      let text;
      if (e.code === 'invalid_code') {
        const m = /(\d+)/.exec(e.message || '');
        text = m ? t(m[1] === '1' ? 'booth.code_wrong_one' : 'booth.code_wrong', { n: m[1] }) : t('booth.code_wrong_generic');
      } else if (e.code === 'code_locked') text = t('booth.code_locked');
      else if (e.status === 429) text = t('booth.too_many_attempts', { seconds: secondsText(e) });
      else if (e.code === 'election_not_open') text = t('booth.not_open_anymore');
      else text = errorText(e);
      fieldError(input, $('#code-error'), text);
      return;
    }
    input.value = '';
    setSession({ token: r.token, expires_at: r.expires_at, login: S.login });
    startVoting();
    announce(t('booth.signed_in', { login: S.login }));
  });
}

async function logout() {
  const session = getSession();
  setSession(null);
  forgetSecrets();
  lastReceipt = null;
  S.voterStatus = null;
  renderVoterStatus();
  try {
    sessionStorage.removeItem(receiptKey());
  } catch (_) {
    /* nothing kept */
  }
  if (session) {
    try {
      await api(`/api/elections/${encodeURIComponent(id)}/logout`, { token: session.token, method: 'POST' });
    } catch (_) {
      /* the session is gone from this page anyway */
    }
  }
  $('#login').value = '';
  go('login');
  announce(t('booth.signed_out'));
}

// ---- credential --------------------------------------------------------------------

const SYMBOLS = 24;

/** {ok, text, normalised} for the credential as typed. */
function checkCredential(text) {
  const typed = text.trim();
  if (!typed) return { ok: false, empty: true, text: '' };
  try {
    const normalised = S.wasm.parse_credential(typed);
    return { ok: true, normalised, text: t('booth.cred_ok', { credential: normalised }) };
  } catch (e) {
    const msg = e.message || '';
    let m;
    if ((m = /found (\d+)/.exec(msg))) {
      const n = Number(m[1]);
      if (n < SYMBOLS) return { ok: false, partial: true, text: t('booth.cred_partial', { n, total: SYMBOLS }) };
      return { ok: false, text: t('booth.cred_too_long', { n, total: SYMBOLS }) };
    }
    if ((m = /'(.+)' cannot appear/.exec(msg))) return { ok: false, text: t('booth.cred_bad_char', { c: m[1] }) };
    if (/checksum/.test(msg)) return { ok: false, text: t('booth.cred_checksum') };
    if (/too long/.test(msg)) return { ok: false, text: t('booth.cred_too_long', { n: '>' + SYMBOLS, total: SYMBOLS }) };
    return { ok: false, text: msg };
  }
}

function credentialFeedback(final) {
  const input = $('#credential');
  const fb = $('#credential-feedback');
  const c = checkCredential(input.value);
  fb.textContent = c.empty && final ? t('booth.cred_required') : c.text;
  fb.classList.toggle('ok', c.ok);
  const bad = !c.ok && (final || !(c.partial || c.empty));
  fb.classList.toggle('bad', bad);
  if (bad) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
  return c;
}

function showCredential(how = 'push') {
  const input = $('#credential');
  input.value = S.credential || '';
  $('#credential-from-link').hidden = !(S.credentialFromLink && S.credential);
  const section = go('credential', how);
  showVoterStatus();
  if (input.value) credentialFeedback(false);
  else $('#credential-feedback').textContent = '';
  return section;
}

/** Marks the credential field as refused, with `text`. */
function refuseCredential(text) {
  const fb = $('#credential-feedback');
  fb.textContent = text;
  fb.classList.remove('ok');
  fb.classList.add('bad');
  $('#credential').setAttribute('aria-invalid', 'true');
  $('#credential').focus();
}

/**
 * Asks the server whether this login may cast with the credential: only its public key
 * is sent. Returns the refusal's text, or null when it may (or when the server cannot say:
 * the cast checks it again).
 */
async function credentialRefusal(normalised) {
  const session = getSession();
  if (!session || typeof S.booth.credential_public_key !== 'function') return null;
  let key;
  try {
    key = S.booth.credential_public_key(normalised);
  } catch (_) {
    return null;
  }
  let r;
  try {
    r = await api(`/api/elections/${encodeURIComponent(id)}/voter/credential`, {
      token: session.token,
      json: { credential: key },
    });
  } catch (e) {
    if (e.status === 401) {
      setSession(null);
      return t('booth.session_expired_signin');
    }
    return null;
  }
  if (r.status === 'another_login') return t('booth.cast_credential_taken');
  if (r.status === 'login_uses_another') return t('booth.cast_other_credential');
  return null;
}

async function submitCredential() {
  const c = credentialFeedback(true);
  if (!c.ok) {
    $('#credential').focus();
    return;
  }
  let weight;
  try {
    weight = Number(S.booth.credential_weight(c.normalised));
  } catch (_) {
    refuseCredential(t('booth.cred_not_listed'));
    return;
  }
  const refusal = await credentialRefusal(c.normalised);
  if (refusal && !getSession()) {
    // The session expired: sign in again, then the credential step comes back.
    startVoting();
    fail(refusal);
    return;
  }
  if (refusal) {
    refuseCredential(refusal);
    return;
  }
  S.credential = c.normalised;
  S.weight = weight;
  $('#credential').value = c.normalised;
  saveDraft();
  showQuestions();
  if (weight > 1) announce(t('booth.weight_notice', { n: weight }));
}

function showQuestions(how = 'push') {
  const weight = S.weight;
  const notice = $('#weight-notice');
  notice.hidden = !(weight > 1);
  notice.textContent = weight > 1 ? t('booth.weight_notice', { n: weight }) : '';
  return go('questions', how);
}

// ---- choices, review ---------------------------------------------------------------

function submitChoices() {
  const { choices, invalid } = collectChoices($('#questions'), S.definition.questions);
  if (invalid.length) {
    fail(invalid.length === 1 ? t('booth.err_summary_one') : t('booth.err_summary', { n: invalid.length }));
    const first = invalid[0].querySelector('input, select');
    if (first) first.focus();
    return;
  }
  S.choices = choices;
  saveDraft();
  showReview();
}

function showReview(how = 'push') {
  const list = $('#review-list');
  list.replaceChildren(choicesList(S.definition.questions, S.choices));
  $('#review-weight').textContent = t(S.weight > 1 ? 'booth.review_weight' : 'booth.review_weight_one', { n: S.weight });
  return go('review', how);
}

// ---- encryption and audit ------------------------------------------------------------

async function encrypt() {
  const bar = $('#encrypt-progress');
  const label = $('#encrypt-step');
  const stepTo = async (value, key) => {
    bar.value = value;
    label.textContent = t(key);
    announce(t(key));
    await nextPaint();
  };
  S.encrypted = null;
  go('encrypting');
  try {
    await stepTo(10, 'booth.enc_credential');
    S.wasm.parse_credential(S.credential);
    await stepTo(30, 'booth.enc_encrypting');
    const out = JSON.parse(S.booth.encrypt(S.credential, JSON.stringify(S.choices)));
    await stepTo(90, 'booth.enc_checking');
    // The audit data must open to the choices just made (a self-check of this device).
    const opened = JSON.parse(S.booth.check_audit(JSON.stringify(out.audit)));
    if (!sameChoices(opened, S.choices)) throw new Error(t('booth.enc_mismatch'));
    await stepTo(100, 'booth.enc_done');
    S.encrypted = out;
  } catch (e) {
    go('review');
    fail(t('booth.enc_failed', { message: errorText(e) }));
    return;
  }
  showEncrypted();
}

function showEncrypted(how = 'push') {
  $('#enc-tracker').textContent = grouped(S.encrypted.tracker);
  $('#enc-tracker').dataset.tracker = S.encrypted.tracker;
  const section = go('encrypted', how);
  announce(t('booth.encrypted_status'));
  return section;
}

function auditResult(host, audit, expected) {
  host.replaceChildren();
  let opened;
  try {
    opened = JSON.parse(S.booth.check_audit(typeof audit === 'string' ? audit : JSON.stringify(audit)));
  } catch (e) {
    host.append(el('p', { class: 'audit-bad', role: 'alert', text: t('booth.audit_invalid', { message: errorText(e) }) }));
    return null;
  }
  const box = el('div', { class: 'banner-ok audit-ok' });
  box.append(el('p', { text: t('booth.audit_valid') }));
  box.append(choicesList(S.definition.questions, opened));
  host.append(box);
  if (!expected) {
    // On a second device: the tracker ties this audit data to the ballot the voter saw.
    const tracker = S.booth.audit_tracker(typeof audit === 'string' ? audit : JSON.stringify(audit));
    host.append(
      el('p', { text: t('booth.audit_tracker') }),
      el('p', { class: 'tracker tracker-grouped', id: 'check-audit-tracker', text: grouped(tracker) }),
      el('p', { text: t('booth.audit_compare_tracker') }),
    );
  }
  if (expected) {
    if (sameChoices(opened, expected)) {
      host.append(el('p', { class: 'ok audit-match', text: t('booth.audit_match') }));
    } else {
      host.append(el('p', { class: 'bad audit-mismatch', role: 'alert', text: t('booth.audit_mismatch') }));
    }
  }
  return opened;
}

function showAudit(how = 'push') {
  const enc = S.encrypted;
  // Opened, this ballot can no longer be secret: it is never cast (see reachable()).
  enc.audited = true;
  const text = JSON.stringify(enc.audit, null, 2);
  $('#audit-data').value = text;
  go('audit', how);
  const host = $('#audit-result');
  host.replaceChildren();
  host.append(
    el('p', { text: t('booth.audit_tracker') }),
    el('p', { class: 'tracker tracker-grouped', id: 'audit-tracker', text: grouped(enc.tracker) }),
  );
  const inner = el('div');
  host.append(inner);
  auditResult(inner, enc.audit, S.choices);
  announce(t('booth.audit_status'));
}

async function reencrypt() {
  // The audited ballot is spoiled: forget it entirely before making a fresh one.
  S.encrypted = null;
  $('#audit-data').value = '';
  $('#audit-result').replaceChildren();
  await encrypt();
}

// ---- casting and the receipt -------------------------------------------------------

async function cast() {
  const session = getSession();
  if (!session) {
    S.pendingCast = true;
    setSession(null);
    go('login');
    fail(t('booth.session_expired'));
    return;
  }
  go('casting');
  announce(t('booth.casting_text'));
  if (!(await compareMonitors('before'))) {
    go('encrypted');
    fail(t('booth.monitor_stop'));
    $('#monitor-check').scrollIntoView({ block: 'nearest' });
    return;
  }
  let receipt;
  try {
    receipt = await apiWithRetry(
      `/api/elections/${encodeURIComponent(id)}/ballots`,
      { token: session.token, json: S.encrypted.ballot },
      6,
      (s) => announce(t('common.error_busy', { seconds: s })),
    );
  } catch (e) {
    if (e.status === 401) {
      // The session expired: keep the encrypted ballot, sign in again, then cast it.
      S.pendingCast = true;
      setSession(null);
      $('#login').value = session.login || '';
      go('login');
      fail(t('booth.session_expired'));
      return;
    }
    go('encrypted');
    if (e.code === 'election_not_open' || e.code === 'wrong_election_stage') fail(t('booth.cast_closed'));
    else if (e.status === 403 && /another credential/.test(e.message)) fail(t('booth.cast_other_credential'));
    else if (e.status === 403 && /another login/.test(e.message)) fail(t('booth.cast_credential_taken'));
    else fail(t('booth.cast_failed', { message: errorText(e) }));
    return;
  }
  showReceipt(receipt);
}

let lastReceipt = null;

function showReceipt(receipt) {
  const expectedTracker = S.encrypted.tracker;
  lastReceipt = receipt;
  try {
    sessionStorage.setItem(receiptKey(), JSON.stringify(receipt));
  } catch (_) {
    /* the receipt file can still be downloaded */
  }
  // The ballot is on the board: nothing secret is needed any more.
  forgetSecrets();
  // The cast ballot replaces the encrypted one in the history.
  renderReceipt(receipt, 'replace');
  const check = $('#receipt-board-check');
  if (receipt.tracker !== expectedTracker || receipt.election !== S.fingerprint) {
    check.className = 'bad';
    check.textContent = t('booth.receipt_mismatch');
    return;
  }
  announce(t('booth.receipt_status'));
  checkReceipt(receipt).then(() => compareMonitors('after')).catch(() => {});
}

/** Shows a receipt (after the cast, or kept by this tab across a reload). */
function renderReceipt(receipt, how = 'push') {
  $('#receipt-tracker').textContent = grouped(receipt.tracker);
  $('#receipt-tracker').dataset.tracker = receipt.tracker;
  $('#receipt-seq').textContent = String(receipt.seq);
  $('#receipt-weight').textContent = t(Number(receipt.weight) > 1 ? 'booth.weight_times' : 'booth.weight_once', { n: receipt.weight });
  $('#receipt-head').textContent = grouped(receipt.head);
  $('#receipt-election').textContent = grouped(receipt.election);
  const boardLink = $('#receipt-board-link');
  boardLink.href = `/elections/${encodeURIComponent(id)}/board?tracker=${receipt.tracker}`;
  const check = $('#receipt-board-check');
  check.className = '';
  check.textContent = '';
  const section = go('receipt', how);
  if (how !== 'replace') checkReceipt(receipt).catch(() => {});
  return section;
}

/**
 * Downloads the record as it is now and checks the signed receipt against it (the booth
 * module verifies the record and the board's signature): the ballot must be at the
 * receipt's position, with the receipt's weight.
 */
async function checkReceipt(receipt) {
  const check = $('#receipt-board-check');
  const show = (cls, text) => {
    check.className = cls;
    check.textContent = text;
  };
  show('', t('booth.receipt_checking'));
  try {
    const rec = await apiWithRetry(`/api/elections/${encodeURIComponent(id)}/record`, { raw: true, cache: 'no-cache' }, 3);
    await nextPaint();
    const out = JSON.parse(S.wasm.check_receipt(rec, JSON.stringify(receipt)));
    const seq = out.seq;
    switch (out.status) {
      case 'on_record':
        show('ok', t('booth.receipt_on_record', { seq }));
        break;
      case 'replaced':
        show('ok', t('booth.receipt_replaced', { seq, later: out.replaced_by }));
        break;
      case 'not_yet':
        show('bad', t('booth.receipt_not_yet', { seq, length: out.length }));
        break;
      case 'missing':
        show('bad', t('booth.receipt_missing', { seq }));
        break;
      case 'wrong_weight':
        show('bad', t('booth.receipt_wrong_weight', { weight: out.weight, listed: out.listed }));
        break;
      default:
        show('bad', t('booth.receipt_check_failed', { message: out.status }));
    }
  } catch (e) {
    show('bad', t('booth.receipt_check_failed', { message: errorText(e) }));
  }
}

// ---- monitors ------------------------------------------------------------------------

const electionPath = () => `/api/elections/${encodeURIComponent(id)}`;

async function getJson(url) {
  const r = await fetch(url, { cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.json();
}

/** The hash of line `k` − 1 of the record served at `base` (the board: '', or a monitor). */
async function lineHash(base, k) {
  const r = await fetch(`${base}${electionPath()}/record?from=${k - 1}`, {
    cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
  });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  const text = await r.text();
  const nl = text.indexOf('\n');
  if (nl < 0) throw new Error('no line');
  return S.wasm.record_head(text.slice(0, nl + 1), 1);
}

/**
 * Whether the monitor at `base` holds the same chain as the board: the heads must be equal
 * at the shorter of the two lengths. Returns 'agree', 'disagree' or 'unreachable'.
 */
async function compareWith(base, board) {
  let mine;
  try {
    mine = await getJson(`${base}${electionPath()}/head`);
  } catch (_) {
    return 'unreachable';
  }
  const n1 = Number(board.events);
  const n2 = Number(mine.events);
  if (!Number.isInteger(n2) || n2 < 0) return 'unreachable';
  try {
    if (n1 === 0 || n2 === 0) return 'agree';
    if (n1 === n2) return board.head === mine.head ? 'agree' : 'disagree';
    if (n2 < n1) return (await lineHash('', n2)) === mine.head ? 'agree' : 'disagree';
    return (await lineHash(base, n1)) === board.head ? 'agree' : 'disagree';
  } catch (_) {
    return 'unreachable';
  }
}

/**
 * Compares the board's head with each monitor the election names (`phase`: 'before' or
 * 'after' casting) and shows the outcome; returns false if a monitor disagrees.
 */
async function compareMonitors(phase) {
  const monitors = (S.definition && S.definition.monitors) || [];
  if (!monitors.length) return true;
  const box = $('#monitor-check');
  const summary = $('#monitor-summary');
  let board;
  try {
    board = await getJson(`${electionPath()}/head`);
  } catch (e) {
    return true; // the board itself cannot be reached: the cast will say so
  }
  const results = await Promise.all(monitors.map(async (m) => {
    const base = m.replace(/\/+$/, '');
    return { monitor: m, status: await compareWith(base, board) };
  }));
  const disagree = results.filter((r) => r.status === 'disagree');
  const unreachable = results.filter((r) => r.status === 'unreachable');
  $('#monitor-list').replaceChildren(...results.map((r) => el('li', {
    class: r.status === 'agree' ? 'ok' : 'bad',
    'data-status': r.status,
    text: t(`booth.monitor_${r.status}`, { monitor: r.monitor }),
  })));
  if (disagree.length) {
    summary.className = 'bad';
    summary.setAttribute('role', 'alert');
    summary.textContent = t(disagree.length === 1 ? 'booth.monitors_disagree_one' : 'booth.monitors_disagree', { n: disagree.length });
  } else {
    summary.className = unreachable.length ? '' : 'ok';
    summary.removeAttribute('role');
    summary.textContent = t(phase === 'before' ? 'booth.monitors_agree_before' : 'booth.monitors_agree_after', {
      n: results.length - unreachable.length,
    });
  }
  box.dataset.phase = phase;
  box.dataset.status = disagree.length ? 'disagree' : 'agree';
  box.hidden = false;
  return disagree.length === 0;
}

/** Drops the credential, the choices and the encrypted ballot from memory and the form. */
function forgetSecrets() {
  S.credential = null;
  S.credentialFromLink = false;
  S.choices = null;
  S.encrypted = null;
  S.pendingCast = false;
  S.weight = null;
  $('#weight-notice').hidden = true;
  $('#weight-notice').textContent = '';
  $('#review-weight').textContent = '';
  $('#credential').value = '';
  $('#credential-feedback').textContent = '';
  $('#audit-data').value = '';
  $('#audit-result').replaceChildren();
  $('#review-list').replaceChildren();
  $('#enc-tracker').textContent = '';
  if (S.definition) resetQuestions($('#questions'), S.definition.questions);
  clearDraft();
}

// ---- checking audit data from another device ---------------------------------------

async function checkAuditData(button) {
  const host = $('#check-result');
  host.replaceChildren();
  clearMessages();
  await withButton(button, async () => {
    let text = $('#check-data').value.trim();
    const file = $('#check-file');
    if (!text && file.files && file.files[0]) {
      try {
        text = (await readFile(file)).trim();
      } catch (e) {
        host.append(el('p', { class: 'audit-bad', role: 'alert', text: errorText(e) }));
        return;
      }
    }
    if (!text) {
      host.append(el('p', { class: 'audit-bad', role: 'alert', text: t('booth.check_empty') }));
      return;
    }
    if (auditResult(host, text, null)) announce(t('booth.audit_valid'));
  });
}

// ---- tracker lookup ----------------------------------------------------------------

function lookup(ev) {
  ev.preventDefault();
  const input = $('#lookup-tracker');
  const tracker = input.value.replace(/\s+/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(tracker)) {
    fieldError(input, $('#lookup-error'), t('booth.lookup_invalid'));
    return;
  }
  fieldError(input, $('#lookup-error'), '');
  location.href = `/elections/${encodeURIComponent(id)}/board?tracker=${tracker}`;
}

// ---- wiring ------------------------------------------------------------------------

function wire() {
  $('#login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    requestCode($('#send-code'), false);
  });
  $('#code-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    verifyCode($('#verify-code'));
  });
  $('#resend-code').addEventListener('click', (ev) => requestCode(ev.currentTarget, true));
  $('#change-login').addEventListener('click', () => {
    go('login');
    $('#login').select();
  });
  $('#logout').addEventListener('click', logout);
  $('#receipt-logout').addEventListener('click', logout);
  $('#credential').addEventListener('input', () => credentialFeedback(false));
  $('#credential-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitCredential();
  });
  // Each change of the choices is kept for a reload (sessionStorage, this tab only).
  $('#choices-form').addEventListener('change', saveDraft);
  $('#choices-form').addEventListener('input', saveDraft);
  $('#choices-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitChoices();
  });
  $('#change-choices').addEventListener('click', () => go('questions'));
  $('#encrypted-change').addEventListener('click', () => {
    S.encrypted = null;
    go('questions');
  });
  $('#encrypt').addEventListener('click', (ev) => withButton(ev.currentTarget, encrypt));
  $('#audit').addEventListener('click', showAudit);
  $('#reencrypt').addEventListener('click', (ev) => withButton(ev.currentTarget, reencrypt));
  $('#cast').addEventListener('click', (ev) => withButton(ev.currentTarget, cast));
  $('#audit-download').addEventListener('click', () => {
    if (!S.encrypted) return;
    download(`audit-${id}-${S.encrypted.tracker.slice(0, 8)}.json`, $('#audit-data').value);
  });
  $('#audit-copy').addEventListener('click', async () => {
    const ta = $('#audit-data');
    try {
      await navigator.clipboard.writeText(ta.value);
      announce(t('booth.copied'));
    } catch (_) {
      ta.focus();
      ta.select();
      announce(t('booth.copy_select'));
    }
  });
  $('#receipt-download').addEventListener('click', () => {
    if (lastReceipt) download(`receipt-${id}-${lastReceipt.tracker.slice(0, 8)}.json`, `${JSON.stringify(lastReceipt, null, 2)}\n`);
  });
  $('#receipt-print').addEventListener('click', () => window.print());
  $('#revote').addEventListener('click', () => {
    lastReceipt = null;
    try {
      sessionStorage.removeItem(receiptKey());
    } catch (_) {
      /* nothing kept */
    }
    clearMessages();
    startVoting();
  });
  $('#link-check-audit').addEventListener('click', (ev) => {
    ev.preventDefault();
    if (!S.booth) return;
    go('check-audit');
  });
  $('#check-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    checkAuditData($('#check-run'));
  });
  $('#check-back').addEventListener('click', () => {
    $('#check-result').replaceChildren();
    $('#check-data').value = '';
    startVoting();
  });
  $('#lookup-form').addEventListener('submit', lookup);
}

/** The election's pages, as on the board, result and verify pages. */
function setNav() {
  const nav = $('#election-nav');
  if (!id) {
    nav.hidden = true;
    return;
  }
  const base = `/elections/${encodeURIComponent(id)}`;
  $('#nav-vote').href = base;
  $('#nav-board').href = `${base}/board`;
  $('#nav-result').href = `${base}/result`;
  $('#nav-verify').href = `${base}/verify`;
}

await initI18n(['booth']);
setNav();
wire();
showStep('loading');
load().catch((e) => fail(errorText(e)));
