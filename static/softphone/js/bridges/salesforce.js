// Salesforce Open CTI for Lightning (SPEC SF-2…SF-5, SF-8): the softphone in the utility bar.
// Admin guide: docs/salesforce.md; API facts: ecosystem.md §1 (Open CTI Developer Guide).
//
// - Loads opencti_min.js from the org that frames the softphone. Its origin comes from the
//   sfdcIFrameOrigin parameter Salesforce appends to the adapter URL, else document.referrer —
//   the same precedence the server uses to allow exactly that origin in the page's CSP
//   (connector/salesforce_frame.py). Not framed by Salesforce: the bridge stays idle.
// - Click-to-dial: the clicked record travels with the call (cti_record) and is logged on it.
// - Ringing: the panel opens, and the caller pops — one Salesforce match → that record; several
//   or none → searchAndScreenPop, which follows the org's softphone layout (a search page, or a
//   new-record form with the number filled in).
// - The utility item's label and icon follow the phone's state.
// - Wrap-up offers the record on screen (getAppViewInfo / onNavigationChange) as the customer.
// - saveLog writes the Task from the browser when the logging path is "browser" (editions
//   without API access) or "both"; see saveLog below for how that stays one Task per call.
// - "Salesforce でサインイン" on the sign-in screen (connector/auth/salesforce.py).

import { originAllowed } from '../window-protocol.js';
import { signInButton } from './salesforce-signin.js';

export const OPENCTI_VERSION = '62.0';
const LOAD_TIMEOUT_MS = 15000;
const CALL_TIMEOUT_MS = 10000;
const ADAPTER = 'salesforce';
const SETTINGS = '/CtiConnectorSettings/';
/** The Task field (External ID, Unique) the server's upsert is keyed on: one Task per call. */
export const CALLSID_FIELD = 'CTI_CallSid__c';
/** Task subjects, as the server's defaults ([crm.salesforce] subject_*). */
const SUBJECTS = { inbound: '着信', outbound: '発信' };
/** SLDS utility icons for the utility item (names UNVERIFIED beyond "call"/"end_call"). */
const ICONS = { idle: 'call', ringing: 'call', call: 'call', acw: 'edit', offline: 'end_call' };
const WHO_PREFIXES = ['003', '00Q']; // Contact, Lead: WhoId; anything else: WhatId

/** Salesforce's page domains; the server's list is connector/salesforce_frame.py. */
const SALESFORCE_DOMAINS = ['force.com', 'salesforce.com', 'visualforce.com',
  'salesforce-setup.com'];
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1'];

/**
 * The org origin framing the softphone, or null when Salesforce does not frame it: the first
 * of sfdcIFrameOrigin and document.referrer that is a Salesforce domain among the allowed
 * framers — the server's rule, so the origin chosen here is the one the page's CSP allows.
 */
export function orgOrigin(allowed, win = window) {
  if (win.parent === win) return null;
  const candidates = [new URLSearchParams(win.location.search).get('sfdcIFrameOrigin'),
    win.document.referrer];
  for (const candidate of candidates) {
    let url;
    try {
      url = new URL(candidate);
    } catch {
      continue;
    }
    const salesforce = url.protocol === 'https:'
      ? SALESFORCE_DOMAINS.some((d) => url.hostname === d || url.hostname.endsWith(`.${d}`))
      : url.protocol === 'http:' && LOOPBACK_HOSTS.includes(url.hostname);
    if (salesforce && originAllowed(url.origin, allowed)) return url.origin;
  }
  return null;
}

export function createBridge(context) {
  const config = context.config.salesforce || {};
  let opencti = null;
  let ready = Promise.resolve(false);
  let settings = {};
  let onScreen = null; // the last record Salesforce reported on screen
  let popped = ''; // CallSid of the call already popped on ring
  let shown = { label: '', icon: '' };

  /** One Open CTI call as a promise of its returnValue. */
  function call(method, args = {}) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer`)), CALL_TIMEOUT_MS);
      opencti[method]({ ...args, callback: (response) => {
        clearTimeout(timer);
        if (response?.success) resolve(response.returnValue);
        else reject(new OpenCtiError(method, response?.errors));
      } });
    });
  }

  async function start() {
    const origin = orgOrigin(context.config.crm_origins || []);
    if (!origin) return false;
    await loadScript(`${origin}/support/api/${OPENCTI_VERSION}/lightning/opencti_min.js`);
    opencti = window.sforce?.opencti;
    if (!opencti) throw new Error('opencti_min.js loaded but defines no sforce.opencti');
    opencti.onClickToDial({ listener: clickToDial });
    opencti.onNavigationChange({ listener: (view) => { onScreen = recordOf(view); } });
    await call('enableClickToDial');
    await show({ registration: 'unregistered', phase: 'idle' }); // until signed in
    settings = (await call('getCallCenterSettings').catch(() => null)) || {};
    onScreen = recordOf(await call('getAppViewInfo').catch(() => null));
    checkBackendUrl(settings[`${SETTINGS}BackendUrl`]);
    return true;
  }

  function clickToDial(payload) {
    if (!payload?.number) return;
    const id = String(payload.recordId || '');
    const record = id ? { adapter: ADAPTER, id, type: String(payload.objectType || ''),
      name: String(payload.recordName || '') } : null;
    context.dial(String(payload.number), record);
  }

  /** Whether this browser writes call logs: the call center's LoggingPath or the server's. */
  function browserLogs() {
    const paths = [settings[`${SETTINGS}LoggingPath`], config.logging_path];
    return paths.some((path) => path === 'browser' || path === 'both');
  }

  /** Whether the server upserts this call's Task by CallSid too (its logging_path). */
  function serverLogs() {
    return config.logging_path === 'api' || config.logging_path === 'both';
  }

  async function pop(callInfo) {
    const matches = (callInfo.matches || []).filter((m) => m.adapter === ADAPTER && m.id);
    if (matches.length === 1) {
      await call('screenPop', { type: opencti.SCREENPOP_TYPE.SOBJECT,
        params: { recordId: String(matches[0].id) } });
      return;
    }
    await call('searchAndScreenPop', {
      searchParams: searchNumber(callInfo), queryParams: '',
      defaultFieldValues: { Phone: callInfo.number || callInfo.e164 || '' },
      callType: opencti.CALL_TYPE.INBOUND, deferred: false,
    });
  }

  async function show(state) {
    const next = { label: itemLabel(state, context.t), icon: itemIcon(state) };
    const before = shown;
    shown = next; // before awaiting: renders come faster than Salesforce answers
    if (next.label !== before.label) await call('setSoftphoneItemLabel', { label: next.label });
    if (next.icon !== before.icon) await call('setSoftphoneItemIcon', { key: next.icon });
  }

  return {
    name: ADAPTER,
    init() {
      if (config.signin) signInButton(context);
      ready = start().catch((error) => {
        console.error('Open CTI is not available; Salesforce features are off', error);
        return false;
      });
      // Not awaited: the phone starts while Salesforce's library loads.
    },
    async onStateChange(state) {
      if (await ready) await show(state);
    },
    async onIncoming(incoming) {
      if (!(await ready)) return;
      popped = incoming.sid || '';
      // Independent steps: a panel that will not open must not stop the pop.
      await Promise.all([
        call('setSoftphonePanelVisibility', { visible: true })
          .catch((error) => console.warn(error)),
        pop(incoming),
      ]);
    },
    async screenPop(answered) {
      if (!(await ready)) return;
      if (answered.direction !== 'inbound') {
        // A typed outgoing number that matches one Salesforce record: open it (no search).
        const own = (answered.matches || []).filter((m) => m.adapter === ADAPTER && m.id);
        if (own.length === 1) {
          await call('screenPop', { type: opencti.SCREENPOP_TYPE.SOBJECT,
            params: { recordId: String(own[0].id) } });
        }
        return;
      }
      if (answered.callSid && answered.callSid === popped) return; // already popped on ring
      await pop(answered);
    },
    async openMatch(match) {
      if (!(await ready)) return;
      await call('screenPop', { type: opencti.SCREENPOP_TYPE.SOBJECT,
        params: { recordId: String(match.id) } });
    },
    async newRecord({ e164, number }) {
      if (!(await ready)) return;
      await call('screenPop', { type: opencti.SCREENPOP_TYPE.NEW_RECORD_MODAL,
        params: { entityName: 'Contact', defaultFieldValues: { Phone: number || e164 || '' } } });
    },
    async recordOnScreen() {
      if (!(await ready)) return null;
      const view = await call('getAppViewInfo').catch(() => null);
      return recordOf(view) || onScreen;
    },
    /**
     * The browser's call log. One Task per call with both paths on: the Task carries the
     * CallSid in CTI_CallSid__c, a unique external id, and the server upserts on that field.
     * Whichever writes first creates the Task; the server's later upsert updates it, and a
     * saveLog after the server's write is refused as a duplicate — the Task is already there.
     */
    async saveLog(log) {
      if (!(await ready) || !browserLogs() || !log.callSid) return null;
      try {
        const id = await saveTask(taskFor(log));
        await call('refreshView').catch(() => null);
        return id;
      } catch (error) {
        // Nobody retries a browser-side log: tell the agent, who can still log it by hand.
        context.notice('error', context.t('salesforce.savelog_failed', { message: error.message }));
        throw error;
      }
    },
  };

  /**
   * saveLog, keeping one Task per call. A Task saved without the CallSid is one the server's
   * upsert cannot find, so the field is dropped only where nobody else logs the call: when
   * Salesforce says the field does not exist for this user (INVALID_FIELD) and the server
   * writes no logs. Read-only for the agent (INVALID_FIELD_FOR_INSERT_UPDATE) is never a
   * reason to drop it; with the server logging too, its upsert then writes the Task alone.
   */
  async function saveTask(value) {
    try {
      return await call('saveLog', { value });
    } catch (error) {
      const problem = callSidProblem(error.errors);
      if (problem === 'duplicate') return null; // the server was first: the Task is there
      if (problem && serverLogs()) {
        console.warn(`saveLog cannot set ${CALLSID_FIELD} (${problem}); the server logs `
          + 'this call: give agents edit access (permission set CTI_Connector_Agent)', error);
        return null;
      }
      if (problem !== 'missing') throw error;
      const { [CALLSID_FIELD]: _unused, ...withoutField } = value; // the org lacks the field
      return call('saveLog', { value: withoutField });
    }
  }
}

/**
 * What a refused saveLog says about the CallSid field: 'duplicate' (another Task has this
 * CallSid), 'missing' (no such field for this user), 'read_only', or '' (something else).
 *
 * Open CTI documents error objects {code, description, details}, details "based on the type
 * of error" for saveLog; where Salesforce's API error code and the field name appear in them
 * (description, details, nested fieldErrors) is UNVERIFIED, so every string in an error is
 * searched, for API codes as whole words: INVALID_FIELD is not INVALID_FIELD_FOR_INSERT_UPDATE.
 */
export function callSidProblem(errors, field = CALLSID_FIELD) {
  const texts = (Array.isArray(errors) ? errors : []).map(allText);
  const about = texts.filter((text) => text.includes(field));
  const says = (pattern) => about.some((text) => pattern.test(text));
  if (says(/\bDUPLICATE_VALUE\b|duplicate value found/i)) return 'duplicate';
  if (says(/\bINVALID_FIELD_FOR_INSERT_UPDATE\b|Unable to create\/update fields/i)) {
    return 'read_only';
  }
  if (says(/\bINVALID_FIELD\b|No such column/i)) return 'missing';
  return '';
}

function allText(value) {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) || '';
  } catch {
    return String(value);
  }
}

/** The Task saveLog creates (Open CTI saveLog with entityApiName; ecosystem.md §1.3). */
export function taskFor(log, today = new Date()) {
  const inbound = log.direction === 'inbound';
  const party = log.name || log.number || log.e164 || '非通知';
  const value = {
    entityApiName: 'Task',
    Subject: `${SUBJECTS[inbound ? 'inbound' : 'outbound']} ${party}`.slice(0, 255),
    Status: 'Completed', TaskSubtype: 'Call',
    CallType: inbound ? 'Inbound' : 'Outbound',
    CallDurationInSeconds: Math.max(0, Math.round(Number(log.durationSeconds) || 0)),
    CallObject: log.callSid, [CALLSID_FIELD]: log.callSid,
    CallDisposition: String(log.disposition || '').slice(0, 255),
    Description: String(log.notes || '').slice(0, 32000),
    ActivityDate: localDate(today),
  };
  const customer = log.customer;
  if (customer?.adapter === ADAPTER && customer.id) {
    const id = String(customer.id);
    value[WHO_PREFIXES.some((p) => id.startsWith(p)) ? 'WhoId' : 'WhatId'] = id;
  }
  return value;
}

/** The caller's number as searchAndScreenPop gets it: national digits (+8131… → 031…). */
export function searchNumber({ e164, number }) {
  if (e164?.startsWith('+81')) return `0${e164.slice(3)}`;
  return (e164 || number || '').replace(/\D/g, '');
}

export function itemLabel(state, t) {
  if (state.registration && !['registered', 'follower'].includes(state.registration)) {
    return t('status.offline');
  }
  const who = state.name || state.number;
  if (['idle', 'acw'].includes(state.phase) || !who) return state.statusLabel;
  return `${state.statusLabel} ${who}`;
}

export function itemIcon(state) {
  if (state.registration && !['registered', 'follower'].includes(state.registration)) {
    return ICONS.offline;
  }
  if (state.phase === 'ringing') return ICONS.ringing;
  if (state.phase === 'acw') return ICONS.acw;
  return state.phase === 'idle' ? ICONS.idle : ICONS.call;
}

/** The call center's Backend URL should be where this softphone runs: say so if not. */
function checkBackendUrl(backend) {
  if (!backend) return;
  let origin = null;
  try {
    origin = new URL(backend).origin;
  } catch {
    // reported below
  }
  if (origin !== window.location.origin) {
    console.warn(`the call center's Backend URL ${backend} is not this softphone's origin `
      + `${window.location.origin}: regenerate the call center (cti callcenter-xml)`);
  }
}

function recordOf(view) {
  if (!view?.recordId) return null;
  return { adapter: ADAPTER, id: String(view.recordId), type: String(view.objectType || ''),
    name: String(view.recordName || '') };
}

function localDate(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    const timer = setTimeout(() => reject(new Error(`${src}: not loaded in time`)),
      LOAD_TIMEOUT_MS);
    script.src = src;
    script.onload = () => { clearTimeout(timer); resolve(); };
    script.onerror = () => { clearTimeout(timer); reject(new Error(`${src}: not loaded`)); };
    document.head.appendChild(script);
  });
}

class OpenCtiError extends Error {
  constructor(method, errors) {
    const list = Array.isArray(errors) ? errors : [];
    super(`${method} failed: ${list.map(errorText).join('; ') || 'no details'}`);
    this.errors = list;
  }
}

/** One Open CTI error for people: its description (or code), else the whole of it. */
function errorText(error) {
  if (typeof error === 'string') return error;
  const text = [error?.code, error?.description].filter(Boolean).join(': ');
  return text || allText(error);
}
