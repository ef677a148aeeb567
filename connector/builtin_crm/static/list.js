/* The customer list: search by name, reading, company, tag or number; pages of 50. */

import { $, clear, el, tagList } from './dom.js';
import { api } from './session.js';

const PAGE_SIZE = 50;

export async function listPage() {
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
