// Words and numbers around messages: titles, previews, sizes, times, avatars.
import { t, lang } from '../i18n.js';
import { store } from '../store.js';
import { me, peerOf } from '../chat-state.js';
import { systemText } from './system.js';
import { recordText } from '../calls/records.js';

// One clock, one plural rule and one avatar for every screen; the chat's modules take them from here.
export { counted, clockTime } from '../i18n.js';
export { avatar } from '../avatar.js';

/** What a conversation is called: the peer's name in my book, or the group's name. */
export function titleOf(conv) {
  if (!conv) return '';
  if (conv.kind === 'direct') return store.nameOf(peerOf(conv) ?? '');
  return conv.name || t('chat.group_untitled');
}

/** One-line stand-in for a message of any kind ("[Photo]" for a picture). */
export function kindText(msg) {
  if (msg.deleted) return t('chat.deleted');
  switch (msg.kind) {
    case 'text': return msg.text ?? '';
    case 'sticker': return t('chat.kind_sticker');
    case 'image': return t('chat.kind_image');
    case 'voice': return t('chat.kind_voice');
    case 'video': return t('chat.kind_video');
    case 'file': return msg.text ? t('chat.kind_file_named', { name: msg.text }) : t('chat.kind_file');
    case 'system': return systemText(msg);
    case 'call': return recordText(msg);
    default: return t('chat.kind_unknown');
  }
}

/** The conversation list's preview: "Ann: see you", "You: [Photo]". */
export function preview(conv, msg) {
  if (!msg) return '';
  const text = kindText(msg).replace(/\s+/g, ' ');
  // Lines of the chat itself, said from the reader's side: nobody's name in front.
  if (msg.kind === 'system' || msg.kind === 'call') return text;
  if (msg.sender === me()) return t('chat.preview_mine', { text });
  if (conv.kind === 'group') return t('chat.preview_group', { name: store.nameOf(msg.sender), text });
  return text;
}


const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'];
/** "1.2 MB" in the page's language. */
export function fileSize(bytes) {
  if (!Number.isFinite(bytes)) return '';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  try {
    return new Intl.NumberFormat(lang, { style: 'unit', unit: units[unit], unitDisplay: 'short',
      maximumFractionDigits: unit ? 1 : 0 }).format(value);
  } catch {
    return String(bytes);
  }
}

const dayLong = new Intl.DateTimeFormat(lang, { weekday: 'long', month: 'long', day: 'numeric' });
const dayYear = new Intl.DateTimeFormat(lang, { year: 'numeric', month: 'long', day: 'numeric' });

/** A day separator's label: Today, Yesterday, "Monday, March 3", "March 3, 2023". */
export function dayLabel(date) {
  const today = new Date();
  const yesterday = new Date(today);
  yesterday.setDate(today.getDate() - 1);
  if (date.toDateString() === today.toDateString()) return t('chat.today');
  if (date.toDateString() === yesterday.toDateString()) return t('chat.yesterday');
  return date.getFullYear() === today.getFullYear() ? dayLong.format(date) : dayYear.format(date);
}

/** Seconds as m:ss. */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** "Available", "Last seen 5 minutes ago". */
export function presenceText(p, ago) {
  if (p.state === 'offline' && p.last_seen_at) return t('presence.last_seen', { when: ago(p.last_seen_at) });
  const state = t(`presence.${p.state === 'invisible' ? 'offline' : p.state}`);
  return p.text ? `${state} · ${p.text}` : state;
}
