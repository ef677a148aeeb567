/* The customer form (new and edit), with errors shown at each field and in a summary. */

import { $, clear, el, status } from './dom.js';
import { ApiError, api, failed, state } from './session.js';

export async function formPage() {
  const id = document.body.dataset.customerId;
  const form = $('customer-form');
  const context = { id: id, updatedAt: null };
  $('add-phone').addEventListener('click', function () { addPhoneRow({}).querySelector('input').focus(); });
  let allowed;
  if (id) {
    const data = await api('/api/crm/customers/' + id);
    fillForm(data.customer);
    context.updatedAt = data.customer.updated_at;
    $('cancel-link').href = data.customer.url;
    allowed = data.permissions.edit;
  } else {
    prefill(addPhoneRow({ number: $('prefill').dataset.phone }));
    allowed = state.permissions.create;
  }
  if (!allowed) {
    status(id ? '顧客の編集は管理者とスーパーバイザーだけができます。'
              : '顧客を登録する権限がありません。管理者に依頼してください。', true);
    form.querySelector('button[type="submit"]').disabled = true;
  }
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    saveCustomer(context).catch(failed);
  });
}

/** The new-customer form opened for an unknown caller (?phone=…): say when the number given
 * cannot be stored as it is, at its field. */
function prefill(row) {
  const problem = $('prefill').dataset.problem;
  if (!problem) { return; }
  row.querySelector('[data-part="error"]').textContent = problem;
  row.querySelector('[data-part="number"]').setAttribute('aria-invalid', 'true');
  status(problem, true);
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
