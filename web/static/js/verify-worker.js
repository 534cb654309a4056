// The universal verifier in a module Web Worker, so that the page stays responsive while
// a large record is checked. It runs `verify_record` of the booth's WebAssembly (the same
// code as `scrutin verify`).
//
// Message in: {id, record} (the record as JSON Lines text).
// Message out: {id, ok: true, report, ms} with the verifier's report (as `scrutin verify
// --json`), or {id, ok: false, error: {message, check, seq}}: `check` and `seq` name the
// failed check of the specification (§12) and the event, when the verifier refused;
// `sentence` ({key, checks, params, text}) says the failure in plain words (§12, conclusions).
//
// Message in: {id, record, receipt} (a receipt file's text): the receipt checked against the
// record (`check_receipt`, spec §14.2). Message out: {id, ok: true, outcome} with its
// `{status, seq, weight, …}`, or {id, ok: false, error} as above.
import init, { verify_record, check_receipt } from '/pkg/scrutin_booth.js';

/** The failure's plain sentence that the verifier attached (JSON text), or null. */
function sentenceOf(e) {
  if (!e || typeof e.sentence !== 'string') return null;
  try {
    return JSON.parse(e.sentence);
  } catch {
    return null;
  }
}

const ready = init({ module_or_path: '/pkg/scrutin_booth_bg.wasm' });

self.addEventListener('message', async (ev) => {
  const { id, record, receipt } = ev.data || {};
  try {
    await ready;
    if (receipt !== undefined) {
      const outcome = JSON.parse(check_receipt(String(record ?? ''), String(receipt)));
      self.postMessage({ id, ok: true, outcome });
      return;
    }
    const started = performance.now();
    const report = JSON.parse(verify_record(String(record ?? '')));
    self.postMessage({ id, ok: true, report, ms: performance.now() - started });
  } catch (e) {
    self.postMessage({
      id,
      ok: false,
      error: {
        message: (e && e.message) || String(e),
        check: (e && e.check) || null,
        seq: e && typeof e.seq === 'number' ? e.seq : null,
        sentence: sentenceOf(e),
      },
    });
  }
});
