// The phone view: the call card (ringing, talking, held, consulting), the dial form with its
// pad, after-call work, held calls and the simulated-mode control. Renders state; every
// action goes through perform() (to this tab's phone, or forwarded to the leading tab).

import { t } from './i18n.js';
import { formatDuration } from './numbers.js';

const PAD_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

export class CallView {
  constructor({ root, perform, api, bridge, config }) {
    this.root = root;
    this.perform = perform;
    this.api = api;
    this.bridge = bridge;
    this.config = config;
    this.$ = (selector) => root.querySelector(selector);
    this._focusedFor = null;
    this._acwFor = null;
    this._targets = null;
    this._buildPads();
    this._bind();
    // The server's limit (connector/wrapup.py), so a note is never refused after typing it.
    if (Number(config.notes_max_length) > 0) this.$('#notes').maxLength = config.notes_max_length;
  }

  // -- events ----------------------------------------------------------------------------------
  _bind() {
    const $ = this.$;
    $('#accept').addEventListener('click', () => this.perform('accept'));
    $('#reject').addEventListener('click', () => this.perform('reject'));
    $('#hangup').addEventListener('click', () => this.perform('hangup'));
    $('#mute').addEventListener('click', () => this.perform('mute'));
    $('#hold').addEventListener('click', () => this.perform(
      this.state?.call?.phase === 'held' ? 'unhold' : 'hold'));
    $('#complete-transfer').addEventListener('click', () => this.perform('completeTransfer'));
    $('#cancel-transfer').addEventListener('click', () => this.perform('cancelTransfer'));
    $('#keypad-toggle').addEventListener('click', () => toggle($('#keypad-toggle'), $('#keypad')));
    $('#pad-toggle').addEventListener('click', () => {
      toggle($('#pad-toggle'), $('#dialpad'));
      this._padLabel();
    });
    $('#transfer-toggle').addEventListener('click', () => {
      if (toggle($('#transfer-toggle'), $('#transfer'))) this._loadTargets();
    });
    $('#dial').addEventListener('submit', (event) => {
      event.preventDefault();
      this.perform('dial', { number: $('#number').value });
    });
    $('#caller-id').addEventListener('change', (e) => this.perform('setCallerId',
      { callerId: e.target.value }));
    $('#transfer').addEventListener('change', (event) => {
      if (event.target.name === 'kind') this._fillTargets();
    });
    $('#transfer').addEventListener('submit', (event) => {
      event.preventDefault();
      this._transfer(event.submitter?.value || 'cold');
    });
    $('#acw').addEventListener('submit', (event) => {
      event.preventDefault();
      this._saveWrapup();
    });
    $('#acw-finish').addEventListener('click', () => this.perform('finishAcw'));
    $('#sim-incoming').addEventListener('click', () => this.perform('simIncoming'));
    $('#sim-hangup').addEventListener('click', () => this.perform('simCallerHangup'));
    this.root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        [['#keypad-toggle', '#keypad'], ['#transfer-toggle', '#transfer']].forEach(([b, p]) => {
          if (!$(p).hidden) toggle($(b), $(p));
        });
      }
    });
  }

  _buildPads() {
    for (const [padId, onKey] of [
      ['#dialpad', (key) => {
        const input = this.$('#number');
        input.value += key;
        input.focus();
      }],
      ['#keypad', (key) => this.perform('dtmf', { digits: key })],
    ]) {
      const pad = this.$(padId);
      for (const key of PAD_KEYS) {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = key;
        button.setAttribute('aria-label', key === '*' ? 'アスタリスク *' : key === '#' ? 'シャープ #' : key);
        button.addEventListener('click', () => onKey(key));
        pad.appendChild(button);
      }
    }
    this._padLabel();
  }

  _padLabel() {
    const open = !this.$('#dialpad').hidden;
    const button = this.$('#pad-toggle');
    button.textContent = '⌨';
    button.setAttribute('aria-label', t(open ? 'dial.pad.hide' : 'dial.pad.show'));
    button.title = t(open ? 'dial.pad.hide' : 'dial.pad.show');
  }

  // -- rendering -------------------------------------------------------------------------------
  render(state) {
    this.state = state;
    const { call, acw } = state;
    this._renderCall(call);
    this._renderAcw(acw);
    this.$('#dial').hidden = Boolean(call || acw);
    this.$('#call-button').disabled = state.dialing || state.registration !== 'registered';
    fillSelect(this.$('#caller-id'), state.callerIds.map((c) => [c.number,
      c.display && c.display !== c.label ? `${c.label} ${c.display}` : c.label]),
      state.callerId, t('dial.callerid.none'));
    this.$('.callerid').hidden = state.callerIds.length < 2;
    this._renderHeld(state);
    const simulated = state.mode === 'simulator' && this.config.simulator_controls;
    this.$('#sim').hidden = !simulated;
    this.$('#sim-incoming').disabled = Boolean(call) || state.registration !== 'registered';
    this.$('#sim-hangup').hidden = !(call && call.direction === 'inbound');
    this._padLabel();
    this.tick();
  }

  tick() {
    const call = this.state?.call;
    const timer = this.$('.call-timer');
    if (call?.startedAt && ['open', 'held', 'holding', 'consulting', 'resuming']
      .includes(call.phase)) {
      const time = formatDuration((Date.now() - call.startedAt) / 1000);
      timer.textContent = time;
      timer.setAttribute('aria-label', t('call.timer', { time }));
    } else {
      timer.textContent = '';
    }
    const acw = this.state?.acw;
    const acwTimer = this.$('.acw-timer');
    if (acw?.timedOut) {
      acwTimer.textContent = t('acw.timed_out');
      acwTimer.dataset.over = 'true';
    } else if (acw?.endsAt) {
      acwTimer.textContent = t('acw.remaining',
        { time: formatDuration(Math.max(0, (acw.endsAt - Date.now()) / 1000)) });
      acwTimer.dataset.over = 'false';
    } else {
      acwTimer.textContent = '';
    }
  }

  _renderCall(call) {
    const card = this.$('#call');
    card.hidden = !call;
    if (!call) {
      this._focusedFor = null;
      ['#keypad', '#transfer'].forEach((p) => { this.$(p).hidden = true; });
      return;
    }
    card.dataset.phase = call.phase;
    const phase = call.phase;
    const inbound = call.direction === 'inbound';
    this.$('.call-kind').textContent = phaseLabel(call);
    this.$('.call-transfer').textContent = call.transferFrom
      ? t('call.transfer_from', { name: call.transferFrom }) : '';
    this.$('.call-name').textContent = call.name || unknownParty(call);
    this.$('.call-company').textContent = call.company || '';
    this.$('.call-number').textContent = call.number || '';
    this.$('.call-meta').textContent = [
      call.numberLabel && t('call.number_label', { label: call.numberLabel }),
      call.group && t('call.group', { group: call.group }),
    ].filter(Boolean).join(' / ');
    this._renderMatches(call);
    const talking = ['open', 'holding', 'held', 'resuming'].includes(phase);
    this.$('.ringing-actions').hidden = !(inbound && phase === 'ringing');
    this.$('.open-actions').hidden = !talking;
    this.$('.consult-actions').hidden = !['consulting', 'completing'].includes(phase);
    this.$('#complete-transfer').disabled = phase !== 'consulting';
    const mute = this.$('#mute');
    mute.textContent = t(call.muted ? 'call.unmute' : 'call.mute');
    mute.setAttribute('aria-pressed', String(Boolean(call.muted)));
    mute.disabled = phase !== 'open';
    const hold = this.$('#hold');
    hold.textContent = t(phase === 'held' ? 'call.unhold' : 'call.hold');
    hold.disabled = !['open', 'held'].includes(phase) || !call.sid;
    this.$('#keypad-toggle').disabled = phase !== 'open';
    this.$('#transfer-toggle').disabled = !['open', 'held'].includes(phase) || !call.sid;
    this.$('#hangup').hidden = phase === 'ringing' && inbound;
    if (phase === 'ringing' && inbound && this._focusedFor !== call.legSid) {
      this._focusedFor = call.legSid;
      this.$('#accept').focus();
    }
  }

  _renderMatches(call) {
    const box = this.$('.matches');
    const list = this.$('.match-list');
    const matches = (call.matches || []).filter((m) => m.name || m.url);
    const showMatches = matches.length > 1 || (matches.length === 1 && call.phase !== 'ringing');
    box.hidden = !showMatches;
    const key = JSON.stringify(matches);
    if (list.dataset.key === key) return;
    list.dataset.key = key;
    list.replaceChildren(...matches.map((match) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      const type = match.type && match.type !== 'customer' ? ` (${match.type})` : '';
      button.textContent = `${match.name || match.id}${type}`;
      button.setAttribute('aria-label', t('call.open_record', { name: match.name || match.id }));
      button.addEventListener('click', () => this._openMatch(match));
      item.appendChild(button);
      return item;
    }));
  }

  _openMatch(match) {
    if (this.bridge.openMatch) this.bridge.openMatch(match);
    else if (match.url) window.open(match.url, 'cti-crm');
  }

  _renderAcw(acw) {
    const form = this.$('#acw');
    form.hidden = !acw;
    if (!acw) {
      this._acwFor = null;
      return;
    }
    const summary = acw.summary;
    this.$('.acw-summary').textContent = [
      t(summary.direction === 'inbound' ? 'log.inbound' : 'log.outbound'),
      summary.name || summary.number, summary.name ? summary.number : '',
      summary.durationSeconds ? formatDuration(summary.durationSeconds) : '',
      summary.transferredTo ? `→ ${summary.transferredTo}` : '',
    ].filter(Boolean).join('  ');
    this.$('#acw-save').disabled = Boolean(acw.saving);
    this.$('#acw-save').textContent = t(acw.saving ? 'acw.saving' : 'acw.save');
    if (this._acwFor === acw.sid) return;
    this._acwFor = acw.sid; // a new after-call work: fresh form
    fillSelect(this.$('#disposition'), this.config.dispositions.map((d) => [d, d]), '',
      t('acw.disposition.choose'));
    this.$('#notes').value = '';
    this._fillCustomers(acw);
    this.$('#disposition').focus();
  }

  async _fillCustomers(acw) {
    const onScreen = await this.bridge.recordOnScreen?.();
    const candidates = [...(acw.matches || [])];
    if (onScreen && !candidates.some((m) => m.id === onScreen.id)) candidates.unshift(onScreen);
    this._customers = candidates;
    fillSelect(this.$('#acw-customer'), candidates.map((m, i) => [String(i), m.name || m.id]),
      candidates.length ? '0' : '', t('acw.customer.none'));
    this.$('.acw-customer').hidden = !candidates.length;
  }

  _saveWrapup() {
    const index = this.$('#acw-customer').value;
    const chosen = index === '' ? null : this._customers?.[Number(index)];
    const customer = chosen ? { adapter: chosen.adapter || this.bridge.name, id: String(chosen.id),
      type: chosen.type || '', name: chosen.name || '' } : null;
    this.perform('saveWrapup', { disposition: this.$('#disposition').value,
      notes: this.$('#notes').value, customer });
  }

  _renderHeld(state) {
    const rows = state.heldCalls.filter((row) => row.call_sid !== state.call?.sid);
    const box = this.$('#held');
    box.hidden = !rows.length;
    this.$('.held-list').replaceChildren(...rows.map((row) => {
      const item = document.createElement('li');
      const label = document.createElement('span');
      const context = row.context || {};
      label.textContent = context.cti_caller_name || context.cti_caller_number || row.call_sid;
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = t('call.resume');
      button.disabled = Boolean(state.call) || row.state !== 'held';
      button.addEventListener('click', () => this.perform('unhold', { sid: row.call_sid }));
      item.append(label, button);
      return item;
    }));
  }

  // -- transfer --------------------------------------------------------------------------------
  async _loadTargets() {
    try {
      this._targets = await this.api.get('/api/calls/transfer-targets');
    } catch {
      this._targets = { agents: [], groups: [] };
    }
    this._fillTargets();
  }

  _fillTargets() {
    const kind = this.$('#transfer').elements.kind.value;
    const byNumber = kind === 'number';
    this.$('.transfer-number').hidden = !byNumber;
    this.$('.transfer-select').hidden = byNumber;
    this.$('[data-testid="transfer-warm"]').hidden = kind === 'group';
    if (byNumber) return;
    const targets = this._targets || { agents: [], groups: [] };
    const options = kind === 'agent'
      ? targets.agents.map((a) => [a.value, `${a.label} (${t(`status.${a.status}`)})`])
      : targets.groups.map((g) => [g.value, g.label]);
    fillSelect(this.$('#transfer-target'), options, '', options.length ? null : t('transfer.none'));
  }

  _transfer(mode) {
    const kind = this.$('#transfer').elements.kind.value;
    const select = this.$('#transfer-target');
    const value = kind === 'number' ? this.$('#transfer-number').value : select.value;
    if (!value) return;
    const label = kind === 'number' ? value : select.selectedOptions[0]?.textContent || value;
    toggle(this.$('#transfer-toggle'), this.$('#transfer'));
    this.perform('transfer', { mode, kind, value, label: label.replace(/ \(.*\)$/, '') });
  }
}

/** No name: on an incoming call the caller (発信者) is unknown or withheld; on an outgoing one
 * it is the other party (相手) the agent dialed. */
function unknownParty(call) {
  if (call.direction === 'outbound') return t('call.unknown_party');
  return t(call.number ? 'call.unknown' : 'call.anonymous');
}

function phaseLabel(call) {
  const direction = t(call.direction === 'inbound' ? 'call.incoming' : 'call.outgoing');
  const byPhase = {
    connecting: t('call.connecting'), ringing_out: t('call.ringing_out'),
    holding: t('call.holding'), held: t('call.held'), resuming: t('call.connecting'),
    consulting: t('transfer.consulting', { name: call.transferTarget || '' }),
    completing: t('transfer.consulting', { name: call.transferTarget || '' }),
  };
  return byPhase[call.phase] ? `${direction} · ${byPhase[call.phase]}` : direction;
}

/** Show or hide a panel and keep its button's aria-expanded right; returns "now open". */
function toggle(button, panel) {
  panel.hidden = !panel.hidden;
  button.setAttribute('aria-expanded', String(!panel.hidden));
  return !panel.hidden;
}

/** Replace a select's options ([value, label] pairs), keeping the selection if possible. */
export function fillSelect(select, options, selected, placeholder) {
  const key = JSON.stringify([options, placeholder]);
  if (select.dataset.key !== key) {
    select.dataset.key = key;
    const previous = select.value;
    const nodes = [];
    if (placeholder !== null && placeholder !== undefined) {
      nodes.push(new Option(placeholder, ''));
    }
    options.forEach(([value, label]) => nodes.push(new Option(label, value)));
    select.replaceChildren(...nodes);
    if (selected === '' && options.some(([v]) => v === previous)) select.value = previous;
  }
  if (selected) select.value = selected;
}
