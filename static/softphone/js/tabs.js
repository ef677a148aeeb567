// Several CRM tabs, one phone (peers.md idea 3): exactly one tab — the leader — owns the
// Twilio Device; the others mirror its state and forward what the agent does to it.
//
// Leadership is a Web Lock (navigator.locks): the first tab holds it, the others wait in line,
// and when the leader's tab closes the lock passes to the next tab at once. Messages go over a
// BroadcastChannel: the leader broadcasts every state change and shares the sign-in session;
// followers send "hello" to get both, and "action" to act. Without Web Locks (old browsers)
// every tab leads, and the server's one-device rule keeps a single registration.

import { Emitter } from './emitter.js';

const CHANNEL = 'cti-softphone';
const LOCK = 'cti-softphone-leader';
const PING_MS = 4000;
const PEER_TIMEOUT_MS = 10000;

export class Tabs extends Emitter {
  constructor() {
    super();
    this.id = randomId();
    this.isLeader = false;
    this._peers = new Map();
    this._channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;
  }

  start() {
    if (this._channel) this._channel.onmessage = (event) => this._receive(event.data);
    this.post({ type: 'hello' });
    this._ping = setInterval(() => this.post({ type: 'ping' }), PING_MS);
    if (navigator.locks?.request) {
      navigator.locks.request(LOCK, () => {
        this._lead();
        return new Promise(() => {}); // held until this tab goes away
      }).catch(() => {
        // Denied in a third-party frame when the browser blocks third-party storage (Chrome
        // incognito, Safari): like a browser without Web Locks, this tab leads by itself.
        this._lead();
      });
    } else {
      setTimeout(() => this._lead(), 0);
    }
  }

  post(message) {
    this._channel?.postMessage({ ...message, from: this.id });
  }

  /** Whether another tab of this softphone has been heard from recently. */
  get hasPeers() {
    const now = Date.now();
    return [...this._peers.values()].some((seen) => now - seen < PEER_TIMEOUT_MS);
  }

  _lead() {
    this.isLeader = true;
    this.emit('leader');
  }

  _receive(message) {
    if (!message || message.from === this.id) return;
    if (message.type === 'bye') this._peers.delete(message.from);
    else this._peers.set(message.from, Date.now());
    this.emit('message', message);
  }

  leave() {
    clearInterval(this._ping);
    this.post({ type: 'bye' });
  }
}

function randomId() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** This browser's device id, shared by its tabs (localStorage), for the one-device rule. */
export function browserDeviceId() {
  const key = 'cti.deviceId';
  try {
    let id = localStorage.getItem(key);
    if (!id) {
      id = `web-${randomId()}${randomId()}`;
      localStorage.setItem(key, id);
    }
    return id;
  } catch {
    return `web-${randomId()}${randomId()}`;
  }
}
