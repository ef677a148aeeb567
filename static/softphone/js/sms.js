// SMS from the softphone (SPEC SM-1): to the current caller or a typed number, free text or an
// admin's template, with the segment rule shown as the agent types — 70 characters per message
// in Japanese (UCS-2; 67 per segment once split), 160 in plain ASCII (153). The server renders
// templates and sends; see docs/integrations.md.

import { apiMessage, t } from './i18n.js';

const GSM7 = new Set([...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡'
  + 'ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà']);
const GSM7_EXTENSION = new Set([...'^{}\\[~]|€\f']);

/** What `text` costs, as voice/sms_segments.py counts it. */
export function segments(text) {
  const chars = [...text];
  const gsm = chars.every((ch) => GSM7.has(ch) || GSM7_EXTENSION.has(ch));
  const units = gsm ? chars.reduce((n, ch) => n + (GSM7_EXTENSION.has(ch) ? 2 : 1), 0)
    : text.length; // JavaScript strings are UTF-16: an emoji is two units, as for carriers
  const [single, multi] = gsm ? [160, 153] : [70, 67];
  if (units <= single) {
    return { encoding: gsm ? 'GSM-7' : 'UCS-2', characters: units, segments: 1,
      per_segment: single, remaining: single - units };
  }
  const count = Math.ceil(units / multi);
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', characters: units, segments: count,
    per_segment: multi, remaining: count * multi - units };
}

/** Wire the SMS card; `maxSegments` is [sms] max_segments. */
export function startSms({ root, api, store, maxSegments = 5 }) {
  const form = root.getElementById('sms');
  if (!form) return;
  const to = root.getElementById('sms-to');
  const template = root.getElementById('sms-template');
  const body = root.getElementById('sms-body');
  const count = root.getElementById('sms-count');
  let filledFor = '';
  let loaded = false;

  function showCount() {
    const cost = segments(body.value);
    const tooLong = cost.segments > maxSegments;
    count.textContent = tooLong ? t('sms.too_long', { segments: cost.segments, max: maxSegments })
      : t('sms.count', { chars: cost.characters, segments: cost.segments,
        per: cost.per_segment, remaining: cost.remaining });
    count.classList.toggle('error', tooLong);
  }

  async function loadTemplates() {
    loaded = true;
    let answer;
    try {
      answer = await api.get('/api/sms/templates');
    } catch {
      loaded = false;
      return;
    }
    const none = new Option(t('sms.template.none'), '');
    template.replaceChildren(none, ...(answer.templates || []).map((item) => new Option(
      item.name, item.name)));
  }

  template.addEventListener('change', async () => {
    if (!template.value) return;
    try {
      const preview = await api.post('/api/sms/preview', { template: template.value,
        to: to.value || undefined });
      body.value = preview.body;
    } catch (error) {
      store.set({ notice: { kind: 'error', text: apiMessage(error), at: Date.now() } });
    }
    showCount();
  });
  body.addEventListener('input', showCount);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const request = { to: to.value };
    if (template.value && body.value === '') request.template = template.value;
    else request.body = body.value;
    const sid = store.state.call?.sid || store.state.acw?.sid;
    if (sid) request.call_sid = sid;
    try {
      await api.post('/api/sms', request);
      store.set({ notice: { kind: 'info', text: t('sms.sent', { number: to.value }),
        at: Date.now() } });
      body.value = '';
      template.value = '';
      showCount();
    } catch (error) {
      store.set({ notice: { kind: 'error', text: apiMessage(error), at: Date.now() } });
    }
  });

  store.on('change', (state) => {
    form.hidden = !state.signedIn;
    if (state.signedIn && !loaded) loadTemplates();
    // The current caller (or the one in after-call work) is the default recipient.
    const current = state.call?.e164 || state.acw?.summary?.e164 || '';
    if (current && current !== filledFor && (!to.value || to.value === filledFor)) {
      to.value = current;
      filledFor = current;
    }
    showCount(); // also after a language switch
  });
  form.hidden = !store.state.signedIn;
  if (store.state.signedIn) loadTemplates();
  showCount();
}
