/*
 * Signing in and calling the API of the built-in CRM pages.
 *
 * The API takes a bearer token. The softphone keeps its tokens in sessionStorage under
 * "cti.access_token" / "cti.refresh_token"; a window it opens with window.open starts with a
 * copy of them. When the token is missing or expired this page
 *   1. refreshes it — only if this window signed in itself (a refresh token copied from the
 *      softphone must never be used here: rotating it would end the softphone's session);
 *   2. else asks its opener:  page -> opener {type: "cti:token-request", version: 1}
 *                             opener -> page {type: "cti:token", version: 1, access_token}
 *      (same origin only, 1.5 s at most);
 *   3. else shows a sign-in form.
 */

import { $, status } from './dom.js';

export const PROTOCOL_VERSION = 1;
export const KEYS = { access: 'cti.access_token', refresh: 'cti.refresh_token',
                      own: 'cti.crm.own_session' };
const OPENER_TIMEOUT_MS = 1500;
const RANK = { agent: 0, supervisor: 1, admin: 2 };

/** Who is signed in and what they may do (GET /api/crm/permissions), once known; whether the
 * page has been set up. */
export const state = { agent: null, permissions: {}, renewing: null, started: false };

export class ApiError extends Error {
  constructor(httpStatus, error) {
    super(error.message || ('HTTP ' + httpStatus));
    this.status = httpStatus;
    this.code = error.code || '';
    this.details = error.details || {};
  }
}

export class SignInNeeded extends Error {}

/** The pages are in Japanese: the server's messages should be too (connector/messages.py). */
export const LANGUAGE_HEADERS = { 'Accept-Language': 'ja' };

function send(path, options) {
  const headers = Object.assign({ Accept: 'application/json' }, LANGUAGE_HEADERS);
  const token = sessionStorage.getItem(KEYS.access);
  if (token) { headers.Authorization = 'Bearer ' + token; }
  let payload;
  if (options.form) { payload = options.form; }
  else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(options.body);
  }
  return fetch(path, { method: options.method || 'GET', headers: headers, body: payload,
                       credentials: 'omit', cache: 'no-store' });
}

export async function api(path, options) {
  options = options || {};
  let response = await send(path, options);
  if (response.status === 401 && await renewToken()) { response = await send(path, options); }
  if (response.status === 401) { throw new SignInNeeded(); }
  let data = null;
  if (response.status !== 204) {
    try { data = await response.json(); } catch (ignored) { data = null; }
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.error) ||
                       { message: 'サーバーでエラーが発生しました（' + response.status + '）。' });
  }
  return data;
}

function renewToken() {
  if (!state.renewing) {
    state.renewing = doRenew().finally(function () { state.renewing = null; });
  }
  return state.renewing;
}

async function doRenew() {
  const refresh = sessionStorage.getItem(KEYS.refresh);
  if (refresh && window.name && sessionStorage.getItem(KEYS.own) === window.name) {
    const response = await fetch('/api/auth/refresh', {
      method: 'POST', headers: Object.assign({ 'Content-Type': 'application/json' },
                                             LANGUAGE_HEADERS),
      body: JSON.stringify({ refresh_token: refresh }), credentials: 'omit' });
    if (response.ok) { keepTokens(await response.json()); return true; }
  }
  const token = await askOpener();
  if (token) { sessionStorage.setItem(KEYS.access, token); return true; }
  return false;
}

export function keepTokens(data) {
  // A session of this window's own: mark it so, by a name only this window has.
  if (!window.name) { window.name = 'cti-crm-' + Math.random().toString(36).slice(2); }
  sessionStorage.setItem(KEYS.access, data.access_token);
  sessionStorage.setItem(KEYS.refresh, data.refresh_token);
  sessionStorage.setItem(KEYS.own, window.name);
}

export function sameOriginOpener() {
  try {
    const opener = window.opener;
    return opener && !opener.closed && opener.location.origin === location.origin
      ? opener : null;
  } catch (crossOrigin) {
    return null;
  }
}

function askOpener() {
  return new Promise(function (resolve) {
    const opener = sameOriginOpener();
    if (!opener) { resolve(null); return; }
    const timer = setTimeout(function () { finish(null); }, OPENER_TIMEOUT_MS);
    function finish(value) {
      clearTimeout(timer);
      window.removeEventListener('message', onMessage);
      resolve(value);
    }
    function onMessage(event) {
      const data = event.data;
      if (event.source !== opener || event.origin !== location.origin || !data ||
          data.type !== 'cti:token' || typeof data.access_token !== 'string') { return; }
      finish(data.access_token);
    }
    window.addEventListener('message', onMessage);
    opener.postMessage({ type: 'cti:token-request', version: PROTOCOL_VERSION },
                       location.origin);
  });
}

export function showSignIn() {
  $('content').hidden = true;
  $('signin').hidden = false;
  status('');
  $('signin-username').focus();
}

export function may(role) { return RANK[state.agent.role] >= RANK[role]; }

export function failed(error) {
  if (error instanceof SignInNeeded) { showSignIn(); return; }
  status(error instanceof TypeError ? 'サーバーに接続できません。ネットワークを確認してください。'
                                    : error.message, true);
}
