// One message bubble, of any kind. User text only ever becomes text nodes (links are
// real <a> elements built from parsed http(s) URLs, never markup).
import { h } from '../dom.js';
import { t, fullTime } from '../i18n.js';
import { store } from '../store.js';
import { me } from '../chat-state.js';
import { kindText, clockTime, fileSize } from './format.js';
import { imageUrl, attachmentUrl, attachmentSize, whenNear, fill, showImage, download } from './media.js';
import { stickerUrl, stickerAlt, loadPacks } from './stickers.js';
import { systemText } from './system.js';
import { chatErrorText } from './ui.js';
import { recordText, isMissed } from '../calls/records.js';

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'\u3000-\u303f\uff00-\uffef]+/gi;

/** Text with http(s) links made clickable; everything else stays plain text. */
function linkified(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    // A sentence's closing punctuation is not part of the link.
    const raw = match[0].replace(/[.,;:!?)\]]+$/, '');
    let url = null;
    try { url = new URL(raw); } catch { /* not a URL after all */ }
    if (!url || !/^https?:$/.test(url.protocol)) continue;
    parts.push(text.slice(last, match.index));
    parts.push(h('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer nofollow' }, raw));
    last = match.index + raw.length;
  }
  parts.push(text.slice(last));
  return parts;
}

const segmenter = typeof Intl.Segmenter === 'function' ? new Intl.Segmenter() : null;
/** A few emoji and nothing else: shown large, as messengers do. */
function onlyEmoji(text) {
  const trimmed = text.trim();
  if (!trimmed || !/^[\p{Extended_Pictographic}\p{Emoji_Component}\u200d\ufe0f\s]+$/u.test(trimmed)) return false;
  if (/^[\d#*\s]+$/.test(trimmed)) return false;
  const count = segmenter ? [...segmenter.segment(trimmed.replace(/\s/g, ''))].length : trimmed.length;
  return count <= 3;
}

function textBlock(text, test = 'message-text') {
  return h('p', { class: onlyEmoji(text) ? 'msg-text jumbo' : 'msg-text', 'data-test': test, dir: 'auto' }, linkified(text));
}

function progressBar(msg) {
  if (msg.progress === null || msg.progress === undefined || msg.status !== 'pending' || msg.attachment_id) return null;
  return h('progress', { class: 'upload-progress', 'data-test': 'upload-progress', max: '1', value: String(msg.progress),
    'aria-label': t('chat.uploading') });
}

/** The media element of a message; `stick()` is called when its size becomes known. */
function content(msg, stick) {
  const local = msg.localUrl;
  switch (msg.kind) {
    case 'text':
      return textBlock(msg.text ?? '');
    case 'sticker': {
      const img = h('img', { class: 'sticker', 'data-test': 'message-sticker', alt: stickerAlt(msg.text), width: 128, height: 128 });
      const src = stickerUrl(msg.text);
      if (src) img.src = src;
      loadPacks().then(() => { img.alt = stickerAlt(msg.text); }).catch(() => {});
      return img;
    }
    case 'image': {
      const img = h('img', { class: 'msg-image', 'data-test': 'message-image', alt: t('chat.kind_image') });
      if (local) { img.src = local; img.addEventListener('load', stick, { once: true }); }
      else if (msg.attachment) whenNear(img, () => fill(img, imageUrl(msg.attachment), stick));
      const open = h('button', { type: 'button', class: 'media-button', 'aria-label': t('chat.open_image'),
        onclick: () => msg.attachment && showImage(msg.attachment, t('chat.kind_image')) }, img);
      return [open, msg.text ? textBlock(msg.text, 'message-caption') : null];
    }
    case 'voice': {
      const audio = h('audio', { controls: true, preload: 'metadata', class: 'msg-voice', 'data-test': 'message-voice',
        'aria-label': t('chat.kind_voice') });
      if (local) audio.src = local;
      else if (msg.attachment) whenNear(audio, () => fill(audio, attachmentUrl(msg.attachment)));
      return audio;
    }
    case 'video': {
      const video = h('video', { controls: true, preload: 'metadata', playsinline: true, class: 'msg-video',
        'data-test': 'message-video', 'aria-label': t('chat.kind_video') });
      if (local) video.src = local;
      else if (msg.attachment) whenNear(video, () => fill(video, attachmentUrl(msg.attachment), stick));
      return [video, msg.text ? textBlock(msg.text, 'message-caption') : null];
    }
    case 'file': {
      const name = msg.name || msg.text || t('chat.kind_file');
      const size = h('span', { class: 'file-size muted' }, msg.size ? fileSize(msg.size) : '');
      if (!msg.size && msg.attachment) attachmentSize(msg.attachment).then((n) => { if (n !== null) size.textContent = fileSize(n); });
      const get = msg.attachment
        ? h('button', { type: 'button', class: 'link file-download', 'data-test': 'file-download',
          'aria-label': t('chat.download_file', { name }),
          onclick: () => download(msg.attachment, name).catch(() => {}) }, t('chat.download'))
        : null;
      return h('div', { class: 'msg-file', 'data-test': 'message-file' },
        h('span', { class: 'file-icon', 'aria-hidden': 'true' }),
        h('span', { class: 'file-text' }, h('span', { class: 'file-name', dir: 'auto' }, name), size), get);
    }
    case 'call': {
      // A call's record: what happened, from my side; missed ones in red.
      const video = msg.call?.media === 'video';
      return h('p', { class: `msg-call${isMissed(msg) ? ' missed' : ''}`, 'data-test': 'call-record',
        'data-outcome': msg.call?.outcome ?? '', 'data-media': video ? 'video' : 'voice' },
      h('span', { class: `ci ${video ? 'ci-video' : 'ci-phone'}`, 'aria-hidden': 'true' }),
      h('span', {}, recordText(msg)));
    }
    default:
      return h('p', { class: 'msg-text muted' }, t('chat.kind_unknown'));
  }
}

function quote(ctx, replyTo) {
  const quoted = ctx.replied(replyTo);
  return h('button', { type: 'button', class: 'reply-quote', 'data-test': 'reply-quote',
    'aria-label': t('chat.reply_jump'), onclick: () => ctx.jumpTo(replyTo) },
  h('span', { class: 'quote-name' }, quoted ? store.nameOf(quoted.sender) : t('chat.reply_original')),
  h('span', { class: 'quote-text' }, quoted ? kindText(quoted) : t('chat.reply_not_loaded')));
}

/**
 * A bubble: <div data-test="message" data-seq data-mine>. ctx = {conv, group, replied(id),
 * jumpTo(id), menu(msg, button), retry(msg), discard(msg), stick()}.
 */
export function renderMessage(msg, ctx) {
  if (msg.kind === 'system') {
    // A change of the group: a centred line, nobody's bubble (no menu, no ticks).
    const line = h('div', { class: 'msg system-line', 'data-test': 'system-line', 'data-seq': String(msg.seq),
      'data-id': msg.id ?? null, 'data-action': msg.system?.action ?? '', role: 'note' },
    h('span', { dir: 'auto' }, systemText(msg)));
    line.tick = null;
    return line;
  }
  const mine = msg.sender === me();
  const pendingOne = Boolean(msg.status);
  const bubble = h('div', { class: `bubble kind-${msg.kind}${msg.deleted ? ' deleted' : ''}` });
  if (ctx.group && !mine) {
    bubble.append(h('span', { class: 'msg-sender', 'data-test': 'message-sender' }, store.nameOf(msg.sender)));
  }
  if (msg.deleted) {
    bubble.append(h('p', { class: 'msg-text msg-deleted', 'data-test': 'message-deleted' }, t('chat.deleted')));
  } else {
    if (msg.reply_to) bubble.append(quote(ctx, msg.reply_to));
    const body = content(msg, ctx.stick);
    bubble.append(...[body].flat().filter(Boolean));
    const bar = progressBar(msg);
    if (bar) bubble.append(bar);
  }
  const tick = mine ? h('span', { class: 'tick', 'data-test': 'tick', role: 'img' }) : null;
  bubble.append(h('span', { class: 'msg-meta' },
    msg.edited_at && !msg.deleted ? h('span', { class: 'edited', 'data-test': 'edited' }, t('chat.edited')) : null,
    h('time', { datetime: msg.sent_at, title: fullTime(msg.sent_at) }, clockTime(msg.sent_at)), tick));

  const el = h('div', {
    class: `msg${mine ? ' mine' : ''}${pendingOne ? ' pending' : ''}`,
    'data-test': 'message',
    'data-seq': pendingOne ? null : String(msg.seq),
    'data-id': msg.id ?? null,
    'data-client-id': msg.client_id,
    'data-mine': mine ? 'true' : 'false',
    'data-kind': msg.kind,
  }, bubble);
  if (!pendingOne && !msg.deleted) {
    const menu = h('button', { type: 'button', class: 'msg-menu', 'data-test': 'message-actions',
      'aria-label': t('chat.actions'), 'aria-haspopup': 'menu', onclick: (e) => ctx.menu(msg, e.currentTarget) }, '⋯');
    el.append(menu);
  }
  if (msg.status === 'failed') {
    el.append(h('div', { class: 'msg-failed', role: 'alert' },
      // Offline: it goes by itself once connected; a refusal says why.
      h('span', {}, msg.error?.status ? chatErrorText(msg.error) : t('chat.not_sent')),
      h('button', { type: 'button', class: 'link', 'data-test': 'retry', onclick: () => ctx.retry(msg) }, t('chat.retry')),
      h('button', { type: 'button', class: 'link', 'data-test': 'discard', onclick: () => ctx.discard(msg) }, t('chat.discard'))));
  }
  el.tick = tick;
  return el;
}

/** Puts a status on a tick: ✓ sent, ✓✓ delivered, blue ✓✓ read, a clock while pending. */
export function setTick(tick, status) {
  if (!tick || tick.dataset.status === status) return;
  tick.dataset.status = status;
  tick.setAttribute('aria-label', t(`chat.status_${status}`));
  tick.title = t(`chat.status_${status}`);
}

/** What makes a bubble look different (its tick aside, which is updated in place). */
export function versionOf(msg) {
  return [msg.edited_at, msg.deleted, msg.status, msg.attachment_id, msg.text, msg.kind, msg.call?.outcome].join('|');
}
