/*
 * cti-connector click-to-call for kintone (desktop screens).
 *
 * Puts a call button (📞, accessible name 「発信」) beside each configured phone field on the
 * record detail screen and beside phone cells in record lists. A click hands the number and the
 * record to the connector's softphone window:
 *
 *   softphone -> opener    {type: "cti:ready", version: 1}   when it has loaded
 *   plugin    -> softphone {type: "cti:dial", version: 1, number, record}
 *
 * Messages go only to the connector's origin and are accepted only from it. A dial waits for
 * "cti:ready" when the window was just opened, and is sent at once to a window already open.
 * Plain ES2019, no build step.
 */
(function (PLUGIN_ID) {
  'use strict';

  const PROTOCOL_VERSION = 1;
  const WINDOW_NAME = 'cti-softphone';
  const WINDOW_FEATURES = 'popup,width=380,height=680';
  const READY_TIMEOUT_MS = 15000;

  const config = readConfig(kintone.plugin.app.getConfig(PLUGIN_ID));
  if (!config) {
    return;
  }
  const softphone = { window: null, ready: false, queue: [], timer: null };

  window.addEventListener('message', onMessage);

  kintone.events.on('app.record.detail.show', (event) => {
    const appId = kintone.app.getId();
    config.phoneFields.forEach((code) => {
      const cell = kintone.app.record.getFieldElement(code);
      const number = fieldText(event.record, code);
      if (cell && number) {
        addButton(cell, number, () => recordInfo(appId, event.recordId, event.record,
          window.location.href));
      }
    });
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

  // The record's detail page, from a list page such as /k/12/ or /k/guest/5/12/.
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

  function dial(number, record) {
    const message = { type: 'cti:dial', version: PROTOCOL_VERSION, number: number,
      record: record };
    const win = openSoftphone();
    if (!win) {
      showError('ソフトフォンのウィンドウを開けませんでした。このサイトのポップアップを許可してください。');
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
