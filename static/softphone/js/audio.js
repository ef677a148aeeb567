// Audio devices (SPEC SP-9): microphone, speaker and ringer, remembered per browser in
// localStorage and applied to the Twilio Device on every start — the SDK's own choice resets
// (peers.md "Audio devices"). Output selection needs setSinkId (not in every browser).

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

export async function applyAudioSettings(device) {
  const audio = device?.audio;
  if (!audio) return;
  const { input, speaker, ringer } = loadAudioSettings();
  try {
    if (input && audio.setInputDevice) await audio.setInputDevice(input);
    if (audio.isOutputSelectionSupported) {
      if (speaker) await audio.speakerDevices.set(speaker);
      if (ringer) await audio.ringtoneDevices.set(ringer);
    }
  } catch (error) {
    console.warn('audio device not available any more; using the default', error);
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
