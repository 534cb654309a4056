// Acting only on the record everybody sees (spec §14.4): before a step that cannot be undone
// on a closed election (a trustee's decryption share, the officials' tally), the page asks
// each monitor the election names (§14.3) for its status (it must raise no alarm) and for
// its line at the position of the `close` event, and compares that line byte for byte with
// the `close` line of the record it downloaded from this server. Equal `close` lines mean
// equal records up to the close (each line names the hash of the one before it). The
// credential authority, before generating the credentials, compares the same way the last
// line of the record it downloaded (`compareLine`, which `compareClose` uses too). The
// page's Content-Security-Policy lets it reach exactly the election's monitors.
import { t } from './i18n.js';
import { el } from './ui.js';

const CLOSE = /^\{"seq":(\d+),"prev":"[0-9a-f]{64}","type":"close",/;
const LINE = /^\{"seq":(\d+),/;
const TIMEOUT_MS = 15_000;

/** The `close` line of `record` (text, JSON Lines): {seq, line} without its line feed, or null. */
export function closeLine(record) {
  const lines = String(record).split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = CLOSE.exec(lines[i]);
    if (m) return { seq: Number(m[1]), line: lines[i] };
  }
  return null;
}

/** The last line of `record` (text, JSON Lines): {seq, line} without its line feed, or null. */
export function lastLine(record) {
  const lines = String(record).split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i]) continue;
    const m = LINE.exec(lines[i]);
    return m ? { seq: Number(m[1]), line: lines[i] } : null;
  }
  return null;
}

/** The monitors of an election's definition (their URLs, as named). */
export function monitorsOf(definition) {
  return ((definition && definition.monitors) || []).filter((m) => typeof m === 'string' && m);
}

async function fetchFrom(url) {
  const r = await fetch(url, {
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r;
}

/** The SHA-256 (hex) of one line, with the booth module; '?' if it cannot be computed. */
function hashOf(wasm, line) {
  try {
    return wasm.record_head(`${line}\n`, 1);
  } catch (_) {
    return '?';
  }
}

/**
 * Asks one monitor for its line at position `at.seq`. Returns {monitor, status, …}: status
 * 'agree' (the same line, byte for byte); 'alarm' (`alarms`: [{kind, message}]); 'differs'
 * (`theirs`: the hash of the monitor's line); 'behind' (the monitor's copy does not reach
 * that position yet); 'unreachable' (`reason`).
 */
async function askMonitor(monitor, id, at, wasm) {
  const base = monitor.replace(/\/+$/, '');
  let status;
  let text;
  try {
    status = await (await fetchFrom(`${base}/api/monitor/status`)).json();
    text = await (await fetchFrom(
      `${base}/api/elections/${encodeURIComponent(id)}/record?from=${at.seq}`,
    )).text();
  } catch (e) {
    return { monitor, status: 'unreachable', reason: (e && e.message) || String(e) };
  }
  const alarms = Array.isArray(status && status.alarms) ? status.alarms : [];
  if (!status || status.ok !== true || alarms.length) {
    return { monitor, status: 'alarm', alarms };
  }
  const nl = text.indexOf('\n');
  const theirs = nl < 0 ? text : text.slice(0, nl);
  if (!theirs) return { monitor, status: 'behind', events: status.events ?? '?' };
  if (theirs === at.line) return { monitor, status: 'agree' };
  return { monitor, status: 'differs', theirs: hashOf(wasm, theirs) };
}

/**
 * Compares `at` ({seq, line}: a line of the record downloaded from this server and its
 * position) with the line each of `monitors` (URLs) holds at that position, for election
 * `id`. Returns {close: {seq, line, hash} (the line compared), results: [per monitor], ok}:
 * `ok` when every monitor holds the same line and raises no alarm (vacuously when there is
 * none).
 */
export async function compareLine({ id, at, monitors, wasm }) {
  const line = { seq: at.seq, line: at.line, hash: hashOf(wasm, at.line) };
  const results = await Promise.all(monitors.map((m) => askMonitor(m, id, line, wasm)));
  return { close: line, results, ok: results.every((r) => r.status === 'agree') };
}

/**
 * Compares the `close` line of `record` with each of `monitors` (URLs), for election `id`
 * (see `compareLine`). Throws when the record has no `close` line.
 */
export async function compareClose({ id, record, monitors, wasm }) {
  const close = closeLine(record);
  if (!close) throw new Error(t('common.monitor_no_close'));
  return compareLine({ id, at: close, monitors, wasm });
}

/** The values a sentence about a monitor's answer names: {monitor, seq, ours, theirs, alarms, reason, events}. */
export function resultVars(r, close) {
  const vars = { monitor: r.monitor, seq: close.seq, ours: close.hash, theirs: r.theirs, reason: r.reason, events: r.events };
  if (r.status === 'alarm') {
    vars.alarms = r.alarms.length
      ? r.alarms.map((a) => `${a.kind}${a.message ? ` (${a.message})` : ''}`).join('; ')
      : t('common.monitor_not_ok');
  }
  return vars;
}

/**
 * What a monitor's answer says, in one sentence: the string `${prefix}${status}` (by
 * default, about the `close` line).
 */
export function resultText(r, close, prefix = 'common.monitor_close_') {
  return t(`${prefix}${r.status}`, resultVars(r, close));
}

/** The first disagreement worth naming in a refusal (an alarm or another line before the rest). */
export function firstProblem(results) {
  for (const status of ['differs', 'alarm', 'unreachable', 'behind']) {
    const r = results.find((x) => x.status === status);
    if (r) return r;
  }
  return null;
}

/**
 * Shows the outcome in `list` (a <ul>): one item per monitor, with `data-status`, each
 * sentence the string `${prefix}${status}` (see `resultText`).
 */
export function showResults(list, { close, results }, prefix = 'common.monitor_close_') {
  list.replaceChildren(...results.map((r) => el('li', {
    class: r.status === 'agree' ? 'ok' : 'bad',
    'data-status': r.status,
    'data-monitor': r.monitor,
    text: resultText(r, close, prefix),
  })));
}
