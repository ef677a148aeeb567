/*
 * cti-connector built-in CRM pages: customer list, customer page (the screen-pop target),
 * customer form and CSV import. Plain ES2019, no build step, no inline code (strict CSP).
 *
 * Authentication: the API takes a bearer token. The softphone keeps its tokens in
 * sessionStorage under "cti.access_token" / "cti.refresh_token"; a window it opens with
 * window.open starts with a copy of them. When the token is missing or expired this page
 *   1. refreshes it — only if this window signed in itself (a refresh token copied from the
 *      softphone must never be used here: rotating it would end the softphone's session);
 *   2. else asks its opener:  page -> opener {type: "cti:token-request", version: 1}
 *                             opener -> page {type: "cti:token", version: 1, access_token}
 *      (same origin only, 1.5 s at most);
 *   3. else shows a sign-in form.
 * A phone number's 「発信」 button sends {type: "cti:dial", version: 1, number, record} to the
 * opener when the opener is the softphone (same origin), like the kintone plugin does.
 */
(function () {
  'use strict';

  const PROTOCOL_VERSION = 1;
  const KEYS = { access: 'cti.access_token', refresh: 'cti.refresh_token',
                 own: 'cti.crm.own_session' };
  const OPENER_TIMEOUT_MS = 1500;
  const PAGE_SIZE = 50;
  const HISTORY_PAGE = 20;
  const RANK = { agent: 0, supervisor: 1, admin: 2 };
  const DIRECTIONS = { inbound: '着信', outbound: '発信' };
  const STATUSES = { completed: '完了', busy: '話し中', 'no-answer': '応答なし', failed: '失敗',
                     canceled: 'キャンセル' };

  const body = document.body;
  const state = { agent: null, renewing: null, started: false };

  // -- small DOM helpers -------------------------------------------------------------------

  function $(id) { return document.getElementById(id); }

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (key === 'text') { node.textContent = props[key]; }
      else if (key === 'className') { node.className = props[key]; }
      else { node.setAttribute(key, props[key]); }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function status(message, isError) {
    const node = $('status');
    node.textContent = message || '';
    node.classList.toggle('error', Boolean(isError));
  }

  // -- API and tokens ----------------------------------------------------------------------

  class ApiError extends Error {
    constructor(httpStatus, error) {
      super(error.message || ('HTTP ' + httpStatus));
      this.status = httpStatus;
      this.code = error.code || '';
      this.details = error.details || {};
    }
  }

  class SignInNeeded extends Error {}

  function send(path, options) {
    const headers = { Accept: 'application/json' };
    const token = sessionStorage.getItem(KEYS.access);
    if (token) { headers.Authorization = 'Bearer ' + token; }
    let payload;
    if (options.form) { payload = options.form; }
    else if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(options.body);
    }
    return fetch(path, { method: options.method || 'GET', headers: headers, body: payload,
                         credentials: 'omit', cache: 'no-store' });
  }

  async function api(path, options) {
    options = options || {};
    let response = await send(path, options);
    if (response.status === 401 && await renewToken()) { response = await send(path, options); }
    if (response.status === 401) { throw new SignInNeeded(); }
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (ignored) { data = null; }
    }
    if (!response.ok) {
      throw new ApiError(response.status, (data && data.error) ||
                         { message: 'サーバーでエラーが発生しました（' + response.status + '）。' });
    }
    return data;
  }

  function renewToken() {
    if (!state.renewing) {
      state.renewing = doRenew().finally(function () { state.renewing = null; });
    }
    return state.renewing;
  }

  async function doRenew() {
    const refresh = sessionStorage.getItem(KEYS.refresh);
    if (refresh && window.name && sessionStorage.getItem(KEYS.own) === window.name) {
      const response = await fetch('/api/auth/refresh', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: refresh }), credentials: 'omit' });
      if (response.ok) { keepTokens(await response.json()); return true; }
    }
    const token = await askOpener();
    if (token) { sessionStorage.setItem(KEYS.access, token); return true; }
    return false;
  }

  function keepTokens(data) {
    // A session of this window's own: mark it so, by a name only this window has.
    if (!window.name) { window.name = 'cti-crm-' + Math.random().toString(36).slice(2); }
    sessionStorage.setItem(KEYS.access, data.access_token);
    sessionStorage.setItem(KEYS.refresh, data.refresh_token);
    sessionStorage.setItem(KEYS.own, window.name);
  }

  function sameOriginOpener() {
    try {
      const opener = window.opener;
      return opener && !opener.closed && opener.location.origin === location.origin
        ? opener : null;
    } catch (crossOrigin) {
      return null;
    }
  }

  function askOpener() {
    return new Promise(function (resolve) {
      const opener = sameOriginOpener();
      if (!opener) { resolve(null); return; }
      const timer = setTimeout(function () { finish(null); }, OPENER_TIMEOUT_MS);
      function finish(value) {
        clearTimeout(timer);
        window.removeEventListener('message', onMessage);
        resolve(value);
      }
      function onMessage(event) {
        const data = event.data;
        if (event.source !== opener || event.origin !== location.origin || !data ||
            data.type !== 'cti:token' || typeof data.access_token !== 'string') { return; }
        finish(data.access_token);
      }
      window.addEventListener('message', onMessage);
      opener.postMessage({ type: 'cti:token-request', version: PROTOCOL_VERSION },
                         location.origin);
    });
  }

  // -- sign-in and start -------------------------------------------------------------------

  function showSignIn() {
    $('content').hidden = true;
    $('signin').hidden = false;
    status('');
    $('signin-username').focus();
  }

  async function signIn(event) {
    event.preventDefault();
    const error = $('signin-error');
    error.textContent = '';
    const response = await fetch('/api/auth/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, credentials: 'omit',
      body: JSON.stringify({ username: $('signin-username').value,
                             password: $('signin-password').value }) });
    const data = await response.json().catch(function () { return null; });
    if (!response.ok) {
      error.textContent = (data && data.error && data.error.message) ||
        'サインインできませんでした。';
      return;
    }
    $('signin-password').value = '';
    keepTokens(data);
    $('signin').hidden = true;
    if (!state.started) { start(); return; }
    // The session ended while the page was in use: keep what is on screen (a half-filled
    // form, say) and let the person repeat what they were doing.
    $('content').hidden = false;
    status('サインインしました。もう一度操作してください。');
  }

  async function signOut() {
    try { await api('/api/auth/logout', { method: 'POST' }); } catch (ignored) { /* gone */ }
    [KEYS.access, KEYS.refresh, KEYS.own].forEach(function (key) {
      sessionStorage.removeItem(key);
    });
    location.reload();
  }

  function may(role) { return RANK[state.agent.role] >= RANK[role]; }

  async function start() {
    try {
      state.agent = (await api('/api/auth/me')).agent;
    } catch (error) {
      if (error instanceof SignInNeeded) { showSignIn(); return; }
      failed(error);
      return;
    }
    $('who').textContent = state.agent.display_name + ' さん';
    $('signout').hidden = false;
    document.querySelectorAll('[data-needs="edit"]').forEach(function (node) {
      node.hidden = !may('supervisor');
    });
    document.querySelectorAll('[data-needs="import"]').forEach(function (node) {
      node.hidden = !may('admin');
    });
    $('content').hidden = false;
    state.started = true;
    const page = PAGES[body.dataset.page];
    try { await page(); } catch (error) { failed(error); }
  }

  function failed(error) {
    if (error instanceof SignInNeeded) { showSignIn(); return; }
    status(error instanceof TypeError ? 'サーバーに接続できません。ネットワークを確認してください。'
                                      : error.message, true);
  }

  // -- formatting --------------------------------------------------------------------------

  const DATE_TIME = new Intl.DateTimeFormat('ja-JP', { year: 'numeric', month: '2-digit',
    day: '2-digit', hour: '2-digit', minute: '2-digit' });

  function dateTime(iso) { return iso ? DATE_TIME.format(new Date(iso)) : ''; }

  function duration(seconds) {
    const minutes = Math.floor(seconds / 60);
    return minutes ? minutes + '分' + (seconds % 60) + '秒' : seconds + '秒';
  }

  function tagList(tags) {
    return el('ul', { className: 'tags' }, tags.map(function (tag) {
      return el('li', { text: tag });
    }));
  }

  // -- customer list -----------------------------------------------------------------------

  async function listPage() {
    const params = new URLSearchParams(location.search);
    const offset = Math.max(0, parseInt(params.get('offset') || '0', 10) || 0);
    $('q').value = params.get('q') || '';
    await loadTags(params.get('tag') || '');
    $('search-form').addEventListener('submit', function (event) {
      event.preventDefault();
      go({ q: $('q').value.trim(), tag: $('tag').value, offset: 0 });
    });
    const query = new URLSearchParams({ q: $('q').value, tag: $('tag').value,
                                        limit: PAGE_SIZE, offset: offset });
    const data = await api('/api/crm/customers?' + query);
    const rows = $('customers').tBodies[0];
    clear(rows);
    data.customers.forEach(function (customer) { rows.appendChild(customerRow(customer)); });
    $('result-count').textContent = data.total
      ? data.total + ' 件中 ' + (offset + 1) + '〜' + (offset + data.customers.length) + ' 件'
      : '該当する顧客はいません。';
    pager('prev', offset > 0, Math.max(0, offset - PAGE_SIZE));
    pager('next', offset + data.customers.length < data.total, offset + PAGE_SIZE);
  }

  function go(values) {
    const params = new URLSearchParams();
    Object.keys(values).forEach(function (key) {
      if (values[key]) { params.set(key, values[key]); }
    });
    location.search = params.toString();
  }

  function pager(id, visible, offset) {
    const button = $(id);
    button.hidden = !visible;
    button.onclick = function () {
      go({ q: $('q').value.trim(), tag: $('tag').value, offset: offset });
    };
  }

  async function loadTags(selected) {
    const select = $('tag');
    (await api('/api/crm/tags')).tags.forEach(function (entry) {
      select.appendChild(el('option', { value: entry.tag, text: entry.tag + '（' + entry.count + '）' }));
    });
    select.value = selected;
  }

  function customerRow(customer) {
    const name = el('th', { scope: 'row' }, [
      el('a', { href: customer.url, text: customer.name })]);
    if (customer.name_kana) { name.appendChild(el('span', { className: 'kana', text: customer.name_kana })); }
    const phones = customer.phones.map(function (phone) { return phone.display; }).join('、');
    return el('tr', {}, [name, el('td', { text: customer.company }), el('td', { text: phones }),
                         el('td', {}, [tagList(customer.tags)])]);
  }

  // -- customer page -----------------------------------------------------------------------

  async function customerPage() {
    const id = body.dataset.customerId;
    let data;
    try {
      data = await api('/api/crm/customers/' + id);
    } catch (error) {
      if (error.status === 404) {
        $('customer-name').textContent = 'この顧客は見つかりません（削除された可能性があります）。';
        return;
      }
      throw error;
    }
    showCustomer(data.customer, data.permissions);
    $('notes-form').addEventListener('submit', function (event) {
      event.preventDefault();
      saveNotes(data);
    });
    $('delete-button').addEventListener('click', function () { deleteCustomer(data.customer); });
    await loadHistory(id, 0);
  }

  function showCustomer(customer, permissions) {
    document.title = customer.name + ' — 顧客管理';
    $('customer-name').textContent = customer.name;
    $('customer-kana').textContent = customer.name_kana;
    $('customer-company').textContent = customer.company;
    const tags = $('customer-tags');
    clear(tags);
    customer.tags.forEach(function (tag) { tags.appendChild(el('li', { text: tag })); });
    const phones = $('customer-phones');
    clear(phones);
    const softphone = sameOriginOpener();
    customer.phones.forEach(function (phone) {
      const item = el('li', {}, [el('span', { className: 'number', text: phone.display })]);
      if (phone.label) { item.appendChild(el('span', { className: 'label', text: phone.label })); }
      if (softphone) { item.appendChild(dialButton(softphone, phone, customer)); }
      phones.appendChild(item);
    });
    if (!customer.phones.length) { phones.appendChild(el('li', { text: '登録されていません。' })); }
    $('notes').value = customer.notes;
    const edit = $('edit-link');
    edit.href = customer.url + '/edit';
    edit.hidden = !permissions.edit;
    $('delete-button').hidden = !permissions.delete;
  }

  function dialButton(softphone, phone, customer) {
    const button = el('button', { type: 'button', className: 'dial',
                                  'aria-label': phone.display + ' に発信', text: '発信' });
    button.addEventListener('click', function () {
      softphone.postMessage({ type: 'cti:dial', version: PROTOCOL_VERSION, number: phone.e164,
                              record: { crm: 'builtin', recordId: String(customer.id),
                                        name: customer.name,
                                        url: location.origin + customer.url } },
                            location.origin);
      softphone.focus();
    });
    return button;
  }

  async function saveNotes(data) {
    const note = $('notes-status');
    $('notes-error').textContent = '';
    note.textContent = '保存しています…';
    try {
      const saved = await api('/api/crm/customers/' + data.customer.id, { method: 'PATCH',
        body: { notes: $('notes').value, updated_at: data.customer.updated_at } });
      data.customer = saved.customer;
      note.textContent = '保存しました。';
    } catch (error) {
      note.textContent = '';
      if (error instanceof SignInNeeded) { showSignIn(); return; }
      $('notes-error').textContent = (error.details.fields && error.details.fields.notes) ||
        error.message;
    }
  }

  async function deleteCustomer(customer) {
    if (!window.confirm('「' + customer.name + '」を削除しますか？ 通話履歴は残ります。')) { return; }
    try {
      await api('/api/crm/customers/' + customer.id, { method: 'DELETE' });
      location.href = '/crm/customers';
    } catch (error) { failed(error); }
  }

  async function loadHistory(id, offset) {
    const data = await api('/api/crm/customers/' + id + '/calls?limit=' + HISTORY_PAGE +
                           '&offset=' + offset);
    const rows = $('history').tBodies[0];
    if (!offset) { clear(rows); }
    data.calls.forEach(function (call) { rows.appendChild(callRow(call)); });
    $('history-count').textContent = '（' + data.total + ' 件）';
    $('history-empty').hidden = data.total > 0;
    $('history').hidden = data.total === 0;
    const more = $('history-more');
    const next = offset + data.calls.length;
    more.hidden = next >= data.total;
    more.onclick = function () { loadHistory(id, next).catch(failed); };
  }

  function callRow(call) {
    const notes = el('td', { className: 'notes', text: call.notes });
    if (call.recording_url) {
      notes.appendChild(el('a', { href: call.recording_url, text: '録音', rel: 'noopener' }));
    }
    return el('tr', {}, [
      el('td', {}, [el('time', { datetime: call.started_at, text: dateTime(call.started_at) })]),
      el('td', { text: DIRECTIONS[call.direction] || call.direction }),
      el('td', { text: call.customer_number_display || call.customer_number }),
      el('td', { text: STATUSES[call.status] || call.status }),
      el('td', { text: call.answered_at ? duration(call.talk_seconds) : '—' }),
      el('td', { text: call.agent_name || call.agent_username }),
      el('td', { text: call.disposition }),
      notes,
    ]);
  }

  // -- customer form -----------------------------------------------------------------------

  async function formPage() {
    const id = body.dataset.customerId;
    const form = $('customer-form');
    const context = { id: id, updatedAt: null };
    $('add-phone').addEventListener('click', function () { addPhoneRow({}).querySelector('input').focus(); });
    if (id) {
      const data = await api('/api/crm/customers/' + id);
      fillForm(data.customer);
      context.updatedAt = data.customer.updated_at;
      $('cancel-link').href = data.customer.url;
    } else {
      addPhoneRow({});
    }
    if (!may('supervisor')) {
      status('顧客の登録・編集は管理者とスーパーバイザーだけができます。', true);
      form.querySelector('button[type="submit"]').disabled = true;
    }
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      saveCustomer(context).catch(failed);
    });
  }

  function fillForm(customer) {
    ['name', 'name_kana', 'company', 'notes'].forEach(function (name) {
      $('f-' + name).value = customer[name];
    });
    $('f-tags').value = customer.tags.join('、');
    customer.phones.forEach(addPhoneRow);
    if (!customer.phones.length) { addPhoneRow({}); }
  }

  function addPhoneRow(phone) {
    const list = $('phone-rows');
    const row = $('phone-row').content.firstElementChild.cloneNode(true);
    const index = list.children.length + '-' + Date.now();
    ['number', 'label'].forEach(function (part) {
      const input = row.querySelector('[data-part="' + part + '"]');
      input.id = 'phone-' + part + '-' + index;
      input.value = phone[part] || '';
      input.previousElementSibling.setAttribute('for', input.id);
    });
    const error = row.querySelector('[data-part="error"]');
    error.id = 'phone-error-' + index;
    row.querySelector('[data-part="number"]').setAttribute('aria-describedby', error.id);
    row.querySelector('[data-part="remove"]').addEventListener('click', function () {
      row.remove();
      numberPhoneRows();
    });
    list.appendChild(row);
    numberPhoneRows();
    return row;
  }

  function numberPhoneRows() {
    // Each row's fields get their own accessible names: 「電話番号 1」「ラベル 1」…
    document.querySelectorAll('#phone-rows > li').forEach(function (row, index) {
      const n = ' ' + (index + 1);
      row.querySelector('[data-part="number"]').previousElementSibling.textContent = '電話番号' + n;
      row.querySelector('[data-part="label"]').previousElementSibling.textContent = 'ラベル' + n;
      row.querySelector('[data-part="remove"]').setAttribute('aria-label', '電話番号' + n + 'を削除');
    });
  }

  function formValues() {
    const phones = [];
    document.querySelectorAll('#phone-rows > li').forEach(function (row) {
      const number = row.querySelector('[data-part="number"]').value.trim();
      const label = row.querySelector('[data-part="label"]').value.trim();
      if (number || label) { phones.push({ number: number, label: label }); }
    });
    return {
      name: $('f-name').value, name_kana: $('f-name_kana').value,
      company: $('f-company').value, notes: $('f-notes').value,
      tags: $('f-tags').value, phones: phones,
    };
  }

  async function saveCustomer(context) {
    clearFieldErrors();
    const payload = Object.assign(formValues(),
      { allow_duplicate_numbers: $('allow-duplicates').checked });
    if (context.id) { payload.updated_at = context.updatedAt; }
    try {
      const saved = await api(context.id ? '/api/crm/customers/' + context.id
                                         : '/api/crm/customers',
                              { method: context.id ? 'PATCH' : 'POST', body: payload });
      location.href = saved.customer.url;
    } catch (error) {
      if (!(error instanceof ApiError) || !error.details.fields) { throw error; }
      showFieldErrors(error);
    }
  }

  function clearFieldErrors() {
    document.querySelectorAll('#customer-form .error').forEach(function (node) {
      node.textContent = '';
    });
    document.querySelectorAll('#customer-form [aria-invalid]').forEach(function (node) {
      node.removeAttribute('aria-invalid');
    });
    $('error-summary').hidden = true;
    status('');
  }

  function showFieldErrors(error) {
    const summary = $('error-summary');
    const list = summary.querySelector('ul');
    clear(list);
    const fields = error.details.fields;
    const phoneRows = Array.prototype.filter.call(
      document.querySelectorAll('#phone-rows > li'), function (row) {
        return row.querySelector('[data-part="number"]').value.trim() ||
               row.querySelector('[data-part="label"]').value.trim();
      });
    Object.keys(fields).forEach(function (path) {
      const target = fieldTarget(path, phoneRows);
      if (target) {
        target.error.textContent = fields[path];
        target.input.setAttribute('aria-invalid', 'true');
      }
      const link = el('a', { href: '#' + (target ? target.input.id : 'customer-form'),
                             text: fields[path] });
      list.appendChild(el('li', {}, [link]));
    });
    showDuplicates(error);
    summary.querySelector('h2').textContent = error.code === 'duplicate_number'
      ? '他の顧客と同じ電話番号があります' : '入力内容を確認してください';
    summary.hidden = false;
    summary.focus();
  }

  function fieldTarget(path, phoneRows) {
    const phone = /^phones\[(\d+)\]/.exec(path);
    if (phone) {
      const row = phoneRows[Number(phone[1])];
      return row && { input: row.querySelector('[data-part="number"]'),
                      error: row.querySelector('[data-part="error"]') };
    }
    const name = path.split(/[.[]/)[0];
    const input = $('f-' + name);
    return input && { input: input, error: $('f-' + name + '-error') };
  }

  function showDuplicates(error) {
    const box = $('duplicates');
    const list = box.querySelector('ul');
    clear(list);
    (error.details.duplicates || []).forEach(function (duplicate) {
      duplicate.customers.forEach(function (customer) {
        list.appendChild(el('li', {}, [el('a', { href: customer.url, target: '_blank',
                                                 rel: 'noopener', text: customer.name })]));
      });
    });
    box.hidden = error.code !== 'duplicate_number';
  }

  // -- CSV import --------------------------------------------------------------------------

  async function importPage() {
    if (!may('admin')) {
      status('CSV の取り込みは管理者だけができます。', true);
      $('import-form').hidden = true;
      return;
    }
    $('import-form').addEventListener('submit', function (event) {
      event.preventDefault();
      runImport().catch(failed);
    });
  }

  async function runImport() {
    const file = $('i-file').files[0];
    if (!file) { status('CSV ファイルを選んでください。', true); $('i-file').focus(); return; }
    const form = new FormData();
    form.append('file', file);
    $('i-map').value.split(/\r?\n/).forEach(function (line) {
      if (line.trim()) { form.append('map', line.trim()); }
    });
    form.append('dry_run', $('i-dry-run').checked ? 'true' : 'false');
    form.append('allow_duplicates', $('i-allow').checked ? 'true' : 'false');
    status('処理しています…');
    let report;
    try {
      report = await api('/api/crm/import', { method: 'POST', form: form });
    } catch (error) {
      if (error instanceof ApiError && error.details.fields) {
        status(Object.values(error.details.fields).join(' '), true);
        return;
      }
      throw error;
    }
    status('');
    showReport(report);
  }

  function showReport(report) {
    const verb = report.dry_run ? '取り込めます' : '取り込みました';
    $('report-summary').textContent = report.rows + ' 行中 ' + report.imported + ' 件を' + verb +
      '（スキップ ' + report.skipped + ' 行、文字コード ' + (report.encoding || '不明') + '）。';
    const rows = $('report-problems').tBodies[0];
    clear(rows);
    report.errors.concat(report.warnings).forEach(function (problem, index) {
      const skipped = index < report.errors.length;
      rows.appendChild(el('tr', {}, [
        el('td', { text: problem.row ? String(problem.row) : 'ファイル' }),
        el('td', { text: problem.column }), el('td', { text: problem.message }),
        el('td', { text: problem.value }),
        el('td', { text: skipped ? 'スキップ' : '取り込み（注意）' })]));
    });
    $('report-problems').hidden = rows.children.length === 0;
    $('report').hidden = false;
    $('report-title').focus();
  }

  // -- boot --------------------------------------------------------------------------------

  const PAGES = { list: listPage, customer: customerPage, form: formPage, import: importPage };

  $('signin-form').addEventListener('submit', function (event) {
    signIn(event).catch(function () { $('signin-error').textContent = 'サーバーに接続できません。'; });
  });
  $('signout').addEventListener('click', signOut);
  start();
}());
