// The in-page half of the browser test (web/test/run.mjs drives it): loads the bundle,
// then exposes `window.boothTest.run()`, which exercises the booth on the fixture election
// and measures the time to encrypt and prove ballots. Everything is fetched from the
// page's own origin.
import init, * as booth from '/pkg/scrutin_booth.js';

const status = document.getElementById('status');
const log = document.getElementById('log');
const say = (text) => { log.textContent += text + '\n'; };

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// Runs `f`, which must throw; returns the error (fails if it did not throw).
function mustThrow(what, f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error(`${what} did not fail`);
}

async function text(path) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.text();
}

async function run({ ballots = 50 } = {}) {
  const record = await text('fixture/record.jsonl');
  const credentials = JSON.parse(await text('fixture/credentials.json'));
  const out = {};

  // The universal verifier, in the browser.
  let t0 = performance.now();
  out.report = JSON.parse(booth.verify_record(record));
  out.verifyMs = performance.now() - t0;
  say(`verified the record in ${out.verifyMs.toFixed(1)} ms: ${JSON.stringify(out.report)}`);

  // A tampered record is rejected, naming the check and the event.
  const lines = record.split('\n');
  lines[5] = lines[5].replace('"seq":5', '"seq":6');
  const bad = mustThrow('verifying a tampered record', () => booth.verify_record(lines.join('\n')));
  out.tampered = { message: bad.message, check: bad.check, seq: bad.seq };
  say(`tampered record: ${bad.message}`);

  // The booth.
  t0 = performance.now();
  const election = new booth.BoothElection(record);
  out.loadMs = performance.now() - t0;
  out.status = election.status();
  out.fingerprint = election.fingerprint();
  const definition = JSON.parse(election.definition_json());
  const answers = definition.questions[0].answers.length;

  // Credentials: normalised, typos caught.
  const cred = credentials[0].credential;
  out.normalised = booth.parse_credential(cred.toLowerCase().replaceAll('-', ' '));
  const typo = (cred[0] === 'A' ? 'B' : 'A') + cred.slice(1);
  out.typo = mustThrow('a mistyped credential', () => booth.parse_credential(typo)).message;
  out.badChoices = mustThrow('choices breaking the rules',
    () => election.encrypt(cred, JSON.stringify([new Array(answers).fill(2)]))).message;

  // Ballots: random approval choices, one credential after another; each timed.
  const outputs = [];
  const times = [];
  for (let i = 0; i < ballots; i++) {
    const values = Array.from({ length: answers }, () => (Math.random() < 0.5 ? 1 : 0));
    const choices = JSON.stringify([values]);
    const c = credentials[i % credentials.length].credential;
    t0 = performance.now();
    const result = election.encrypt(c, choices);
    times.push(performance.now() - t0);
    const parsed = JSON.parse(result);
    if (JSON.stringify(parsed.audit.choices) !== choices) throw new Error('audit choices differ');
    outputs.push(parsed);
  }
  out.outputs = outputs;
  out.times = times;
  out.medianMs = median(times);
  out.firstMs = times[0];

  // A Benaloh audit checked in the browser.
  out.auditChoices = JSON.parse(election.check_audit(JSON.stringify(outputs[0].audit)));
  say(`encrypted ${ballots} ballots: median ${out.medianMs.toFixed(2)} ms, first ${out.firstMs.toFixed(2)} ms`);
  return out;
}

try {
  await init();
  window.boothTest = { run, booth };
  status.textContent = 'Ready.';
  document.body.dataset.ready = 'yes';
} catch (e) {
  status.textContent = `The bundle did not load: ${e}`;
  document.body.dataset.ready = 'failed';
}
