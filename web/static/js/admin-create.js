// The election creation form: a builder for the TOML description the server expects
// (crates/election/src/definition.rs, `ElectionDescription`), with an advanced tab that
// shows, and lets one edit, the generated text. Each trustee and the credential authority
// are named with the public key they generated on /keys; the form shows each key's
// fingerprint (computed by the booth module, crates/booth), for the official to compare
// with the one its holder reads out. Each question is of one kind (spec §8.1): answers to
// choose (min and max, blank), candidates to rank (counted by Schulze, instant-runoff or
// STV with its seats), or candidates to grade (majority judgment on grade names, best
// first).
import { t } from './i18n.js';
import { $, $$, el, announce, showError } from './ui.js';
import { loadBooth } from './booth-wasm.js';
import {
  adminApi, explain, fromLocalInput, timeZone, ID_RE, ApiError,
} from './admin-common.js';

/** A TOML basic string: quotes, backslashes and control characters escaped. */
export function tomlString(s) {
  let out = '"';
  for (const ch of String(s)) {
    const c = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

const tomlArray = (items) => `[${items.map(tomlString).join(', ')}]`;

/**
 * The TOML description of a model {id, title, description, trustees: [{name, key}],
 * threshold, authority: {name, key}, monitors, questions}.
 */
export function toToml(m) {
  const lines = [];
  if (m.id) lines.push(`id = ${tomlString(m.id)}`);
  lines.push(`title = ${tomlString(m.title)}`);
  if (m.description) lines.push(`description = ${tomlString(m.description)}`);
  lines.push(`threshold = ${Number.isInteger(m.threshold) ? m.threshold : 0}`);
  if (m.monitors.length) lines.push(`monitors = ${tomlArray(m.monitors)}`);
  lines.push('', '[authority]');
  lines.push(`name = ${tomlString(m.authority.name)}`);
  lines.push(`key = ${tomlString(m.authority.key)}`);
  for (const tr of m.trustees) {
    lines.push('', '[[trustee]]');
    lines.push(`name = ${tomlString(tr.name)}`);
    lines.push(`key = ${tomlString(tr.key)}`);
  }
  for (const q of m.questions) {
    lines.push('', '[[question]]');
    lines.push(`text = ${tomlString(q.text)}`);
    lines.push(`answers = ${tomlArray(q.answers)}`);
    if (q.kind) {
      // A ranked or graded question names no min, max or blank (§8.2 rule 11).
      lines.push(`kind = ${tomlString(q.kind)}`);
      lines.push(`method = ${tomlString(q.method)}`);
      if (q.method === 'stv') lines.push(`seats = ${Number.isInteger(q.seats) ? q.seats : 0}`);
      if (q.kind === 'grades') lines.push(`grades = ${tomlArray(q.grades)}`);
      continue;
    }
    lines.push(`min = ${Number.isInteger(q.min) ? q.min : 0}`);
    lines.push(`max = ${Number.isInteger(q.max) ? q.max : 0}`);
    lines.push(`blank = ${q.blank ? 'true' : 'false'}`);
  }
  return lines.join('\n') + '\n';
}

let nextQuestion = 1;
let tomlEdited = false;
let initialized = false;

function intOf(input) {
  const v = input.value.trim();
  return /^[0-9]{1,9}$/.test(v) ? Number(v) : NaN;
}

// ---- public keys and their fingerprints ----

let wasm = null; // the booth module, once loaded (fingerprints)

const HEX_KEY = /^[0-9a-f]{64}$/;

/** What a typed public key is: {empty}, {error}, {pending} (module loading) or {ok, key, fingerprint}. */
function keyState(text) {
  const key = text.trim().toLowerCase();
  if (!key) return { empty: true };
  if (!HEX_KEY.test(key)) return { error: t('admin.key_format', { n: key.length }) };
  if (!wasm) return { pending: true, key };
  try {
    return { ok: true, key, fingerprint: wasm.key_fingerprint(key) };
  } catch (_) {
    return { error: t('admin.key_invalid') };
  }
}

/** Shows under a key input its fingerprint, or what is wrong with it. */
function showFingerprint(input) {
  const out = document.getElementById(`${input.id}-fp`);
  if (!out) return;
  const s = keyState(input.value);
  out.textContent = s.ok ? t('admin.key_fingerprint', { fingerprint: s.fingerprint })
    : s.error || (s.pending ? t('common.loading') : t('admin.key_hint'));
  out.classList.toggle('bad', !!s.error);
  out.dataset.fingerprint = s.ok ? s.fingerprint : '';
}

function refreshFingerprints() {
  for (const input of $$('#create-form input.role-key')) showFingerprint(input);
}

/** A public key input with its fingerprint line below it. */
function keyInput(value = '') {
  const input = el('input', {
    type: 'text', class: 'role-key mono', maxlength: '80', autocomplete: 'off',
    autocapitalize: 'none', spellcheck: 'false', value,
  });
  const fp = el('p', { class: 'hint key-fp' });
  input.addEventListener('input', () => {
    showFingerprint(input);
    formChanged();
  });
  return { input, fp };
}

// ---- trustees ----

function renumberTrustees() {
  const rows = $$('#trustee-list > li');
  rows.forEach((li, i) => {
    const n = i + 1;
    const [nameLabel, keyLabel] = li.querySelectorAll('label');
    const name = li.querySelector('input.trustee-name');
    const key = li.querySelector('input.role-key');
    const fp = li.querySelector('.key-fp');
    name.id = `f-trustee-${n}`;
    nameLabel.htmlFor = name.id;
    nameLabel.textContent = t('admin.f_trustee_n', { n });
    key.id = `f-trustee-key-${n}`;
    keyLabel.htmlFor = key.id;
    keyLabel.textContent = t('admin.f_trustee_key_n', { n });
    fp.id = `${key.id}-fp`;
    key.setAttribute('aria-describedby', fp.id);
    li.querySelector('.admin-sr-only').textContent = ` ${t('admin.trustee_n', { n })}`;
    li.querySelector('button').hidden = rows.length <= 1;
    showFingerprint(key);
  });
  updateThresholdHint();
}

function addTrustee(name = '', publicKey = '') {
  const input = el('input', { type: 'text', class: 'trustee-name', maxlength: '1000', autocomplete: 'off', value: name });
  const remove = el('button', { type: 'button', class: 'secondary admin-remove' },
    t('admin.remove'), el('span', { class: 'admin-sr-only' }));
  const key = keyInput(publicKey);
  const li = el('li', {}, el('label'), el('div', { class: 'admin-row' }, input, remove),
    el('label'), key.input, key.fp);
  remove.addEventListener('click', () => {
    const prev = li.previousElementSibling || li.nextElementSibling;
    li.remove();
    renumberTrustees();
    formChanged();
    (prev && prev.querySelector('input'))?.focus();
    announce(t('admin.trustee_removed'));
  });
  input.addEventListener('input', formChanged);
  $('#trustee-list').append(li);
  renumberTrustees();
  return input;
}

function updateThresholdHint() {
  const n = $$('#trustee-list > li').length;
  const k = intOf($('#f-threshold'));
  $('#f-threshold').max = String(n);
  const hint = $('#threshold-explain');
  if (!Number.isInteger(k) || k < 1 || k > n) {
    hint.textContent = t('admin.threshold_invalid', { n });
  } else {
    hint.textContent = t('admin.threshold_explain', { n, k, fewer: k - 1, missing: n - k });
  }
}

// ---- questions ----

function renumberQuestions() {
  const sets = $$('#question-list > fieldset');
  sets.forEach((fs, i) => {
    const n = i + 1;
    fs.querySelector('legend').textContent = t('admin.question_n', { n });
    fs.querySelector('.admin-q-remove .admin-sr-only').textContent = ` ${t('admin.question_n', { n })}`;
    fs.querySelector('.admin-q-remove').hidden = sets.length <= 1;
  });
}

/** The default grade names, best first, in the page's language. */
function defaultGrades() {
  return t('admin.q_grades_default').split('|');
}

/** Shows the fields of the question kind chosen in `fs` (and the seats of an STV count). */
function showKindFields(fs) {
  const kind = fs.querySelector('.q-kind').value;
  fs.querySelector('.q-choose-fields').hidden = kind !== 'choose';
  fs.querySelector('.q-ranked-fields').hidden = kind !== 'ranked';
  fs.querySelector('.q-grades-fields').hidden = kind !== 'grades';
  fs.querySelector('.q-seats-field').hidden = fs.querySelector('.q-method').value !== 'stv';
  fs.querySelector('.q-answers-hint').textContent = t(kind === 'choose' ? 'admin.q_answers_hint' : 'admin.q_candidates_hint');
}

function addQuestion(q = { text: '', answers: [], min: 1, max: 1, blank: false }) {
  const k = nextQuestion++;
  const id = (name) => `q${k}-${name}`;
  const field = (name, labelKey, input, hintKey) => {
    input.id = id(name);
    const parts = [el('label', { for: input.id, text: t(labelKey) }), input];
    if (hintKey) {
      const h = el('p', { class: 'hint', id: id(`${name}-hint`), text: t(hintKey) });
      input.setAttribute('aria-describedby', h.id);
      parts.push(h);
    }
    return parts;
  };
  const text = el('input', { type: 'text', class: 'q-text', maxlength: '1000', value: q.text });
  const answers = el('textarea', { class: 'q-answers admin-prose', spellcheck: 'true' });
  answers.value = q.answers.join('\n');
  const min = el('input', { type: 'number', class: 'q-min admin-num', min: '0', step: '1', inputmode: 'numeric', value: String(q.min) });
  const max = el('input', { type: 'number', class: 'q-max admin-num', min: '0', step: '1', inputmode: 'numeric', value: String(q.max) });
  const blank = el('input', { type: 'checkbox', class: 'q-blank', id: id('blank') });
  blank.checked = !!q.blank;
  const remove = el('button', { type: 'button', class: 'secondary admin-q-remove' },
    t('admin.remove_question'), el('span', { class: 'admin-sr-only' }));
  const option = (value, key) => el('option', { value, text: t(key) });
  const kind = el('select', { class: 'q-kind' },
    option('choose', 'admin.q_kind_choose'), option('ranked', 'admin.q_kind_ranked'), option('grades', 'admin.q_kind_grades'));
  kind.value = q.kind || 'choose';
  const method = el('select', { class: 'q-method' },
    option('schulze', 'admin.q_method_schulze'), option('irv', 'admin.q_method_irv'), option('stv', 'admin.q_method_stv'));
  method.value = q.kind === 'ranked' ? q.method : 'schulze';
  const seats = el('input', { type: 'number', class: 'q-seats admin-num', min: '1', step: '1', inputmode: 'numeric', value: String(q.seats || 2) });
  const grades = el('textarea', { class: 'q-grades admin-prose', spellcheck: 'true' });
  grades.value = (q.grades || defaultGrades()).join('\n');
  const fs = el('fieldset', { class: 'admin-question' },
    el('legend'),
    ...field('text', 'admin.q_text', text),
    ...field('kind', 'admin.q_kind', kind, 'admin.q_kind_hint'),
    ...field('answers', 'admin.q_answers', answers, 'admin.q_answers_hint'),
    el('div', { class: 'q-choose-fields' },
      el('div', { class: 'admin-minmax' },
        el('div', {}, ...field('min', 'admin.q_min', min)),
        el('div', {}, ...field('max', 'admin.q_max', max))),
      el('p', { class: 'hint', id: id('rule'), text: t('admin.q_minmax_hint') }),
      el('div', { class: 'choice' }, blank,
        el('label', { for: blank.id, text: t('admin.q_blank') }))),
    el('div', { class: 'q-ranked-fields' },
      ...field('method', 'admin.q_method', method, 'admin.q_method_hint'),
      el('div', { class: 'q-seats-field' }, ...field('seats', 'admin.q_seats', seats, 'admin.q_seats_hint'))),
    el('div', { class: 'q-grades-fields' },
      ...field('grades', 'admin.q_grades', grades, 'admin.q_grades_hint')),
    remove);
  fs.querySelector('.q-answers + .hint').classList.add('q-answers-hint');
  min.setAttribute('aria-describedby', id('rule'));
  max.setAttribute('aria-describedby', id('rule'));
  for (const input of [text, answers, min, max, blank, seats, grades]) input.addEventListener('input', formChanged);
  blank.addEventListener('change', formChanged);
  for (const select of [kind, method]) {
    select.addEventListener('change', () => {
      showKindFields(fs);
      formChanged();
    });
  }
  remove.addEventListener('click', () => {
    const next = fs.previousElementSibling || fs.nextElementSibling;
    fs.remove();
    renumberQuestions();
    formChanged();
    (next && next.querySelector('input'))?.focus();
    announce(t('admin.question_removed'));
  });
  $('#question-list').append(fs);
  showKindFields(fs);
  renumberQuestions();
  return text;
}

// ---- the model ----

/** Reads the form into a model; `errors` lists [input, message] for what is wrong. */
function readForm() {
  const errors = [];
  const m = {
    id: $('#f-id').value.trim(),
    title: $('#f-title').value.trim(),
    description: $('#f-description').value.replace(/\r\n?/g, '\n').trim(),
    trustees: [],
    threshold: intOf($('#f-threshold')),
    authority: { name: $('#f-authority-name').value.trim(), key: '' },
    monitors: $('#f-monitors').value.split('\n').map((l) => l.trim()).filter(Boolean),
    questions: [],
  };
  if (m.id && !ID_RE.test(m.id)) errors.push([$('#f-id'), t('admin.err_id')]);
  if (!m.title) errors.push([$('#f-title'), t('admin.err_title')]);
  const seen = new Map(); // public key → who it is, to refuse a key named twice
  const checkKey = (input, who) => {
    const s = keyState(input.value);
    if (s.empty) errors.push([input, t('admin.err_key_missing', { who })]);
    else if (s.error) errors.push([input, t('admin.err_key', { who, message: s.error })]);
    else if (seen.has(s.key)) errors.push([input, t('admin.err_key_twice', { who, other: seen.get(s.key) })]);
    if (s.key) seen.set(s.key, who);
    return s.key || input.value.trim().toLowerCase();
  };
  $$('#trustee-list > li').forEach((li, i) => {
    const input = li.querySelector('input.trustee-name');
    const name = input.value.trim();
    if (!name) errors.push([input, t('admin.err_trustee', { n: i + 1 })]);
    const key = checkKey(li.querySelector('input.role-key'), t('admin.trustee_n', { n: i + 1 }));
    m.trustees.push({ name, key });
  });
  if (!m.authority.name) errors.push([$('#f-authority-name'), t('admin.err_authority')]);
  m.authority.key = checkKey($('#f-authority-key'), t('admin.the_authority'));
  for (const url of m.monitors) {
    if (!/^https?:\/\/[^\s"<>\\]+$/.test(url) || url.length > 1000) {
      errors.push([$('#f-monitors'), t('admin.err_monitor', { url })]);
    }
  }
  const n = m.trustees.length;
  if (!Number.isInteger(m.threshold) || m.threshold < 1 || m.threshold > n) {
    errors.push([$('#f-threshold'), t('admin.threshold_invalid', { n })]);
  }
  $$('#question-list > fieldset').forEach((fs, i) => {
    const num = i + 1;
    const lines = (sel) => fs.querySelector(sel).value.split('\n').map((a) => a.trim()).filter(Boolean);
    const kind = fs.querySelector('.q-kind').value;
    const q = {
      text: fs.querySelector('.q-text').value.trim(),
      answers: lines('.q-answers'),
      min: intOf(fs.querySelector('.q-min')),
      max: intOf(fs.querySelector('.q-max')),
      blank: fs.querySelector('.q-blank').checked,
    };
    if (!q.text) errors.push([fs.querySelector('.q-text'), t('admin.err_q_text', { n: num })]);
    if (!q.answers.length) errors.push([fs.querySelector('.q-answers'), t('admin.err_q_answers', { n: num })]);
    if (kind !== 'choose') {
      const mixed = { text: q.text, answers: q.answers, kind };
      if (kind === 'ranked') {
        mixed.method = fs.querySelector('.q-method').value;
        if (mixed.method === 'stv') {
          mixed.seats = intOf(fs.querySelector('.q-seats'));
          if (!Number.isInteger(mixed.seats) || mixed.seats < 1 || mixed.seats >= q.answers.length) {
            errors.push([fs.querySelector('.q-seats'), t('admin.err_q_seats', { n: num, answers: q.answers.length })]);
          }
        }
      } else {
        mixed.method = 'majority-judgment';
        mixed.grades = lines('.q-grades');
        if (mixed.grades.length < 2) errors.push([fs.querySelector('.q-grades'), t('admin.err_q_grades', { n: num })]);
      }
      m.questions.push(mixed);
      return;
    }
    if (!q.answers.length) {
      // reported above
    } else if (!Number.isInteger(q.min) || !Number.isInteger(q.max) || q.min > q.max || q.max > q.answers.length) {
      errors.push([fs.querySelector('.q-min'), t('admin.err_q_minmax', { n: num, answers: q.answers.length })]);
    } else if (q.max === 0 && !q.blank) {
      errors.push([fs.querySelector('.q-max'), t('admin.err_q_zero', { n: num })]);
    }
    m.questions.push(q);
  });
  if (!m.questions.length) errors.push([$('#add-question'), t('admin.err_no_question')]);
  return { model: m, errors };
}

function formChanged() {
  updateThresholdHint();
  if (!tomlEdited) $('#f-toml').value = toToml(readForm().model);
}

// ---- tabs ----

function selectTab(which, focus = false) {
  for (const name of ['form', 'toml']) {
    const tab = $(`#tab-${name}`);
    const on = name === which;
    tab.setAttribute('aria-selected', on ? 'true' : 'false');
    tab.tabIndex = on ? 0 : -1;
    $(`#panel-${name}`).hidden = !on;
    if (on && focus) tab.focus();
  }
  if (which === 'toml' && !tomlEdited) $('#f-toml').value = toToml(readForm().model);
}

function setTomlEdited(on) {
  tomlEdited = on;
  $('#toml-edited').hidden = !on;
}

// ---- errors next to the form ----

function showFormErrors(messages) {
  const box = $('#create-error');
  box.replaceChildren();
  if (!messages.length) {
    box.hidden = true;
    return;
  }
  box.append(el('p', { text: t('admin.create_refused') }),
    el('ul', {}, ...messages.map((msg) => el('li', { text: msg }))));
  box.hidden = false;
}

function clearInvalid() {
  for (const input of $$('#create-form [aria-invalid]')) input.removeAttribute('aria-invalid');
}

async function submit(ev) {
  ev.preventDefault();
  showError('');
  clearInvalid();
  const opensAt = fromLocalInput($('#f-opens').value);
  const closesAt = fromLocalInput($('#f-closes').value);
  const errors = [];
  let description;
  if (tomlEdited) {
    description = $('#f-toml').value;
    if (!description.trim()) errors.push([$('#f-toml'), t('admin.err_toml_empty')]);
  } else {
    const read = readForm();
    errors.push(...read.errors);
    description = toToml(read.model);
    $('#f-toml').value = description;
  }
  const now = Date.now() / 1000;
  if (Number.isNaN(opensAt)) errors.push([$('#f-opens'), t('admin.err_time')]);
  if (Number.isNaN(closesAt)) errors.push([$('#f-closes'), t('admin.err_time')]);
  if (opensAt && opensAt < now) errors.push([$('#f-opens'), t('admin.err_past', { what: t('admin.f_opens') })]);
  if (closesAt && closesAt < now) errors.push([$('#f-closes'), t('admin.err_past', { what: t('admin.f_closes') })]);
  if (opensAt && closesAt && closesAt <= opensAt) errors.push([$('#f-closes'), t('admin.err_order')]);
  if (errors.length) {
    for (const [input] of errors) input.setAttribute('aria-invalid', 'true');
    showFormErrors(errors.map(([, msg]) => msg));
    const first = errors[0][0];
    if (first.closest('#panel-toml')) selectTab('toml');
    else if (first.closest('#panel-form')) selectTab('form');
    first.focus();
    return;
  }
  showFormErrors([]);
  const button = $('#create-submit');
  button.disabled = true;
  announce(t('admin.creating'));
  try {
    const body = { description };
    if (opensAt) body.opens_at = opensAt;
    if (closesAt) body.closes_at = closesAt;
    const meta = await adminApi('/api/admin/elections', { json: body });
    announce(t('admin.created', { id: meta.id }));
    resetForm();
    location.hash = `election=${encodeURIComponent(meta.id)}`;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    announce('');
    const msg = e instanceof ApiError && e.code === 'invalid_description'
      ? t('admin.err_description', { message: e.message })
      : explain(e);
    showFormErrors([msg]);
  } finally {
    button.disabled = false;
  }
}

function resetForm() {
  $('#create-form').reset();
  refreshFingerprints();
  $('#trustee-list').replaceChildren();
  $('#question-list').replaceChildren();
  setTomlEdited(false);
  fillDefaults();
}

function fillDefaults() {
  addTrustee();
  addTrustee();
  addTrustee();
  $('#f-threshold').value = '2';
  addQuestion();
  selectTab('form');
  formChanged();
}

/**
 * Prepares the creation form with a TOML description (an existing election's, without its
 * identifier), shown in the advanced tab as an edit of the official's.
 */
export function prefillToml(text) {
  initCreate();
  $('#f-toml').value = text.replace(/^[ \t]*id[ \t]*=.*(\r?\n)?/m, '');
  setTomlEdited(true);
  selectTab('toml');
}

/** Shows the creation form (building it the first time). */
export function initCreate() {
  if (initialized) return;
  initialized = true;
  $('#create-schedule-hint').textContent = t('admin.schedule_hint', { zone: timeZone() });
  $('#add-trustee').addEventListener('click', () => {
    addTrustee().focus();
    formChanged();
  });
  $('#add-question').addEventListener('click', () => {
    addQuestion().focus();
    formChanged();
  });
  for (const id of ['#f-title', '#f-description', '#f-id', '#f-threshold', '#f-authority-name', '#f-monitors']) {
    $(id).addEventListener('input', formChanged);
  }
  $('#f-authority-key').addEventListener('input', (ev) => {
    showFingerprint(ev.currentTarget);
    formChanged();
  });
  loadBooth().then((w) => {
    wasm = w;
    refreshFingerprints();
  }).catch(() => {});
  $('#tab-form').addEventListener('click', () => selectTab('form'));
  $('#tab-toml').addEventListener('click', () => selectTab('toml'));
  for (const tab of $$('[role="tab"]')) {
    tab.addEventListener('keydown', (ev) => {
      if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(ev.key)) return;
      ev.preventDefault();
      const other = tab.id === 'tab-form' ? 'toml' : 'form';
      const to = ev.key === 'Home' ? 'form' : ev.key === 'End' ? 'toml' : other;
      selectTab(to, true);
    });
  }
  $('#f-toml').addEventListener('input', () => setTomlEdited(true));
  $('#toml-regenerate').addEventListener('click', () => {
    setTomlEdited(false);
    $('#f-toml').value = toToml(readForm().model);
    $('#f-toml').focus();
    announce(t('admin.toml_regenerated'));
  });
  $('#create-form').addEventListener('submit', submit);
  fillDefaults();
}
