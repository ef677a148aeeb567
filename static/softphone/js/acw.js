// After-call work (後処理, SPEC SP-7): when a call ends the agent goes to 後処理, chooses the
// result and the customer, adds notes, and saves them to POST /api/calls/<CallSid>/wrapup.
// A timer ([softphone] acw_seconds) returns the agent to the chosen status when it runs out
// (unless acw_auto_available is off); the form stays until saved or ended. Unanswered
// outgoing calls get after-call work too when acw_after_unanswered is on (peers.md idea 11).

import { t } from './i18n.js';

export class AfterCallWork {
  constructor(phone) {
    this.phone = phone;
    this.store = phone.store;
    this.config = phone.config;
    this._timer = null;
  }

  get current() {
    return this.store.state.acw;
  }

  stop() {
    clearTimeout(this._timer);
  }

  /** The agent's part of ``call`` has ended: after-call work, or straight back to work. */
  start(call) {
    const answered = Boolean(call.startedAt);
    this.store.set({ call: null });
    const wanted = answered || call.phase === 'transferring'
      || (call.direction === 'outbound' && this.config.acw_after_unanswered);
    if (!wanted || !call.sid) {
      this.phone.returnToChosenStatus();
      return;
    }
    const now = Date.now();
    const seconds = Number(this.config.acw_seconds) || 0;
    this.store.set({ acw: {
      sid: call.sid, startedAt: now, endsAt: seconds ? now + seconds * 1000 : null,
      timedOut: false, saving: false,
      matches: call.matches || [], record: call.record || null,
      summary: { direction: call.direction, number: call.number, e164: call.e164,
        name: call.name, company: call.company,
        durationSeconds: answered ? Math.round((now - call.startedAt) / 1000) : 0,
        transferredTo: call.transferTarget || '' },
    } });
    this.phone.autoStatus('acw');
    clearTimeout(this._timer);
    if (seconds) this._timer = setTimeout(() => this._timedOut(call.sid), seconds * 1000);
  }

  async save({ disposition, notes, customer }) {
    const acw = this.current;
    if (!acw) return;
    if (!disposition) {
      this.phone.notice('error', t('acw.need_disposition'), 'need_disposition');
      return;
    }
    this.store.set({ acw: { ...acw, saving: true } });
    const body = { disposition, notes: notes || '' };
    if (customer) body.customer = customer;
    try {
      await this.phone.api.post(`/api/calls/${acw.sid}/wrapup`, body);
    } catch (error) {
      this.store.set({ acw: { ...this.current, saving: false } });
      this.phone.error(error);
      return;
    }
    this.phone.bridge.saveLog?.({ ...acw.summary, callSid: acw.sid, disposition,
      notes: notes || '', customer: customer || null });
    this.stop();
    this.store.set({ acw: null });
    this.phone.notice('info', t('acw.saved'));
    await this.phone.returnToChosenStatus();
  }

  /** End after-call work without saving anything. */
  async finish() {
    this.stop();
    this.store.set({ acw: null });
    await this.phone.returnToChosenStatus();
  }

  _timedOut(sid) {
    const acw = this.current;
    if (!acw || acw.sid !== sid) return;
    this.store.set({ acw: { ...acw, timedOut: true } });
    if (this.config.acw_auto_available) this.phone.returnToChosenStatus();
  }
}
