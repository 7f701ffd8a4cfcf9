// Calls in words: the record a call leaves in its chat (messages of kind `call`:
// "Voice call · 2:31", "Missed video call", "Declined"), why a call ended, and its clock.
import { t } from '../i18n.js';
import { me } from '../chat-state.js';

/** A call's length: "0:07", "2:31", "1:02:03". */
export function callDuration(ms) {
  const total = Math.max(0, Math.floor((ms ?? 0) / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

const RECORDS = {
  voice: {
    answered: (d) => t('calls.record_voice_answered', { duration: d }),
    missed_in: () => t('calls.record_voice_missed_in'),
    missed_out: () => t('calls.record_voice_missed_out'),
    declined_in: () => t('calls.record_voice_declined_in'),
    declined_out: () => t('calls.record_voice_declined_out'),
  },
  video: {
    answered: (d) => t('calls.record_video_answered', { duration: d }),
    missed_in: () => t('calls.record_video_missed_in'),
    missed_out: () => t('calls.record_video_missed_out'),
    declined_in: () => t('calls.record_video_declined_in'),
    declined_out: () => t('calls.record_video_declined_out'),
  },
};

/**
 * The line a `call` message shows, from the side of whoever reads it (the record is sent
 * by the caller): "Voice call · 2:31", "Missed video call", "Voice call declined".
 */
export function recordText(msg) {
  const call = msg.call ?? {};
  const texts = RECORDS[call.media === 'video' ? 'video' : 'voice'];
  const side = msg.sender === me() ? 'out' : 'in';
  switch (call.outcome) {
    case 'answered': return texts.answered(callDuration(call.duration_ms));
    case 'declined': return texts[`declined_${side}`]();
    default: return texts[`missed_${side}`]();
  }
}

/** Whether a record tells of a call I did not take (drawn in red, as messengers do). */
export function isMissed(msg) {
  return msg.call?.outcome !== 'answered' && msg.sender !== me();
}

const ENDED = {
  declined: () => t('calls.ended_declined'),
  busy: () => t('calls.ended_busy'),
  no_answer: () => t('calls.ended_no_answer'),
  answered_elsewhere: () => t('calls.ended_answered_elsewhere'),
  declined_elsewhere: () => t('calls.ended_declined_elsewhere'),
  offline: () => t('calls.ended_offline'),
  call_not_found: () => t('calls.ended_gone'),
  rate_limited: () => t('calls.ended_rate_limited'),
};

/**
 * Why a call ended, in words, or null when there is nothing to say (I declined it myself).
 * `ended` is calls' 'ended' event: {call, reason, durationMs, error, code, local}.
 */
export function endedText({ call, reason, durationMs, error, code, local }, name) {
  if (reason === 'media_error') return error?.text ?? t('calls.ended_error');
  if (reason === 'declined_here') return null;
  // A group call that rang here and ended before I joined it.
  if (call.group && !call.answeredAt && !local) return call.outgoing ? t('calls.ended_gone') : t('calls.ended_missed', { name });
  if (reason === 'hung_up') return t('calls.ended_hung_up', { duration: callDuration(durationMs) });
  if (reason === 'cancelled') return local ? t('calls.ended_cancelled') : t('calls.ended_missed', { name });
  // Nobody answered: the caller hears "no answer", the callee sees a missed call.
  if (reason === 'no_answer' && !call.outgoing) return t('calls.ended_missed', { name });
  if (reason === 'error') return (ENDED[code] ?? (() => t('calls.ended_error')))();
  return (ENDED[reason] ?? (() => t('calls.ended_error')))();
}
