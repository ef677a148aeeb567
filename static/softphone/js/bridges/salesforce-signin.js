// "Salesforce でサインイン" on the sign-in screen (connector/auth/salesforce.py).
//
// The softphone is framed by Salesforce, which cannot show its login page in a frame, so the
// sign-in runs in a popup window of our own origin. The outcome comes back two ways, whichever
// is first: the popup's postMessage (checked: our origin, from that popup, type cti:signin), or —
// when a login page's Cross-Origin-Opener-Policy cut the popup off from us — polling
// POST /auth/salesforce/result with a secret only this page knows; the popup's URL carries only
// its SHA-256 hash.

import { apiMessage } from '../i18n.js';

const POPUP_NAME = 'cti-salesforce-signin';
const POPUP_FEATURES = 'popup,width=480,height=640';
const MESSAGE_TYPE = 'cti:signin';
const POLL_MS = 1500;
/** The server forgets a started sign-in after 10 minutes; stop asking then. */
const GIVE_UP_MS = 10 * 60 * 1000;

let attempt = 0; // a new click replaces the attempt in progress

/**
 * Add the button under the password form. context.signIn(body) adopts a login body
 * (the POST /api/auth/login shape); context.notice(kind, text) shows a message.
 */
export function signInButton(context) {
  const form = document.getElementById('signin-form');
  if (!form || document.getElementById('signin-salesforce')) return;
  const button = document.createElement('button');
  button.type = 'button';
  button.id = 'signin-salesforce';
  button.className = 'salesforce-signin';
  button.dataset.i18n = 'signin.salesforce';
  button.textContent = context.t('signin.salesforce');
  form.after(button);
  button.addEventListener('click', () => run(context, button));
}

async function run(context, button) {
  let outcome;
  try {
    outcome = await signInWithSalesforce(context.t);
  } catch (error) {
    context.notice('error', error.message || String(error));
    return;
  }
  // How the outcome arrived ("message" or "pickup"): for support, in the page's markup.
  if (outcome) button.dataset.via = outcome.via;
  if (outcome?.ok) await context.signIn(outcome.session);
  else if (outcome?.error) {
    context.notice('error', apiMessage({ message: outcome.error.message, details: outcome.error }));
  }
}

/** Open the popup and wait for its outcome ({ok, session, via} | {ok: false, error, via}),
 * or null when nothing came. */
export async function signInWithSalesforce(t) {
  const mine = ++attempt;
  const secret = randomSecret();
  // Open the window before anything asynchronous: browsers allow popups only in the click.
  const popup = window.open('', POPUP_NAME, POPUP_FEATURES);
  if (!popup) throw new Error(t('signin.popup_blocked'));
  popup.location.href = `/auth/salesforce/start?pickup=${await sha256Hex(secret)}`;
  return new Promise((resolve) => {
    const started = Date.now();
    let finished = false;
    const finish = (outcome) => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      window.removeEventListener('message', onMessage);
      resolve(outcome);
    };
    const onMessage = (event) => {
      const data = event.data;
      if (event.origin !== window.location.origin || event.source !== popup) return;
      if (data?.type !== MESSAGE_TYPE || data.version !== 1) return;
      finish({ ...data, via: 'message' });
      collect(secret); // the server's copy for pickup is not needed any more
    };
    window.addEventListener('message', onMessage);
    // popup.closed cannot end the wait: a window cut off by COOP looks closed from here.
    const timer = setInterval(async () => {
      if (mine !== attempt || Date.now() - started > GIVE_UP_MS) {
        finish(null);
        return;
      }
      const outcome = await collect(secret);
      if (outcome) finish({ ...outcome, via: 'pickup' });
    }, POLL_MS);
  });
}

async function collect(secret) {
  try {
    const response = await fetch('/auth/salesforce/result', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ pickup: secret }),
    });
    if (response.status !== 200) return null;
    const data = await response.json();
    return data?.type === MESSAGE_TYPE ? data : null;
  } catch {
    return null;
  }
}

function randomSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_')
    .replace(/=+$/, '');
}

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
