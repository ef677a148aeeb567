// kintone (SPEC KT-3, KT-4, KT-8): the softphone as the popup window that the click-to-call
// plugin (kintone-plugin/js/desktop.js) opens; docs/kintone.md, "The softphone window".
//
// Click-to-dial needs nothing here: the plugin's cti:dial goes through window-protocol.js. This
// bridge adds
//   * screen pops: one kintone match → its record; several → the agent picks one in the phone
//     panel; none → the CRM app's add-record screen, where the plugin fills in the number.
//     Pages open in the kintone window that opened the softphone while it shows a record or a
//     list, else in a tab of their own ("cti-kintone"): a record being edited is never replaced;
//   * the record on screen for after-call work, from the plugin's cti:record messages;
//   * the window title as a state label (📞 着信中 and the caller's name while ringing).
//
// Every kintone page load starts the plugin afresh, without a handle on this window, so the
// kintone windows we know (our opener and the tab pops opened) get a cti:ready every few
// seconds, which the plugin answers with its cti:record.

import { cleanRecord, originAllowed } from '../window-protocol.js';

const VERSION = 1;
const PING_MS = 3000;
const POP_WINDOW = 'cti-kintone';
/** The add-record screen reads the caller's number from this URL parameter (the plugin). */
export const PHONE_PARAM = 'cti_phone';
/** Screens a pop may replace; on "edit" and "create" the agent may have unsaved input. */
const REPLACEABLE = new Set(['detail', 'index']);
const SCREENS = new Set(['detail', 'index', 'edit', 'create', 'gone']);

export function createBridge(context) {
  const { config, t } = context;
  const links = config?.crm_links?.kintone || null;
  const origins = config?.crm_origins || [];
  const views = new Map(); // kintone window → {screen, record, at} it last reported
  let popped = null; // the tab screen pops opened
  let sequence = 0; // orders the windows' reports (Date.now() can repeat)

  function kintoneWindows() {
    return [window.opener, popped].filter((win) => win && win !== window && !win.closed);
  }

  function ping() {
    for (const win of kintoneWindows()) {
      try {
        win.postMessage({ type: 'cti:ready', version: VERSION }, '*'); // nothing secret in it
      } catch {
        // the window went away
      }
    }
  }

  function onMessage(event) {
    const data = event.data;
    if (!data || data.type !== 'cti:record' || data.version !== VERSION || !event.source) return;
    if (!originAllowed(event.origin, origins)) {
      console.warn(`ignored cti:record from ${event.origin}: not one of the CRM origins`);
      return;
    }
    const record = cleanRecord(data.record);
    const view = {
      screen: SCREENS.has(data.screen) ? data.screen : 'other',
      record: record?.crm === 'kintone' && record.recordId ? record : null,
    };
    const before = views.get(event.source);
    // Answers to our pings repeat what a window shows: only a change makes it the latest.
    if (before && JSON.stringify([before.screen, before.record])
        === JSON.stringify([view.screen, view.record])) return;
    views.set(event.source, { ...view, at: ++sequence });
  }

  /** The record most recently shown in a kintone window that is still open. */
  function shownRecord() {
    let latest = null;
    for (const [win, view] of views) {
      if (win.closed) views.delete(win);
      else if (view.record && (!latest || view.at >= latest.at)) latest = view;
    }
    return latest?.record || null;
  }

  function isShown(match) {
    const record = shownRecord();
    return Boolean(record && record.recordId === String(match.id)
      && (!match.type || record.appId === String(match.type)));
  }

  function show(url) {
    if (!url) return;
    const opener = kintoneWindows().find((win) => win === window.opener);
    if (opener && REPLACEABLE.has(views.get(opener)?.screen)) {
      try {
        opener.location.href = url;
        opener.focus();
        return;
      } catch {
        // not allowed to navigate it: a tab of its own instead
      }
    }
    const busy = popped && !popped.closed && views.has(popped)
      && !REPLACEABLE.has(views.get(popped).screen);
    const win = window.open(url, busy ? '_blank' : POP_WINDOW);
    if (win) {
      popped = win;
      win.focus?.();
    }
  }

  return {
    name: 'kintone',
    async init() {
      window.addEventListener('message', onMessage);
      ping();
      setInterval(ping, PING_MS);
    },
    onStateChange(view) {
      document.title = windowTitle(view, t);
    },
    onIncoming() {
      window.focus(); // the popup may be behind kintone; browsers may ignore this
    },
    screenPop({ direction, matches, e164, number }) {
      const own = (matches || []).filter((match) => match.adapter === 'kintone');
      if (own.length === 1) {
        if (!isShown(own[0])) show(recordUrl(own[0], links));
      } else if (!matches?.length && e164 && direction !== 'outbound') {
        this.newRecord({ e164, number });
      }
    },
    openMatch(match) {
      if (match.adapter && match.adapter !== 'kintone') {
        if (match.url) window.open(match.url, 'cti-crm');
        return;
      }
      show(recordUrl(match, links));
    },
    newRecord({ e164, number }) {
      show(newRecordUrl(links, number || e164));
    },
    recordOnScreen() {
      const record = shownRecord();
      if (!record) return null;
      return { adapter: 'kintone', id: record.recordId, type: record.appId || '',
        name: record.name || '', url: record.url || '' };
    },
  };
}

/** A match's kintone page: its own URL, else built from the connector's template (the voice
 * core drops URLs that do not fit Twilio's parameter limits). */
export function recordUrl(match, links) {
  if (match?.url) return match.url;
  if (!links?.record_url || !match?.id) return '';
  return links.record_url
    .replace('{app}', encodeURIComponent(match.type || links.crm_app_id || ''))
    .replace('{id}', encodeURIComponent(match.id));
}

/** The CRM app's add-record screen with the caller's number for the plugin to fill in. */
export function newRecordUrl(links, number) {
  if (!links?.new_record_url) return '';
  const url = new URL(links.new_record_url);
  if (number) url.searchParams.set(PHONE_PARAM, number);
  return url.toString();
}

/** The popup's title, seen in the task bar while kintone has the focus. */
export function windowTitle(view, t) {
  const app = t('app.title');
  const who = [view.name, view.number].filter(Boolean).join(' ');
  switch (view.phase) {
    case 'idle':
      if (!['registered', 'follower'].includes(view.registration)) {
        return `${t(`reg.${view.registration}`)} — ${app}`;
      }
      return `${view.statusLabel} — ${app}`;
    case 'acw':
      return `${view.statusLabel} — ${app}`;
    case 'ringing':
      return `📞 ${t('status.ringing')}: ${who || t('call.unknown')} — ${app}`;
    case 'connecting':
    case 'ringing_out':
      return `${t('call.outgoing')}: ${who} — ${app}`;
    default:
      return `${view.statusLabel}: ${who} — ${app}`;
  }
}
