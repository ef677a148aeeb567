/*
 * Small DOM and formatting helpers of the built-in CRM pages. Customer data only ever becomes
 * text (textContent, attributes), never markup.
 */

export const DIRECTIONS = { inbound: '着信', outbound: '発信' };
export const STATUSES = { completed: '完了', busy: '話し中', 'no-answer': '応答なし', failed: '失敗',
                          canceled: 'キャンセル' };

export function $(id) { return document.getElementById(id); }

export function el(tag, props, children) {
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

export function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

export function status(message, isError) {
  const node = $('status');
  node.textContent = message || '';
  node.classList.toggle('error', Boolean(isError));
}

const DATE_TIME = new Intl.DateTimeFormat('ja-JP', { year: 'numeric', month: '2-digit',
  day: '2-digit', hour: '2-digit', minute: '2-digit' });

export function dateTime(iso) { return iso ? DATE_TIME.format(new Date(iso)) : ''; }

export function duration(seconds) {
  const minutes = Math.floor(seconds / 60);
  return minutes ? minutes + '分' + (seconds % 60) + '秒' : seconds + '秒';
}

export function tagList(tags) {
  return el('ul', { className: 'tags' }, tags.map(function (tag) {
    return el('li', { text: tag });
  }));
}
