// The booth's questions: one fieldset per question (spec §8), its rules spelled out, the
// voter's choices read back in the format `BoothElection.encrypt` expects (one entry per
// question: an array of one value per answer, or the string "blank"), checked against the
// same rules as crates/election/src/definition.rs `QuestionChoice::validate` before
// anything is encrypted, and described in words for the review and the audit.
import { t } from './i18n.js';
import { el, $, $$ } from './ui.js';

/** Radio buttons when exactly one answer must be chosen; checkboxes otherwise. */
function isSingle(q) {
  return q.max_per_answer === 1 && q.min === 1 && q.max === 1;
}

/** The rules of question `q` in words. */
export function rulesText(q) {
  const n = q.answers.length;
  let text;
  if (q.max_per_answer > 1) {
    text = t('booth.rule_score', { k: q.max_per_answer });
    if (q.min === q.max) text += ' ' + t('booth.rule_score_exactly', { n: q.min });
    else if (q.min === 0 && q.max >= n * q.max_per_answer) text += '';
    else if (q.min === 0) text += ' ' + t('booth.rule_score_at_most', { max: q.max });
    else text += ' ' + t('booth.rule_score_between', { min: q.min, max: q.max });
  } else if (q.min === q.max) {
    text = q.min === 1 ? t('booth.rule_exactly_one') : t('booth.rule_exactly', { n: q.min });
  } else if (q.min === 0) {
    if (q.max >= n) text = t('booth.rule_any');
    else if (q.max === 1) text = t('booth.rule_at_most_one');
    else text = t('booth.rule_at_most', { max: q.max });
  } else {
    text = t('booth.rule_between', { min: q.min, max: q.max });
  }
  if (q.blank) text += ' ' + t('booth.rule_blank');
  return text;
}

/** Builds the form's fieldsets into `host`. */
export function renderQuestions(host, questions) {
  host.replaceChildren();
  questions.forEach((q, i) => {
    const id = `q${i}`;
    const fs = el('fieldset', {
      id,
      class: 'question',
      'data-question': String(i),
      'aria-describedby': `${id}-rules ${id}-error`,
    });
    fs.append(
      el(
        'legend',
        {},
        el('span', { class: 'qnum', text: t('booth.question_n', { n: i + 1, total: questions.length }) }),
        el('span', { class: 'qtext', text: q.text }),
      ),
      el('p', { id: `${id}-rules`, class: 'hint rules', text: rulesText(q) }),
    );
    const single = isSingle(q);
    q.answers.forEach((answer, a) => {
      const inputId = `${id}-a${a}`;
      if (q.max_per_answer > 1) {
        const select = el('select', { id: inputId, 'data-answer': String(a) });
        for (let v = 0; v <= q.max_per_answer; v++) {
          select.append(el('option', { value: String(v), text: String(v) }));
        }
        fs.append(
          el('div', { class: 'choice score' }, el('label', { for: inputId, text: answer }), select),
        );
      } else {
        const input = el('input', {
          type: single ? 'radio' : 'checkbox',
          id: inputId,
          name: id,
          value: String(a),
          'data-answer': String(a),
        });
        fs.append(el('div', { class: 'choice' }, input, el('label', { for: inputId, text: answer })));
      }
    });
    if (q.blank) {
      const inputId = `${id}-blank`;
      const input = el('input', {
        type: single ? 'radio' : 'checkbox',
        id: inputId,
        name: id,
        value: 'blank',
        'data-blank': '',
      });
      fs.append(
        el(
          'div',
          { class: 'choice blank-choice' },
          input,
          el('label', { for: inputId, text: t('booth.blank_option') }),
        ),
      );
    }
    if (!single && (q.max > 1 || q.max_per_answer > 1)) {
      fs.append(el('p', { id: `${id}-count`, class: 'hint count', 'aria-live': 'polite' }));
    }
    fs.append(el('p', { id: `${id}-error`, class: 'field-error', hidden: true }));
    host.append(fs);
    // Blank and answers exclude each other: choosing one clears the other.
    fs.addEventListener('change', (ev) => {
      const target = ev.target;
      const blank = $(`#${id}-blank`, fs);
      if (blank && target === blank && blank.checked) {
        for (const x of $$('[data-answer]', fs)) {
          if (x.tagName === 'SELECT') x.value = '0';
          else x.checked = false;
        }
      } else if (blank && target !== blank && !single) {
        if (target.checked || (target.tagName === 'SELECT' && target.value !== '0')) blank.checked = false;
      }
      updateCount(fs, q);
      if (fs.getAttribute('aria-invalid') === 'true') clearError(fs);
    });
    updateCount(fs, q);
  });
}

function updateCount(fs, q) {
  const p = $('.count', fs);
  if (!p) return;
  const values = readValues(fs, q);
  const sum = values.reduce((s, v) => s + v, 0);
  p.textContent = q.max_per_answer > 1 ? t('booth.count_points', { n: sum }) : t('booth.count_chosen', { n: sum });
}

function readValues(fs, q) {
  return q.answers.map((_, a) => {
    const x = $(`#${fs.id}-a${a}`, fs);
    if (!x) return 0;
    if (x.tagName === 'SELECT') return Number(x.value) || 0;
    return x.checked ? 1 : 0;
  });
}

/** The choice of one question as `encrypt` takes it: "blank" or one value per answer. */
function readChoice(fs, q) {
  const blank = $(`#${fs.id}-blank`, fs);
  if (blank && blank.checked) return 'blank';
  return readValues(fs, q);
}

/** Why `choice` breaks the rules of `q` (the same rules the protocol checks), or null. */
export function choiceProblem(q, choice) {
  if (choice === 'blank') return q.blank ? null : t('booth.err_no_blank');
  if (choice.length !== q.answers.length) return t('booth.err_shape');
  if (choice.some((v) => !Number.isInteger(v) || v < 0 || v > q.max_per_answer)) return t('booth.err_shape');
  const sum = choice.reduce((s, v) => s + v, 0);
  if (sum >= q.min && sum <= q.max) return null;
  if (q.max_per_answer > 1) return t('booth.err_sum', { sum, min: q.min, max: q.max });
  if (sum > q.max) return t('booth.err_too_many', { count: sum, max: q.max });
  if (isSingle(q)) return q.blank ? t('booth.err_choose_one_or_blank') : t('booth.err_choose_one');
  return q.blank ? t('booth.err_too_few_or_blank', { count: sum, min: q.min }) : t('booth.err_too_few', { count: sum, min: q.min });
}

function clearError(fs) {
  fs.removeAttribute('aria-invalid');
  for (const x of $$('input, select', fs)) x.removeAttribute('aria-invalid');
  const err = $('.field-error', fs);
  err.textContent = '';
  err.hidden = true;
}

function setError(fs, text) {
  fs.setAttribute('aria-invalid', 'true');
  for (const x of $$('input, select', fs)) x.setAttribute('aria-invalid', 'true');
  const err = $('.field-error', fs);
  err.textContent = text;
  err.hidden = false;
}

/**
 * Reads and checks every question. Returns {choices, invalid}: `invalid` lists the
 * fieldsets whose rules are broken (each marked aria-invalid, its error shown and linked
 * through aria-describedby); `choices` is usable only when `invalid` is empty.
 */
export function collectChoices(host, questions) {
  const choices = [];
  const invalid = [];
  questions.forEach((q, i) => {
    const fs = $(`#q${i}`, host);
    const choice = readChoice(fs, q);
    const problem = choiceProblem(q, choice);
    if (problem) {
      setError(fs, problem);
      invalid.push(fs);
    } else {
      clearError(fs);
    }
    choices.push(choice);
  });
  return { choices, invalid };
}

/** Unchecks everything and clears the errors (after casting, or for a new ballot). */
export function resetQuestions(host, questions) {
  questions.forEach((q, i) => {
    const fs = $(`#q${i}`, host);
    if (!fs) return;
    for (const x of $$('input', fs)) x.checked = false;
    for (const x of $$('select', fs)) x.value = '0';
    clearError(fs);
    updateCount(fs, q);
  });
}

/** The words for one question's choice: a list of answers, "blank" or "no answer". */
export function describeChoice(q, choice) {
  if (choice === 'blank') return [t('booth.review_blank')];
  const chosen = q.answers
    .map((a, i) => [a, choice[i]])
    .filter(([, v]) => v > 0)
    .map(([a, v]) => (q.max_per_answer > 1 ? t('booth.review_points', { answer: a, n: v }) : a));
  return chosen.length ? chosen : [t('booth.review_none')];
}

/** A <dl> with, for each question, its text and the choices in words. */
export function choicesList(questions, choices) {
  const dl = el('dl', { class: 'review' });
  questions.forEach((q, i) => {
    dl.append(el('dt', { text: q.text }));
    const dd = el('dd');
    const ul = el('ul');
    for (const line of describeChoice(q, choices[i])) ul.append(el('li', { text: line }));
    dd.append(ul);
    dl.append(dd);
  });
  return dl;
}

/** Whether two sets of choices are the same. */
export function sameChoices(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}
