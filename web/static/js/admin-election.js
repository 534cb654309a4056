// One election, as its officials see it: overview and public links, schedule, voter-list
// import (all or nothing), the roll (search, add, change, remove in a draft; who voted and
// the mail status while voting; CSV export), role links and ceremony progress,
// open/close/tally, turnout (counts only), mail status, audit log and the fixed definition. Refreshes itself while the page is visible.
// Before asking for the tally, the page compares the `close` line of the record with each
// monitor the election names (monitors.js, spec §14.4) and refuses on any disagreement.
import { t } from './i18n.js';
import { $, $$, el, announce, showError, download, listOf } from './ui.js';
import {
  adminApi, publicApi, explain, electionPath, toLocalInput, fromLocalInput, timeText, num,
  timeZone, confirmAction, copyText, ApiError, notices,
} from './admin-common.js';
import { apiWithRetry } from './api.js';
import { prefillToml } from './admin-create.js';
import { loadBooth } from './booth-wasm.js';
import { compareClose, monitorsOf, showResults, firstProblem, resultVars } from './monitors.js';

const POLL_MS = 4000;
const AUDIT_PAGE = 50;

let current = null;
let timer = null;
let wired = false;

const pct = (part, whole) => (whole > 0 ? Math.round((1000 * part) / whole) / 10 : 0);

function setFact(id, text, value) {
  const dd = $(`#${id}`);
  dd.textContent = text;
  if (value !== undefined) dd.dataset.value = String(value);
  return dd;
}

// ---- loading ----

let wasm = null; // the booth module: fingerprints of the keys the definition names

async function fetchAll(id) {
  const [admin, pub, mail, trustees, booth] = await Promise.all([
    adminApi(electionPath(id)),
    publicApi(`/api/elections/${encodeURIComponent(id)}`),
    adminApi(electionPath(id, '/mail-status')),
    adminApi(electionPath(id, '/trustees')),
    wasm ? Promise.resolve(wasm) : loadBooth().catch(() => null),
  ]);
  wasm = booth;
  return { admin, pub, mail, trustees: trustees.trustees || [] };
}

/** The fingerprint of a public role key, '?' if it cannot be computed. */
function fingerprintOf(key) {
  try {
    return wasm && key ? wasm.key_fingerprint(key) : '?';
  } catch (_) {
    return '?';
  }
}

/**
 * Reloads everything shown; `quiet` for the periodic refresh (no announcement). A call made
 * while a refresh is running waits for it and runs once more after it.
 */
export function refresh(opts = {}) {
  const c = current;
  if (!c) return Promise.resolve();
  if (c.inflight) {
    c.queued ||= c.inflight.then(() => {
      c.queued = null;
      return current === c ? refresh(opts) : undefined;
    });
    return c.queued;
  }
  c.inflight = doRefresh(opts).finally(() => { c.inflight = null; });
  return c.inflight;
}

async function doRefresh({ quiet = false } = {}) {
  const id = current.id;
  try {
    const data = await fetchAll(id);
    if (!current || current.id !== id) return;
    const before = current.data;
    current.data = data;
    render();
    await loadAudit({ more: false });
    // The roll is read again when asked, when the state changes (frozen at opening) and,
    // while voting, on each refresh of its first page (who voted, mail status).
    if (!quiet || !current.rollRows || current.rollState !== data.admin.state
      || (data.admin.state !== 'draft' && !current.rollNext)) {
      await loadRoll({ keep: quiet });
    }
    if (!quiet) announce(t('admin.refreshed'));
    else if (before && (before.admin.stage !== data.admin.stage || before.admin.state !== data.admin.state)) {
      announce(t('admin.stage_changed', { state: stateText(data.admin.state) }));
    }
    $('#el-updated').textContent = t('admin.updated_at', { time: new Date().toLocaleTimeString() });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    if (!quiet || !current?.data) showError(explain(e));
  }
}

function startPolling() {
  stopPolling();
  timer = setInterval(() => {
    if (document.visibilityState === 'visible') refresh({ quiet: true });
  }, POLL_MS);
}

function stopPolling() {
  if (timer) clearInterval(timer);
  timer = null;
}

/** Leaves the election view (stops the refreshes). */
export function leaveElection() {
  stopPolling();
  current = null;
}

/** Shows election `id`; `go` names a section to scroll to. */
export async function showElection(id, go) {
  wire();
  if (!current || current.id !== id) {
    current = { id, data: null, audit: [], auditEnd: false, tokensIssued: false, scheduleDirty: false, mailLanguageDirty: false, inflight: null, queued: null };
    resetView();
    $('#el-heading').textContent = id;
    announce(t('common.loading'));
    await refresh({ quiet: true });
    if (!current || current.id !== id || !current.data) return; // left, or not found (error shown)
    announce(t('admin.loaded', { title: current.data.pub.definition?.title || id }));
    startPolling();
  }
  if (go) goTo(go);
}

function goTo(name) {
  const heading = $(`#sec-${name} h3`);
  if (!heading) return;
  heading.setAttribute('tabindex', '-1');
  heading.focus();
  heading.scrollIntoView({ block: 'start' });
}

function resetView() {
  showError('');
  $('#tokens').hidden = true;
  $('#token-list').replaceChildren();
  $('#import-report').hidden = true;
  $('#tally-monitors').hidden = true;
  $('#tally-monitor-list').replaceChildren();
  $('#audit-table tbody').replaceChildren();
  $('#v-text').value = '';
  $('#v-file').value = '';
  $('#roll-q').value = '';
  $('#roll-table tbody').replaceChildren();
  resetRollForm();
  for (const id of ['o-id', 'o-state', 'o-stage', 'o-created', 'o-events', 'o-fingerprint']) $(`#${id}`).textContent = '';
}

// ---- rendering ----

export function stateText(state) {
  return t(`admin.state_${state}`);
}

function render() {
  const { admin, pub } = current.data;
  const def = pub.definition || {};
  $('#el-heading').textContent = def.title || admin.id;
  document.title = `${def.title || admin.id} · ${t('admin.title')}`;
  renderOverview(admin, pub);
  renderSchedule(admin);
  renderMailLanguage(admin);
  renderVoters(admin);
  renderCeremony(admin, pub);
  renderTrusteeEmails(current.data.trustees || []);
  renderLifecycle(admin, pub);
  renderTurnout(admin);
  renderMail(current.data.mail);
  renderDefinition(admin, def);
}

function renderOverview(admin, pub) {
  const id = admin.id;
  setFact('o-id', id);
  setFact('o-state', stateText(admin.state)).dataset.state = admin.state;
  setFact('o-stage', t(`admin.stage_${admin.stage}`)).dataset.stage = admin.stage;
  setFact('o-created', timeText(admin.created_at));
  setFact('o-events', num(pub.events), pub.events);
  setFact('o-fingerprint', pub.fingerprint || t('admin.fingerprint_none'));
  const base = `/elections/${encodeURIComponent(id)}`;
  $('#link-vote').href = base;
  $('#link-board').href = `${base}/board`;
  $('#link-result').href = `${base}/result`;
  $('#link-report').href = `${base}/report`;
  $('#link-verify').href = `${base}/verify`;
  for (const a of $$('[data-go]')) a.href = `#election=${encodeURIComponent(id)}&go=${a.dataset.go}`;
}

function renderSchedule(admin) {
  setFact('o-opens', timeText(admin.opens_at));
  setFact('o-closes', timeText(admin.closes_at));
  const draft = admin.state === 'draft';
  $('#schedule-form').hidden = !draft;
  $('#schedule-fixed').hidden = draft;
  if (draft && !current.scheduleDirty) {
    $('#s-opens').value = toLocalInput(admin.opens_at);
    $('#s-closes').value = toLocalInput(admin.closes_at);
  }
}

function renderMailLanguage(admin) {
  if (!current.mailLanguageDirty) $('#s-mail-language').value = admin.mail_language || 'en';
}

async function saveMailLanguage(ev) {
  ev.preventDefault();
  const id = current.id;
  await act($('#mail-language-save'), async () => {
    const admin = await adminApi(electionPath(id, '/mail-language'), {
      method: 'PUT',
      json: { language: $('#s-mail-language').value },
    });
    current.mailLanguageDirty = false;
    current.data.admin = { ...current.data.admin, mail_language: admin.mail_language };
    await refresh({ quiet: true });
    announce(t('admin.mail_language_saved'));
  });
}

function renderVoters(admin) {
  const p = $('#voters-count');
  p.textContent = t('admin.voters_count', { voters: num(admin.voters), weight: num(admin.total_weight) });
  p.dataset.voters = String(admin.voters);
  const draft = admin.state === 'draft';
  $('#voters-form').hidden = !draft;
  $('#voters-frozen').hidden = draft;
  $('#voters-late').hidden = !(draft && admin.credentials !== null && admin.credentials !== undefined);
}

function statusCell(col, done, label, doneText) {
  return el('td', { 'data-col': col, 'data-done': done ? 'true' : 'false' },
    el('span', { class: done ? 'ok' : 'muted', text: done ? `✓ ${doneText ?? t('admin.done')}` : label ?? t('admin.waiting') }));
}

function renderCeremony(admin, pub) {
  const trustees = pub.trustees || [];
  const tbody = $('#progress-table tbody');
  const closedOrLater = ['closed', 'tallied', 'archived'].includes(admin.state);
  tbody.replaceChildren(
    ...trustees.map((tr) => {
      const name = el('th', { scope: 'row' }, tr.name);
      if (tr.complained) name.append(' ', el('span', { class: 'bad', text: `(${t('admin.complained')})` }));
      return el('tr', { 'data-trustee': String(tr.index), 'data-complained': tr.complained ? 'true' : 'false' },
        name,
        el('td', { 'data-col': 'key', class: 'fingerprint', text: tr.key_fingerprint }),
        statusCell('committed', tr.key_proven, t('admin.key_not_proven'), t('admin.key_proven')),
        statusCell('dealt', tr.dealt),
        statusCell('checked', tr.checked),
        statusCell('share', tr.decryption_share, closedOrLater ? t('admin.waiting') : t('admin.after_close')));
    }),
  );
  const checked = trustees.filter((tr) => tr.checked).length;
  const key = $('#key-status');
  key.dataset.key = pub.election_key ? 'published' : 'waiting';
  key.textContent = pub.election_key
    ? t('admin.key_published')
    : t('admin.key_waiting', { checked, n: trustees.length });
  key.className = pub.election_key ? 'ok' : '';
  const named = pub.definition?.authority;
  const auth = $('#authority-status');
  auth.textContent = named
    ? t(pub.credentials === null || pub.credentials === undefined ? 'admin.authority_waiting' : 'admin.authority_proven',
      { name: named.name, fingerprint: fingerprintOf(named.key) })
    : '';
  const cred = $('#credentials-status');
  cred.dataset.credentials = pub.credentials === null || pub.credentials === undefined ? 'none' : String(pub.credentials);
  if (pub.credentials === null || pub.credentials === undefined) {
    cred.textContent = t('admin.credentials_waiting');
    cred.className = '';
  } else if (pub.credentials !== admin.voters) {
    cred.textContent = t('admin.credentials_mismatch', { credentials: num(pub.credentials), voters: num(admin.voters) });
    cred.className = 'bad';
  } else {
    cred.textContent = t('admin.credentials_published', { credentials: num(pub.credentials) });
    cred.className = 'ok';
  }
  const over = ['tallied', 'archived'].includes(admin.state);
  const issue = $('#issue-tokens');
  issue.disabled = over;
  issue.textContent = issuedBefore() === false ? t('admin.issue_tokens') : t('admin.reissue_tokens');
  $('#tokens-reason').hidden = !over;
  $('#tokens-reason').textContent = over ? t('admin.tokens_over') : '';
}

/** Whether role links were issued before: true, false, or null when unknown. */
function issuedBefore() {
  if (current.tokensIssued) return true;
  if (current.audit.some((e) => e.action === 'election.role_tokens')) return true;
  const pub = current.data?.pub;
  if (pub && ((pub.trustees || []).some((tr) => tr.committed) || pub.credentials !== null)) return true;
  return current.auditEnd ? false : null;
}

function setAction(button, why, enabled, reason) {
  button.disabled = !enabled;
  why.textContent = reason;
}

/**
 * The shuffles still missing before anyone decrypts (§11.12): {done, k} when the election has
 * ranked or graded questions with counted ballots and fewer than k shuffles, else null.
 */
function shufflesMissing(pub) {
  const k = pub.definition?.threshold ?? 0;
  const mixed = (pub.definition?.questions || []).some((q) => q.kind);
  const done = (pub.trustees || []).filter((tr) => tr.shuffled).length;
  return mixed && pub.ballots_counted > 0 && done < k ? { done, k } : null;
}

function renderLifecycle(admin, pub) {
  const trustees = pub.trustees || [];
  const k = pub.definition?.threshold ?? 0;
  const shares = trustees.filter((tr) => tr.decryption_share).length;
  const shuffles = shufflesMissing(pub);
  const checked = trustees.filter((tr) => tr.checked).length;
  const state = admin.state;
  let open;
  if (state !== 'draft') open = [false, t('admin.why_already_open', { state: stateText(state) })];
  else if (!pub.election_key) open = [false, t('admin.why_key', { checked, n: trustees.length })];
  else if (!admin.voters) open = [false, t('admin.why_no_voters')];
  else if (admin.credentials === null || admin.credentials === undefined) open = [false, t('admin.why_credentials')];
  else if (admin.credentials !== admin.voters) {
    open = [false, t('admin.credentials_mismatch', { credentials: num(admin.credentials), voters: num(admin.voters) })];
  } else {
    open = [true, t('admin.why_open_ready') + (admin.opens_at ? ' ' + t('admin.why_open_auto', { time: timeText(admin.opens_at) }) : '')];
  }
  setAction($('#do-open'), $('#why-open'), ...open);
  let close;
  if (state === 'draft') close = [false, t('admin.why_not_open')];
  else if (state !== 'open') close = [false, t('admin.why_closed')];
  else close = [true, t('admin.why_close_ready') + (admin.closes_at ? ' ' + t('admin.why_close_auto', { time: timeText(admin.closes_at) }) : '')];
  setAction($('#do-close'), $('#why-close'), ...close);
  let tally;
  if (state === 'draft' || state === 'open') tally = [false, t('admin.why_tally_after_close')];
  else if (state !== 'closed') tally = [false, t('admin.why_tallied')];
  else if (shuffles) tally = [false, t('admin.why_shuffles', { shuffles: shuffles.done, k })];
  else if (shares < k) tally = [false, t('admin.why_shares', { shares, k })];
  else tally = [true, t('admin.why_tally_ready', { shares, k })];
  setAction($('#do-tally'), $('#why-tally'), ...tally);
  $('#delete-box').hidden = state !== 'draft';
  $('#next-step').textContent = nextStep(admin, pub);
  renderLate(current.data.trustees || []);
}

/** Who the record waits for, and since when (under the next step). */
function renderLate(trustees) {
  const late = trustees.filter((tr) => tr.awaited && tr.since);
  $('#late-trustees').hidden = !late.length;
  $('#late-trustees').replaceChildren(...late.map((tr) => el('li', {
    'data-trustee': String(tr.index),
    text: t(tr.email ? 'admin.late_mailed' : 'admin.late', {
      name: tr.name,
      step: t(`admin.step_${tr.awaited}`),
      when: timeText(tr.since),
    }),
  })));
}

/** One address field per trustee (kept while the official types). */
function renderTrusteeEmails(trustees) {
  const box = $('#trustee-emails');
  if (current.trusteeEmailsDirty && box.childElementCount === trustees.length) return;
  box.replaceChildren(...trustees.map((tr) => {
    const input = el('input', {
      id: `te-${tr.index}`, type: 'email', autocomplete: 'off', spellcheck: 'false', 'data-trustee': String(tr.index),
    });
    input.value = tr.email || '';
    input.addEventListener('input', () => { current.trusteeEmailsDirty = true; });
    return el('p', {},
      el('label', { for: `te-${tr.index}`, text: t('admin.trustee_email_label', { index: tr.index, name: tr.name }) }),
      input);
  }));
}

async function saveTrusteeEmails(ev) {
  ev.preventDefault();
  const id = current.id;
  const emails = [...$$('#trustee-emails input')]
    .map((i) => ({ trustee: Number(i.dataset.trustee), email: i.value.trim() }))
    .filter((e) => e.email);
  await act($('#trustee-emails-save'), async () => {
    const r = await adminApi(electionPath(id, '/trustees'), { method: 'PUT', json: { emails } });
    current.trusteeEmailsDirty = false;
    if (current.data) current.data.trustees = r.trustees || [];
    renderTrusteeEmails(current.data ? current.data.trustees : []);
    announce(t('admin.trustee_emails_saved'));
  });
}

/** What the election waits for now, and from whom (shown above the lifecycle buttons). */
function nextStep(admin, pub) {
  const trustees = pub.trustees || [];
  const k = pub.definition?.threshold ?? 0;
  const shares = trustees.filter((tr) => tr.decryption_share).length;
  const waiting = (key, pending) =>
    t(key, { count: pending.length, names: listOf(pending.map((tr) => tr.name)) });
  switch (admin.state) {
    case 'draft': {
      if (!pub.election_key) {
        for (const [field, key] of [['committed', 'admin.next_commit'], ['dealt', 'admin.next_deal'], ['checked', 'admin.next_check']]) {
          const pending = trustees.filter((tr) => !tr[field]);
          if (pending.length) return waiting(key, pending);
        }
        return t('admin.next_key');
      }
      if (!admin.voters) return t('admin.next_voters');
      if (admin.credentials === null || admin.credentials === undefined) {
        return t('admin.next_credentials', { name: pub.definition?.authority?.name || '' });
      }
      if (admin.credentials !== admin.voters) {
        return t('admin.credentials_mismatch', { credentials: num(admin.credentials), voters: num(admin.voters) });
      }
      return t('admin.next_ready') + (admin.opens_at ? ' ' + t('admin.why_open_auto', { time: timeText(admin.opens_at) }) : '');
    }
    case 'open':
      return admin.closes_at ? t('admin.next_open_until', { time: timeText(admin.closes_at) }) : t('admin.next_open');
    case 'closed': {
      const shuffles = shufflesMissing(pub);
      if (shuffles) {
        const pending = trustees.filter((tr) => !tr.shuffled && !tr.complained);
        return t('admin.next_shuffle', { shuffles: shuffles.done, k, names: listOf(pending.map((tr) => tr.name)) });
      }
      if (shares < k) return t('admin.next_decrypt', { missing: k - shares, n: trustees.length, shares, k });
      return t('admin.next_tally');
    }
    case 'tallied':
      return t('admin.next_tallied');
    default:
      return t('admin.next_archived');
  }
}

/** Deletes this draft election (after confirmation), then shows the list without it. */
async function deleteDraft() {
  const id = current.id;
  const title = current.data?.pub?.definition?.title || id;
  showError('');
  const ok = await confirmAction({
    title: t('admin.confirm_delete_title', { title }),
    body: t('admin.confirm_delete_body'),
    confirm: t('admin.delete_button'),
    danger: true,
  });
  if (!ok) return;
  await act($('#do-delete'), async () => {
    await adminApi(electionPath(id), { method: 'DELETE' });
    notices.next = t('admin.deleted', { title });
    leaveElection();
    location.hash = '';
  });
}

function renderTurnout(admin) {
  const weighted = admin.total_weight !== admin.voters;
  setFact('t-voters', weighted
    ? t('admin.t_voters_weight', { voters: num(admin.voters), weight: num(admin.total_weight) })
    : num(admin.voters), admin.voters);
  setFact('t-ballots', num(admin.ballots), admin.ballots);
  setFact('t-counted', num(admin.ballots_counted), admin.ballots_counted);
  const p = pct(admin.ballots_counted, admin.voters);
  let text = t('admin.t_percent', { percent: p.toLocaleString(document.documentElement.lang) });
  if (weighted) {
    const pw = pct(admin.counted_weight, admin.total_weight);
    text += ' ' + t('admin.t_percent_weight', { percent: pw.toLocaleString(document.documentElement.lang) });
  }
  setFact('t-turnout', text, p);
  $('#t-progress').value = Math.min(100, p);
}

function renderMail(mail) {
  const c = mail.counts || {};
  setFact('m-queued', num(c.queued || 0), c.queued || 0);
  setFact('m-sent', num(c.sent || 0), c.sent || 0);
  setFact('m-failed', num(c.failed || 0), c.failed || 0);
  const failures = mail.recent_failures || [];
  $('#m-failures-wrap').hidden = !failures.length;
  $('#m-failures tbody').replaceChildren(
    ...failures.map((f) => el('tr', {},
      el('td', { text: timeText(f.at) }),
      el('td', { class: 'mono', text: f.login }),
      el('td', { text: f.error }))),
  );
}

function renderDefinition(admin, def) {
  setFact('d-title', def.title || '');
  setFact('d-trustees', (def.trustees || [])
    .map((tr) => t('admin.holder', { name: tr.name, fingerprint: fingerprintOf(tr.key) })).join(', '));
  setFact('d-authority', def.authority
    ? t('admin.holder', { name: def.authority.name, fingerprint: fingerprintOf(def.authority.key) })
    : '');
  setFact('d-monitors', (def.monitors || []).length ? def.monitors.join(', ') : t('admin.no_monitors'));
  setFact('d-threshold', def.threshold
    ? t('admin.threshold_short', { k: def.threshold, n: (def.trustees || []).length })
    : '');
  $('#d-description').textContent = def.description || '';
  $('#d-description').hidden = !def.description;
  $('#d-questions').replaceChildren(
    ...(def.questions || []).map((q) => el('li', {},
      el('p', { class: 'admin-q-title', text: q.text }),
      el('p', { class: 'hint', text: ruleText(q) }),
      el('ul', {}, ...q.answers.map((a) => el('li', { text: a }))))),
  );
  $('#d-toml').textContent = admin.description_toml || '';
}

function ruleText(q) {
  if (q.kind === 'ranked') {
    const method = t(`admin.q_method_${q.method}`);
    return q.method === 'stv' ? t('admin.rule_ranked_stv', { method, seats: q.seats }) : t('admin.rule_ranked', { method });
  }
  if (q.kind === 'grades') return t('admin.rule_grades', { grades: (q.grades || []).join(', ') });
  let rule = q.min === q.max
    ? t('admin.rule_exactly', { n: q.min })
    : t('admin.rule_between', { min: q.min, max: q.max });
  if (q.max_per_answer && q.max_per_answer > 1) rule += ' ' + t('admin.rule_points', { points: q.max_per_answer });
  if (q.blank) rule += ' ' + t('admin.rule_blank');
  return rule;
}

// ---- audit log ----

function actionText(action) {
  const key = `admin.audit_${action.replace(/[^a-z_]/g, '_')}`;
  const text = t(key);
  return text === key ? action : text;
}

function detailsText(details) {
  if (!details || typeof details !== 'object') return '';
  return Object.entries(details)
    .filter(([, v]) => v !== null && !(Array.isArray(v) && !v.length))
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join(', ');
}

/**
 * Loads the next page of the audit log (`more`), or the entries added since the last one.
 * Calls run one after the other, so that no entry is fetched twice.
 */
function loadAudit(opts) {
  const c = current;
  if (!c) return Promise.resolve();
  const next = (c.auditChain || Promise.resolve()).then(() => loadAuditNow(opts));
  c.auditChain = next.catch(() => {});
  return next;
}

async function loadAuditNow({ more }) {
  if (!current) return;
  if (!more && !current.auditEnd && current.audit.length) return;
  const id = current.id;
  const after = current.audit.length ? current.audit[current.audit.length - 1].id : 0;
  const res = await adminApi(electionPath(id, `/audit-log?after=${after}&limit=${AUDIT_PAGE}`));
  if (!current || current.id !== id) return;
  const entries = res.entries || [];
  current.audit.push(...entries);
  current.auditEnd = entries.length < AUDIT_PAGE;
  $('#audit-table tbody').append(
    ...entries.map((e) => el('tr', { 'data-action': e.action },
      el('td', { text: timeText(e.at) }),
      el('td', { class: 'mono', text: e.actor }),
      el('td', {}, el('span', { text: actionText(e.action) }), ' ', el('span', { class: 'hint mono', text: `(${e.action})` })),
      el('td', { class: 'admin-details', text: detailsText(e.details) }))),
  );
  $('#audit-more').hidden = current.auditEnd;
  if (current.data) renderCeremony(current.data.admin, current.data.pub);
}

// ---- actions ----

async function act(button, work) {
  showError('');
  button.disabled = true;
  try {
    return await work();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) showError(explain(e));
    return undefined;
  } finally {
    button.disabled = false;
    if (current && current.data) render();
  }
}

async function saveSchedule(ev) {
  ev.preventDefault();
  const opens = fromLocalInput($('#s-opens').value);
  const closes = fromLocalInput($('#s-closes').value);
  for (const f of ['#s-opens', '#s-closes']) $(f).removeAttribute('aria-invalid');
  const now = Date.now() / 1000;
  let problem = null;
  if (Number.isNaN(opens)) problem = ['#s-opens', t('admin.err_time')];
  else if (Number.isNaN(closes)) problem = ['#s-closes', t('admin.err_time')];
  else if (opens && opens < now) problem = ['#s-opens', t('admin.err_past', { what: t('admin.f_opens') })];
  else if (closes && closes < now) problem = ['#s-closes', t('admin.err_past', { what: t('admin.f_closes') })];
  else if (opens && closes && closes <= opens) problem = ['#s-closes', t('admin.err_order')];
  if (problem) {
    $(problem[0]).setAttribute('aria-invalid', 'true');
    showError(problem[1]);
    $(problem[0]).focus();
    return;
  }
  const id = current.id;
  await act($('#schedule-save'), async () => {
    const meta = await adminApi(electionPath(id, '/schedule'), {
      method: 'PUT',
      json: { opens_at: opens, closes_at: closes },
    });
    current.scheduleDirty = false;
    current.data.admin = { ...current.data.admin, opens_at: meta.opens_at, closes_at: meta.closes_at };
    await refresh({ quiet: true });
    announce(t('admin.schedule_saved'));
  });
}

async function importVoters(ev) {
  ev.preventDefault();
  const file = $('#v-file').files && $('#v-file').files[0];
  const pasted = $('#v-text').value;
  if (!file && !pasted.trim()) {
    showError(t('admin.voters_nothing'));
    $('#v-file').focus();
    return;
  }
  const id = current.id;
  // The file is sent as its bytes (the server reports lines that are not UTF-8); its text is
  // kept here only to show the refused lines.
  const sentText = file ? await file.text() : pasted;
  await act($('#voters-submit'), async () => {
    announce(t('admin.importing'));
    const report = await adminApi(electionPath(id, '/voters'), {
      text: file || pasted,
      contentType: 'text/csv; charset=utf-8',
    });
    showReport(report, sentText);
    if (report.imported) {
      $('#v-file').value = '';
      $('#v-text').value = '';
      announce(t('admin.imported', { accepted: report.accepted, rejected: report.rejected }));
    } else {
      announce(t('admin.import_refused', { rejected: report.rejected }));
    }
    await loadRoll();
    await refresh({ quiet: true });
  });
}

function showReport(report, text) {
  const lines = text.split('\n');
  setFact('r-accepted', num(report.accepted), report.accepted);
  setFact('r-rejected', num(report.rejected), report.rejected);
  setFact('r-total', num(report.total_voters), report.total_voters);
  setFact('r-weight', num(report.total_weight), report.total_weight);
  const rows = (report.errors || []).map((e) => {
    const content = (lines[e.line - 1] ?? '').replace(/\r$/, '');
    return el('tr', { 'data-line': String(e.line) },
      el('td', { class: 'num', text: String(e.line) }),
      el('td', { class: 'mono admin-line', text: content.length > 200 ? content.slice(0, 200) + '…' : content }),
      el('td', { text: e.reason }));
  });
  $('#r-errors tbody').replaceChildren(...rows);
  $('#r-errors-wrap').hidden = !rows.length;
  const trunc = $('#r-truncated');
  trunc.hidden = !report.errors_truncated;
  trunc.textContent = report.errors_truncated
    ? t('admin.report_truncated', { shown: (report.errors || []).length, total: report.rejected })
    : '';
  const panel = $('#import-report');
  panel.classList.toggle('admin-report-bad', report.rejected > 0);
  panel.hidden = false;
  panel.focus();
}

// ---- the roll: the voters on the list, searched, changed in a draft, voted and mail status ----

const ROLL_PAGE = 100;

/** How many roll requests were sent (see [`loadRoll`]). */
let rollRequests = 0;

/**
 * Loads the first page of the roll (or the next one with `more`) for the search typed (or,
 * with `keep`, for the search shown).
 */
async function loadRoll({ more = false, keep = false } = {}) {
  const c = current;
  if (!c) return;
  // Only the latest request draws: an answer that a later one overtook (a periodic
  // refresh sent before an import, say) would draw the roll as it was.
  const request = ++rollRequests;
  const stale = () => current !== c || request !== rollRequests;
  const q = more || keep ? c.rollQuery || '' : $('#roll-q').value.trim();
  const params = new URLSearchParams({ limit: String(ROLL_PAGE) });
  if (q) params.set('q', q);
  if (more && c.rollNext) params.set('after', c.rollNext);
  const page = await adminApi(electionPath(c.id, `/roll?${params}`));
  if (stale()) return;
  c.rollQuery = q;
  c.rollNext = page.next_after || null;
  c.rollRows = more ? [...(c.rollRows || []), ...page.voters] : page.voters;
  c.rollState = page.state;
  c.reminders = page.state === 'open'
    ? await adminApi(electionPath(c.id, '/reminders'))
    : null;
  if (stale()) return;
  renderRoll(page.total_voters);
}

/** The status of a request to mail a voter's credential again, as a sentence. */
function resendText(resend) {
  if (!resend) return t('admin.roll_none');
  return resend.sent_at
    ? t('admin.resend_sent', { when: timeText(resend.sent_at) })
    : t('admin.resend_pending', { when: timeText(resend.requested_at) });
}

/** Asks the credential authority to mail `login`'s credential again (after confirmation). */
async function requestResend(login, button) {
  const ok = await confirmAction({
    title: t('admin.resend_title', { login }),
    body: t('admin.resend_body'),
    confirm: t('admin.resend_confirm'),
  });
  if (!ok) return;
  const id = current.id;
  await act(button, async () => {
    await adminApi(electionPath(id, `/roll/${encodeURIComponent(login)}/resend`), { method: 'POST' });
    await loadRoll({ keep: true });
    announce(t('admin.resend_requested', { login }));
  });
}

function renderReminders(c) {
  const r = c.reminders;
  $('#reminders').hidden = !r;
  if (!r) return;
  let text = t('admin.remind_not_voted', { count: num(r.not_voted), n: r.not_voted });
  if (r.last_sent_at) text += ' ' + t('admin.remind_last', { when: timeText(r.last_sent_at) });
  if (r.next_allowed_at) text += ' ' + t('admin.remind_next', { when: timeText(r.next_allowed_at) });
  $('#reminder-status').textContent = text;
  $('#send-reminders').disabled = Boolean(r.next_allowed_at) || r.not_voted === 0;
}

/** Mails a reminder to every voter who has not voted, after a confirmation with their number. */
async function sendReminders() {
  const c = current;
  const status = await adminApi(electionPath(c.id, '/reminders'));
  const count = status.not_voted;
  const ok = await confirmAction({
    title: t('admin.remind_title', { count: num(count), n: count }),
    body: t('admin.remind_body'),
    confirm: t('admin.remind_confirm', { count: num(count), n: count }),
  });
  if (!ok) return;
  await act($('#send-reminders'), async () => {
    const r = await adminApi(electionPath(c.id, '/reminders'), { method: 'POST' });
    await loadRoll({ keep: true });
    announce(t('admin.remind_sent', { count: num(r.queued), n: r.queued }));
  });
  // act() enables its button again once done: whether the next reminder may go decides.
  if (current === c) renderReminders(c);
}

function mailText(status) {
  return status ? t(`admin.mail_${status}`) : t('admin.roll_none');
}

function renderRoll(total) {
  const c = current;
  const draft = c.rollState === 'draft';
  for (const th of $$('#roll-table th[data-roll="voting"]')) th.hidden = draft;
  for (const th of $$('#roll-table th[data-roll="draft"]')) th.hidden = !draft;
  const rows = (c.rollRows || []).map((v) => {
    const cells = [
      el('th', { scope: 'row', class: 'mono', text: v.login }),
      el('td', { text: v.email }),
      el('td', { class: 'num', text: num(v.weight) }),
      el('td', { text: v.language || t('admin.roll_language_default') }),
    ];
    if (draft) {
      const edit = el('button', { type: 'button', class: 'secondary', text: t('admin.roll_edit', { login: v.login }) });
      edit.addEventListener('click', () => editVoter(v));
      const remove = el('button', { type: 'button', class: 'danger', text: t('admin.roll_remove', { login: v.login }) });
      remove.addEventListener('click', () => removeVoter(v.login, remove));
      cells.push(el('td', {}, edit, ' ', remove));
    } else {
      cells.push(
        el('td', { 'data-col': 'voted', text: v.voted ? t('admin.roll_yes') : t('admin.roll_no') }),
        el('td', { 'data-col': 'otp', text: mailText(v.mails && v.mails.otp) }),
        el('td', { 'data-col': 'confirmation', text: mailText(v.mails && v.mails.confirmation) }),
        el('td', { 'data-col': 'reminder', text: mailText(v.mails && v.mails.reminder) }),
      );
      const resend = el('td', { 'data-col': 'resend' }, resendText(v.resend));
      if (c.rollState === 'open') {
        const ask = el('button', { type: 'button', class: 'secondary', text: t('admin.resend_button', { login: v.login }) });
        ask.addEventListener('click', () => requestResend(v.login, ask));
        resend.append(' ', ask);
      }
      cells.push(resend);
    }
    return el('tr', { 'data-login': v.login }, ...cells);
  });
  $('#roll-table tbody').replaceChildren(...rows);
  $('#roll-empty').hidden = rows.length > 0;
  $('#roll-more').hidden = !c.rollNext;
  $('#roll-form').hidden = !draft;
  renderReminders(c);
  if (!draft) resetRollForm();
  const table = $('#roll-table');
  table.dataset.loads = String(Number(table.dataset.loads || 0) + 1);
  $('#roll-caption').textContent = `${t('admin.roll_caption')} (${t('admin.roll_shown', { shown: num(rows.length), total: num(total) })})`;
}

function resetRollForm() {
  if (current) current.rollEditing = null;
  $('#h-roll-form').textContent = t('admin.roll_add_heading');
  $('#rv-submit').textContent = t('admin.roll_add');
  $('#rv-login').readOnly = false;
  $('#rv-login').value = '';
  $('#rv-email').value = '';
  $('#rv-weight').value = '1';
  $('#rv-language').value = '';
  $('#rv-cancel').hidden = true;
}

function editVoter(v) {
  current.rollEditing = v.login;
  $('#h-roll-form').textContent = t('admin.roll_edit_heading', { login: v.login });
  $('#rv-submit').textContent = t('admin.roll_save');
  $('#rv-login').value = v.login;
  $('#rv-login').readOnly = true;
  $('#rv-email').value = v.email;
  $('#rv-weight').value = String(v.weight);
  $('#rv-language').value = v.language || '';
  $('#rv-cancel').hidden = false;
  $('#rv-email').focus();
}

async function saveVoter(ev) {
  ev.preventDefault();
  const id = current.id;
  const editing = current.rollEditing;
  const login = $('#rv-login').value.trim();
  const email = $('#rv-email').value.trim();
  const weight = Number($('#rv-weight').value || '1');
  if (!login || !email) {
    showError(t('admin.voters_nothing'));
    (login ? $('#rv-email') : $('#rv-login')).focus();
    return;
  }
  const body = { email, weight };
  if ($('#rv-language').value) body.language = $('#rv-language').value;
  await act($('#rv-submit'), async () => {
    if (editing) {
      await adminApi(electionPath(id, `/roll/${encodeURIComponent(editing)}`), { method: 'PUT', json: body });
    } else {
      await adminApi(electionPath(id, '/roll'), { method: 'POST', json: { login, ...body } });
    }
    resetRollForm();
    await loadRoll();
    await refresh({ quiet: true });
    announce(t(editing ? 'admin.roll_saved' : 'admin.roll_added', { login: editing || login }));
    $('#rv-login').focus();
  });
}

async function removeVoter(login, button) {
  const ok = await confirmAction({
    title: t('admin.roll_remove_title', { login }),
    body: t('admin.roll_remove_body'),
    confirm: t('admin.roll_remove', { login }),
    danger: true,
  });
  if (!ok) return;
  const id = current.id;
  await act(button, async () => {
    await adminApi(electionPath(id, `/roll/${encodeURIComponent(login)}`), { method: 'DELETE' });
    await loadRoll();
    await refresh({ quiet: true });
    announce(t('admin.roll_removed', { login }));
    $('#roll-q').focus();
  });
}

async function exportRoll() {
  const id = current.id;
  await act($('#roll-export'), async () => {
    const csv = await adminApi(electionPath(id, '/roll.csv'), { raw: true });
    download(`roll-${id}.csv`, csv, 'text/csv;charset=utf-8');
    announce(t('admin.roll_exported'));
  });
}

async function issueTokens() {
  const before = issuedBefore();
  if (before !== false) {
    const ok = await confirmAction({
      title: t('admin.reissue_title'),
      body: before ? t('admin.reissue_body') : t('admin.reissue_body_unknown'),
      confirm: t('admin.reissue_confirm'),
      danger: true,
    });
    if (!ok) return;
  }
  const id = current.id;
  await act($('#issue-tokens'), async () => {
    const tokens = await adminApi(electionPath(id, '/roles'), { method: 'POST' });
    current.tokensIssued = true;
    showTokens(id, tokens);
    announce(t('admin.tokens_issued'));
    $('#h-tokens').focus();
  });
}

function showTokens(id, tokens) {
  const base = `${location.origin}/elections/${encodeURIComponent(id)}`;
  const item = (role, who, url, n) => {
    const field = el('input', { type: 'text', readonly: true, class: 'mono admin-token', id: `token-${n}`, value: url, spellcheck: 'false' });
    const label = el('label', { for: field.id }, el('span', { class: 'admin-role', text: role }), ' ', who);
    const copy = el('button', { type: 'button', class: 'secondary' },
      t('admin.copy'), el('span', { class: 'admin-sr-only', text: ` ${t('admin.copy_of', { who: who || role })}` }));
    copy.addEventListener('click', async () => {
      const ok = await copyText(url, field);
      announce(ok ? t('admin.copied', { who: who || role }) : t('admin.copy_failed'));
    });
    return el('li', { 'data-role': n === 0 ? 'authority' : 'trustee' }, label, el('div', { class: 'admin-row' }, field, copy));
  };
  const items = tokens.trustees.map((tr) =>
    item(t('admin.role_trustee', { n: tr.index }), tr.name, `${base}/trustee#token=${tr.token}`, tr.index));
  items.push(item(t('admin.role_authority'), '', `${base}/authority#token=${tokens.credential_authority}`, 0));
  $('#token-list').replaceChildren(...items);
  $('#tokens').hidden = false;
}

async function lifecycle(kind) {
  const confirmations = {
    open: ['admin.open_title', 'admin.open_body', 'admin.open', false],
    close: ['admin.close_title', 'admin.close_body', 'admin.close', true],
    tally: ['admin.tally_title', 'admin.tally_body', 'admin.tally', false],
  };
  const [title, body, confirm, danger] = confirmations[kind];
  showError('');
  const ok = await confirmAction({ title: t(title), body: t(body), confirm: t(confirm), danger });
  if (!ok) return;
  const id = current.id;
  await act($(`#do-${kind}`), async () => {
    if (kind === 'tally') await confirmClose(id);
    announce(t(`admin.${kind}_running`));
    await adminApi(electionPath(id, `/${kind}`), { method: 'POST' });
    await refresh({ quiet: true });
    announce(t(`admin.${kind}_done`));
  });
  // The button just used is usually disabled now: keep the focus in its section.
  if (document.activeElement === document.body || document.activeElement?.disabled) {
    const h = $('#h-lifecycle');
    h.setAttribute('tabindex', '-1');
    h.focus();
  }
}

/**
 * Compares the `close` line of the record this server serves with each monitor's (spec
 * §14.4); throws a plain refusal naming the first disagreement, alarm or monitor that could
 * not be reached. Without monitors, says that nothing confirms the record.
 */
async function confirmClose(id) {
  const box = $('#tally-monitors');
  const summary = $('#tally-monitor-summary');
  const list = $('#tally-monitor-list');
  const monitors = monitorsOf(current.data && current.data.pub.definition);
  box.hidden = false;
  list.replaceChildren();
  if (!monitors.length) {
    summary.className = 'notice';
    summary.textContent = t('common.monitor_close_none');
    box.dataset.status = 'none';
    return;
  }
  announce(t('common.monitor_close_checking'));
  summary.className = '';
  summary.textContent = t('common.monitor_close_checking');
  delete box.dataset.status;
  const [booth, record] = await Promise.all([
    wasm ? Promise.resolve(wasm) : loadBooth(),
    apiWithRetry(`/api/elections/${encodeURIComponent(id)}/record`, { raw: true, cache: 'no-cache' }, 3),
  ]);
  wasm = booth;
  const outcome = await compareClose({ id, record, monitors, wasm: booth });
  showResults(list, outcome);
  if (outcome.ok) {
    summary.className = 'ok';
    summary.textContent = t('admin.monitors_agree', { n: monitors.length, seq: outcome.close.seq });
    box.dataset.status = 'agree';
    return;
  }
  const problem = firstProblem(outcome.results);
  box.dataset.status = problem.status;
  summary.className = 'bad';
  summary.textContent = t('admin.monitors_refused');
  throw new Error(t(`admin.refuse_${problem.status}`, resultVars(problem, outcome.close)));
}

function wire() {
  if (wired) return;
  wired = true;
  $('#schedule-hint').textContent = t('admin.schedule_hint', { zone: timeZone() });
  $('#el-refresh').addEventListener('click', () => refresh());
  $('#schedule-form').addEventListener('submit', saveSchedule);
  $('#mail-language-form').addEventListener('submit', saveMailLanguage);
  $('#s-mail-language').addEventListener('change', () => { if (current) current.mailLanguageDirty = true; });
  for (const f of ['#s-opens', '#s-closes']) {
    $(f).addEventListener('input', () => { if (current) current.scheduleDirty = true; });
  }
  $('#voters-form').addEventListener('submit', importVoters);
  $('#roll-search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act($('#roll-search'), () => loadRoll());
  });
  $('#roll-more').addEventListener('click', () => act($('#roll-more'), () => loadRoll({ more: true })));
  $('#roll-export').addEventListener('click', exportRoll);
  $('#trustee-emails-form').addEventListener('submit', saveTrusteeEmails);
  $('#send-reminders').addEventListener('click', () => sendReminders().catch((e) => showError(explain(e))));
  $('#roll-form').addEventListener('submit', saveVoter);
  $('#rv-cancel').addEventListener('click', () => { resetRollForm(); $('#rv-login').focus(); });
  $('#issue-tokens').addEventListener('click', issueTokens);
  $('#tokens-hide').addEventListener('click', () => {
    $('#token-list').replaceChildren();
    $('#tokens').hidden = true;
    announce(t('admin.tokens_hidden'));
    $('#issue-tokens').focus();
  });
  for (const kind of ['open', 'close', 'tally']) {
    $(`#do-${kind}`).addEventListener('click', () => lifecycle(kind));
  }
  $('#do-delete').addEventListener('click', deleteDraft);
  $('#copy-definition').addEventListener('click', () => {
    if (!current?.data) return;
    prefillToml(current.data.admin.description_toml || '');
    location.hash = 'new';
  });
  $('#audit-more').addEventListener('click', () => act($('#audit-more'), () => loadAudit({ more: true })));
  for (const a of $$('[data-go]')) {
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      goTo(a.dataset.go);
    });
  }
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && current) refresh({ quiet: true });
  });
}
