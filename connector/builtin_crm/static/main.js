/*
 * cti-connector built-in CRM pages: customer list, customer page (the screen-pop target),
 * customer form and CSV import. Plain ES modules, no build step, no inline code (strict CSP).
 * Signing in and the softphone hand-offs: session.js; the page modules: list.js,
 * customer.js, form.js, import.js.
 */

import { customerPage } from './customer.js';
import { $, status } from './dom.js';
import { formPage } from './form.js';
import { importPage } from './import.js';
import { listPage } from './list.js';
import { recordingPage } from './recording.js';
import { KEYS, LANGUAGE_HEADERS, SignInNeeded, api, failed, keepTokens, showSignIn, state }
  from './session.js';

const PAGES = { list: listPage, customer: customerPage, form: formPage, import: importPage,
                recording: recordingPage };

async function signIn(event) {
  event.preventDefault();
  const error = $('signin-error');
  error.textContent = '';
  const response = await fetch('/api/auth/login', {
    method: 'POST', headers: Object.assign({ 'Content-Type': 'application/json' },
                                           LANGUAGE_HEADERS), credentials: 'omit',
    body: JSON.stringify({ username: $('signin-username').value,
                           password: $('signin-password').value }) });
  const data = await response.json().catch(function () { return null; });
  if (!response.ok) {
    error.textContent = (data && data.error && data.error.message) ||
      'サインインできませんでした。';
    return;
  }
  $('signin-password').value = '';
  keepTokens(data);
  $('signin').hidden = true;
  if (!state.started) { start(); return; }
  // The session ended while the page was in use: keep what is on screen (a half-filled
  // form, say) and let the person repeat what they were doing.
  $('content').hidden = false;
  status('サインインしました。もう一度操作してください。');
}

async function signOut() {
  try { await api('/api/auth/logout', { method: 'POST' }); } catch (ignored) { /* gone */ }
  [KEYS.access, KEYS.refresh, KEYS.own].forEach(function (key) {
    sessionStorage.removeItem(key);
  });
  location.reload();
}

async function start() {
  try {
    state.agent = (await api('/api/auth/me')).agent;
  } catch (error) {
    if (error instanceof SignInNeeded) { showSignIn(); return; }
    failed(error);
    return;
  }
  $('who').textContent = state.agent.display_name + ' さん';
  $('signout').hidden = false;
  try {
    state.permissions = (await api('/api/crm/permissions')).permissions;
  } catch (error) {
    failed(error);
    return;
  }
  document.querySelectorAll('[data-needs]').forEach(function (node) {
    node.hidden = !state.permissions[node.dataset.needs];
  });
  $('content').hidden = false;
  state.started = true;
  const page = PAGES[document.body.dataset.page];
  try { await page(); } catch (error) { failed(error); }
}

$('signin-form').addEventListener('submit', function (event) {
  signIn(event).catch(function () { $('signin-error').textContent = 'サーバーに接続できません。'; });
});
$('signout').addEventListener('click', signOut);
start();
