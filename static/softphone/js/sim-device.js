// Simulated mode's Device: the connector's in-process Twilio simulator plays the phone network
// (connector/softphone/simulated.py). Events are long-polled from /api/sim/events; answering,
// declining and hanging up are requests. Same surface as the Twilio SDK's Device and Call.

import { Emitter } from './emitter.js';

const POLL_WAIT_SECONDS = 20;
const RETRY_MS = 2000;

export class SimulatedDevice extends Emitter {
  constructor(token, { api }) {
    super();
    this.api = api;
    this.token = token;
    this.state = 'unregistered';
    this.calls = new Map();
    this.isSimulated = true;
    this._cursor = 0;
    this._polling = false;
    this.audio = null; // no audio devices to choose: nothing is heard
  }

  async register() {
    this.state = 'registering';
    this.emit('registering');
    try {
      const body = await this.api.post('/api/sim/register');
      this._cursor = body.cursor;
    } catch (error) {
      this.state = 'unregistered';
      this.emit('error', { code: 31000, message: error.message });
      this.emit('unregistered');
      return;
    }
    this.state = 'registered';
    this.emit('registered');
    if (!this._polling) this._poll();
  }

  async unregister() {
    if (this.state === 'unregistered') return;
    this.state = 'unregistered';
    await this.api.post('/api/sim/unregister').catch(() => {});
    this.emit('unregistered');
  }

  updateToken(token) {
    this.token = token;
  }

  async connect({ params = {} } = {}) {
    const body = await this.api.post('/api/sim/connect', { params });
    const call = new SimulatedCall(this, body.call_sid, 'OUTGOING',
      { CallSid: body.call_sid, To: params.To || '' }, {});
    this.calls.set(call.sid, call);
    setTimeout(() => call._opened(), 0);
    return call;
  }

  destroy() {
    this.unregister();
    this.state = 'destroyed';
    this.emit('destroyed');
  }

  disconnectAll() {
    for (const call of this.calls.values()) call.disconnect();
  }

  async _poll() {
    this._polling = true;
    while (this.state === 'registered') {
      try {
        const body = await this.api.get(
          `/api/sim/events?after=${this._cursor}&wait=${POLL_WAIT_SECONDS}`);
        this._cursor = body.cursor;
        body.events.forEach((event) => this._handle(event));
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
    this._polling = false;
  }

  _handle(event) {
    if (event.type === 'incoming') {
      const call = new SimulatedCall(this, event.call_sid, 'INCOMING',
        { CallSid: event.call_sid, From: event.from, To: event.to }, event.parameters || {});
      this.calls.set(call.sid, call);
      this.emit('incoming', call);
    } else if (event.type === 'ended') {
      this.calls.get(event.call_sid)?._ended();
    }
  }
}

export class SimulatedCall extends Emitter {
  constructor(device, sid, direction, parameters, custom) {
    super();
    this.device = device;
    this.sid = sid;
    this.direction = direction;
    this.parameters = parameters;
    this.customParameters = new Map(Object.entries(custom));
    this._status = direction === 'INCOMING' ? 'pending' : 'connecting';
    this._muted = false;
    this.digits = '';
  }

  status() { return this._status; }
  isMuted() { return this._muted; }

  accept() {
    if (this._status !== 'pending') return;
    this._act('answer');
    this._opened();
  }

  reject() {
    if (this._status !== 'pending') return;
    this._act('decline');
    this._close('reject');
  }

  ignore() {
    this._close(null);
  }

  disconnect() {
    if (this._status === 'closed') return;
    this._act('hangup');
    this._close('disconnect');
  }

  mute(shouldMute = true) {
    this._muted = Boolean(shouldMute);
    this.emit('mute', this._muted, this);
  }

  sendDigits(digits) {
    this.digits += digits; // the simulator has no audio path for DTMF into a bridge
  }

  _opened() {
    if (this._status === 'closed' || this._status === 'open') return;
    this._status = 'open';
    this.emit('accept', this);
  }

  _ended() {
    if (this._status === 'closed') return;
    this._close(this._status === 'pending' ? 'cancel' : 'disconnect');
  }

  _close(event) {
    const wasClosed = this._status === 'closed';
    this._status = 'closed';
    this.device.calls.delete(this.sid);
    if (!wasClosed && event) this.emit(event, this);
  }

  _act(action) {
    this.device.api.post(`/api/sim/calls/${this.sid}/${action}`).catch(() => {});
  }
}
