// Audio devices (SPEC SP-9): microphone, speaker and ringer, remembered per browser in
// localStorage and applied to the Twilio Device on every start — the SDK's own choice resets
// (peers.md "Audio devices"). Output selection needs setSinkId (not in every browser).
// The microphone is opened only for a call: the SDK keeps the stream of setInputDevice() (and
// the browser's recording indicator) until unsetInputDevice(), so calls.js opens it as a leg
// starts and releases it when no leg is left; the chosen device stays in localStorage.

const KEY = 'cti.audio';

export function loadAudioSettings() {
  try {
    return { input: '', speaker: '', ringer: '', ...JSON.parse(localStorage.getItem(KEY) || '{}') };
  } catch {
    return { input: '', speaker: '', ringer: '' };
  }
}

export function saveAudioSettings(settings) {
  try {
    localStorage.setItem(KEY, JSON.stringify(settings));
  } catch {
    // not remembered, but still applied for this session
  }
}

/** The constraints for Call.accept(): the chosen microphone, if any. */
export function audioConstraints() {
  const { input } = loadAudioSettings();
  return { audio: input ? { deviceId: { exact: input } } : true };
}

/** Speaker and ringer now; the microphone only when ``inCall`` (a changed choice mid-call). */
export async function applyAudioSettings(device, { inCall = false } = {}) {
  const audio = device?.audio;
  if (!audio) return;
  const { speaker, ringer } = loadAudioSettings();
  try {
    if (inCall) await openMicrophone(device);
    if (audio.isOutputSelectionSupported) {
      if (speaker) await audio.speakerDevices.set(speaker);
      if (ringer) await audio.ringtoneDevices.set(ringer);
    }
  } catch (error) {
    console.warn('audio device not available any more; using the default', error);
  }
}

/** Open the chosen microphone for a call starting now (the SDK's default device if none). */
export async function openMicrophone(device) {
  const audio = device?.audio;
  const { input } = loadAudioSettings();
  if (!input || !audio?.setInputDevice) return;
  try {
    await audio.setInputDevice(input);
  } catch (error) {
    console.warn('audio device not available any more; using the default', error);
  }
}

/** Close the microphone once no call needs it; the choice stays for the next call. */
export async function releaseMicrophone(device) {
  const audio = device?.audio;
  if (!audio?.unsetInputDevice) return;
  try {
    await audio.unsetInputDevice();
  } catch (error) {
    console.warn('the microphone could not be released', error);
  }
}

/** Whether the browser has been told not to let this site use the microphone. */
export async function microphoneBlocked() {
  try {
    const status = await navigator.permissions.query({ name: 'microphone' });
    return status.state === 'denied';
  } catch {
    return false; // the Permissions API cannot tell: find out when a call starts
  }
}

/** Audio inputs and outputs; labels appear once the microphone has been allowed. */
export async function listAudioDevices() {
  if (!navigator.mediaDevices?.enumerateDevices) return { inputs: [], outputs: [] };
  const devices = await navigator.mediaDevices.enumerateDevices();
  const describe = (d, i) => ({ id: d.deviceId, label: d.label || `${d.kind} ${i + 1}` });
  return {
    inputs: devices.filter((d) => d.kind === 'audioinput').map(describe),
    outputs: devices.filter((d) => d.kind === 'audiooutput').map(describe),
  };
}
