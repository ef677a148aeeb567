// A fake of Salesforce's Open CTI library for Lightning (opencti_min.js), for browser tests.
// Served by the fake org (tests/fakes/salesforce_lightning.py) at the real path,
// /support/api/<version>/lightning/opencti_min.js, and so loaded from the org's origin into the
// softphone's cross-origin iframe — like the real one.
//
// Like the real library, it is a thin postMessage client: every call goes to window.parent
// (the fake Lightning page, tests/fakes/lightning/lightning.js), which records it and answers;
// listeners (onClickToDial, onNavigationChange) receive events from it. Messages from any origin
// other than the org's are ignored. Shapes follow the Open CTI Developer Guide (ecosystem.md §1):
// sforce.opencti.<method>({...args, callback}) → callback({success, returnValue, errors}).
(() => {
  const script = document.currentScript;
  const ORG = new URL(script.src).origin;
  let sequence = 0;
  const pending = new Map();
  const listeners = { onClickToDial: [], onNavigationChange: [] };

  window.addEventListener('message', (event) => {
    if (event.origin !== ORG || event.source !== window.parent) return;
    const data = event.data || {};
    if (data.source !== 'fake-lightning') return;
    if (data.event) {
      (listeners[data.event] || []).forEach((fn) => fn(data.payload));
      return;
    }
    const callback = pending.get(data.id);
    pending.delete(data.id);
    if (callback) callback(data.response);
  });

  function invoke(method, args = {}) {
    const { callback, listener, ...rest } = args;
    if (listener) listeners[method]?.push(listener);
    const id = ++sequence;
    if (typeof callback === 'function') pending.set(id, callback);
    window.parent.postMessage({ source: 'fake-opencti', id, method, args: rest }, ORG);
  }

  const methods = ['screenPop', 'searchAndScreenPop', 'enableClickToDial', 'disableClickToDial',
    'onClickToDial', 'saveLog', 'setSoftphonePanelVisibility', 'isSoftphonePanelVisible',
    'setSoftphoneItemIcon', 'setSoftphoneItemLabel', 'setSoftphonePanelLabel',
    'setSoftphonePanelIcon', 'getAppViewInfo', 'onNavigationChange', 'getCallCenterSettings',
    'getSoftphoneLayout', 'refreshView', 'notifyInitializationComplete', 'runApex'];
  const opencti = {
    SCREENPOP_TYPE: { SOBJECT: 'sobject', URL: 'url', OBJECTHOME: 'objecthome', LIST: 'list',
      SEARCH: 'search', NEW_RECORD_MODAL: 'newRecord', FLOW: 'flow' },
    CALL_TYPE: { INBOUND: 'inbound', OUTBOUND: 'outbound', INTERNAL: 'internal' },
  };
  methods.forEach((method) => { opencti[method] = (args) => invoke(method, args); });
  window.sforce = window.sforce || {};
  window.sforce.opencti = opencti;
})();
