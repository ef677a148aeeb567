// The built-in CRM (SPEC CR-1): screen pops open its customer pages in a window of their own.
// One match → that customer; several → the agent picks one in the softphone; none (an incoming
// call) → the new-customer form with the number filled in. Outgoing calls to a typed number
// pop the customer the same way, but never the form.

const WINDOW_NAME = 'cti-crm';
const NEW_CUSTOMER_URL = '/crm/customers/new';

export function createBridge() {
  let onScreen = null;

  function open(url) {
    const win = window.open(url, WINDOW_NAME);
    win?.focus?.();
  }

  function show(match) {
    if (!match?.url) return;
    onScreen = match;
    open(match.url);
  }

  return {
    name: 'builtin',
    screenPop({ direction, matches, e164 }) {
      if (matches?.length === 1) show(matches[0]);
      // An unknown caller may become a customer; a number the agent dialed need not.
      else if (!matches?.length && e164 && direction !== 'outbound') this.newRecord({ e164 });
    },
    openMatch(match) {
      show(match);
    },
    newRecord({ e164 }) {
      open(`${NEW_CUSTOMER_URL}?phone=${encodeURIComponent(e164 || '')}`);
    },
    recordOnScreen() {
      if (!onScreen) return null;
      const { adapter, id, type, name } = onScreen;
      return { adapter: adapter || 'builtin', id: String(id), type: type || 'customer', name };
    },
  };
}
