// Which Twilio Device the softphone uses:
//  1. a test double, when a test defined window.__CTI_TEST_DEVICE__ (a factory
//     `(token, options) => device`) before the page loaded — off unless a test sets it;
//  2. the simulated device, when /api/token says mode "simulator" (no Twilio account);
//  3. the Twilio Voice JS SDK v2, served by the connector from the npm package.
// All three have the SDK's shape: register/unregister/connect/updateToken/destroy, events
// registered/unregistered/registering/incoming/error/tokenWillExpire (ecosystem.md §4.5).

import { SimulatedDevice } from './sim-device.js';

const SDK_URL = 'vendor/twilio.min.js';

/** Twilio errors that mean the browser refused the microphone (twilio.com/docs/api/errors). */
export const MIC_ERRORS = new Set([31208, 31401, 31402]);

export const DEVICE_OPTIONS = {
  codecPreferences: ['opus', 'pcmu'],
  // Ask before leaving the page during a call: navigating away drops it.
  closeProtection: true,
  appName: 'cti-connector',
  logLevel: 'warn',
  // tokenWillExpire fires this long before expiry (the SDK's default is 10 s).
  tokenRefreshMs: 60000,
};

export async function createDevice(token, { mode, edge, api }) {
  const options = { ...DEVICE_OPTIONS, edge };
  if (typeof window.__CTI_TEST_DEVICE__ === 'function') {
    return window.__CTI_TEST_DEVICE__(token, { ...options, mode });
  }
  if (mode === 'simulator') return new SimulatedDevice(token, { api });
  await loadSdk();
  return new window.Twilio.Device(token, options);
}

let sdkLoading = null;

function loadSdk() {
  if (window.Twilio?.Device) return Promise.resolve();
  if (!sdkLoading) {
    sdkLoading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = SDK_URL;
      script.onload = () => resolve();
      script.onerror = () => {
        sdkLoading = null;
        reject(new Error('the Twilio Voice SDK could not be loaded (run `npm ci` on the server)'));
      };
      document.head.appendChild(script);
    });
  }
  return sdkLoading;
}

/** The call's custom parameters (<Parameter>s) as a plain object, whatever the device. */
export function customParameters(call) {
  const raw = call.customParameters;
  if (!raw) return {};
  if (raw instanceof Map) return Object.fromEntries(raw.entries());
  return { ...raw };
}
