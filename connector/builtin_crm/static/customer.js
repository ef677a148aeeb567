/* The customer page — the screen-pop target: details, notes, call history, click-to-call. */

import { $, DIRECTIONS, STATUSES, clear, dateTime, duration, el } from './dom.js';
import { PROTOCOL_VERSION, SignInNeeded, api, failed, sameOriginOpener, showSignIn }
  from './session.js';

const HISTORY_PAGE = 20;

export async function customerPage() {
  const id = document.body.dataset.customerId;
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
