// A fake Twilio Device for browser tests, installed with Playwright's add_init_script before
// the softphone loads. The softphone prefers window.__CTI_TEST_DEVICE__ when it exists
// (static/softphone/js/device.js); nothing in the product defines it.
//
// Tests drive and inspect it through window.__fake:
//   __fake.devices, __fake.calls, __fake.log   what the softphone did
//   __fake.incoming({sid, from, params})       a call rings the registered device
//   __fake.call(i).remoteHangup() / .cancelByCaller() / .answerRemote()
(() => {
  class Emitter {
    constructor() { this.handlers = {}; }
    on(name, fn) { (this.handlers[name] = this.handlers[name] || []).push(fn); return this; }
    off(name, fn) { this.handlers[name] = (this.handlers[name] || []).filter((f) => f !== fn); }
    emit(name, ...args) { (this.handlers[name] || []).slice().forEach((fn) => fn(...args)); }
  }

  let sequence = 0;
  const nextSid = () => `CA${String(++sequence).padStart(32, '0')}`;
  const fake = { devices: [], calls: [], log: [], autoAnswerOutgoing: true };

  class FakeCall extends Emitter {
    constructor(device, direction, parameters, custom) {
      super();
      this.device = device;
      this.direction = direction;
      this.parameters = parameters;
      this.customParameters = new Map(Object.entries(custom || {}));
      this.state = direction === 'INCOMING' ? 'pending' : 'connecting';
      this.muted = false;
      this.digits = '';
      this.acceptOptions = null;
      fake.calls.push(this);
    }
    status() { return this.state; }
    isMuted() { return this.muted; }
    accept(options) {
      this.acceptOptions = options || null;
      this.state = 'open';
      fake.log.push(`accept ${this.parameters.CallSid}`);
      setTimeout(() => this.emit('accept', this), 0);
    }
    reject() {
      this.state = 'closed';
      fake.log.push(`reject ${this.parameters.CallSid}`);
      setTimeout(() => this.emit('reject', this), 0);
    }
    ignore() { this.state = 'closed'; }
    disconnect() {
      if (this.state === 'closed') return;
      this.state = 'closed';
      fake.log.push(`disconnect ${this.parameters.CallSid}`);
      setTimeout(() => this.emit('disconnect', this), 0);
    }
    mute(value = true) {
      this.muted = Boolean(value);
      fake.log.push(`mute ${this.muted}`);
      this.emit('mute', this.muted, this);
    }
    sendDigits(digits) {
      this.digits += digits;
      fake.log.push(`digits ${digits}`);
    }
    // -- what the other side does ----------------------------------------------------------
    remoteHangup() {
      if (this.state === 'closed') return;
      this.state = 'closed';
      this.emit('disconnect', this);
    }
    cancelByCaller() {
      this.state = 'closed';
      this.emit('cancel', this);
    }
    answerRemote() {
      this.state = 'open';
      this.emit('accept', this);
    }
  }

  class FakeDevice extends Emitter {
    constructor(token, options) {
      super();
      this.token = token;
      this.tokens = [token];
      this.options = options;
      this.state = 'unregistered';
      this.audio = {
        isOutputSelectionSupported: true,
        setInputDevice: async (id) => fake.log.push(`input ${id}`),
        unsetInputDevice: async () => fake.log.push('unset input'),
        speakerDevices: { set: async (id) => fake.log.push(`speaker ${id}`) },
        ringtoneDevices: { set: async (id) => fake.log.push(`ringer ${id}`) },
      };
      fake.devices.push(this);
    }
    async register() {
      this.state = 'registering';
      this.emit('registering');
      await Promise.resolve();
      this.state = 'registered';
      fake.log.push('register');
      this.emit('registered');
    }
    async unregister() {
      this.state = 'unregistered';
      this.emit('unregistered');
    }
    updateToken(token) {
      this.token = token;
      this.tokens.push(token);
      fake.log.push('updateToken');
    }
    async connect({ params } = {}) {
      const call = new FakeCall(this, 'OUTGOING', { CallSid: nextSid(), To: params?.To || '' },
        {});
      call.connectParams = params || {};
      fake.log.push(`connect ${JSON.stringify(params || {})}`);
      setTimeout(() => call.emit('ringing'), 0);
      if (fake.autoAnswerOutgoing) setTimeout(() => call.answerRemote(), 20);
      return call;
    }
    destroy() {
      this.state = 'destroyed';
      fake.log.push('destroy');
      this.emit('destroyed');
    }
    disconnectAll() {}
  }

  fake.incoming = ({ sid, from, params } = {}) => {
    const device = fake.devices.filter((d) => d.state === 'registered').pop();
    if (!device) throw new Error('no registered device');
    const call = new FakeCall(device, 'INCOMING',
      { CallSid: sid || nextSid(), From: from || '+819012345678', To: 'client:agent' }, params);
    device.emit('incoming', call);
    return fake.calls.length - 1;
  };
  fake.call = (index) => fake.calls[index];
  fake.lastCall = () => fake.calls[fake.calls.length - 1];
  fake.registered = () => fake.devices.filter((d) => d.state === 'registered').length;
  fake.expireSoon = () => fake.devices.forEach((d) => d.emit('tokenWillExpire'));

  window.__fake = fake;
  window.__CTI_TEST_DEVICE__ = (token, options) => new FakeDevice(token, options);
})();
