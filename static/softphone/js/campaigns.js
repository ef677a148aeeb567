// The campaign panel (キャンペーン, SPEC CA-1): an agent assigned to a running campaign sees
// its contacts here. Preview mode: the next contact (fields, CRM records) with 発信 and
// スキップ. Progressive mode: the contact of the call the dialer bridged to the agent. After
// the conversation: the result (結果), a note and a recall (再コール); and the agent's recall
// list (再コール一覧). Everything goes through /api/campaigns (docs/campaigns.md).

import { apiMessage, t } from './i18n.js';
import { displayNumber } from './numbers.js';

/** How often the panel asks what the agent works on (the dialer may bridge a call any time). */
const POLL_MS = 4000;
const RECALL_PRESETS = ['10m', '1h', '1d'];

/** Wire the campaign card of the phone view. */
export function startCampaigns({ root, api, store, perform }) {
  const card = root.getElementById('campaign');
  if (!card) return;
  const $ = (selector) => card.querySelector(selector);
  const picker = $('#campaign-select');
  const form = $('#campaign-result');
  let campaigns = [];
  let working = null; // {contact, campaign, customer} from /api/campaigns/current
  let timer = null;
  let busy = false;

  const notice = (kind, text) => store.set({ notice: { kind, text, at: Date.now() } });
  const fail = (error) => notice('error', apiMessage(error));
  const chosen = () => campaigns.find((c) => String(c.id) === picker.value) || campaigns[0];

  async function refresh() {
    if (busy || !store.state.signedIn) return;
    busy = true;
    try {
      campaigns = (await api.get('/api/campaigns/mine')).campaigns || [];
      working = campaigns.length ? await api.get('/api/campaigns/current') : null;
      // The next preview contact is kept for the agent until 発信 or スキップ, so it is only
      // taken while they are 待機 — not for an agent who is away.
      const free = store.state.presence?.status === 'available' && !store.state.call;
      if (!working?.contact && free && chosen()?.mode === 'preview'
          && chosen()?.status === 'running') {
        working = await api.post(`/api/campaigns/${chosen().id}/preview/next`);
        if (working.contact) working.campaign = chosen();
      }
      if (campaigns.length) await loadRecalls();
    } catch (error) {
      if (error.status !== 401) fail(error);
    } finally {
      busy = false;
    }
    render();
  }

  async function loadRecalls() {
    const list = $('#campaign-recalls');
    const recalls = (await api.get('/api/campaigns/recalls')).recalls || [];
    list.replaceChildren(...(recalls.length ? recalls.map(recallItem)
      : [item(t('campaign.recalls.empty'), 'hint')]));
  }

  function recallItem(recall) {
    const li = document.createElement('li');
    const who = document.createElement('span');
    who.className = 'recall-who';
    who.textContent = `${recall.name} ${recall.display || displayNumber(recall.e164)}`.trim();
    const when = document.createElement('span');
    when.className = 'recall-when';
    when.textContent = `${formatWhen(recall.recall_at)} · ${recall.campaign_name}`
      + (recall.owner_agent_id ? '' : ` · ${t('campaign.recall.shared')}`);
    li.append(who, when);
    return li;
  }

  function render() {
    card.hidden = !store.state.signedIn || campaigns.length === 0;
    if (card.hidden) {
      root.body.classList.remove('campaign-wrapup');
      return;
    }
    const key = campaigns.map((c) => `${c.id}:${c.name}:${c.status}`).join('|');
    if (picker.dataset.key !== key) {
      const keep = picker.value;
      picker.replaceChildren(...campaigns.map((c) => new Option(
        `${c.name}（${t(`campaign.mode.${c.mode}`)}${c.status === 'paused'
          ? ` · ${t('campaign.paused')}` : ''}）`, String(c.id))));
      if (campaigns.some((c) => String(c.id) === keep)) picker.value = keep;
      picker.dataset.key = key;
    }
    picker.closest('label').hidden = campaigns.length < 2;
    $('.campaign-name').textContent = chosen().name;
    const contact = working?.contact || null;
    card.dataset.state = contact ? contact.state : 'idle';
    $('.campaign-contact').hidden = !contact;
    $('.campaign-idle').hidden = Boolean(contact);
    $('.campaign-idle').textContent = chosen().status === 'paused' ? t('campaign.paused_hint')
      : chosen().mode === 'preview' ? t('campaign.none') : t('campaign.waiting');
    $('.preview-actions').hidden = contact?.state !== 'preview';
    form.hidden = contact?.state !== 'wrapup';
    // The campaign's result form replaces the softphone's own after-call form for this call.
    root.body.classList.toggle('campaign-wrapup', contact?.state === 'wrapup');
    $('.campaign-dialing').hidden = contact?.state !== 'dialing';
    if (contact) showContact(contact, working.customer || {});
    if (contact?.state === 'wrapup') fillResults(working.campaign || chosen(), contact);
  }

  function showContact(contact, customer) {
    $('.contact-name').textContent = contact.name || customer.name || t('call.unknown');
    $('.contact-company').textContent = contact.company || customer.company || '';
    $('.contact-number').textContent = contact.display || displayNumber(contact.e164);
    const rows = [];
    if (contact.attempts) rows.push([t('campaign.attempts'), String(contact.attempts)]);
    for (const [name, value] of Object.entries(contact.extra || {})) rows.push([name, value]);
    if (contact.note) rows.push([t('campaign.note'), contact.note]);
    if (contact.agent_note) rows.push([t('campaign.last_note'), contact.agent_note]);
    $('.contact-fields').replaceChildren(...rows.flatMap(([name, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.textContent = value;
      return [dt, dd];
    }));
    const records = (customer.matches || []).filter((m) => m.url);
    $('.contact-records').replaceChildren(...records.map((match) => {
      const link = document.createElement('a');
      link.href = match.url;
      link.target = 'cti-crm';
      link.rel = 'noopener';
      link.textContent = t('campaign.open_record', { name: match.name || match.id });
      return item(link);
    }));
  }

  function fillResults(campaign, contact) {
    const select = $('#campaign-disposition');
    const key = `${contact.id}:${campaign.id}`;
    if (select.dataset.key === key) return;
    select.replaceChildren(new Option(t('campaign.result.choose'), ''),
      ...(campaign.dispositions || []).map((d) => new Option(d.label, d.code)));
    select.dataset.key = key;
    $('#campaign-note').value = '';
    form.querySelector('input[name="recall"][value=""]').checked = true;
    showRecallTime();
  }

  function showRecallTime() {
    const at = form.querySelector('input[name="recall"]:checked')?.value === 'at';
    $('.recall-at').hidden = !at;
    $('.recall-for').hidden = !form.querySelector('input[name="recall"]:checked')?.value;
  }

  function suggestRecall() {
    const campaign = working?.campaign || chosen();
    const choice = (campaign.dispositions || []).find(
      (d) => d.code === $('#campaign-disposition').value);
    const none = form.querySelector('input[name="recall"][value=""]');
    // 検討・本人不在 (not final) are the results that call for a recall.
    if (choice && choice.final === false && none.checked) {
      form.querySelector('input[name="recall"][value="1h"]').checked = true;
      showRecallTime();
    }
  }

  async function act(path, body) {
    try {
      return await api.post(path, body);
    } catch (error) {
      fail(error);
      return null;
    } finally {
      await refresh();
    }
  }

  async function saveResult(event) {
    event.preventDefault();
    const contact = working?.contact;
    const result = $('#campaign-disposition').value;
    if (!contact) return;
    if (!result) {
      notice('error', t('campaign.result.needed'));
      return;
    }
    const body = { result, note: $('#campaign-note').value };
    const recall = form.querySelector('input[name="recall"]:checked')?.value;
    if (RECALL_PRESETS.includes(recall)) body.recall = { after: recall };
    if (recall === 'at') {
      const local = $('#campaign-recall-at').value;
      if (!local) {
        notice('error', t('campaign.recall.need_time'));
        return;
      }
      body.recall = { at: new Date(local).toISOString() };
    }
    if (body.recall) body.recall_for = form.querySelector('input[name="recall_for"]:checked').value;
    const saved = await act(`/api/campaigns/contacts/${contact.id}/result`, body);
    if (!saved) return;
    notice('info', body.recall ? t('campaign.saved_recall') : t('campaign.saved'));
    // The result ends 後処理 on the server; the softphone's own after-call form is done too.
    if (store.state.acw) perform('finishAcw');
  }

  picker.addEventListener('change', () => {
    working = null;
    refresh();
  });
  $('#campaign-dial').addEventListener('click', () => {
    if (working?.contact) act(`/api/campaigns/contacts/${working.contact.id}/dial`);
  });
  $('#campaign-skip').addEventListener('click', () => {
    if (working?.contact) act(`/api/campaigns/contacts/${working.contact.id}/skip`);
  });
  $('#campaign-refresh').addEventListener('click', refresh);
  $('#campaign-disposition').addEventListener('change', suggestRecall);
  for (const radio of form.querySelectorAll('input[name="recall"]')) {
    radio.addEventListener('change', showRecallTime);
  }
  form.addEventListener('submit', saveResult);

  let wasSignedIn = false;
  let lastCall = '';
  store.on('change', (state) => {
    const callKey = `${state.call?.phase || ''}:${Boolean(state.acw)}`;
    if (state.signedIn && (!wasSignedIn || callKey !== lastCall)) refresh();
    if (!state.signedIn) {
      campaigns = [];
      working = null;
      render();
    }
    wasSignedIn = state.signedIn;
    lastCall = callKey;
  });
  clearInterval(timer);
  timer = setInterval(() => {
    if (store.state.signedIn && !document.hidden) refresh();
  }, POLL_MS);
  render();
}

function item(content, className = '') {
  const li = document.createElement('li');
  if (className) li.className = className;
  li.append(content);
  return li;
}

function formatWhen(iso) {
  const when = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${when.getMonth() + 1}/${when.getDate()} ${pad(when.getHours())}:${pad(when.getMinutes())}`;
}
