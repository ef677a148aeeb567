// The popup protocol the kintone plugin uses (docs/kintone.md, "the softphone protocol"):
// opened as window "cti-softphone", the softphone tells its opener {type: "cti:ready",
// version: 1}; the plugin then sends {type: "cti:dial", version: 1, number, record}.
// Dial requests are accepted only from the configured CRM origins ([server] frame_ancestors)
// and from the connector's own pages (the built-in CRM's customer page this softphone opened).

const VERSION = 1;
const MAX_FIELD = 500;

export function startWindowProtocol({ origins, onDial }) {
  window.addEventListener('message', (event) => {
    const data = event.data;
    if (!data || data.type !== 'cti:dial' || data.version !== VERSION) return;
    if (event.origin !== window.location.origin && !originAllowed(event.origin, origins)) {
      console.warn(`ignored cti:dial from ${event.origin}: not one of the CRM origins`);
      return;
    }
    if (typeof data.number !== 'string' || !data.number.trim()) return;
    window.focus();
    onDial(data.number, cleanRecord(data.record));
  });
  announce();
}

/** Tell the window that opened us that we are ready (no secrets in it, so any origin). */
export function announce() {
  if (!window.opener || window.opener === window) return;
  try {
    window.opener.postMessage({ type: 'cti:ready', version: VERSION }, '*');
  } catch {
    // the opener went away
  }
}

/** "https://acme.cybozu.com" matches "https://*.cybozu.com" and itself; nothing else. */
export function originAllowed(origin, patterns) {
  let url;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return patterns.some((pattern) => {
    const match = /^(https?):\/\/(\*\.)?([^/:]+)(?::(\d+))?\/?$/.exec(pattern);
    if (!match || `${match[1]}:` !== url.protocol) return false;
    if ((match[4] || '') !== url.port) return false;
    return match[2] ? url.hostname.endsWith(`.${match[3]}`) : url.hostname === match[3];
  });
}

/** The record fields a CRM page may send, as short strings; null when there is none. */
export function cleanRecord(record) {
  if (!record || typeof record !== 'object') return null;
  const out = {};
  for (const key of ['crm', 'appId', 'recordId', 'name', 'url', 'type']) {
    if (record[key] !== undefined && record[key] !== null) {
      out[key] = String(record[key]).slice(0, MAX_FIELD);
    }
  }
  return out;
}
