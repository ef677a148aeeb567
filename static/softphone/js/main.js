// The softphone page: configuration, language, sign-in, tabs, the CRM bridge and the phone.
// See docs/softphone.md for the whole picture.

import { Api } from './api.js';
import { applyAudioSettings } from './audio.js';
import { startCampaigns } from './campaigns.js';
import { loadBridge } from './bridges/index.js';
import { apiMessage, setLanguage, t } from './i18n.js';
import { Phone } from './phone.js';
import { startSms } from './sms.js';
import { initialState, Store } from './store.js';
import { browserDeviceId, Tabs } from './tabs.js';
import { UI } from './ui.js';
import { startWindowProtocol } from './window-protocol.js';

const LANGUAGE_KEY = 'cti.lang';
/** A click-to-dial that arrives before sign-in is placed once the phone is registered, if
 * the agent signs in within this time and leaves the number as it was. */
const PENDING_DIAL_MS = 120000;

async function main() {
  const params = new URLSearchParams(window.location.search);
  const config = await (await fetch('config.json')).json();
  setLanguage(params.get('lang') || stored(LANGUAGE_KEY) || config.default_language);

  const api = new Api('');
  const store = new Store();
  const tabs = new Tabs();
  const deviceId = browserDeviceId();
  let phone = null;
  let adopting = false;
  let pendingDial = null;

  const bridge = await loadBridge(params.get('crm') || config.default_crm, {
    config, t, dial: (number, record) => perform('dial', { number, record }),
    // A bridge's own way of signing in (Salesforce): hand over the /api/auth/login body.
    signIn: (body) => signIn(() => api.loginWith(body)),
    notice: (kind, text) => store.set({ notice: { kind, text, at: Date.now() } }),
  });

  // -- actions: run here when this tab leads, else forwarded to the leading tab ---------------
  const actions = {
    accept: () => phone?.calls.accept(),
    reject: () => phone?.calls.reject(),
    hangup: () => phone?.calls.hangup(),
    mute: () => phone?.calls.mute(),
    dtmf: ({ digits }) => phone?.calls.dtmf(digits),
    hold: () => phone?.calls.hold(),
    unhold: ({ sid } = {}) => phone?.calls.unhold(sid),
    dial: ({ number, record }) => phone?.calls.dial(number, record || null),
    transfer: (args) => phone?.calls.transfer(args),
    completeTransfer: () => phone?.calls.completeTransfer(),
    cancelTransfer: () => phone?.calls.cancelTransfer(),
    saveWrapup: (args) => phone?.calls.acw.save(args),
    finishAcw: () => phone?.calls.acw.finish(),
    setStatus: ({ status, stopStatusId }) => phone?.setStatus(status, stopStatusId),
    setCallerId: ({ callerId }) => store.set({ callerId }),
    retry: () => (phone?.device ? phone.register() : phone?.start()),
    takeOver: () => phone?.takeOver(),
    applyAudio: () => applyAudioSettings(phone?.device, { inCall: phone?.calls.inCall() }),
    dismissNotice: () => store.set({ notice: null }),
    signOut: () => signOut(true),
    simIncoming: () => api.post('/api/sim/incoming', {}).catch((e) => phone?.error(e)),
    simCallerHangup: () => {
      const sid = store.state.call?.sid;
      if (sid) api.post(`/api/sim/calls/${sid}/caller-hangup`).catch((e) => phone?.error(e));
    },
  };

  function perform(name, args = {}) {
    if (!tabs.isLeader) {
      tabs.post({ type: 'action', name, args });
      return;
    }
    const action = actions[name];
    if (!action) return;
    Promise.resolve(action(args)).catch((error) => {
      store.set({ notice: { kind: 'error', text: apiMessage(error), at: Date.now() } });
    });
  }

  // -- the phone, on the leading tab only ------------------------------------------------------
  function startPhone() {
    if (phone || !api.signedIn) return;
    store.set({ signedIn: true, agent: api.agent, call: null });
    phone = new Phone({ api, config, store, bridge, deviceId });
    phone.start();
  }

  async function signIn(login) {
    await login();
    try {
      sessionStorage.removeItem('cti.lastStatus'); // a fresh sign-in starts in 待機
    } catch {
      // not essential
    }
    store.set({ signedIn: true, agent: api.agent, notice: null });
    if (tabs.isLeader) startPhone();
  }

  async function signOut(everywhere = true) {
    if (phone) {
      const stopping = phone;
      phone = null;
      await stopping.stop({ release: true, wait: true });
    }
    api.signOut(everywhere);
    if (everywhere) tabs.post({ type: 'signout' });
    store.replace(initialState());
  }

  api.on('session', (session) => {
    if (!adopting) tabs.post({ type: 'session', session });
  });
  api.on('expired', () => {
    signOut(false);
    store.set({ notice: { kind: 'error', text: t('error.session'), at: Date.now() } });
  });
  api.on('needsession', () => tabs.post({ type: 'needsession' }));

  // -- tabs ------------------------------------------------------------------------------------
  tabs.on('message', (message) => {
    switch (message.type) {
      case 'hello':
      case 'needsession':
        if (tabs.isLeader) {
          if (api.session) tabs.post({ type: 'session', session: api.session });
          tabs.post({ type: 'state', state: store.state });
        }
        break;
      case 'state':
        if (!tabs.isLeader) store.replace(message.state);
        break;
      case 'session':
        if (message.session?.access_token !== api.session?.access_token) {
          adopting = true;
          api.adopt(message.session);
          adopting = false;
          if (tabs.isLeader) startPhone();
          else store.set({ signedIn: true, agent: api.agent });
        }
        break;
      case 'signout':
        signOut(false);
        break;
      case 'action':
        if (tabs.isLeader) perform(message.name, message.args);
        break;
      default:
    }
  });
  tabs.on('leader', () => {
    api.canRefresh = true;
    api.resume();
    // Taking over from a closed tab: its call died with it; keep after-call work and holds.
    store.set({ call: null, dialing: false });
    startPhone();
  });

  api.canRefresh = false; // until this tab leads
  if (api.signedIn) store.set({ signedIn: true, agent: api.agent });

  const ui = new UI({
    root: document, perform, api, bridge, config,
    onSignIn: (username, password) => signIn(() => api.login(username, password)),
    // Signing out runs on the leading tab: it gives the device up before the session ends.
    onSignOut: () => perform('signOut'),
    onLanguage: (language) => {
      setLanguage(language);
      remember(LANGUAGE_KEY, language);
      ui.translate();
    },
  });
  store.on('change', (state) => {
    ui.render(state);
    if (tabs.isLeader) tabs.post({ type: 'state', state });
    if (pendingDial && state.registration === 'registered' && !state.call && !state.acw) {
      const { number, record, until } = pendingDial;
      pendingDial = null;
      const unchanged = document.getElementById('number').value === number;
      if (unchanged && Date.now() < until) perform('dial', { number, record });
    }
  });
  ui.translate();
  ui.render(store.state);
  startSms({ root: document, api, store, maxSegments: config.sms_max_segments });
  startCampaigns({ root: document, api, store, perform });
  tabs.start();

  startWindowProtocol({
    origins: config.crm_origins,
    onDial: (number, record) => {
      if (store.state.signedIn) {
        perform('dial', { number, record });
      } else {
        document.getElementById('number').value = number;
        pendingDial = { number, record, until: Date.now() + PENDING_DIAL_MS };
      }
    },
  });

  // The built-in CRM's pages that this tab opened ask it for a fresh access token.
  window.addEventListener('message', (event) => {
    if (event.origin !== window.location.origin || event.data?.type !== 'cti:token-request'
        || !api.session || !event.source) return;
    event.source.postMessage({ type: 'cti:token', version: 1,
      access_token: api.session.access_token }, window.location.origin);
  });

  window.addEventListener('pagehide', () => {
    if (phone) phone.stop({ release: !tabs.hasPeers });
    tabs.leave();
  });
  window.__CTI_SOFTPHONE__ = { store, tabs, api }; // for support and tests: state only
}

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // not remembered
  }
}

main().catch((error) => {
  console.error(error);
  document.body.textContent = `ソフトフォンを開始できませんでした / The softphone could not start: ${error}`;
});
