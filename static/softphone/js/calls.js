// Calls on the leading tab: ringing, answering, dialling, mute, DTMF, hold and transfer
// (SPEC SP-1…SP-5); the after-call work that follows is acw.js.
//
// state.call.phase: ringing → open (inbound); connecting → ringing_out → open (outbound);
// open → holding → held → resuming → open; held → consulting → completing (hold transfer);
// open/held → transferring (direct transfer). When the agent's leg ends in "open",
// "transferring" or "completing", after-call work starts.

import { AfterCallWork } from './acw.js';
import { audioConstraints, openMicrophone, releaseMicrophone } from './audio.js';
import { customParameters, MIC_ERRORS } from './device.js';
import { apiMessage, t } from './i18n.js';
import { openPops } from './integrations.js';
import { cleanNumber, displayNumber, withCallerIdPrefix } from './numbers.js';

/** How long to wait for Twilio to end the agent's leg after a hold before ending it here. */
const LEG_END_GRACE_MS = 5000;
const CONTROL_POLL_MS = 4000;
const MAX_RECORD_JSON = 1000;
/** The server keeps context values up to 2000 characters (connector/softphone/control.py). */
const MAX_CONTEXT_JSON = 2000;

export class CallHandler {
  constructor(phone) {
    this.phone = phone;
    this.store = phone.store;
    this.api = phone.api;
    this.config = phone.config;
    this.current = null; // the agent's live leg (a Twilio Call)
    this.consult = null; // the consult call of a hold transfer
    this._timers = {};
    this.acw = new AfterCallWork(phone);
  }

  get state() {
    return this.store.state;
  }

  stop() {
    this.acw.stop();
    Object.values(this._timers).forEach((timer) => { clearTimeout(timer); clearInterval(timer); });
    this._timers = {};
    this.current?.disconnect?.();
    this.consult?.disconnect?.();
    this.current = null;
    this.consult = null;
    this._releaseMicIfIdle();
  }

  /** Whether a leg of ours is up (the microphone is in use). */
  inCall() {
    return Boolean(this.current || this.consult);
  }

  // -- incoming --------------------------------------------------------------------------------
  incoming(call) {
    if (this.state.call || this.current) {
      call.reject();
      return;
    }
    const params = customParameters(call);
    const from = call.parameters?.From || '';
    this.current = call;
    this._bind(call);
    this.store.set({ call: {
      ...callerInfo(params, from),
      sid: params.cti_parent_call_sid || call.parameters?.CallSid || '',
      legSid: call.parameters?.CallSid || '',
      direction: 'inbound', phase: 'ringing', muted: false, startedAt: null,
      transferFrom: params.cti_transfer_from || '',
      context: pick(params, CONTEXT_KEYS),
      record: null,
    }, notice: null });
    this.phone.autoStatus('ringing');
    this.phone.bridge.onIncoming?.(this.state.call);
    openPops(this.api, 'incoming', this.state.call.sid);
  }

  async accept() {
    const call = this.current;
    if (!call || this.state.call?.phase !== 'ringing' || this._accepting === call) return;
    this._accepting = call;
    await openMicrophone(this.phone.device);
    this._accepting = null;
    if (this.current !== call || this.state.call?.phase !== 'ringing') {
      this._releaseMicIfIdle(); // the caller gave up while the microphone opened
      return;
    }
    call.accept({ rtcConstraints: audioConstraints() });
  }

  reject() {
    if (!this.current || this.state.call?.phase !== 'ringing') return;
    this.current.reject();
  }

  // -- outgoing --------------------------------------------------------------------------------
  async dial(number, record = null) {
    if (this.state.call || this.current) {
      this.phone.notice('error', t('error.busy'), 'busy');
      return;
    }
    const to = cleanNumber(number);
    if (!to) {
      this.phone.notice('error', t('dial.empty'), 'empty');
      return;
    }
    this.store.set({ dialing: true, notice: null });
    let check;
    try {
      check = await this.api.post('/api/dial/check', withCallerId({ to }, this.state.callerId));
    } catch (error) {
      this.store.set({ dialing: false });
      this.phone.error(error);
      return;
    }
    if (!check.allowed) {
      this.store.set({ dialing: false });
      this.phone.notice('error', refusalText(check), check.code || 'refused');
      return;
    }
    const destination = typeof check.destination === 'string' ? check.destination
      : (check.destination?.e164 || check.destination?.dial_string || to);
    const params = withCallerId({ To: destination }, this.state.callerId, 'CallerId');
    if (record) params.cti_record = JSON.stringify(recordRef(record)).slice(0, MAX_RECORD_JSON);
    const display = check.destination?.display || displayNumber(destination);
    // The dialed number was looked up like a caller's (local phone index, ringing budget).
    const found = check.customer || {};
    const matches = record ? [recordAsMatch(record)] : (found.matches || []).slice(0, 5);
    const name = record?.name || found.name || '';
    const company = record ? '' : (found.company || '');
    this.store.set({ dialing: false, call: {
      sid: '', legSid: '', direction: 'outbound', phase: 'connecting', muted: false,
      startedAt: null, number: withCallerIdPrefix(display, check.destination?.caller_id_prefix),
      e164: destination, name, company, matches,
      numberLabel: '', group: '', transferFrom: '', record,
      context: outboundContext(display, destination, name, company, matches),
    } });
    // Typed, not clicked in a CRM: show the customer while the call rings.
    if (!record && matches.length) this._screenPop(this.state.call);
    try {
      await openMicrophone(this.phone.device);
      const call = await this.phone.device.connect({ params });
      this.current = call;
      this._bind(call);
      call.on('ringing', () => this.store.patchCall({ phase: 'ringing_out' }));
    } catch (error) {
      this.store.set({ call: null });
      this._releaseMicIfIdle();
      this.phone.error(error);
    }
  }

  // -- during the call ---------------------------------------------------------------------------
  hangup() {
    const call = this.state.call;
    if (!call) return;
    if (this.current) {
      this.current.disconnect();
    } else if (call.phase === 'held') {
      this.api.post(`/api/calls/${call.sid}/hangup`).catch((e) => this.phone.error(e));
      this.acw.start(call);
    }
  }

  mute() {
    if (!this.current) return;
    const muted = !this.state.call.muted;
    this.current.mute(muted);
    this.store.patchCall({ muted });
  }

  dtmf(digits) {
    if (this.current && this.state.call?.phase === 'open') this.current.sendDigits(digits);
  }

  async hold() {
    const call = this.state.call;
    if (!call || call.phase !== 'open' || !call.sid) return;
    this.store.patchCall({ phase: 'holding' });
    try {
      await this.api.post(`/api/calls/${call.sid}/hold`, { context: call.context });
    } catch (error) {
      this.store.patchCall({ phase: 'open' });
      this.phone.error(error);
      return;
    }
    this.phone.autoStatus('hold');
    await this._agentLegEnded();
  }

  async unhold(sid = this.state.call?.sid) {
    if (!sid || this.current) return;
    let body;
    try {
      body = await this.api.post(`/api/calls/${sid}/unhold`);
    } catch (error) {
      this.phone.error(error);
      return;
    }
    if (!this.state.call || this.state.call.sid !== sid) this._adoptHeld(body);
    this.store.patchCall({ phase: 'resuming' });
    await this._connectFor(body.connect_params, 'current');
  }

  async transfer({ mode, kind, value, label }) {
    const call = this.state.call;
    if (!call?.sid || !['open', 'held'].includes(call.phase)) return;
    const before = call.phase;
    this.store.patchCall({ phase: mode === 'cold' ? 'transferring' : 'holding',
      transferTarget: label });
    let body;
    try {
      body = await this.api.post(`/api/calls/${call.sid}/transfer`,
        { mode, target: { kind, value }, context: call.context });
    } catch (error) {
      this.store.patchCall({ phase: before });
      this.phone.error(error);
      return;
    }
    if (mode === 'cold') {
      this.phone.notice('info', t('transfer.done', { name: label }));
      if (!this.current) this.acw.start(this.state.call);
      this._watchControls();
      return;
    }
    await this._agentLegEnded();
    this.phone.autoStatus('hold');
    this.store.patchCall({ phase: 'consulting' });
    await this._connectFor(body.connect_params, 'consult');
  }

  async completeTransfer() {
    const call = this.state.call;
    if (call?.phase !== 'consulting') return;
    this.store.patchCall({ phase: 'completing' });
    try {
      await this.api.post(`/api/calls/${call.sid}/transfer/complete`);
    } catch (error) {
      this.store.patchCall({ phase: 'consulting' });
      this.phone.error(error);
      return;
    }
    this.phone.notice('info', t('transfer.done', { name: call.transferTarget }));
    this._endLaterIfStillUp('consult');
  }

  async cancelTransfer() {
    const call = this.state.call;
    if (!call || !['consulting', 'held'].includes(call.phase)) return;
    try {
      await this.api.post(`/api/calls/${call.sid}/transfer/cancel`);
    } catch (error) {
      this.phone.error(error);
      return;
    }
    this.consult?.disconnect();
    this.store.patchCall({ phase: 'held', transferTarget: '' });
  }

  // -- Twilio call events ----------------------------------------------------------------------
  _bind(call, role = 'current') {
    call.on('accept', () => this._accepted(call, role));
    call.on('disconnect', () => this._ended(call, role));
    call.on('cancel', () => this._missed(call));
    call.on('reject', () => this._ended(call, role));
    call.on('error', (error) => {
      if (MIC_ERRORS.has(Number(error?.code))) {
        this.store.set({ micBlocked: true });
        this.phone.notice('error', t('mic.blocked'), 'mic_blocked');
      } else {
        this.phone.notice('error', t('error.generic', { message: error?.message || error }));
      }
    });
  }

  _accepted(call, role) {
    if (role === 'consult') return;
    const state = this.state.call;
    if (!state) return;
    const patch = { phase: 'open' };
    if (!state.startedAt) patch.startedAt = Date.now();
    if (!state.sid) patch.sid = call.parameters?.CallSid || '';
    if (!state.legSid) patch.legSid = call.parameters?.CallSid || '';
    const wasRinging = state.phase === 'ringing';
    this.store.patchCall(patch);
    this.phone.autoStatus('on_call');
    if (wasRinging) this._screenPop(this.state.call);
    // Server-rendered integration pops (HT-1 browser templates, HT-2 pop-up URLs).
    openPops(this.api, wasRinging ? 'answered' : 'click', this.state.call.sid);
  }

  _ended(call, role) {
    if (role === 'consult') {
      if (call !== this.consult) return;
      this.consult = null;
      this._releaseMicIfIdle();
      const state = this.state.call;
      if (state?.phase === 'completing') this.acw.start(state);
      else if (state?.phase === 'consulting') this.store.patchCall({ phase: 'held',
        transferTarget: '' });
      return;
    }
    if (call !== this.current) return;
    this.current = null;
    this._releaseMicIfIdle();
    this._legGone?.();
    const state = this.state.call;
    if (!state) return;
    if (state.phase === 'holding' || state.phase === 'held') {
      this.store.patchCall({ phase: 'held', muted: false });
      this._watchControls();
      return;
    }
    if (state.phase === 'ringing') { // declined here, or answered elsewhere
      this.store.set({ call: null });
      this.phone.returnToChosenStatus();
      return;
    }
    openPops(this.api, 'hangup', state.sid);
    this.acw.start(state);
  }

  _missed(call) {
    if (call !== this.current) return;
    this.current = null;
    this._releaseMicIfIdle();
    const state = this.state.call;
    this.store.set({ call: null });
    if (state) this.phone.notice('info', t('call.missed', { number: state.number }));
    this.phone.returnToChosenStatus();
  }

  _screenPop(call) {
    try {
      this.phone.bridge.screenPop?.({ direction: call.direction, number: call.number,
        e164: call.e164, matches: call.matches, record: call.record, callSid: call.sid });
    } catch (error) {
      console.error('screen pop failed', error);
    }
  }

  // -- helpers ---------------------------------------------------------------------------------
  /** The microphone stays open only while a leg is up (the browser shows it recording). */
  _releaseMicIfIdle() {
    if (!this.inCall() && this.phone.device) releaseMicrophone(this.phone.device);
  }

  /** Resolves once Twilio has ended the agent's leg (after hold / transfer); ends it here if
   * Twilio has not done so within a grace period (the customer is already safe in the queue). */
  _agentLegEnded() {
    if (!this.current) return Promise.resolve();
    return new Promise((resolve) => {
      const leg = this.current;
      this._legGone = () => {
        clearTimeout(this._timers.grace);
        this._legGone = null;
        resolve();
      };
      this._timers.grace = setTimeout(() => {
        if (this.current === leg) leg.disconnect();
      }, LEG_END_GRACE_MS);
    });
  }

  _endLaterIfStillUp(role) {
    const leg = this[role];
    setTimeout(() => {
      if (leg && this[role] === leg) leg.disconnect();
    }, LEG_END_GRACE_MS);
  }

  async _connectFor(params, role) {
    try {
      await openMicrophone(this.phone.device);
      const call = await this.phone.device.connect({ params });
      this[role] = call;
      this._bind(call, role);
    } catch (error) {
      this._releaseMicIfIdle();
      this.store.patchCall({ phase: 'held' });
      this.phone.error(error);
    }
  }

  _adoptHeld(control) {
    const context = control.context || {};
    this.store.set({ acw: null, call: {
      ...callerInfo(context, ''), sid: control.call_sid, legSid: '', direction: 'inbound',
      phase: 'held', muted: false, startedAt: Date.now(), transferFrom: '', context,
      record: null,
    } });
  }

  /** Follow held and transferred calls on the server: the caller may hang up while on hold,
   * and a direct transfer nobody answered comes back on hold. */
  _watchControls() {
    clearInterval(this._timers.controls);
    this._timers.controls = setInterval(() => this.refreshControls(), CONTROL_POLL_MS);
  }

  async refreshControls() {
    let rows;
    try {
      rows = (await this.api.get('/api/calls/control')).calls;
    } catch {
      return;
    }
    const before = this.state.heldCalls;
    this.store.set({ heldCalls: rows });
    const call = this.state.call;
    if (call?.phase === 'held' && !rows.some((r) => r.call_sid === call.sid)) {
      this.acw.start(call); // the caller hung up while on hold
    }
    for (const row of rows) {
      const failed = row.last_error.startsWith('transfer_')
        && !before.some((b) => b.call_sid === row.call_sid && b.last_error === row.last_error);
      if (failed) this.phone.notice('error', t('transfer.failed', { name: row.target?.label || '' }));
    }
    if (!rows.length && !['held', 'consulting', 'completing'].includes(this.state.call?.phase)) {
      clearInterval(this._timers.controls);
    }
  }
}

export const CONTEXT_KEYS = ['cti_caller_number', 'cti_caller_e164', 'cti_caller_name',
  'cti_caller_company', 'cti_matches', 'cti_number_label', 'cti_group'];

function pick(source, keys) {
  return Object.fromEntries(keys.filter((k) => source[k]).map((k) => [k, String(source[k])]));
}

/** What the ringing screen shows, from the call's <Parameter>s (voice core's contract). */
export function callerInfo(params, from) {
  let matches = [];
  try {
    matches = JSON.parse(params.cti_matches || '[]');
  } catch {
    matches = [];
  }
  const number = params.cti_caller_number || displayNumber(from);
  return {
    number,
    e164: params.cti_caller_e164 || (from.startsWith('+') ? from : ''),
    name: params.cti_caller_name || '',
    company: params.cti_caller_company || '',
    matches: Array.isArray(matches) ? matches.slice(0, 5) : [],
    numberLabel: params.cti_number_label || '',
    group: params.cti_group || '',
  };
}

/** The clicked record as the voice core keeps it (``cti_record``: adapter, id, type, name),
 * from what click-to-dial sources send (kintone: crm, appId, recordId; builtin: crm, recordId). */
export function recordRef(record) {
  return {
    adapter: String(record.adapter || record.crm || ''),
    id: String(record.id || record.recordId || ''),
    type: String(record.type || record.appId || ''),
    name: String(record.name || ''),
  };
}

function recordAsMatch(record) {
  return { ...recordRef(record), url: record.url || '' };
}

/** What a hold or transfer passes on about an outgoing call's other party. */
function outboundContext(number, e164, name, company, matches) {
  const context = { cti_caller_number: number, cti_caller_e164: e164, cti_caller_name: name };
  if (company) context.cti_caller_company = company;
  const json = JSON.stringify(matches.map((m) => ({ adapter: m.adapter || '', id: m.id || '',
    type: m.type || '', name: m.name || '', url: m.url || '' })));
  if (matches.length && json.length <= MAX_CONTEXT_JSON) context.cti_matches = json;
  return context;
}

function withCallerId(body, callerId, key = 'caller_id') {
  return callerId ? { ...body, [key]: callerId } : body;
}

function refusalText(check) {
  return apiMessage({ message: check.message_en || check.message_ja,
    details: { message_ja: check.message_ja, message_en: check.message_en } });
}
