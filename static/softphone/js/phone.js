// The leading tab's phone: the device's whole life — server-side device registration and
// heartbeat, the Twilio access token (refreshed on a timer *and* on tokenWillExpire, peers.md
// idea 9), registration with re-registration after "unregistered" or "error", and the agent's
// status. Calls themselves are handled by calls.js.

import { CallHandler } from './calls.js';
import { createDevice, MIC_ERRORS } from './device.js';
import { applyAudioSettings, microphoneBlocked } from './audio.js';
import { Emitter } from './emitter.js';
import { apiMessage, t } from './i18n.js';

/** Refresh the Twilio token when this share of its lifetime has passed. */
const TOKEN_REFRESH_AT = 0.75;
const RETRY_DELAYS_MS = [2000, 5000, 10000, 30000, 60000];
const MANUAL_STATUSES = ['available', 'away', 'paused'];
const LAST_STATUS_KEY = 'cti.lastStatus';
/** Twilio errors that mean the token is no longer good (ecosystem.md; twilio.com/docs/api/errors). */
const TOKEN_ERRORS = new Set([20101, 20103, 20104, 20157, 31204, 31205]);

export class Phone extends Emitter {
  constructor({ api, config, store, bridge, deviceId }) {
    super();
    this.api = api;
    this.config = config;
    this.store = store;
    this.bridge = bridge;
    this.deviceId = deviceId;
    this.device = null;
    this.calls = new CallHandler(this);
    this._timers = {};
    this._retry = 0;
    this._stopped = false;
    this._statusChain = Promise.resolve();
  }

  get state() {
    return this.store.state;
  }

  notice(kind, text, code = '') {
    this.store.set({ notice: { kind, text, code, at: Date.now() } });
  }

  error(error) {
    if (error?.code === 'network') this.notice('error', t('error.network'), 'network');
    else this.notice('error', apiMessage(error), error?.code || '');
  }

  // -- start and stop -------------------------------------------------------------------------
  async start({ takeover = false } = {}) {
    this._stopped = false;
    this.store.set({ registration: 'registering', registrationError: null,
      deviceConflict: null });
    try {
      const claimed = await this.api.post('/api/agents/me/device',
        { device_id: this.deviceId, takeover });
      this.store.set({ presence: claimed.presence });
      this._every('heartbeat', (claimed.heartbeat_seconds || 20) * 1000, () => this.heartbeat());
    } catch (error) {
      if (error.code === 'device_in_use') {
        this.store.set({ registration: 'in_use',
          deviceConflict: { canTakeOver: Boolean(error.details.can_take_over) } });
        return;
      }
      this._registrationFailed(error);
      return;
    }
    this._loadLists();
    await this._startDevice();
  }

  async _startDevice() {
    let token;
    try {
      token = await this.fetchToken();
    } catch (error) {
      this._registrationFailed(error, t('error.token'));
      return;
    }
    if (this.device) this.device.destroy(); // a restart: never two devices
    try {
      this.device = await createDevice(token.token, {
        mode: token.mode, edge: token.edge || this.config.edge, api: this.api });
    } catch (error) {
      this._registrationFailed(error);
      return;
    }
    this._bindDevice(this.device);
    this.store.set({ micBlocked: await microphoneBlocked(),
      audioOutputSupported: Boolean(this.device.audio?.isOutputSelectionSupported) });
    applyAudioSettings(this.device);
    await this.register();
  }

  /** Stop the phone. ``release`` gives the device up on the server (the agent goes offline):
   * awaited when signing out (before the session is revoked), else sent as the page closes. */
  async stop({ release = false, wait = false } = {}) {
    this._stopped = true;
    Object.values(this._timers).forEach((timer) => { clearTimeout(timer); clearInterval(timer); });
    this._timers = {};
    this.calls.stop();
    if (this.device) {
      try {
        this.device.destroy();
      } catch {
        // already gone
      }
      this.device = null;
    }
    if (release && wait) {
      await this.api.del('/api/agents/me/device', { device_id: this.deviceId }).catch(() => {});
    } else if (release) {
      this.api.beacon('DELETE', '/api/agents/me/device', { device_id: this.deviceId });
    }
    this.store.set({ registration: 'unregistered' });
  }

  async takeOver() {
    await this.start({ takeover: true });
  }

  // -- the Twilio token ----------------------------------------------------------------------
  async fetchToken() {
    const token = await this.api.post('/api/token');
    this.store.set({ mode: token.mode || 'twilio' });
    const seconds = Number(token.expires_in) || 3600;
    this._after('token', Math.max(seconds * TOKEN_REFRESH_AT, 30) * 1000,
      () => this.refreshToken());
    return token;
  }

  async refreshToken() {
    try {
      const token = await this.fetchToken();
      this.device?.updateToken(token.token);
    } catch (error) {
      this._after('token', 30000, () => this.refreshToken());
      if (error.status !== 401) this.error(error);
    }
  }

  // -- registration ----------------------------------------------------------------------------
  _bindDevice(device) {
    device.on('registering', () => this.store.set({ registration: 'registering' }));
    device.on('registered', () => {
      this._retry = 0;
      this.store.set({ registration: 'registered', registrationError: null });
    });
    device.on('unregistered', () => {
      if (this._stopped) return;
      this.store.set({ registration: 'unregistered' });
      this._scheduleReRegister();
    });
    device.on('error', (error) => this._deviceError(error));
    device.on('tokenWillExpire', () => this.refreshToken());
    device.on('incoming', (call) => this.calls.incoming(call));
  }

  async register() {
    if (!this.device || this._stopped) return;
    try {
      await this.device.register();
    } catch (error) {
      this._deviceError(error);
      return;
    }
    await this._restoreStatus();
  }

  _deviceError(error) {
    const code = Number(error?.code);
    if (MIC_ERRORS.has(code)) {
      this.store.set({ micBlocked: true });
      this.notice('error', t('mic.blocked'), 'mic_blocked');
      return;
    }
    this.store.set({ registration: 'error', registrationError: error?.message || String(error) });
    if (TOKEN_ERRORS.has(code)) this.refreshToken().then(() => this._scheduleReRegister());
    else this._scheduleReRegister();
  }

  _scheduleReRegister() {
    if (this._stopped) return;
    const delay = RETRY_DELAYS_MS[Math.min(this._retry, RETRY_DELAYS_MS.length - 1)];
    this._retry += 1;
    this._after('reregister', delay, () => {
      if (this.device && this.device.state !== 'registered') this.register();
    });
  }

  _registrationFailed(error, text) {
    this.store.set({ registration: 'error', registrationError: text || apiMessage(error) });
    if (error?.status === 401) return; // signed out: the session handler takes over
    this._after('restart', RETRY_DELAYS_MS[Math.min(this._retry++, 4)], () => {
      if (!this._stopped) (this.device ? this.register() : this.start());
    });
  }

  async heartbeat() {
    try {
      const body = await this.api.post('/api/agents/me/device/heartbeat',
        { device_id: this.deviceId });
      const current = this.state.presence;
      if (!current || current.status !== body.presence.status
          || current.stop_status?.id !== body.presence.stop_status?.id) {
        this.store.set({ presence: body.presence }); // a supervisor changed it
      }
    } catch (error) {
      if (error.code === 'device_replaced') {
        await this.stop();
        this.store.set({ registration: 'replaced',
          deviceConflict: { canTakeOver: this.config.second_device !== 'refuse' } });
      }
    }
  }

  // -- status (SPEC SP-6) ----------------------------------------------------------------------
  /** Status changes go to the server one after another, in the order they were made: a
   * call's 着信中 → 通話中 sent at once could otherwise arrive the wrong way round. */
  setStatus(status, stopStatusId = null, options = {}) {
    const next = this._statusChain.then(() => this._putStatus(status, stopStatusId, options));
    this._statusChain = next.catch(() => {});
    return next;
  }

  async _putStatus(status, stopStatusId, { manual = true } = {}) {
    const body = { status };
    if (stopStatusId) body.stop_status_id = Number(stopStatusId);
    try {
      const presence = await this.api.put('/api/agents/me/status', body);
      this.store.set({ presence });
      if (manual && MANUAL_STATUSES.includes(status)) {
        try {
          sessionStorage.setItem(LAST_STATUS_KEY, JSON.stringify(body));
        } catch {
          // not essential
        }
      }
    } catch (error) {
      // After a call the server settles the status itself; when its record of the call is a
      // moment behind the page (busy_with_call), that is no news for the agent.
      if (!manual && error.code === 'busy_with_call') return;
      this.error(error);
    }
  }

  /** Calls drive 着信中 / 通話中 / 保留 / 後処理; failures only show, they never block a call. */
  autoStatus(status) {
    // The server sets 着信中 / 通話中 / 保留 / 後処理 from the call's own events (the API refuses
    // them); the page only shows the change at once, and the next heartbeat brings the record.
    if (this.state.presence?.status === status) return Promise.resolve();
    const presence = this.state.presence || {};
    this.store.set({ presence: { ...presence, status, stop_status: null } });
    return Promise.resolve();
  }

  /** Back to what the agent chose before the call (待機 unless they chose otherwise). */
  returnToChosenStatus() {
    const chosen = lastChosenStatus() || { status: 'available' };
    return this.setStatus(chosen.status, chosen.stop_status_id, { manual: false });
  }

  async _restoreStatus() {
    const current = this.state.presence?.status;
    if (this.state.call || this.state.acw) return;
    if (MANUAL_STATUSES.includes(current)) return; // kept across a reload or a takeover
    await this.returnToChosenStatus();
  }

  _loadLists() {
    this.api.get('/api/stop-statuses')
      .then((body) => this.store.set({ stopStatuses: body.stop_statuses }))
      .catch(() => {});
    this.api.get('/api/me/caller-ids')
      .then((body) => {
        const ids = normalizeCallerIds(body);
        const preferred = ids.find((c) => c.default) || ids[0];
        this.store.set({ callerIds: ids,
          callerId: this.state.callerId || (preferred ? preferred.number : '') });
      })
      .catch(() => {});
  }

  // -- timers ----------------------------------------------------------------------------------
  _after(name, ms, fn) {
    clearTimeout(this._timers[name]);
    this._timers[name] = setTimeout(fn, ms);
  }

  _every(name, ms, fn) {
    clearInterval(this._timers[name]);
    this._timers[name] = setInterval(fn, ms);
  }
}

function lastChosenStatus() {
  try {
    return JSON.parse(sessionStorage.getItem(LAST_STATUS_KEY) || 'null');
  } catch {
    return null;
  }
}

/** ``GET /api/me/caller-ids`` → [{number, label, default}] whatever the exact field names. */
export function normalizeCallerIds(body) {
  const list = Array.isArray(body) ? body : (body.caller_ids || body.numbers || []);
  return list.map((item) => (typeof item === 'string'
    ? { number: item, label: item, default: false }
    : { number: item.e164 || item.number, display: item.display || '',
      label: item.label || item.display || item.e164 || item.number,
      default: Boolean(item.default) }));
}
