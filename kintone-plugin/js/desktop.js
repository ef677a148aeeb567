/*
 * cti-connector click-to-call for kintone (desktop screens).
 *
 * Puts a call button (📞, accessible name 「発信」) beside each configured phone field on the
 * record detail screen and beside phone cells in record lists, and a 「ソフトフォン」 button in
 * the header that opens the softphone without calling. A click hands the number and the record
 * to the connector's softphone window, and the softphone learns which record is on screen:
 *
 *   softphone -> kintone   {type: "cti:ready", version: 1}   when loaded, then every few seconds
 *   plugin    -> softphone {type: "cti:dial", version: 1, number, record}
 *   plugin    -> softphone {type: "cti:record", version: 1, screen, record}   on every screen
 *              (screen: detail | edit | index | create | gone; record: {crm, appId, recordId,
 *              name, url} on detail and edit, else null), and in answer to each cti:ready
 *
 * Messages go only to the connector's origin and are accepted only from it. A dial waits for
 * "cti:ready" when the window was just opened, and is sent at once to a window already open.
 * The add-record screen fills the first phone field from the URL parameter "cti_phone" (the
 * softphone's pop for an unknown caller). Plain ES2019, no build step.
 */
(function (PLUGIN_ID) {
  'use strict';

  const PROTOCOL_VERSION = 1;
  const WINDOW_NAME = 'cti-softphone';
  const WINDOW_FEATURES = 'popup,width=380,height=680';
  const READY_TIMEOUT_MS = 15000;
  const PHONE_PARAM = 'cti_phone';
  const POPUP_BLOCKED = 'ソフトフォンのウィンドウを開けませんでした。このサイトのポップアップを許可してください。';
  const PHONE_PATTERN = /^[+0-9()\- ]{3,30}$/;

  const config = readConfig(kintone.plugin.app.getConfig(PLUGIN_ID));
  if (!config) {
    return;
  }
  const softphone = { window: null, ready: false, queue: [], timer: null };
  // What this page shows, for the softphone's after-call work and screen pops (cti:record).
  let shown = { screen: 'other', record: null };

  window.addEventListener('message', onMessage);
  window.addEventListener('pagehide', () => report('gone', null));

  kintone.events.on('app.record.detail.show', (event) => {
    const record = recordInfo(kintone.app.getId(), event.recordId, event.record,
      window.location.href);
    config.phoneFields.forEach((code) => {
      const cell = kintone.app.record.getFieldElement(code);
      const number = fieldText(event.record, code);
      if (cell && number) {
        addButton(cell, number, () => record);
      }
    });
    addOpenButton(recordHeaderSpace());
    report('detail', record);
    return event;
  });

  kintone.events.on('app.record.edit.show', (event) => {
    report('edit', recordInfo(kintone.app.getId(), event.recordId, event.record,
      recordUrl(event.recordId)));
    return event;
  });

  kintone.events.on('app.record.create.show', (event) => {
    fillPhone(event.record);
    report('create', null);
    return event;
  });

  kintone.events.on('app.record.index.show', (event) => {
    const appId = kintone.app.getId();
    config.phoneFields.forEach((code) => {
      const cells = kintone.app.getFieldElements(code) || [];
      event.records.forEach((record, row) => {
        const number = fieldText(record, code);
        const recordId = fieldText(record, '$id');
        if (cells[row] && number) {
          addButton(cells[row], number, () => recordInfo(appId, recordId, record,
            recordUrl(recordId)));
        }
      });
    });
    addOpenButton(kintone.app.getHeaderMenuSpaceElement());
    report('index', null);
    return event;
  });

  function readConfig(raw) {
    if (!raw || !raw.backendUrl) {
      return null;
    }
    let origin;
    try {
      origin = new URL(raw.backendUrl).origin;
    } catch (e) {
      return null;
    }
    return {
      backendUrl: raw.backendUrl.replace(/\/+$/, ''),
      origin: origin,
      phoneFields: parseList(raw.phoneFields),
      nameFields: parseList(raw.nameFields),
    };
  }

  function parseList(text) {
    try {
      const value = JSON.parse(text || '[]');
      return Array.isArray(value) ? value : [];
    } catch (e) {
      return [];
    }
  }

  function fieldText(record, code) {
    const field = record && record[code];
    return field && field.value ? String(field.value).trim() : '';
  }

  function recordInfo(appId, recordId, record, url) {
    const name = config.nameFields.map((code) => fieldText(record, code))
      .filter((part) => part).join(' ');
    return { crm: 'kintone', appId: String(appId), recordId: String(recordId), name: name,
      url: url };
  }

  // The record's detail page, from a page of its app such as /k/12/, /k/12/show or
  // /k/guest/5/12/.
  function recordUrl(recordId) {
    const base = window.location.pathname.replace(/\/[^/]*$/, '/');
    return window.location.origin + base + 'show#record=' + encodeURIComponent(recordId);
  }

  function addButton(container, number, getRecord) {
    if (container.querySelector('.cti-call-button')) {
      return; // the screen was shown again without being rebuilt
    }
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'cti-call-button';
    button.textContent = '📞';
    button.setAttribute('aria-label', '発信');
    button.title = '発信: ' + number;
    button.addEventListener('click', (event) => {
      event.preventDefault();
      event.stopPropagation(); // a click in a list row must not open the record
      dial(number, getRecord());
    });
    container.appendChild(button);
  }

  // The header button: open (or bring up) the softphone to take calls, without dialling.
  function addOpenButton(container) {
    if (!container || container.querySelector('.cti-open-button')) {
      return;
    }
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'cti-open-button';
    button.textContent = '📞 ソフトフォン';
    button.title = 'ソフトフォンを開く';
    button.addEventListener('click', () => {
      if (!openSoftphone()) {
        showError(POPUP_BLOCKED);
      }
    });
    container.appendChild(button);
  }

  // The detail screen's header space (kintone.app.record.getHeaderMenuSpaceElement); absent
  // from some kintone versions, so looked up defensively.
  function recordHeaderSpace() {
    const find = kintone.app.record.getHeaderMenuSpaceElement;
    return typeof find === 'function' ? find() : null;
  }

  // The add-record screen opened by the softphone for an unknown caller carries the number.
  function fillPhone(record) {
    const number = (new URLSearchParams(window.location.search).get(PHONE_PARAM) || '').trim();
    const field = config.phoneFields.length ? record[config.phoneFields[0]] : null;
    if (field && !field.value && PHONE_PATTERN.test(number)) {
      field.value = number;
    }
  }

  function report(screen, record) {
    shown = { screen: screen, record: record };
    if (softphone.window && !softphone.window.closed) {
      send(recordMessage());
    }
  }

  function recordMessage() {
    return { type: 'cti:record', version: PROTOCOL_VERSION, screen: shown.screen,
      record: shown.record };
  }

  function dial(number, record) {
    const message = { type: 'cti:dial', version: PROTOCOL_VERSION, number: number,
      record: record };
    const win = openSoftphone();
    if (!win) {
      showError(POPUP_BLOCKED);
      return;
    }
    if (softphone.ready) {
      send(message);
      return;
    }
    softphone.queue.push(message);
    clearTimeout(softphone.timer);
    softphone.timer = setTimeout(() => {
      softphone.queue = [];
      showError('ソフトフォンが応答しません。ソフトフォンのウィンドウでログインしているか、' +
        'プラグイン設定の接続先 URL が正しいかを確認してください。');
    }, READY_TIMEOUT_MS);
  }

  // Open the softphone, or find it if it is already open. Opening by name with the URL would
  // reload an open softphone and drop its call, so the window is looked up with an empty URL
  // first and pointed at the softphone only when it turns out to be new (about:blank).
  function openSoftphone() {
    if (softphone.window && !softphone.window.closed) {
      softphone.window.focus();
      return softphone.window;
    }
    let win = null;
    try {
      win = window.open('', WINDOW_NAME, WINDOW_FEATURES);
    } catch (e) {
      win = null;
    }
    if (!win) {
      return null;
    }
    softphone.window = win;
    if (isBlank(win)) {
      softphone.ready = false;
      win.location.href = config.backendUrl + '/softphone/?crm=kintone';
    } else {
      softphone.ready = true; // loaded earlier (by this tab before a reload)
      win.focus();
    }
    return win;
  }

  function isBlank(win) {
    try {
      return win.location.href === 'about:blank';
    } catch (e) {
      return false; // the softphone's own origin: it is loaded
    }
  }

  function onMessage(event) {
    const data = event.data;
    if (event.origin !== config.origin || !data || data.version !== PROTOCOL_VERSION) {
      return;
    }
    if (data.type === 'cti:ready') {
      if (event.source && event.source !== softphone.window) {
        softphone.window = event.source;
      }
      softphone.ready = true;
      clearTimeout(softphone.timer);
      const queued = softphone.queue;
      softphone.queue = [];
      queued.forEach(send);
      // Every cti:ready is answered: the softphone may have been reloaded and forgotten.
      send(recordMessage());
    }
  }

  function send(message) {
    softphone.window.postMessage(message, config.origin);
  }

  function showError(text) {
    let box = document.getElementById('cti-plugin-error');
    if (!box) {
      box = document.createElement('div');
      box.id = 'cti-plugin-error';
      box.setAttribute('role', 'alert');
      document.body.appendChild(box);
    }
    box.textContent = text;
    box.hidden = false;
    setTimeout(() => {
      box.hidden = true;
    }, 10000);
  }
})(kintone.$PLUGIN_ID);
