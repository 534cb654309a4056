// The booth's questions: one fieldset per question (spec §8), its rules spelled out, the
// voter's choices read back in the format `BoothElection.encrypt` expects (one entry per
// question: an array of one value per answer, or the string "blank"), checked against the
// same rules as crates/election/src/definition.rs `QuestionChoice::validate` before
// anything is encrypted, and described in words for the review and the audit.
//
// A ranked question (§8.1 `kind = "ranked"`) gives each candidate a rank: a native
// <select> per candidate ("not ranked", "1st choice", …), a button that ranks it next (a tap
// on a phone, Enter or Space on a keyboard) or takes it out of the ranking, and the
// ranking so far as an ordered list; every change is said in a live region. A graded
// question (`kind = "grades"`) gives each candidate one grade: a radio group per
// candidate, in its own fieldset. Their choices are one rank, or one grade index (0 = the
// best grade), per candidate (§8.5).
import { t, currentLanguage } from './i18n.js';
import { el, $, $$, listOf } from './ui.js';

const isRanked = (q) => q.kind === 'ranked';
const isGraded = (q) => q.kind === 'grades';
const isMixed = (q) => isRanked(q) || isGraded(q);

/** "1st choice", "2nd choice"… in the page's language. */
function ordinal(n) {
  let form = 'other';
  try {
    form = new Intl.PluralRules(currentLanguage(), { type: 'ordinal' }).select(n);
  } catch (_) {
    // An engine without ordinal rules: the general form.
  }
  const key = `booth.ordinal_${form}`;
  const text = t(key, { n });
  return text === key ? t('booth.ordinal_other', { n }) : text;
}

/** Radio buttons when exactly one answer must be chosen; checkboxes otherwise. */
function isSingle(q) {
  return q.max_per_answer === 1 && q.min === 1 && q.max === 1;
}

/** The rules of question `q` in words. */
export function rulesText(q) {
  const n = q.answers.length;
  if (isRanked(q)) {
    const parts = [t('booth.rule_ranked')];
    parts.push(t(q.method === 'schulze' ? 'booth.rule_ranked_ties' : 'booth.rule_ranked_no_ties'));
    if (q.method === 'stv') parts.push(t('booth.rule_stv', { seats: q.seats }));
    else if (q.method === 'irv') parts.push(t('booth.rule_irv'));
    else if (q.method === 'schulze') parts.push(t('booth.rule_schulze'));
    return parts.join(' ');
  }
  if (isGraded(q)) {
    return t('booth.rule_grades', { best: q.grades[0], worst: q.grades[q.grades.length - 1] });
  }
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
    if (isMixed(q)) {
      (isRanked(q) ? renderRanked : renderGraded)(fs, q, id);
      fs.append(el('p', { id: `${id}-error`, class: 'field-error', hidden: true }));
      host.append(fs);
      return;
    }
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

/** A ranked question's candidates: a rank <select> and a "rank next" button each. */
function renderRanked(fs, q, id) {
  const n = q.answers.length;
  q.answers.forEach((answer, a) => {
    const inputId = `${id}-a${a}`;
    const select = el('select', { id: inputId, 'data-answer': String(a), class: 'rank-select' });
    select.append(el('option', { value: '0', text: t('booth.rank_none') }));
    for (let r = 1; r <= n; r++) select.append(el('option', { value: String(r), text: ordinal(r) }));
    const tap = el('button', { type: 'button', class: 'secondary rank-tap', 'data-tap': String(a) },
      el('span', { class: 'rank-tap-text' }), el('span', { class: 'sr-only', text: ` (${answer})` }));
    fs.append(el('div', { class: 'choice rank' },
      el('label', { for: inputId, text: answer }), select, tap));
  });
  const listId = `${id}-ranking`;
  fs.append(
    el('div', { class: 'ranking' },
      el('p', { id: `${listId}-label`, class: 'ranking-label', text: t('booth.ranking_label') }),
      el('ol', { id: listId, class: 'ranking-list', 'aria-labelledby': `${listId}-label` }),
      el('p', { id: `${listId}-empty`, class: 'hint', text: t('booth.ranking_empty') })),
    el('p', { id: `${id}-count`, class: 'hint count sr-only', 'aria-live': 'polite' }),
  );
  const changed = (a) => {
    updateRanking(fs, q);
    if (fs.getAttribute('aria-invalid') === 'true') clearError(fs);
    $(`#${id}-count`, fs).textContent = rankMessage(q, a, readValues(fs, q)[a]);
  };
  fs.addEventListener('change', (ev) => {
    if (ev.target.tagName === 'SELECT') changed(Number(ev.target.dataset.answer));
  });
  fs.addEventListener('click', (ev) => {
    const button = ev.target.closest('button[data-tap]');
    if (!button) return;
    const a = Number(button.dataset.tap);
    const ranks = readValues(fs, q);
    if (ranks[a] > 0) {
      const gone = ranks[a];
      const shared = ranks.some((r, b) => b !== a && r === gone);
      ranks[a] = 0;
      // Close the gap so that the ranks stay 1 … k.
      if (!shared) ranks.forEach((r, b) => { if (r > gone) ranks[b] = r - 1; });
    } else {
      ranks[a] = Math.max(0, ...ranks) + 1;
    }
    ranks.forEach((r, b) => { $(`#${id}-a${b}`, fs).value = String(r); });
    changed(a);
  });
  updateRanking(fs, q);
}

/** What a live region says after candidate `a` was given `rank`. */
function rankMessage(q, a, rank) {
  return rank > 0
    ? t('booth.ranked_as', { answer: q.answers[a], rank: ordinal(rank) })
    : t('booth.ranked_out', { answer: q.answers[a] });
}

/** Redraws the ordered list of a ranked question and the labels of its buttons. */
function updateRanking(fs, q) {
  const ranks = readValues(fs, q);
  const list = $(`#${fs.id}-ranking`, fs);
  const items = describeRanking(q, ranks).ranked;
  list.replaceChildren(...items.map(([r, names]) => el('li', { value: String(r), text: names })));
  list.hidden = items.length === 0;
  $(`#${fs.id}-ranking-empty`, fs).hidden = items.length > 0;
  const next = Math.max(0, ...ranks) + 1;
  for (const button of $$('button[data-tap]', fs)) {
    const r = ranks[Number(button.dataset.tap)];
    $('.rank-tap-text', button).textContent = r > 0 ? t('booth.rank_remove') : t('booth.rank_next', { rank: ordinal(next) });
  }
}

/** The candidates of a ranking grouped by rank: {ranked: [[rank, "Ada, Blaise"]…], unranked: [names]}. */
function describeRanking(q, ranks) {
  const byRank = new Map();
  const unranked = [];
  ranks.forEach((r, a) => {
    if (r > 0) byRank.set(r, [...(byRank.get(r) || []), q.answers[a]]);
    else unranked.push(q.answers[a]);
  });
  const ranked = [...byRank.keys()].sort((x, y) => x - y).map((r) => {
    const names = byRank.get(r);
    return [r, names.length > 1 ? t('booth.rank_tied', { list: listOf(names) }) : names[0]];
  });
  return { ranked, unranked };
}

/** A graded question's candidates: one radio group of the grades each. */
function renderGraded(fs, q, id) {
  q.answers.forEach((answer, a) => {
    const group = el('fieldset', { class: 'grade-group', id: `${id}-a${a}`, 'data-answer': String(a) },
      el('legend', { text: answer }));
    const row = el('div', { class: 'grade-options' });
    q.grades.forEach((grade, g) => {
      const inputId = `${id}-a${a}-g${g}`;
      row.append(el('div', { class: 'choice grade' },
        el('input', { type: 'radio', id: inputId, name: `${id}-a${a}`, value: String(g) }),
        el('label', { for: inputId, text: grade })));
    });
    group.append(row);
    fs.append(group);
  });
  fs.addEventListener('change', () => {
    if (fs.getAttribute('aria-invalid') === 'true') clearError(fs);
  });
}

function updateCount(fs, q) {
  const p = $('.count', fs);
  if (!p || isMixed(q)) return;
  const values = readValues(fs, q);
  const sum = values.reduce((s, v) => s + v, 0);
  p.textContent = q.max_per_answer > 1 ? t('booth.count_points', { n: sum }) : t('booth.count_chosen', { n: sum });
}

function readValues(fs, q) {
  return q.answers.map((_, a) => {
    const x = $(`#${fs.id}-a${a}`, fs);
    if (isGraded(q)) {
      const checked = x && $('input:checked', x);
      return checked ? Number(checked.value) : null;
    }
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
  if (isRanked(q)) return rankingProblem(q, choice);
  if (isGraded(q)) return gradesProblem(q, choice);
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

/**
 * Why ranks `choice` are no valid ranking for `q` (§8.5, as `validate_ranked` in
 * crates/election/src/count): at least one candidate ranked, the ranks used exactly 1 … k,
 * and no rank used twice unless the method is Schulze.
 */
function rankingProblem(q, choice) {
  const n = q.answers.length;
  if (!Array.isArray(choice) || choice.length !== n) return t('booth.err_shape');
  if (choice.some((r) => !Number.isInteger(r) || r < 0 || r > n)) return t('booth.err_shape');
  const used = [...new Set(choice.filter((r) => r > 0))].sort((x, y) => x - y);
  if (!used.length) return t('booth.err_rank_none');
  if (q.method !== 'schulze') {
    for (const r of used) {
      const same = q.answers.filter((_, a) => choice[a] === r);
      if (same.length > 1) return t('booth.err_rank_same', { rank: ordinal(r), list: listOf(same) });
    }
  }
  const missing = used.findIndex((r, i) => r !== i + 1);
  if (missing >= 0) return t('booth.err_rank_gap', { rank: ordinal(missing + 1), next: ordinal(used[missing]) });
  return null;
}

/** Why grades `choice` do not fit `q`: every candidate needs one grade of the scale. */
function gradesProblem(q, choice) {
  if (!Array.isArray(choice) || choice.length !== q.answers.length) return t('booth.err_shape');
  const missing = q.answers.filter((_, a) => choice[a] === null || choice[a] === undefined);
  if (missing.length) return t('booth.err_grade_missing', { list: listOf(missing), count: missing.length });
  if (choice.some((g) => !Number.isInteger(g) || g < 0 || g >= q.grades.length)) return t('booth.err_shape');
  return null;
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
    if (isRanked(q)) {
      updateRanking(fs, q);
      $(`#${fs.id}-count`, fs).textContent = '';
    }
    updateCount(fs, q);
  });
}

/** The words for one question's choice: a list of answers, "blank" or "no answer". */
export function describeChoice(q, choice) {
  if (isRanked(q)) {
    const { ranked, unranked } = describeRanking(q, choice);
    const lines = ranked.map(([r, names]) => t('booth.review_rank', { n: r, list: names }));
    if (unranked.length) lines.push(t('booth.review_unranked', { list: listOf(unranked) }));
    return lines;
  }
  if (isGraded(q)) {
    return q.answers.map((a, i) => t('booth.review_grade', { answer: a, grade: q.grades[choice[i]] ?? '?' }));
  }
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
