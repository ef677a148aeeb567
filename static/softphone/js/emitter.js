// A tiny event emitter (the Twilio SDK's objects use the same on/off/emit shape).
export class Emitter {
  constructor() {
    this._handlers = new Map();
  }

  on(name, handler) {
    if (!this._handlers.has(name)) this._handlers.set(name, new Set());
    this._handlers.get(name).add(handler);
    return this;
  }

  off(name, handler) {
    this._handlers.get(name)?.delete(handler);
    return this;
  }

  emit(name, ...args) {
    for (const handler of [...(this._handlers.get(name) || [])]) {
      try {
        handler(...args);
      } catch (error) {
        console.error(`handler for "${name}" failed`, error);
      }
    }
  }
}
