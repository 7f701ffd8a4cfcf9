// The microphone and the camera: asking for them, saying in words why it failed (no
// microphone, camera denied, in use by another app), and the devices to switch between.
import { t } from '../i18n.js';

/** A getUserMedia failure for `device` ('microphone' | 'camera'), with the text to show. */
export class MediaError extends Error {
  constructor(device, reason, cause) {
    super(`${device}: ${reason}`);
    this.device = device;
    this.reason = reason; // 'denied' | 'missing' | 'busy' | 'insecure' | 'failed'
    this.cause = cause;
  }

  /** The explanation in the page's language. */
  get text() {
    const texts = this.device === 'camera' ? CAMERA : MICROPHONE;
    return (texts[this.reason] ?? texts.failed)();
  }
}

const MICROPHONE = {
  denied: () => t('calls.error_mic_denied'),
  missing: () => t('calls.error_mic_missing'),
  busy: () => t('calls.error_mic_busy'),
  insecure: () => t('calls.error_mic_insecure'),
  failed: () => t('calls.error_mic_failed'),
};

const CAMERA = {
  denied: () => t('calls.error_camera_denied'),
  missing: () => t('calls.error_camera_missing'),
  busy: () => t('calls.error_camera_busy'),
  insecure: () => t('calls.error_camera_insecure'),
  failed: () => t('calls.error_camera_failed'),
};

/** The DOMException names getUserMedia rejects with, as a reason people understand. */
function reasonOf(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return 'missing';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'busy';
    default:
      return 'failed';
  }
}

const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
const VIDEO = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
/** A conference's tiles are small and the SFU sends one layer (no simulcast): less to encode and to forward. */
const SMALL_VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } };

/**
 * One device's track: `kind` 'audio' | 'video', optionally a chosen deviceId; `small`:
 * the camera at a conference tile's size.
 */
export async function openTrack(kind, deviceId = null, { small = false } = {}) {
  const device = kind === 'video' ? 'camera' : 'microphone';
  if (!navigator.mediaDevices?.getUserMedia) throw new MediaError(device, 'insecure');
  const base = kind === 'video' ? (small ? SMALL_VIDEO : VIDEO) : AUDIO;
  const constraints = { [kind]: deviceId ? { ...base, deviceId: { exact: deviceId } } : base };
  try {
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    return stream.getTracks()[0];
  } catch (e) {
    throw new MediaError(device, reasonOf(e), e);
  }
}

/**
 * The microphone, and the camera if `video`: {audio, video, cameraError}. Without a
 * microphone there is no call (MediaError); without a camera a video call goes on with
 * voice only and `cameraError` says why.
 */
export async function openMedia(video, { small = false } = {}) {
  const audio = await openTrack('audio');
  if (!video) return { audio, video: null, cameraError: null };
  try {
    return { audio, video: await openTrack('video', null, { small }), cameraError: null };
  } catch (e) {
    return { audio, video: null, cameraError: e };
  }
}

/** The microphones and cameras this browser knows: {audio: [{id, label}], video: [...]}. */
export async function listDevices() {
  const found = { audio: [], video: [] };
  try {
    for (const d of await navigator.mediaDevices.enumerateDevices()) {
      const list = d.kind === 'audioinput' ? found.audio : d.kind === 'videoinput' ? found.video : null;
      if (!list || !d.deviceId || list.some((x) => x.id === d.deviceId)) continue;
      list.push({ id: d.deviceId, label: d.label || t(d.kind === 'audioinput' ? 'calls.device_mic_n' : 'calls.device_camera_n', { n: list.length + 1 }) });
    }
  } catch { /* no device list: nothing to switch to */ }
  return found;
}
