// The page around the phone: sign-in, the status picker, registration health, notices, the
// tabs (phone / history / settings), the agent log (SPEC SP-8) and audio settings (SP-9).

import { listAudioDevices, loadAudioSettings, saveAudioSettings } from './audio.js';
import { apiMessage, language, t } from './i18n.js';
import { displayNumber, formatDuration } from './numbers.js';
import { CallView, fillSelect } from './ui-call.js';

const CHOOSABLE = ['available', 'away'];
const LOG_LIMIT = 30;
const INFO_NOTICE_MS = 6000;

export class UI {
  constructor({ root, perform, api, bridge, config, onSignIn, onSignOut, onLanguage }) {
    this.root = root;
    this.perform = perform;
    this.api = api;
    this.bridge = bridge;
    this.config = config;
    this.onSignIn = onSignIn;
    this.onSignOut = onSignOut;
    this.onLanguage = onLanguage;
    this.$ = (selector) => root.querySelector(selector);
    this.view = 'phone';
    this.state = null;
    this.calls = new CallView({ root, perform, api, bridge, config });
    this._bind();
    setInterval(() => this.calls.tick(), 1000);
  }

  translate() {
    for (const el of this.root.querySelectorAll('[data-i18n]')) {
      el.textContent = t(el.dataset.i18n);
    }
    for (const el of this.root.querySelectorAll('[data-i18n-label]')) {
      el.setAttribute('aria-label', t(el.dataset.i18nLabel));
    }
    for (const el of this.root.querySelectorAll('[data-i18n-placeholder]')) {
      el.setAttribute('placeholder', t(el.dataset.i18nPlaceholder));
    }
    document.title = `${t('app.title')} — cti-connector`;
    for (const select of this.root.querySelectorAll('select')) delete select.dataset.key;
    if (this.state) this.render(this.state);
  }

  _bind() {
    const $ = this.$;
    $('#signin-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this._signIn();
    });
    $('#signout').addEventListener('click', () => this.onSignOut());
    $('#language').addEventListener('click', () => this.onLanguage(language() === 'ja' ? 'en' : 'ja'));
    $('#status').addEventListener('change', (event) => {
      const [status, stopId] = event.target.value.split(':');
      this.perform('setStatus', { status, stopStatusId: stopId || null });
    });
    $('.notice-close').addEventListener('click', () => this.perform('dismissNotice'));
    $('#retry').addEventListener('click', () => this.perform('retry'));
    $('#takeover').addEventListener('click', () => this.perform('takeOver'));
    $('#log-refresh').addEventListener('click', () => this._loadLog());
    for (const tab of this.root.querySelectorAll('.tabs [role="tab"]')) {
      tab.addEventListener('click', () => this.show(tab.dataset.view));
      tab.addEventListener('keydown', (event) => this._tabKeys(event));
    }
    for (const [id, key] of [['#audio-input', 'input'], ['#audio-speaker', 'speaker'],
      ['#audio-ringer', 'ringer']]) {
      $(id).addEventListener('change', (event) => {
        saveAudioSettings({ ...loadAudioSettings(), [key]: event.target.value });
        this.perform('applyAudio');
      });
    }
  }

  _tabKeys(event) {
    const tabs = [...this.root.querySelectorAll('.tabs [role="tab"]')];
    const index = tabs.indexOf(event.target);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = tabs[(index + step + tabs.length) % tabs.length];
    next.focus();
    this.show(next.dataset.view);
  }

  show(view) {
    this.view = view;
    if (view === 'log') this._loadLog();
    if (view === 'settings') this._loadAudio();
    if (this.state) this.render(this.state);
  }

  async _signIn() {
    const button = this.$('#signin-submit');
    button.disabled = true;
    button.textContent = t('signin.busy');
    try {
      await this.onSignIn(this.$('#username').value.trim(), this.$('#password').value);
      this.$('#password').value = '';
    } catch (error) {
      this.showNotice({ kind: 'error', text: error.code === 'network' ? t('error.network')
        : apiMessage(error) });
    } finally {
      button.disabled = false;
      button.textContent = t('signin.submit');
    }
  }

  // -- rendering -------------------------------------------------------------------------------
  render(state) {
    this.state = state;
    const $ = this.$;
    $('#app').hidden = false;
    const signedIn = state.signedIn;
    $('#view-signin').hidden = signedIn;
    $('.tabs').hidden = !signedIn;
    for (const view of ['phone', 'log', 'settings']) {
      $(`#view-${view}`).hidden = !signedIn || this.view !== view;
      $(`#tab-${view}`).setAttribute('aria-selected', String(this.view === view));
      $(`#tab-${view}`).tabIndex = this.view === view ? 0 : -1;
    }
    $('.topbar .status-picker').hidden = !signedIn;
    $('#registration').hidden = !signedIn;
    this._renderNotice(state.notice);
    if (!signedIn) return;
    this._renderStatus(state);
    this._renderRegistration(state);
    $('#mic-blocked').hidden = !state.micBlocked;
    $('#output-unsupported').hidden = state.audioOutputSupported;
    $('#audio-speaker').disabled = !state.audioOutputSupported;
    $('#audio-ringer').disabled = !state.audioOutputSupported;
    $('.agent-line').textContent = state.agent
      ? `${state.agent.display_name} (${state.agent.username})` : '';
    this.calls.render(state);
    this.bridge.onStateChange?.({
      registration: state.registration,
      status: state.presence?.status || 'offline',
      statusLabel: statusLabel(state.presence),
      phase: state.call?.phase || (state.acw ? 'acw' : 'idle'),
      number: state.call?.number || '',
      name: state.call?.name || '',
    });
  }

  _renderStatus(state) {
    const presence = state.presence || { status: 'offline' };
    const select = this.$('#status');
    const options = CHOOSABLE.map((s) => [s, t(`status.${s}`)]);
    options.push(['paused', t('status.paused')]);
    for (const stop of state.stopStatuses) {
      options.push([`paused:${stop.id}`, `${t('status.paused')}: ${stop.icon ? `${stop.icon} ` : ''}${stop.name}`]);
    }
    const current = presence.stop_status ? `paused:${presence.stop_status.id}` : presence.status;
    if (!options.some(([value]) => value === current)) {
      options.unshift([current, t(`status.${presence.status}`)]); // automatic: 通話中, 後処理 …
    }
    fillSelect(select, options, current, null);
    select.disabled = Boolean(state.call) || !['registered', 'follower'].includes(
      state.registration) && presence.status === 'offline';
    this.$('.status-picker').dataset.status = presence.status;
  }

  _renderRegistration(state) {
    const box = this.$('#registration');
    const key = state.mode === 'simulator' && state.registration === 'registered'
      ? 'reg.simulated' : `reg.${state.registration}`;
    box.dataset.state = state.registration;
    box.querySelector('.reg-text').textContent = t(key);
    box.setAttribute('aria-label', t('reg.label', { state: t(key) }));
    const conflict = state.deviceConflict
      && ['in_use', 'replaced'].includes(state.registration);
    this.$('#conflict').hidden = !conflict;
    if (conflict) {
      this.$('.conflict-text').textContent = t(state.registration === 'replaced'
        ? 'error.device_replaced' : 'error.device_in_use');
      this.$('#takeover').hidden = !state.deviceConflict.canTakeOver;
    }
    this.$('#reg-error').hidden = state.registration !== 'error';
    this.$('.reg-error-text').textContent = state.registrationError || t('reg.error');
  }

  showNotice(notice) {
    this._renderNotice({ ...notice, at: Date.now() });
  }

  _renderNotice(notice) {
    const box = this.$('#notice');
    clearTimeout(this._noticeTimer);
    box.hidden = !notice;
    if (!notice) return;
    box.dataset.kind = notice.kind;
    box.querySelector('.notice-text').textContent = notice.text;
    if (notice.kind === 'info') {
      const left = INFO_NOTICE_MS - (Date.now() - (notice.at || Date.now()));
      this._noticeTimer = setTimeout(() => { box.hidden = true; }, Math.max(left, 0));
    }
  }

  // -- agent log (SPEC SP-8) ---------------------------------------------------------------------
  async _loadLog() {
    const list = this.$('#log');
    let calls;
    try {
      const body = await this.api.get(`/api/calls?limit=${LOG_LIMIT}`);
      calls = Array.isArray(body) ? body : body.calls || [];
    } catch (error) {
      list.replaceChildren(message(apiMessage(error)));
      return;
    }
    if (!calls.length) {
      list.replaceChildren(message(t('log.empty')));
      return;
    }
    list.replaceChildren(...calls.map((call) => this._logItem(call)));
  }

  _logItem(call) {
    const item = document.createElement('li');
    const number = call.customer_number || (call.direction === 'inbound'
      ? call.from_number : call.to_number) || '';
    const missed = call.direction === 'inbound'
      && (call.outcome === 'missed' || !(call.answered_at || call.talk_seconds));
    const direction = document.createElement('span');
    direction.className = `log-dir${missed ? ' missed' : ''}`;
    direction.textContent = t(missed ? 'log.missed'
      : call.direction === 'inbound' ? 'log.inbound' : 'log.outbound');
    const body = document.createElement('div');
    body.className = 'log-body';
    const who = document.createElement('div');
    who.className = 'log-who';
    const customer = call.customer || {};
    who.textContent = customer.chosen?.name || customer.name || call.customer_display
      || displayNumber(number);
    const when = document.createElement('div');
    when.className = 'log-when';
    when.textContent = [formatTime(call.started_at),
      call.talk_seconds ? formatDuration(call.talk_seconds) : '', call.disposition || '']
      .filter(Boolean).join(' · ');
    body.append(who, when);
    item.append(direction, body);
    if (number) {
      const back = document.createElement('button');
      back.type = 'button';
      back.append(phoneIcon());
      back.setAttribute('aria-label', t('log.callback', { number: displayNumber(number) }));
      back.title = t('log.callback', { number: displayNumber(number) });
      back.addEventListener('click', () => {
        this.show('phone');
        this.perform('dial', { number });
      });
      item.append(back);
    }
    return item;
  }

  // -- audio settings (SPEC SP-9) ----------------------------------------------------------------
  async _loadAudio() {
    const { inputs, outputs } = await listAudioDevices().catch(() => ({ inputs: [], outputs: [] }));
    const chosen = loadAudioSettings();
    const withDefault = (list) => list.map((d) => [d.id, d.label]);
    fillSelect(this.$('#audio-input'), withDefault(inputs), chosen.input,
      t('settings.default_device'));
    fillSelect(this.$('#audio-speaker'), withDefault(outputs), chosen.speaker,
      t('settings.default_device'));
    fillSelect(this.$('#audio-ringer'), withDefault(outputs), chosen.ringer,
      t('settings.default_device'));
  }
}

const PHONE_PATH = 'M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.24 11.4 11.4 0 0 0 '
  + '3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 '
  + '1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z';

/** The phone icon of the call buttons (inline SVG: no icon font, no emoji font needed). */
function phoneIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', PHONE_PATH);
  svg.append(path);
  return svg;
}

function statusLabel(presence) {
  if (!presence) return t('status.offline');
  if (presence.stop_status) return presence.stop_status.name;
  return t(`status.${presence.status}`);
}

function message(text) {
  const item = document.createElement('li');
  item.className = 'hint';
  item.textContent = text;
  return item;
}

function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return date.toLocaleString(language() === 'ja' ? 'ja-JP' : 'en-GB',
    { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
