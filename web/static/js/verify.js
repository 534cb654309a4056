// The in-browser verifier (/elections/{id}/verify): downloads the election's record (or
// reads a file chosen by the user), runs the universal verifier of the booth's
// WebAssembly in a Web Worker (verify-worker.js), and shows its report or the check that
// failed with the event's sequence number. Once a record verifies, anyone can check a
// voter's receipt file against it (the board's signature, the ballot at its position, its
// weight: spec §14.2).
import { initI18n, t, currentLanguage } from './i18n.js';
import { ApiError, apiWithRetry, electionIdFromPath } from './api.js';
import { $, el, showStep, announce, showError, errorText } from './ui.js';

await initI18n(['verify']);

const id = electionIdFromPath();
const lang = currentLanguage();
const numberFormat = new Intl.NumberFormat(lang);
const fmt = (n) => numberFormat.format(n);

const recordPath = `/api/elections/${encodeURIComponent(id)}/record`;
$('#cli-command').textContent =
  `curl -s ${location.origin}${recordPath} > record.jsonl && scrutin verify record.jsonl`;
$('#record-link').href = recordPath;
$('#record-link').setAttribute('download', `${id}-record.jsonl`);

/** A size in bytes for humans (kB, MB), in the page's language. */
function size(bytes) {
  if (bytes < 1000) return t('verify.bytes', { n: fmt(bytes) });
  const units = ['kB', 'MB', 'GB'];
  let v = bytes / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u += 1;
  }
  return `${new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(v)} ${units[u]}`;
}

// ---- the worker ----

let worker;
let nextJob = 1;
const jobs = new Map();

function failAll(message) {
  for (const { reject } of jobs.values()) reject(new Error(message));
  jobs.clear();
  worker = undefined;
}

function verifier() {
  if (worker) return worker;
  worker = new Worker('/static/js/verify-worker.js', { type: 'module' });
  worker.addEventListener('message', (ev) => {
    const job = jobs.get(ev.data.id);
    if (!job) return;
    jobs.delete(ev.data.id);
    job.resolve(ev.data);
  });
  worker.addEventListener('error', (ev) => {
    ev.preventDefault();
    failAll(t('verify.worker_failed'));
  });
  return worker;
}

/** Runs the verifier on `record` (text): {ok, report, ms} or {ok: false, error}. */
function runVerifier(record) {
  return runJob({ record });
}

function runJob(message) {
  return new Promise((resolve, reject) => {
    const jobId = nextJob++;
    jobs.set(jobId, { resolve, reject });
    verifier().postMessage({ id: jobId, ...message });
  });
}

/** The record that verified last (its text), against which receipts are checked. */
let verified = null;

// ---- getting the record ----

const progress = $('#download-progress');
const downloadText = $('#download-text');

/** The number of events on the board, to show the download's progress (null if unknown). */
async function expectedEvents() {
  try {
    const head = await apiWithRetry(`/api/elections/${encodeURIComponent(id)}/head`);
    return typeof head.events === 'number' ? head.events : null;
  } catch (_) {
    return null;
  }
}

/** Fetches the record, retrying after 429/503 as the server asks. */
async function fetchRecordResponse() {
  for (let attempt = 1; ; attempt++) {
    let resp;
    try {
      resp = await fetch(recordPath);
    } catch (e) {
      throw new ApiError(0, 'network', e.message || String(e));
    }
    if (resp.ok) return resp;
    let code = `http_${resp.status}`;
    let message = resp.statusText;
    try {
      const body = await resp.json();
      code = body.error || code;
      message = body.message || message;
    } catch (_) {
      /* not JSON */
    }
    const retry = Number(resp.headers.get('Retry-After')) || undefined;
    const err = new ApiError(resp.status, code, message, retry);
    if (![429, 503].includes(resp.status) || attempt >= 5) throw err;
    const secs = retry || Math.min(2 ** attempt, 30);
    announce(t('common.error_busy', { seconds: secs }));
    await new Promise((r) => setTimeout(r, secs * 1000));
  }
}

/** Downloads the record, showing bytes and events received. Returns its text. */
async function downloadRecord() {
  $('#download-part').hidden = false;
  progress.removeAttribute('value');
  downloadText.textContent = t('common.loading');
  const total = await expectedEvents();
  if (total) progress.max = total;
  const resp = await fetchRecordResponse();
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  const parts = [];
  let bytes = 0;
  let lines = 0;
  let shown = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    for (let i = 0; i < value.length; i++) if (value[i] === 10) lines += 1;
    parts.push(decoder.decode(value, { stream: true }));
    const now = performance.now();
    if (now - shown > 100) {
      shown = now;
      showDownload(bytes, lines, total);
    }
  }
  parts.push(decoder.decode());
  showDownload(bytes, lines, total);
  return { text: parts.join(''), bytes };
}

function showDownload(bytes, lines, total) {
  if (total) {
    progress.max = Math.max(total, lines);
    progress.value = lines;
    downloadText.textContent = t('verify.downloaded_events', {
      events: fmt(lines),
      total: fmt(Math.max(total, lines)),
      size: size(bytes),
    });
  } else {
    downloadText.textContent = t('verify.downloaded', { size: size(bytes) });
  }
}

// ---- showing the outcome ----

/** The election's questions, read from the first line of the record (the `election` event). */
function questionsOf(text) {
  try {
    const end = text.indexOf('\n');
    const first = JSON.parse(end < 0 ? text : text.slice(0, end));
    if (first.type === 'election' && Array.isArray(first.body?.questions)) return first.body.questions;
  } catch (_) {
    /* the verifier said it is valid; without questions the result shows numbers only */
  }
  return [];
}

function setField(name, text, value) {
  const dd = $(`[data-field="${name}"]`);
  dd.textContent = text;
  if (value !== undefined && value !== null) dd.dataset.value = String(value);
  else delete dd.dataset.value;
}

function percent(part, whole) {
  if (!whole) return '—';
  return new Intl.NumberFormat(lang, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(part / whole);
}

function resultTables(report, questions) {
  const host = $('#result-tables');
  host.replaceChildren();
  const result = report.result;
  result.questions.forEach((counts, qi) => {
    const q = questions[qi] || {};
    const text = q.text || t('verify.question_n', { n: qi + 1 });
    const points = (q.max_per_answer || 1) > 1;
    const whole = points ? counts.choices.reduce((a, b) => a + b, 0) : result.total_weight;
    const tbody = el('tbody');
    counts.choices.forEach((count, ai) => {
      const answer = (q.answers && q.answers[ai]) || t('verify.answer_n', { n: ai + 1 });
      tbody.append(
        el('tr', { 'data-kind': 'answer' },
          el('th', { scope: 'row', text: answer }),
          el('td', { class: 'num', 'data-value': String(count), text: fmt(count) }),
          el('td', { class: 'num', text: percent(count, whole) })),
      );
    });
    if (counts.blank !== undefined && counts.blank !== null) {
      tbody.append(
        el('tr', { 'data-kind': 'blank' },
          el('th', { scope: 'row', text: t('verify.blank') }),
          el('td', { class: 'num', 'data-value': String(counts.blank), text: fmt(counts.blank) }),
          el('td', { class: 'num', text: percent(counts.blank, result.total_weight) })),
      );
    }
    host.append(
      el('div', { class: 'table-scroll question', 'data-question': String(qi + 1), tabindex: '0', role: 'region', 'aria-label': text },
        el('table', { class: 'result' },
          el('caption', { text }),
          el('thead', {},
            el('tr', {},
              el('th', { scope: 'col', text: t('verify.col_answer') }),
              el('th', { scope: 'col', class: 'num', text: t(points ? 'verify.col_points' : 'verify.col_count') }),
              el('th', { scope: 'col', class: 'num', text: t('verify.col_share') }))),
          tbody)),
    );
  });
}

/**
 * A sentence of the verifier (§12, conclusions: {key, params}) in the page's language: the template
 * `verify.says_<key>`, numbers written the language's way.
 */
function said(sentence) {
  const vars = {};
  for (const [name, value] of Object.entries(sentence.params || {})) {
    vars[name] = typeof value === 'number' ? fmt(value) : String(value);
  }
  return t(`verify.says_${sentence.key}`, vars);
}

function showReport(report, source, questions, ms) {
  setField('source', source);
  setField('election', report.election || '—', report.election);
  setField('status', t(`verify.status_${report.status}`), report.status);
  setField('events', fmt(report.events), report.events);
  setField('ballots', fmt(report.ballots), report.ballots);
  setField('ballots_counted', fmt(report.ballots_counted), report.ballots_counted);
  setField('proofs', fmt(report.proofs), report.proofs);
  setField('fingerprint', report.fingerprint || t('verify.no_fingerprint'), report.fingerprint);
  setField('head', report.head, report.head);
  $('#ok-summary').textContent = t('verify.ok_summary', {
    events: fmt(report.events),
    proofs: fmt(report.proofs),
    seconds: new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(ms / 1000),
  });
  const conclusions = Array.isArray(report.conclusions) ? report.conclusions : [];
  $('#says').replaceChildren(...conclusions.map((c) =>
    el('li', { 'data-key': c.key, 'data-checks': (c.checks || []).join(' '), text: said(c) })));
  $('#says-part').hidden = conclusions.length === 0;
  const other = $('#other-election');
  other.hidden = !report.election || report.election === id;
  other.textContent = other.hidden ? '' : t('verify.other_election', { other: report.election, id });
  const hasResult = Boolean(report.result);
  $('#result-part').hidden = !hasResult;
  $('#no-result').hidden = hasResult;
  if (hasResult) {
    $('#result-counted').dataset.ballots = String(report.result.ballots_counted);
    $('#result-counted').dataset.weight = String(report.result.total_weight);
    $('#result-counted').textContent = t('verify.result_counted', {
      ballots: fmt(report.result.ballots_counted),
      weight: fmt(report.result.total_weight),
    });
    resultTables(report, questions);
  } else {
    $('#result-tables').replaceChildren();
  }
  showStep('ok');
  announce(t('verify.ok_heading'));
}

function showFailure(error, source) {
  const { check, seq } = error;
  // The verifier's message repeats "check X failed at event N: "; the page says it already.
  const message = String(error.message || '').replace(/^check \w+ failed(?: at event \d+)?: /, '');
  $('#failure-text').textContent = seq === null || seq === undefined
    ? t('verify.failed_no_seq', { check, message })
    : t('verify.failed_at', { check, seq, message });
  const plain = $('#failure-said');
  plain.hidden = !error.sentence;
  plain.textContent = error.sentence ? said(error.sentence) : '';
  if (error.sentence) plain.dataset.key = error.sentence.key;
  const key = `verify.check_${check}`;
  const about = t(key);
  $('#failure-check').textContent = about === key ? '' : t('verify.check_about', { check, text: about });
  setField('failed-source', source);
  setField('check', check, check);
  setField('seq', seq === null || seq === undefined ? '—' : String(seq), seq);
  showStep('failed');
  announce(t('verify.failed_heading'));
}

// ---- the two ways in ----

let running = false;

async function verify(getRecord) {
  if (running) return;
  running = true;
  showError('');
  for (const b of document.querySelectorAll('button')) b.disabled = true;
  try {
    showStep('working');
    $('#verify-text').hidden = true;
    announce(t('verify.working_heading'));
    const { text, bytes, source } = await getRecord();
    $('#verify-text').hidden = false;
    const started = performance.now();
    const tick = () => {
      $('#verify-text').textContent = t('verify.verifying', {
        size: size(bytes),
        seconds: fmt(Math.round((performance.now() - started) / 1000)),
      });
    };
    tick();
    const timer = setInterval(tick, 1000);
    let outcome;
    try {
      outcome = await runVerifier(text);
    } finally {
      clearInterval(timer);
    }
    if (outcome.ok) {
      verified = text;
      resetReceipt();
      showReport(outcome.report, source, questionsOf(text), outcome.ms);
    } else if (outcome.error.check) {
      showFailure(outcome.error, source);
    } else {
      throw new Error(t('verify.verifier_error', { message: outcome.error.message }));
    }
  } catch (e) {
    showStep('choose');
    showError(errorText(e));
  } finally {
    running = false;
    for (const b of document.querySelectorAll('button')) b.disabled = false;
  }
}

$('#download-verify').addEventListener('click', () =>
  verify(async () => {
    announce(t('verify.downloading'));
    const { text, bytes } = await downloadRecord();
    return { text, bytes, source: t('verify.source_server', { size: size(bytes) }) };
  }));

$('#file-verify').addEventListener('click', () => {
  const input = $('#record-file');
  const file = input.files && input.files[0];
  if (!file) {
    showError(t('common.no_file'));
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  input.removeAttribute('aria-invalid');
  verify(async () => {
    $('#download-part').hidden = true;
    const text = await file.text();
    return { text, bytes: file.size, source: t('verify.source_file', { name: file.name, size: size(file.size) }) };
  });
});

// ---- checking a receipt against the verified record ----

function resetReceipt() {
  $('#receipt-file').value = '';
  $('#receipt-file').removeAttribute('aria-invalid');
  $('#receipt-outcome').hidden = true;
  $('#receipt-verdict').textContent = '';
  delete $('#receipt-outcome').dataset.status;
}

/** The receipt's own fields, for display (the check itself is the booth module's). */
function receiptFields(text) {
  try {
    const r = JSON.parse(text);
    return r && typeof r === 'object' ? r : {};
  } catch (_) {
    return {};
  }
}

/** A refusal of the booth module, in plain words. */
function receiptRefusal(message) {
  const m = String(message || '');
  if (/not signed by this election's board key/.test(m)) return ['unsigned', t('verify.receipt_unsigned')];
  if (/names no board key/.test(m)) return ['unsigned', t('verify.receipt_no_board_key')];
  if (/is for election fingerprint/.test(m)) return ['other_election', t('verify.receipt_other_election')];
  if (/not a scrutin receipt|too large/.test(m)) return ['not_receipt', t('verify.receipt_not_receipt')];
  return ['failed', t('verify.receipt_failed', { message: m })];
}

function showReceipt(status, text, fields, cls) {
  const box = $('#receipt-outcome');
  const verdict = $('#receipt-verdict');
  verdict.className = cls;
  verdict.textContent = text;
  const known = status !== 'unsigned' && status !== 'other_election' && status !== 'not_receipt' && status !== 'failed';
  $('#receipt-facts').hidden = !known;
  $('#receipt-seq').textContent = known ? fmt(fields.seq) : '';
  $('#receipt-tracker').textContent = known && typeof fields.tracker === 'string' ? fields.tracker : '—';
  $('#receipt-weight').textContent = known ? fmt(fields.weight) : '';
  box.dataset.status = status;
  box.hidden = false;
  announce(text);
}

$('#receipt-check').addEventListener('click', async () => {
  const input = $('#receipt-file');
  const file = input.files && input.files[0];
  if (!file) {
    showError(t('common.no_file'));
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  if (!verified) return;
  input.removeAttribute('aria-invalid');
  showError('');
  const button = $('#receipt-check');
  button.disabled = true;
  $('#receipt-outcome').hidden = true;
  announce(t('verify.receipt_checking'));
  try {
    const text = file.size > 1 << 20 ? '' : await file.text();
    const fields = receiptFields(text);
    const answer = await runJob({ record: verified, receipt: text });
    if (!answer.ok) {
      const [status, why] = receiptRefusal(answer.error.message);
      showReceipt(status, why, fields, 'bad');
      return;
    }
    const out = answer.outcome;
    const vars = {
      seq: fmt(out.seq), weight: fmt(out.weight), later: fmt(out.replaced_by ?? 0),
      length: fmt(out.length ?? 0), listed: fmt(out.listed ?? 0),
    };
    const shown = { ...fields, seq: out.seq, weight: out.weight };
    switch (out.status) {
      case 'on_record':
        showReceipt('on_record', t('verify.receipt_on_record', vars), shown, 'ok');
        break;
      case 'replaced':
        showReceipt('replaced', t('verify.receipt_replaced', vars), shown, '');
        break;
      case 'not_yet':
        showReceipt('not_yet', t('verify.receipt_not_yet', vars), shown, '');
        break;
      case 'missing':
        showReceipt('missing', t('verify.receipt_missing', vars), shown, 'bad');
        break;
      case 'wrong_weight':
        showReceipt('wrong_weight', t('verify.receipt_wrong_weight', vars), shown, 'bad');
        break;
      default:
        showReceipt('failed', t('verify.receipt_failed', { message: out.status }), shown, 'bad');
    }
  } catch (e) {
    showError(errorText(e));
  } finally {
    button.disabled = false;
  }
});

for (const b of document.querySelectorAll('button.again')) {
  b.addEventListener('click', () => {
    showError('');
    showStep('choose');
  });
}

if (!id) showError(t('verify.no_election'));
