// The softphone's shared state: one plain, JSON-able object. The leading tab changes it and
// broadcasts every change; other tabs only mirror it (tabs.js).

import { Emitter } from './emitter.js';

export function initialState() {
  return {
    signedIn: false,
    agent: null,
    mode: null, // "twilio" | "simulator" once the token says so
    registration: 'unregistered', // registering | registered | error | in_use | replaced
    registrationError: null,
    deviceConflict: null, // {canTakeOver} when another device is active
    presence: null, // {status, label, label_en, stop_status, since}
    stopStatuses: [],
    callerIds: [],
    callerId: '',
    call: null,
    acw: null,
    heldCalls: [],
    notice: null, // {kind: "error" | "info", text, code}
    micBlocked: false,
    audioOutputSupported: false,
    dialing: false,
  };
}

export class Store extends Emitter {
  constructor(state = initialState()) {
    super();
    this.state = state;
  }

  set(patch) {
    this.state = { ...this.state, ...patch };
    this.emit('change', this.state);
  }

  replace(state) {
    this.state = state;
    this.emit('change', this.state);
  }

  patchCall(patch) {
    if (this.state.call) this.set({ call: { ...this.state.call, ...patch } });
  }
}
