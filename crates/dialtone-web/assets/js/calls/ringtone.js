// The ringtone, made with WebAudio (no sound file): two tones together, on for a second
// and a half, off for two and a half, until stopped. A browser that will not play sound
// before the user has touched the page stays silent; the screen still rings.

const ON_SECONDS = 1.5;
const PERIOD_SECONDS = 4;
const TONES = [440, 480];

let context = null;
let timer = null;
let gain = null;

function ring() {
  const now = context.currentTime;
  for (const frequency of TONES) {
    const oscillator = context.createOscillator();
    oscillator.frequency.value = frequency;
    oscillator.connect(gain);
    oscillator.start(now);
    oscillator.stop(now + ON_SECONDS);
  }
}

/** Starts ringing (again from the start if it already rang). */
export function startRingtone() {
  stopRingtone();
  try {
    context = new AudioContext();
    gain = context.createGain();
    gain.gain.value = 0.12;
    gain.connect(context.destination);
    context.resume().catch(() => {});
    ring();
    timer = setInterval(ring, PERIOD_SECONDS * 1000);
  } catch {
    context = null;
  }
}

/** Stops ringing; harmless when nothing rings. */
export function stopRingtone() {
  clearInterval(timer);
  timer = null;
  const old = context;
  context = null;
  gain = null;
  old?.close().catch(() => {});
}
