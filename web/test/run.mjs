// Browser test and benchmark of the booth: verification and encryption in Chromium.
//
//   node web/test/run.mjs            # run the checks and print the figures
//   node web/test/run.mjs --serve    # only serve web/ on a loopback port, to open by hand
//
// Serves web/ on a loopback port, opens web/test/index.html in headless Chromium (the
// Debian package, /usr/bin/chromium, or $CHROMIUM), and in the page: verifies the fixture
// record with the in-browser verifier, checks that a tampered record and a mistyped
// credential are refused, encrypts and proves 50 ballots (one 10-answer approval question)
// timing each, and checks a Benaloh audit. Then the native verifier (the check_ballots
// example of crates/booth) checks every ballot and audit made in the browser, appends the
// ballots to the record and verifies it all, and its report of the fixture must equal the
// browser's. Fails if the page requests anything outside its own origin.
//
// Needs `npm ci` in web/test (playwright-core only; no browser download) and the bundle in
// web/pkg (scripts/build-booth.sh). The fixture is made by
// `cargo run -p scrutin-booth --example open_fixture -- web/test/fixture`.
import { createServer } from 'node:http';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir, cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const webRoot = path.resolve(here, '..');
const repo = path.resolve(webRoot, '..');
const BALLOTS = Number(process.env.BALLOTS || 50);

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.jsonl': 'text/plain; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

// The Content-Security-Policy scrutin's pages will carry: nothing from elsewhere, no inline
// script; WebAssembly compilation is the only exception to 'self'.
const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; " +
  "img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function serve() {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      const rel = decodeURIComponent(url.pathname);
      const file = path.resolve(webRoot, '.' + rel);
      if (!file.startsWith(webRoot + path.sep) || rel.includes('node_modules') ||
          !(path.extname(file) in TYPES)) {
        res.writeHead(404).end();
        return;
      }
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)],
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function fail(message) {
  throw new Error(message);
}

async function main() {
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  if (process.argv.includes('--serve')) {
    console.log(`serving ${webRoot} at ${origin}/test/index.html (Ctrl-C to stop)`);
    return;
  }
  const profile = await mkdtemp(path.join(tmpdir(), 'scrutin-chromium-'));
  const work = await mkdtemp(path.join(tmpdir(), 'scrutin-booth-test-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = context.pages()[0] || await context.newPage();
    const foreign = [];
    const problems = [];
    page.on('request', (r) => { if (!r.url().startsWith(origin + '/')) foreign.push(r.url()); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      // Failed loads are reported below with their address.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
        problems.push(`console: ${m.text()}`);
      }
    });
    page.on('response', (r) => {
      if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico') {
        problems.push(`HTTP ${r.status()} for ${r.url()}`);
      }
    });
    await page.goto(`${origin}/test/index.html`);
    await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
    if (await page.evaluate(() => document.body.dataset.ready) !== 'yes') {
      fail(`the bundle did not load: ${await page.textContent('#status')} ${problems.join('; ')}`);
    }
    const browserVersion = context.browser()?.version() ?? 'unknown';
    const out = await page.evaluate((n) => window.boothTest.run({ ballots: n }), BALLOTS);

    // What the page found.
    if (out.status !== 'open') fail(`status ${out.status}`);
    if (!out.tampered.check || out.tampered.seq !== 5) {
      fail(`tampered record: expected a check at event 5, got ${JSON.stringify(out.tampered)}`);
    }
    if (!/typo/.test(out.typo)) fail(`typo message: ${out.typo}`);
    if (!/above the maximum/.test(out.badChoices)) fail(`bad choices message: ${out.badChoices}`);
    if (JSON.stringify(out.auditChoices) !== JSON.stringify(out.outputs[0].audit.choices)) {
      fail('the audit did not open to the choices');
    }
    if (foreign.length) fail(`requests outside the page's origin: ${foreign.join(', ')}`);
    if (problems.length) fail(problems.join('; '));

    // The native verifier on what the browser made.
    const record = path.join(webRoot, 'test', 'fixture', 'record.jsonl');
    const outputs = path.join(work, 'outputs.json');
    await writeFile(outputs, JSON.stringify(out.outputs));
    const native = execFileSync(process.env.CARGO || 'cargo',
      ['run', '-q', '--locked', '-p', 'scrutin-booth', '--example', 'check_ballots', '--', record, outputs],
      { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const reportLine = native.split('\n').find((l) => l.startsWith('REPORT '));
    if (!reportLine) fail(`no report from the native verifier: ${native}`);
    if (reportLine.slice(7) !== JSON.stringify(out.report)) {
      fail(`the browser's report differs from the native one:\n${reportLine.slice(7)}\n${JSON.stringify(out.report)}`);
    }
    console.log(native.split('\n').filter((l) => l && !l.startsWith('REPORT ')).join('\n'));
    console.log('the in-browser verifier agrees with the native one; tampering, typos and ' +
      'bad choices are refused; no request left the origin');
    const ms = (x) => x.toFixed(2);
    console.log(`Chromium ${browserVersion}, ${cpus()[0]?.model ?? 'unknown CPU'}`);
    console.log(`encrypt and prove one ballot (one 10-answer approval question): ` +
      `median ${ms(out.medianMs)} ms over ${out.times.length} ballots ` +
      `(min ${ms(Math.min(...out.times))}, max ${ms(Math.max(...out.times))}, first ${ms(out.firstMs)})`);
    console.log(`load the booth (verify the ${out.report.events}-event record, key table): ${ms(out.loadMs)} ms; ` +
      `verify_record: ${ms(out.verifyMs)} ms`);
  } finally {
    await context?.close();
    server.close();
    await rm(profile, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`browser test failed: ${e.message}`);
  process.exit(1);
});
