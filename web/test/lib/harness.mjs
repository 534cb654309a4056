// Shared pieces of the browser tests: a real `scrutin serve` on a loopback port, headless
// Chromium (Debian's /usr/bin/chromium, or $CHROMIUM) through playwright-core, the
// accessibility check (axe-core, WCAG 2.1 A and AA rules), screenshots, the one-time codes
// of the dry-run outbox, and a guard that fails when a page requests another origin or
// breaks the Content-Security-Policy.
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..', '..');
export const screenshotDir = process.env.SCREENSHOTS || path.join(repo, 'target', 'screenshots');

/** The scrutin binary: $SCRUTIN_BIN, else target/debug/scrutin (what `cargo build -p scrutin` makes), else target/release/scrutin. */
export async function scrutinBinary() {
  if (process.env.SCRUTIN_BIN) return process.env.SCRUTIN_BIN;
  for (const p of ['target/debug/scrutin', 'target/release/scrutin']) {
    try {
      await readFile(path.join(repo, p), { flag: 'r' }).then(() => {});
      return path.join(repo, p);
    } catch (_) { /* next */ }
  }
  throw new Error('build scrutin first (cargo build --release -p scrutin) or set SCRUTIN_BIN');
}

/** A free TCP port on the loopback interface. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Temporary folders are kept for a look after the run when `KEEP` is set in the environment. */
export function keepByDefault() {
  return Boolean(process.env.KEEP);
}

/** Removes a test's temporary folder, or says where it is kept. */
export async function removeUnlessKept(folder, keep = keepByDefault()) {
  if (keep) console.error(`kept: ${folder}`);
  else await rm(folder, { recursive: true, force: true });
}

/**
 * Starts `scrutin serve` on a fresh data folder with an administrator account.
 * Returns {url, data, outbox, admin: {username, password}, stop()}; `stop({ keep })` stops
 * the server and removes the data folder unless `keep` (default: `KEEP` is set).
 * `webDir`: serve the pages from this folder (default: the copy built into the binary).
 */
export async function startServer({ webDir, adminPassword = 'correct horse battery staple' } = {}) {
  const bin = await scrutinBinary();
  const data = await mkdtemp(path.join(tmpdir(), 'scrutin-web-'));
  execFileSync(bin, ['serve', '--data', data, '--create-admin', 'admin'], {
    env: { ...process.env, SCRUTIN_ADMIN_PASSWORD: adminPassword },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const port = await freePort();
  const args = ['serve', '--data', data, '--listen', `127.0.0.1:${port}`];
  if (webDir) args.push('--web-dir', webDir);
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SCRUTIN_LOG: 'warn' } });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`${url}/api/health`);
      if (r.ok) break;
    } catch (_) { /* not yet */ }
    if (child.exitCode !== null || i > 200) throw new Error(`scrutin serve did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    data,
    outbox: path.join(data, 'outbox'),
    admin: { username: 'admin', password: adminPassword },
    log: () => log,
    stop: ({ keep = keepByDefault() } = {}) => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.on('exit', resolve);
      child.kill('SIGTERM');
    }).then(() => removeUnlessKept(data, keep)),
  };
}

/**
 * Starts `scrutin demo --serve` (an open election with 5 voters, pages read from `web/`)
 * on a fresh data folder. Returns {url, id, adminPassword, data, outbox, bin, stop()}; the
 * data folder holds credentials.json, role-tokens.json and trustee*.json (see
 * crates/cli/src/demo_serve.rs). `stop({ keep })` as for `startServer`.
 */
export async function startDemo({ voters = 5, webDir = path.join(repo, 'web') } = {}) {
  const bin = await scrutinBinary();
  const data = await mkdtemp(path.join(tmpdir(), 'scrutin-demo-'));
  const port = await freePort();
  const child = spawn(
    bin,
    ['demo', '--serve', '--web-dir', webDir, '--voters', String(voters),
      '--listen', `127.0.0.1:${port}`, '--data', data],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SCRUTIN_LOG: 'warn' } },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const stop = ({ keep = keepByDefault() } = {}) => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on('exit', resolve);
    child.kill('SIGINT');
    setTimeout(() => child.kill('SIGKILL'), 8000);
  }).then(() => removeUnlessKept(data, keep));
  const deadline = Date.now() + 120_000;
  while (!/Press Ctrl-C/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`scrutin demo --serve did not start:\n${out}\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    id: out.match(/Election (\S+) is open/)[1],
    adminPassword: out.match(/Administrator: admin \/ (\S+)/)[1],
    data,
    outbox: path.join(data, 'outbox'),
    bin,
    stop,
  };
}

/**
 * The most recent one-time login code mailed to `email` (read from the dry-run outbox, where
 * each mail is `<id>.eml`, multipart text + HTML in quoted-printable; the code is the 8-digit
 * line of the text part, and mails without one, such as ballot confirmations, are skipped).
 * Waits up to 10 s for it;
 * `after`: ignore mails whose id is not above this (pass the previous code's `id`).
 * Returns {code, id}.
 */
export async function latestCode(outbox, email, { after = 0 } = {}) {
  for (let i = 0; i < 100; i++) {
    const files = (await readdir(outbox).catch(() => [])).filter((f) => f.endsWith('.eml'));
    files.sort((a, b) => parseInt(b, 10) - parseInt(a, 10));
    for (const f of files) {
      const id = parseInt(f, 10);
      if (id <= after) continue;
      const text = await readFile(path.join(outbox, f), 'utf8');
      const to = text.match(/^To: *(.*)$/m);
      if (!to || !to[1].includes(email)) continue;
      const code = text.split(/\r?\n/).map((l) => l.trim()).find((l) => /^[0-9]{8}$/.test(l));
      if (code) return { code, id };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no login code for ${email} in ${outbox}`);
}

/** Launches headless Chromium. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/**
 * A new page (its own context) that records every request to another origin, every CSP
 * violation and every uncaught error; `page.assertClean()` throws if any happened.
 * `mobile: true` gives a 360×740 touch viewport. `allowOrigins`: other origins the page
 * may request (an election's monitors, from the booth). `timezoneId`: the browser's time
 * zone (e.g. 'Europe/Paris'), for pages that show times.
 */
export async function newPage(browser, baseUrl, { mobile = false, allowOrigins = [], timezoneId } = {}) {
  const context = await browser.newContext({
    ...(mobile
      ? { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, acceptDownloads: true }
      : { viewport: { width: 1280, height: 900 }, acceptDownloads: true }),
    ...(timezoneId ? { timezoneId } : {}),
  });
  const page = await context.newPage();
  const origin = new URL(baseUrl).origin;
  const problems = [];
  page.on('request', (req) => {
    const u = req.url();
    const allowed = [origin, ...allowOrigins].some((o) => u.startsWith(`${o}/`) || u === o);
    if (!allowed && !u.startsWith('data:') && !u.startsWith('blob:')) {
      problems.push(`request to another origin: ${u}`);
    }
  });
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content.Security.Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.assertClean = () => {
    if (problems.length) throw new Error(problems.join('\n'));
  };
  return page;
}

const require = createRequire(import.meta.url);
let axeSource;

/**
 * Runs axe-core (WCAG 2.0/2.1 A and AA rules, and landmark-unique) on the page as it is now; throws listing
 * every violation. Injected through the DevTools protocol, so the page's CSP is untouched.
 */
export async function checkAccessibility(page, label) {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      // Not a WCAG rule, but a screen reader's list of landmarks is useless if two read alike.
      rules: { 'landmark-unique': { enabled: true } },
    }),
  );
  if (result.violations.length) {
    const lines = result.violations.map(
      (v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n    ')}`,
    );
    throw new Error(`accessibility violations on ${label}:\n  ${lines.join('\n  ')}`);
  }
  return result.passes.length;
}

/** Saves a full-page screenshot as <screenshotDir>/<name>.png. */
export async function screenshot(page, name) {
  await mkdir(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Both checks a page must pass at each step of a test: accessibility, then a screenshot. */
export async function checkpoint(page, name) {
  await checkAccessibility(page, name);
  await screenshot(page, name);
  page.assertClean();
}

/** Logs in as the administrator through the API (for tests that set up before using pages). */
export async function adminToken(server) {
  const r = await fetch(`${server.url}/api/admin/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(server.admin),
  });
  if (!r.ok) throw new Error(`admin login: ${r.status} ${await r.text()}`);
  return (await r.json()).token;
}

/**
 * A stand-in for `scrutin monitor --listen` on a loopback port, reachable from the pages
 * (CORS): it serves the board's record and head as a monitor does
 * (`/api/elections/{id}/record?from=`, `/api/elections/{id}/head`), copied from the
 * board at each request, and its status (`/api/monitor/status`: `{ok, events, head,
 * alarms}`). `monitor.lag = n` makes it n lines behind the board (as a monitor between
 * two polls); `monitor.fork = true` makes it hold another chain (the head of a line the
 * board never served); `monitor.forkClose = true`, another `close` line (and the chain
 * after it); `monitor.alarms = [{kind, message}]`, alarms in its status;
 * `monitor.down = true` makes it answer 503. `monitor.requests` counts the requests it
 * received. Returns {url, origin, stop()} and those switches.
 */
export async function startFakeMonitor(boardUrl) {
  const port = await freePort();
  const monitor = { lag: 0, fork: false, forkClose: false, alarms: [], down: false, requests: 0 };
  const sha = (text) => createHash('sha256').update(text).digest('hex');
  const server = createHttpServer(async (req, res) => {
    const send = (status, body, type = 'application/json') => {
      res.writeHead(status, { 'Content-Type': type, 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' });
      res.end(body);
    };
    try {
      monitor.requests += 1;
      if (monitor.down) return send(503, '{"error":"unavailable"}');
      const url = new URL(req.url, 'http://monitor');
      if (url.pathname === '/api/monitor/status') {
        return send(200, JSON.stringify({ ok: monitor.alarms.length === 0, alarms: monitor.alarms, events: null, head: null }));
      }
      const m = url.pathname.match(/^\/api\/elections\/([A-Za-z0-9_-]+)\/(head|record)$/);
      if (!m) return send(404, '{"error":"not found"}');
      const text = await (await fetch(`${boardUrl}/api/elections/${m[1]}/record`)).text();
      let lines = text.split('\n').filter(Boolean);
      lines = lines.slice(0, Math.max(0, lines.length - monitor.lag));
      if (monitor.fork && lines.length) lines[lines.length - 1] = `${lines[lines.length - 1]} `;
      if (monitor.forkClose) {
        // Another close: its body differs (a later time), hence every hash after it.
        const i = lines.findIndex((l) => /^\{"seq":\d+,"prev":"[0-9a-f]{64}","type":"close",/.test(l));
        if (i >= 0) lines[i] = lines[i].replace(/"at":(\d+)/, (_, n) => `"at":${Number(n) + 1}`).replace(/\}$/, ' }');
      }
      if (m[2] === 'head') {
        return send(200, JSON.stringify({
          events: lines.length,
          head: lines.length ? sha(lines[lines.length - 1]) : null,
          monitor: true,
        }));
      }
      const from = Number(url.searchParams.get('from') || 0);
      return send(200, lines.slice(from).map((l) => `${l}\n`).join(''), 'application/jsonl');
    } catch (e) {
      return send(500, JSON.stringify({ error: String(e) }));
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${port}`;
  return Object.assign(monitor, {
    url,
    origin: url,
    stop: () => new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    }),
  });
}
