/*
 * The recording player behind the links in CRM call logs. The agent signs in (session.js),
 * then the page asks the API for a short-lived signed link and plays it; the recording is
 * never fetched from Twilio by the browser.
 */

import { $ } from './dom.js';
import { api } from './session.js';

const DIRECTIONS = { inbound: '着信', outbound: '発信' };

function fact(list, term, value) {
  const dt = document.createElement('dt');
  const dd = document.createElement('dd');
  dt.textContent = term;
  dd.textContent = value;
  list.append(dt, dd);
}

export async function recordingPage() {
  const sid = document.body.dataset.callSid;
  let call;
  try {
    call = (await api('/api/calls/' + encodeURIComponent(sid))).call;
  } catch (error) {
    $('recording-missing').hidden = false;
    $('recording-missing').textContent = error.status === 404
      ? 'この通話は見つかりません。' : (error.status === 403
        ? 'この通話の録音を聞く権限がありません。' : '通話を読み込めませんでした。');
    return;
  }
  const list = $('recording-call');
  fact(list, '日時', new Date(call.started_at).toLocaleString('ja-JP'));
  fact(list, '方向', DIRECTIONS[call.direction] || call.direction);
  fact(list, '相手', call.customer_number || '');
  let link;
  try {
    link = await api('/api/calls/' + encodeURIComponent(sid) + '/recording-link');
  } catch (error) {
    $('recording-missing').hidden = false;
    $('recording-missing').textContent = error.status === 404
      ? 'この通話に録音はありません。' : (error.message || '録音を読み込めませんでした。');
    return;
  }
  const audio = $('recording-audio');
  audio.src = link.url;
  audio.hidden = false;
}
