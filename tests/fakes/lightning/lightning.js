// The fake Lightning page around the softphone (tests/fakes/salesforce_lightning.py): it plays
// Salesforce's side of Open CTI. Every call the softphone makes through the fake
// opencti_min.js arrives here by postMessage — only from the softphone's own origin — is
// recorded in window.__lightning.calls, and is answered as Salesforce would: settings from the
// call center, the record on screen, searches and saveLog against the fake org's data.
//
// Tests drive it with:
//   __lightning.clickToDial({number, recordId, recordName, objectType})   a phone-field click
//   __lightning.navigate({recordId, recordName, objectType, url})         the agent opens a record
//   __lightning.callsOf('screenPop')                                      what the softphone did
(() => {
  const config = JSON.parse(document.getElementById('lightning-config').textContent);
  const frame = document.getElementById('softphone');
  const softphoneOrigin = new URL(frame.src).origin;
  const state = {
    calls: [],
    appView: config.appView,
    panelVisible: false,
    itemLabel: '',
    itemIcon: '',
    clickToDialEnabled: false,
  };
  window.__lightning = state;

  function post(message) {
    frame.contentWindow.postMessage({ source: 'fake-lightning', ...message }, softphoneOrigin);
  }

  async function orgRequest(method, path, body) {
    const response = await fetch(path, {
      method, headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json();
    // Open CTI's error objects {code, description, details} (Salesforce: "Common Error Messages
    // for Lightning Experience Methods"); which code a failed save gets and what its details
    // hold are UNVERIFIED: here SERVER_ERROR with the org's API error as details.
    if (!response.ok) {
      throw data.map((e) => ({ code: 'SERVER_ERROR', description: `${e.errorCode}: ${e.message}`,
        details: { errorCode: e.errorCode, message: e.message, fields: e.fields || [] } }));
    }
    return data;
  }

  const handlers = {
    getCallCenterSettings: () => config.callCenterSettings,
    getAppViewInfo: () => state.appView,
    isSoftphonePanelVisible: () => ({ visible: state.panelVisible }),
    setSoftphonePanelVisibility: ({ visible }) => { state.panelVisible = Boolean(visible); },
    setSoftphoneItemLabel: ({ label }) => { state.itemLabel = label; },
    setSoftphoneItemIcon: ({ key }) => { state.itemIcon = key; },
    enableClickToDial: () => { state.clickToDialEnabled = true; },
    disableClickToDial: () => { state.clickToDialEnabled = false; },
    screenPop: ({ type, params }) => {
      if (type === 'sobject') state.appView = { ...state.appView, recordId: params.recordId };
    },
    searchAndScreenPop: ({ searchParams }) =>
      orgRequest('GET', `/lightning/search?q=${encodeURIComponent(searchParams || '')}`),
    saveLog: async ({ value }) => (await orgRequest('POST', '/lightning/savelog', value)).id,
  };

  window.addEventListener('message', async (event) => {
    if (event.origin !== softphoneOrigin || event.source !== frame.contentWindow) return;
    const data = event.data || {};
    if (data.source !== 'fake-opencti') return;
    state.calls.push({ method: data.method, args: data.args || {} });
    const handler = handlers[data.method];
    let response;
    try {
      const value = handler ? await handler(data.args || {}) : null;
      response = { success: true, returnValue: value === undefined ? null : value, errors: null };
    } catch (error) {
      response = { success: false, returnValue: null,
        errors: Array.isArray(error) ? error : [String(error?.message || error)] };
    }
    post({ id: data.id, response });
  });

  state.clickToDial = (payload) => post({ event: 'onClickToDial', payload });
  state.navigate = (view) => {
    state.appView = { url: window.location.href, ...view };
    post({ event: 'onNavigationChange', payload: state.appView });
  };
  state.callsOf = (method) => state.calls.filter((call) => call.method === method);
})();
