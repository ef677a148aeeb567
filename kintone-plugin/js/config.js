/*
 * Settings page of the cti-connector click-to-call plugin: the connector's URL, the phone fields
 * that get call buttons and the fields that make up the customer's name. Stored with
 * kintone.plugin.app.setConfig; lists are saved as JSON text (plugin settings are strings).
 */
(function (PLUGIN_ID) {
  'use strict';

  const PHONE_TYPES = ['SINGLE_LINE_TEXT', 'LINK'];
  const NAME_TYPES = ['SINGLE_LINE_TEXT'];

  const form = document.getElementById('cti-config-form');
  const urlInput = document.getElementById('cti-backend-url');
  const phoneSelect = document.getElementById('cti-phone-fields');
  const nameSelect = document.getElementById('cti-name-fields');
  const errorBox = document.getElementById('cti-config-error');
  const appId = kintone.app.getId();
  const saved = kintone.plugin.app.getConfig(PLUGIN_ID) || {};

  urlInput.value = saved.backendUrl || '';

  kintone.api(kintone.api.url('/k/v1/app/form/fields.json', true), 'GET', { app: appId })
    .then((resp) => {
      const fields = Object.values(resp.properties);
      fillSelect(phoneSelect, fields.filter(isPhoneField), parseList(saved.phoneFields));
      fillSelect(nameSelect, fields.filter((f) => NAME_TYPES.includes(f.type)),
        parseList(saved.nameFields));
    })
    .catch((error) => {
      showError('フィールドの一覧を読み込めませんでした: ' + (error && error.message ? error.message : error));
    });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const backendUrl = urlInput.value.trim().replace(/\/+$/, '');
    const phoneFields = selected(phoneSelect);
    const problem = urlProblem(backendUrl) ||
      (phoneFields.length ? '' : '電話番号フィールドを1つ以上選んでください。');
    if (problem) {
      showError(problem);
      return;
    }
    // Without a callback kintone returns to the plugin list after saving.
    kintone.plugin.app.setConfig({
      backendUrl: backendUrl,
      phoneFields: JSON.stringify(phoneFields),
      nameFields: JSON.stringify(selected(nameSelect)),
    });
  });

  document.getElementById('cti-config-cancel').addEventListener('click', () => {
    const guest = window.location.pathname.match(/^\/k\/guest\/(\d+)\//);
    const prefix = guest ? '/k/guest/' + guest[1] : '/k';
    window.location.href = prefix + '/admin/app/' + encodeURIComponent(appId) + '/plugin/';
  });

  function isPhoneField(field) {
    if (!PHONE_TYPES.includes(field.type)) {
      return false;
    }
    return field.type !== 'LINK' || field.protocol === 'CALL';
  }

  function fillSelect(select, fields, chosen) {
    fields.forEach((field) => {
      const option = document.createElement('option');
      option.value = field.code;
      option.textContent = field.label + '（' + field.code + '）';
      option.selected = chosen.includes(field.code);
      select.appendChild(option);
    });
  }

  function selected(select) {
    return Array.from(select.selectedOptions).map((option) => option.value);
  }

  function parseList(text) {
    try {
      const value = JSON.parse(text || '[]');
      return Array.isArray(value) ? value : [];
    } catch (e) {
      return [];
    }
  }

  function urlProblem(text) {
    let url;
    try {
      url = new URL(text);
    } catch (e) {
      return '接続先 URL を https://〜 の形で入力してください。';
    }
    const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
    if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
      return '接続先 URL は https:// で始めてください（ソフトフォンは https でしか動きません）。';
    }
    if (url.pathname.replace(/\/+$/, '') || url.search || url.hash) {
      return '接続先 URL にはパスを付けず、https://ホスト名 だけを入力してください。';
    }
    return '';
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
  }
})(kintone.$PLUGIN_ID);
