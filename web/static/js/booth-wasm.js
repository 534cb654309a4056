// Loads the booth's WebAssembly module (crates/booth, bundle in /pkg) once per page.
import init, * as booth from '/pkg/scrutin_booth.js';

let ready;

/** The booth module's exports, after its WebAssembly is instantiated. */
export async function loadBooth() {
  if (!ready) ready = init({ module_or_path: '/pkg/scrutin_booth_bg.wasm' }).then(() => booth);
  return ready;
}
