// The officials' pages at /admin: sign in, the list of elections, the creation form and one
// election's page. Hash routing: "" → list, "#new" → creation, "#election=<id>[&go=<section>]"
// → that election. The session token lives in sessionStorage (this tab only). An election's
// view also names it in the query (`/admin?election=<id>#election=<id>`): the server, which
// never sees the fragment, then lets the page reach that election's monitors, and only them
// (compared with the record before the tally, spec §14.4).
import { initI18n, t } from './i18n.js';
import { $, el, showStep, announce, showError } from './ui.js';
import {
  api, ApiError, adminApi, explain, session, setExpiredHandler, timeText, ID_RE, notices,
} from './admin-common.js';
import { initCreate } from './admin-create.js';
import { showElection, leaveElection, stateText } from './admin-election.js';

await initI18n(['admin']);

function parseHash() {
  const h = new URLSearchParams(location.hash.replace(/^#/, ''));
  if (h.has('new')) return { view: 'create' };
  const id = h.get('election');
  if (id && ID_RE.test(id)) return { view: 'election', id, go: h.get('go') };
  return { view: 'list' };
}

/** The address of election `id`'s view, keeping the rest of the query (the language). */
function electionHref(id) {
  const q = new URLSearchParams(location.search);
  q.set('election', id);
  return `${location.pathname}?${q}#election=${encodeURIComponent(id)}`;
}

/**
 * Reloads the page with election `id` in its query when it is not there yet (the page's
 * Content-Security-Policy depends on it); returns true when it does.
 */
function reloadFor(id, hash) {
  const q = new URLSearchParams(location.search);
  if (q.get('election') === id) return false;
  q.set('election', id);
  location.replace(`${location.pathname}?${q}${hash}`);
  return true;
}

function showSessionBar(on) {
  $('#session-bar').hidden = !on;
  if (on) $('#session-user').textContent = t('admin.signed_in_as', { user: session.user });
}

function showLogin(notice) {
  leaveElection();
  showSessionBar(false);
  const n = $('#login-notice');
  n.textContent = notice || '';
  n.hidden = !notice;
  $('#login-error').hidden = true;
  showStep('login');
  document.title = t('admin.title');
}

async function route() {
  showError('');
  if (!session.token) {
    showLogin();
    return;
  }
  showSessionBar(true);
  const r = parseHash();
  if (r.view !== 'election') leaveElection();
  if (r.view === 'create') {
    initCreate();
    showStep('create');
    document.title = `${t('admin.create_heading')} · ${t('admin.title')}`;
  } else if (r.view === 'election') {
    if (reloadFor(r.id, location.hash)) return;
    const section = document.querySelector('[data-step="election"]');
    if (section.hidden) showStep('election');
    await showElection(r.id, r.go);
  } else {
    showStep('list');
    document.title = t('admin.title');
    await loadList();
  }
}

async function loadList() {
  const section = document.querySelector('[data-step="list"]');
  section.setAttribute('aria-busy', 'true');
  try {
    const { elections } = await adminApi('/api/admin/elections');
    elections.sort((a, b) => b.created_at - a.created_at);
    const rows = elections.map((e) => {
      const base = `/elections/${encodeURIComponent(e.id)}`;
      const title = e.title || e.id;
      const schedule = el('td', {},
        el('span', { text: `${t('admin.opens')} ${timeText(e.opens_at)}` }), el('br'),
        el('span', { text: `${t('admin.closes')} ${timeText(e.closes_at)}` }));
      return el('tr', { 'data-election': e.id },
        el('th', { scope: 'row' }, el('a', { href: electionHref(e.id), text: title })),
        el('td', { class: 'mono', text: e.id }),
        el('td', { 'data-state': e.state, text: stateText(e.state) }),
        schedule,
        el('td', {},
          el('a', { href: `${base}/board` }, t('admin.link_board'),
            el('span', { class: 'admin-sr-only', text: ` (${title})` })), el('br'),
          el('a', { href: `${base}/verify` }, t('admin.link_verify'),
            el('span', { class: 'admin-sr-only', text: ` (${title})` }))));
    });
    $('#list-table tbody').replaceChildren(...rows);
    $('#list-wrap').hidden = !rows.length;
    $('#list-empty').hidden = rows.length > 0;
    announce([notices.next, t('admin.list_loaded', { n: rows.length })].filter(Boolean).join(' '));
    notices.next = '';
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) showError(explain(e));
  } finally {
    section.removeAttribute('aria-busy');
  }
}

$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const username = $('#login-user').value.trim();
  const password = $('#login-password').value;
  const err = $('#login-error');
  err.hidden = true;
  for (const f of ['#login-user', '#login-password']) $(f).removeAttribute('aria-invalid');
  if (!username || !password) {
    err.textContent = t('admin.login_missing');
    err.hidden = false;
    $(username ? '#login-password' : '#login-user').setAttribute('aria-invalid', 'true');
    $(username ? '#login-password' : '#login-user').focus();
    return;
  }
  const button = ev.submitter || $('#login-form button[type=submit]');
  button.disabled = true;
  try {
    const res = await api('/api/admin/login', { json: { username, password } });
    session.set(res.token, username);
    $('#login-password').value = '';
    $('#login-notice').hidden = true;
    // The session bar says who is signed in; the status line is left to what the view
    // announces, so that "Signed in as" is not written twice.
    announce('');
    await route();
  } catch (e) {
    err.textContent = e instanceof ApiError && e.status === 401 ? t('admin.login_wrong') : explain(e);
    err.hidden = false;
    if (e instanceof ApiError && e.status === 401) {
      $('#login-password').setAttribute('aria-invalid', 'true');
      $('#login-password').focus();
    }
  } finally {
    button.disabled = false;
  }
});

$('#logout').addEventListener('click', async () => {
  const token = session.token;
  leaveElection();
  session.clear();
  if (token) {
    try {
      await api('/api/admin/logout', { method: 'POST', token });
    } catch (_) {
      /* the session is forgotten here either way */
    }
  }
  showLogin();
  announce(t('admin.logged_out'));
});

setExpiredHandler(() => showLogin(t('admin.session_expired')));
window.addEventListener('hashchange', () => {
  announce('');
  route().catch((e) => showError(explain(e)));
});
$('#list-refresh').addEventListener('click', () => loadList());
route().catch((e) => showError(explain(e)));
