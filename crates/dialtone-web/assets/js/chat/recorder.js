// Voice notes: MediaRecorder on the microphone, delivered as a file the server takes for
// audio (see ogg.js for why WebM is rewritten).
import { webmToOgg, markM4a } from './ogg.js';

const TYPES = ['audio/ogg;codecs=opus', 'audio/webm;codecs=opus', 'audio/webm', 'audio/mp4'];

export function recordingSupported() {
  return Boolean(navigator.mediaDevices?.getUserMedia && typeof window.MediaRecorder === 'function');
}

/** Why recording failed, as a catalogue key. */
export function recordingError(e) {
  if (e?.name === 'NotAllowedError' || e?.name === 'SecurityError') return 'chat.mic_denied';
  if (e?.name === 'NotFoundError' || e?.name === 'OverconstrainedError') return 'chat.mic_missing';
  return 'chat.record_failed';
}

async function asAudioFile(blob, type) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  if (type.startsWith('audio/ogg')) return { file: new Blob([bytes], { type: 'audio/ogg' }), ext: 'ogg' };
  if (type.startsWith('audio/mp4')) return { file: markM4a(bytes), ext: 'm4a' };
  return { file: webmToOgg(bytes), ext: 'ogg' };
}

/**
 * Starts recording. Resolves to {stop() → Promise<{file, ext, seconds}>, cancel()}; rejects
 * when the microphone is missing or not allowed.
 */
export async function startRecording() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const type = TYPES.find((t) => MediaRecorder.isTypeSupported(t)) ?? '';
  let recorder;
  try {
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
  } catch (e) {
    stream.getTracks().forEach((track) => track.stop());
    throw e;
  }
  const chunks = [];
  const startedAt = Date.now();
  recorder.ondataavailable = (e) => { if (e.data?.size) chunks.push(e.data); };
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(250);
  const release = () => stream.getTracks().forEach((track) => track.stop());
  return {
    startedAt,
    async stop() {
      if (recorder.state !== 'inactive') recorder.stop();
      await stopped;
      release();
      const seconds = (Date.now() - startedAt) / 1000;
      const { file, ext } = await asAudioFile(new Blob(chunks), recorder.mimeType || type);
      return { file, ext, seconds };
    },
    cancel() {
      if (recorder.state !== 'inactive') recorder.stop();
      release();
    },
  };
}
