// CRM bridges: how the softphone talks to the CRM page around it (docs/softphone.md,
// "Writing a CRM bridge"). Chosen by ?crm=<name> (else [softphone] default_crm); a bridge is a
// module here exporting createBridge(context) that returns an object with any of:
//
//   name                      "salesforce", "kintone", …
//   init()                    every tab, once: subscribe to click-to-dial and call
//                             context.dial(number, record)
//   onStateChange(view)       every tab, on each change: CRM label / icon
//                             view = {registration, status, statusLabel, phase, number, name}
//   onIncoming(call)          leading tab, when a call rings (e.g. show the panel)
//   screenPop(pop)            leading tab, when an incoming call is answered, and when an
//                             outgoing call to a typed number that matches customers starts
//                             (direction "outbound": pop matches only, never a new record):
//                             pop = {direction, number, e164, matches, record, callSid}
//   openMatch(match)          the tab where the agent clicked a matching customer
//   newRecord(pop)            the same, for "create a new customer"
//   recordOnScreen()          the tab where wrap-up is saved → {adapter, id, type, name} | null
//   saveLog(log)              leading tab, after wrap-up was saved (browser-side call log,
//                             e.g. Open CTI saveLog on editions without API access)
//
// Every method is optional, may be async, and must not throw into the softphone.

export const BRIDGES = ['none', 'builtin', 'salesforce', 'kintone'];

export async function loadBridge(name, context) {
  const chosen = BRIDGES.includes(name) ? name : 'none';
  let module;
  try {
    module = await import(`./${chosen}.js`);
  } catch (error) {
    console.warn(`CRM bridge "${chosen}" is not available; continuing without one`, error);
    module = await import('./none.js');
  }
  const bridge = guard(module.createBridge(context));
  await bridge.init();
  return bridge;
}

const METHODS = ['init', 'onStateChange', 'onIncoming', 'screenPop', 'openMatch', 'newRecord',
  'recordOnScreen', 'saveLog'];

/** Wrap every method so that a failing bridge is logged and never breaks a call. */
function guard(bridge) {
  const safe = { name: bridge.name || 'unnamed' };
  for (const method of METHODS) {
    const fn = bridge[method];
    if (typeof fn !== 'function') {
      if (method === 'init' || method === 'onStateChange') safe[method] = async () => null;
      continue;
    }
    safe[method] = async (...args) => {
      try {
        return await fn.apply(bridge, args);
      } catch (error) {
        console.error(`CRM bridge ${safe.name}.${method} failed`, error);
        return null;
      }
    };
  }
  return safe;
}
