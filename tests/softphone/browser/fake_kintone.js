// kintone's desktop JavaScript API, as far as the click-to-call plugin uses it, for browser
// tests (cybozu.dev/ja/kintone/docs/js-api/): kintone.events.on, kintone.app.getId,
// kintone.app.getFieldElements, kintone.app.getHeaderMenuSpaceElement,
// kintone.app.record.getId / getFieldElement / getHeaderMenuSpaceElement,
// kintone.plugin.app.getConfig and kintone.$PLUGIN_ID.
//
// The page (tests/softphone/browser/kintone_site.py) defines window.__KINTONE_PAGE__ = {appId,
// screen: "index" | "detail" | "create", fields, records: {id: record}, pluginId,
// pluginConfig} and calls __kintone.start() after the plugin's scripts, as kintone fires its
// events after loading customisations. Like kintone:
//   * the list screen fires app.record.index.show with every record;
//   * /show#record=<id> fires app.record.detail.show, and again when the hash changes;
//     #record=<id>&mode=edit fires app.record.edit.show;
//   * the add-record screen fires app.record.create.show and shows the values of the record
//     the last handler returned (handlers may change field values by returning the event);
//   * handlers run in the order they were registered, and may return a Promise.
// Tests read __kintone.log (events fired) and may call __kintone.fire(type, event).
(() => {
  const page = window.__KINTONE_PAGE__;
  const handlers = {};
  const log = [];

  const $ = (selector) => document.querySelector(selector);
  const byField = (selector, code) => Array.from(document.querySelectorAll(selector))
    .filter((el) => el.dataset.field === code);

  window.kintone = {
    $PLUGIN_ID: page.pluginId,
    events: {
      on(types, handler) {
        [].concat(types).forEach((type) => {
          (handlers[type] = handlers[type] || []).push(handler);
        });
      },
    },
    app: {
      getId: () => page.appId,
      getFieldElements(code) {
        if (page.screen !== 'index' || !page.fields.includes(code)) return null;
        return byField('#records tbody td', code);
      },
      getHeaderMenuSpaceElement: () => (page.screen === 'index' ? $('#header-menu-space') : null),
      record: {
        getId: () => (currentId() ? Number(currentId()) : null),
        getFieldElement(code) {
          if (page.screen !== 'detail') return null;
          return byField('#record .value', code)[0] || null;
        },
        getHeaderMenuSpaceElement: () => (page.screen === 'detail' ? $('#record-header-space')
          : null),
      },
    },
    plugin: {
      app: {
        getConfig: (id) => (id === page.pluginId ? { ...page.pluginConfig } : null),
      },
    },
  };

  async function fire(type, event) {
    let current = { type, ...event };
    for (const handler of handlers[type] || []) {
      const result = await handler(current);
      if (result && typeof result === 'object') current = result;
    }
    log.push(type);
    return current;
  }

  function currentId() {
    return new URLSearchParams(window.location.hash.slice(1)).get('record');
  }

  const copy = (value) => JSON.parse(JSON.stringify(value));

  // -- screens ---------------------------------------------------------------------------------
  function showList() {
    const table = document.createElement('table');
    table.id = 'records';
    const head = table.createTHead().insertRow();
    page.fields.forEach((code) => { head.insertCell().textContent = code; });
    const body = table.createTBody();
    const records = Object.values(page.records);
    records.forEach((record) => {
      const row = body.insertRow();
      row.dataset.id = record.$id.value;
      // As in kintone, a click on a row opens the record (the plugin's buttons stop that).
      row.addEventListener('click', () => {
        window.location.href = `show#record=${record.$id.value}`;
      });
      page.fields.forEach((code) => {
        const cell = row.insertCell();
        cell.dataset.field = code;
        cell.textContent = record[code] ? record[code].value : '';
      });
    });
    $('#screen').replaceChildren(table);
    return fire('app.record.index.show', { appId: page.appId, viewType: 'list', viewId: 1,
      viewName: '（すべて）', records: copy(records), offset: 0, size: records.length });
  }

  function showRecord() {
    const id = currentId();
    const record = page.records[id];
    if (!record) return Promise.resolve(null);
    const editing = new URLSearchParams(window.location.hash.slice(1)).get('mode') === 'edit';
    if (editing) {
      showForm(record);
      return fire('app.record.edit.show', { appId: page.appId, recordId: Number(id),
        record: copy(record) });
    }
    const box = document.createElement('div');
    box.id = 'record';
    page.fields.forEach((code) => {
      const field = document.createElement('div');
      field.className = 'field';
      const label = document.createElement('div');
      label.className = 'label';
      label.textContent = code;
      const value = document.createElement('div');
      value.className = 'value';
      value.dataset.field = code;
      value.textContent = record[code] ? record[code].value : '';
      field.append(label, value);
      box.append(field);
    });
    $('#screen').replaceChildren(box);
    return fire('app.record.detail.show', { appId: page.appId, recordId: Number(id),
      record: copy(record) });
  }

  function showForm(record) {
    const form = document.createElement('form');
    form.id = 'record';
    page.fields.forEach((code) => {
      const label = document.createElement('label');
      label.textContent = code;
      const input = document.createElement('input');
      input.dataset.field = code;
      input.value = record[code] ? record[code].value : '';
      label.append(input);
      form.append(label);
    });
    $('#screen').replaceChildren(form);
  }

  async function showCreate() {
    const empty = {};
    page.fields.forEach((code) => { empty[code] = { type: 'SINGLE_LINE_TEXT', value: '' }; });
    showForm(empty);
    const event = await fire('app.record.create.show', { appId: page.appId, reuse: false,
      record: copy(empty) });
    showForm(event.record);
  }

  function start() {
    if (page.screen === 'index') return showList();
    if (page.screen === 'create') return showCreate();
    window.addEventListener('hashchange', showRecord);
    return showRecord();
  }

  window.__kintone = { fire, log, start, page };
})();
