// HTTP integrations (SPEC HT-1, HT-2): templates an admin set to run in the agent's browser,
// and the per-number pop-up URLs, opened as screen pops on a call's events. The server renders
// every URL (placeholders, @@@@, encodings); this module only opens what it is given.

const EVENTS = ['click', 'incoming', 'answered', 'hangup', 'wrapup'];

/** Open the pops of `event` for the call `callSid`; never throws into the softphone. */
export async function openPops(api, event, callSid) {
  if (!callSid || !EVENTS.includes(event)) return [];
  let answer;
  try {
    answer = await api.get(`/api/integrations/pops?event=${encodeURIComponent(event)}`
      + `&call_sid=${encodeURIComponent(callSid)}`);
  } catch (error) {
    console.warn(`integration pops for ${event} not available`, error);
    return [];
  }
  const pops = Array.isArray(answer?.pops) ? answer.pops : [];
  pops.forEach((pop, index) => {
    try {
      open(pop, `cti-pop-${pop.integration || 'http'}-${index}`);
    } catch (error) {
      console.error('integration pop failed', error);
    }
  });
  return pops;
}

// Schemes never handed on: they would run code in this page or read the agent's files.
const UNSAFE_SCHEMES = ['javascript', 'data', 'vbscript', 'file', 'blob', 'about', 'filesystem',
  'view-source'];

/** The scheme of a URL an app on the agent's PC registered (myapp://…), else ''. */
export function appScheme(url) {
  const match = /^([a-z][a-z0-9+.-]+):/i.exec(url || '');
  const scheme = match ? match[1].toLowerCase() : '';
  if (!scheme || scheme === 'http' || scheme === 'https' || UNSAFE_SCHEMES.includes(scheme)) return '';
  return scheme;
}

// BIZTEL's "OSコマンド": the browser hands the URL to the app of its scheme. A link click does
// that without leaving the softphone's page (an unknown scheme does nothing).
function launchApp(url) {
  const link = document.createElement('a');
  link.href = url;
  link.rel = 'noopener noreferrer';
  link.style.display = 'none';
  document.body.appendChild(link);
  link.click();
  link.remove();
}

function open(pop, target) {
  if (pop.target === 'app') {
    if (appScheme(pop.url)) launchApp(pop.url);
    return;
  }
  if (!/^https?:\/\//.test(pop.url || '')) return;
  if (pop.method !== 'POST') {
    window.open(pop.url, target)?.focus?.();
    return;
  }
  // A POST in a window of its own: a form submitted into it (BIZTEL's "HTTP POST").
  const form = document.createElement('form');
  form.method = 'POST';
  form.action = pop.url;
  form.target = target;
  form.style.display = 'none';
  for (const [name, value] of pop.fields || []) {
    const input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  window.open('about:blank', target);
  form.submit();
  form.remove();
}
