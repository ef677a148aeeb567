// Phone numbers as agents type them: full-width digits and symbols, hyphens of every kind.
// The server decides what may be dialled (/api/dial/check); this only cleans the input.

const FULL_WIDTH = { '＋': '+', '＃': '#', '＊': '*', '（': '(', '）': ')' };
const SEPARATORS = /[\s\u00a0\u3000\-\u2010-\u2015\u2212\u30fc\uff0d\uff70.\uff0e()]/g;

export function toHalfWidth(text) {
  return String(text || '')
    .replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[＋＃＊（）]/g, (c) => FULL_WIDTH[c]);
}

/** "０３－１２３４－５６７８" → "0312345678"; keeps +, # and * */
export function cleanNumber(text) {
  return toHalfWidth(text).replace(/^tel:/i, '').replace(SEPARATORS, '');
}

/** How an outgoing call is shown: "186 03-1234-5678" when the agent dialled a caller-ID prefix
 * (184 withhold / 186 present; the server dials the number after it, see docs/numbering.md). */
export function withCallerIdPrefix(display, prefix) {
  return prefix ? `${prefix} ${display}` : display;
}

/** A readable form for Japanese numbers in E.164 (+81312345678 → 03-1234-5678 is the server's
 * job; here only +81 is turned back into a leading 0 for display). */
export function displayNumber(number) {
  const text = String(number || '');
  if (text.startsWith('client:')) return text.slice('client:'.length);
  if (text.startsWith('+81')) return '0' + text.slice(3);
  return text;
}

export function formatDuration(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
