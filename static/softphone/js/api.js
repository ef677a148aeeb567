// The connector's API with bearer tokens kept in sessionStorage (cookies are blocked in
// third-party iframes such as Salesforce's utility bar; sessionStorage works there).
// The access token is refreshed on a timer before it expires, and once more on a 401.

import { Emitter } from './emitter.js';
import { language } from './i18n.js';

const SESSION_KEY = 'cti.session';
// The built-in CRM's pages, opened from the softphone, start with a copy of this tab's
// sessionStorage and read the access token under these keys (connector/builtin_crm/static/
// session.js); they never use a copied refresh token.
const SHARED_KEYS = { access: 'cti.access_token', refresh: 'cti.refresh_token' };
/** Refresh when this share of the access token's lifetime has passed. */
const REFRESH_AT = 0.8;

export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || (status === 0 ? 'network' : 'http_error');
    this.details = error.details || {};
  }
}

export class Api extends Emitter {
  constructor(base = '') {
    super();
    this.base = base;
    this.session = readSession();
    this._timer = null;
    this._refreshing = null;
    this.canRefresh = true; // followers let the leading tab refresh
  }

  get signedIn() {
    return Boolean(this.session?.access_token);
  }

  get agent() {
    return this.session?.agent || null;
  }

  async login(username, password) {
    const body = await this._fetch('POST', '/api/auth/login', { username, password }, false);
    return this.loginWith(body);
  }

  /** Take the body of a sign-in done elsewhere (Salesforce's popup): /api/auth/login's shape. */
  loginWith(body) {
    if (!body?.access_token || !body.refresh_token) throw new ApiError(401, {});
    this.adopt(sessionFrom(body));
    return body.agent;
  }

  /** Take a session (our own after sign-in or refresh, or one shared by another tab). */
  adopt(session) {
    this.session = session;
    writeSession(session);
    this._schedule();
    this.emit('session', session);
  }

  signOut(notifyServer = true) {
    const token = this.session?.access_token;
    clearTimeout(this._timer);
    this.session = null;
    writeSession(null);
    if (notifyServer && token) {
      fetch(this.base + '/api/auth/logout', {
        method: 'POST', headers: { Authorization: `Bearer ${token}` }, keepalive: true,
      }).catch(() => {});
    }
    this.emit('signedout');
  }

  resume() {
    if (this.signedIn) this._schedule();
  }

  async refresh() {
    if (!this.session?.refresh_token) throw new ApiError(401, {});
    if (!this._refreshing) {
      this._refreshing = this._fetch('POST', '/api/auth/refresh',
        { refresh_token: this.session.refresh_token }, false)
        .then((body) => this.adopt(sessionFrom(body)))
        .catch((error) => {
          if (error.status === 401) this.expire();
          throw error;
        })
        .finally(() => { this._refreshing = null; });
    }
    return this._refreshing;
  }

  expire() {
    this.signOut(false);
    this.emit('expired');
  }

  get(path) { return this.request('GET', path); }
  post(path, body = {}) { return this.request('POST', path, body); }
  put(path, body = {}) { return this.request('PUT', path, body); }
  del(path, body = {}) { return this.request('DELETE', path, body); }

  async request(method, path, body) {
    try {
      return await this._fetch(method, path, body, true);
    } catch (error) {
      if (error.status !== 401 || !this.signedIn) throw error;
      if (!this.canRefresh) {
        this.emit('needsession');
        throw error;
      }
      await this.refresh();
      return this._fetch(method, path, body, true);
    }
  }

  /** A request that survives the page closing (device release on pagehide). */
  beacon(method, path, body) {
    if (!this.signedIn) return;
    fetch(this.base + path, {
      method, keepalive: true,
      headers: { Authorization: `Bearer ${this.session.access_token}`,
        'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }).catch(() => {});
  }

  async _fetch(method, path, body, auth) {
    // The server words its messages in the language on screen (connector/messages.py).
    const headers = { Accept: 'application/json', 'Accept-Language': language() };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && this.session) headers.Authorization = `Bearer ${this.session.access_token}`;
    let response;
    try {
      response = await fetch(this.base + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, { error: { code: 'network', message: String(error) } });
    }
    const text = await response.text();
    const data = text ? safeJson(text) : {};
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  _schedule() {
    clearTimeout(this._timer);
    if (!this.session?.expires_at || !this.canRefresh) return;
    const lifetime = this.session.expires_at - this.session.issued_at;
    const due = this.session.issued_at + lifetime * REFRESH_AT - Date.now();
    this._timer = setTimeout(() => this.refresh().catch(() => {}), Math.max(due, 1000));
  }
}

function sessionFrom(body) {
  const now = Date.now();
  return {
    access_token: body.access_token,
    refresh_token: body.refresh_token,
    agent: body.agent,
    issued_at: now,
    expires_at: now + body.expires_in * 1000,
  };
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { code: 'bad_response', message: text.slice(0, 200) } };
  }
}

function readSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
  } catch {
    return null;
  }
}

function writeSession(session) {
  try {
    if (session) {
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
      sessionStorage.setItem(SHARED_KEYS.access, session.access_token);
      sessionStorage.setItem(SHARED_KEYS.refresh, session.refresh_token);
    } else {
      [SESSION_KEY, SHARED_KEYS.access, SHARED_KEYS.refresh]
        .forEach((key) => sessionStorage.removeItem(key));
    }
  } catch {
    // storage may be unavailable (privacy modes); the session then lives in memory only
  }
}
