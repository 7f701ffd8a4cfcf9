// The composer: text (Enter sends on keyboards with a pointer, Shift+Enter breaks the
// line), emoji, stickers, attachments and voice notes; replying to and editing messages.
import { h, clear, toast } from '../dom.js';
import { t } from '../i18n.js';
import { store } from '../store.js';
import * as chat from '../chat-state.js';
import { kindText, duration } from './format.js';
import { EMOJI_GROUPS } from './emoji.js';
import { loadPacks } from './stickers.js';
import { recordingSupported, startRecording, recordingError } from './recorder.js';
import { chatErrorText } from './ui.js';

const touchFirst = () => window.matchMedia('(pointer: coarse)').matches;

/** The kind of message a chosen file becomes. */
function kindOf(file) {
  if (file.type.startsWith('image/') && file.type !== 'image/svg+xml') return 'image';
  if (file.type.startsWith('video/')) return 'video';
  return 'file';
}

function iconButton(test, label, icon, onclick, extra = {}) {
  return h('button', { type: 'button', class: 'icon composer-button', 'data-test': test, 'aria-label': label, title: label,
    onclick, ...extra }, h('span', { class: `ci ci-${icon}`, 'aria-hidden': 'true' }));
}

/** A composer for conversation `id`; `onSent()` after anything is sent (to scroll down). */
export function composer(id, { onSent }) {
  let reply = null;
  let editing = null;
  let recording = null;
  let clock = null;

  const input = h('textarea', { class: 'composer-input', 'data-test': 'composer', rows: 1, maxlength: 65536,
    'aria-label': t('chat.message_label'), placeholder: t('chat.message_placeholder'), enterkeyhint: touchFirst() ? 'enter' : 'send' });
  input.value = chat.draft.get(id);
  const contextText = h('span', { class: 'context-text' });
  const contextLabel = h('span', { class: 'context-label' });
  const context = h('div', { class: 'composer-context', 'data-test': 'composer-context', hidden: true },
    h('span', { class: 'context-body' }, contextLabel, contextText),
    h('button', { type: 'button', class: 'icon', 'data-test': 'composer-cancel', 'aria-label': t('chat.cancel_reply'),
      onclick: () => { endContext(); input.focus(); } }, '✕'));
  const error = h('p', { class: 'composer-error', role: 'alert', 'data-test': 'composer-error', hidden: true });
  const emojiPanel = h('div', { class: 'composer-panel emoji-panel', 'data-test': 'emoji-panel', hidden: true,
    role: 'group', 'aria-label': t('chat.emoji') });
  const stickerPanel = h('div', { class: 'composer-panel sticker-panel', 'data-test': 'sticker-panel', hidden: true,
    role: 'group', 'aria-label': t('chat.stickers') });
  const elapsed = h('time', { class: 'record-time', 'data-test': 'record-time' }, '0:00');
  const recordBar = h('div', { class: 'recording', 'data-test': 'recording', hidden: true, role: 'status' },
    h('span', { class: 'rec-dot', 'aria-hidden': 'true' }), h('span', {}, t('chat.recording')), elapsed,
    h('button', { type: 'button', class: 'link', 'data-test': 'record-cancel', onclick: () => stopRecording(false) },
      t('app.cancel')));

  const file = h('input', { type: 'file', multiple: true, class: 'visually-hidden', 'data-test': 'attach',
    'aria-label': t('chat.attach'), onchange: () => { attach([...file.files]); file.value = ''; } });
  const attachButton = h('label', { class: 'icon composer-button attach-button', title: t('chat.attach') }, file,
    h('span', { class: 'ci ci-attach', 'aria-hidden': 'true' }));
  const emojiOpen = iconButton('emoji-open', t('chat.emoji'), 'emoji', () => toggle(emojiPanel, emojiOpen), { 'aria-expanded': 'false' });
  const stickerOpen = iconButton('sticker-open', t('chat.stickers'), 'sticker', () => toggle(stickerPanel, stickerOpen), { 'aria-expanded': 'false' });
  const record = iconButton('record', t('chat.record'), 'mic', () => (recording ? stopRecording(true) : beginRecording()),
    { 'aria-pressed': 'false' });
  const sendButton = h('button', { type: 'submit', class: 'primary composer-send', 'data-test': 'send', 'aria-label': t('chat.send'),
    title: t('chat.send') }, h('span', { class: 'ci ci-send', 'aria-hidden': 'true' }));

  const form = h('form', { class: 'composer', 'data-test': 'composer-form', onsubmit: (e) => { e.preventDefault(); submit(); } },
    context, emojiPanel, stickerPanel, recordBar, error,
    h('div', { class: 'composer-row' }, emojiOpen, stickerOpen, attachButton, input, record, sendButton));

  function showError(text) {
    error.textContent = text || '';
    error.hidden = !text;
  }

  function grow() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, 160)}px`;
  }

  function toggle(panel, button, force) {
    const open = force ?? panel.hidden;
    for (const [p, b] of [[emojiPanel, emojiOpen], [stickerPanel, stickerOpen]]) {
      p.hidden = !(p === panel && open);
      b.setAttribute('aria-expanded', String(!p.hidden));
    }
    if (open && panel === emojiPanel && !emojiPanel.firstChild) fillEmoji();
    if (open && panel === stickerPanel && !stickerPanel.firstChild) fillStickers();
    if (open) panel.querySelector('button')?.focus();
  }

  function closePanels() { toggle(emojiPanel, emojiOpen, false); }

  function fillEmoji() {
    for (const [group, chars] of EMOJI_GROUPS) {
      emojiPanel.append(h('h3', { class: 'panel-heading' }, t(`chat.emoji_${group}`)),
        h('div', { class: 'emoji-grid' }, chars.map((c) => h('button', { type: 'button', class: 'emoji', 'data-test': 'emoji',
          'aria-label': c, onclick: () => insert(c) }, c))));
    }
  }

  async function fillStickers() {
    stickerPanel.append(h('p', { class: 'muted' }, t('app.loading')));
    try {
      const packs = await loadPacks();
      clear(stickerPanel);
      for (const pack of packs) {
        stickerPanel.append(h('h3', { class: 'panel-heading' }, pack.name),
          h('div', { class: 'sticker-grid' }, pack.stickers.map((s) => h('button', { type: 'button', class: 'sticker-choice',
            'data-test': 'sticker', 'data-name': s.name, 'aria-label': t('chat.sticker_alt', { emoji: s.emoji }),
            onclick: () => sendSticker(s.name) }, h('img', { src: s.url, alt: '', width: 64, height: 64 })))));
      }
    } catch (e) {
      clear(stickerPanel);
      stickerPanel.append(h('p', { class: 'error' }, chatErrorText(e)));
    }
  }

  function insert(text) {
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? start;
    input.setRangeText(text, start, end, 'end');
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.focus();
  }

  function endContext() {
    reply = null;
    if (editing) { editing = null; input.value = chat.draft.get(id); grow(); }
    context.hidden = true;
  }

  function setReply(msg) {
    editing = null;
    reply = msg;
    contextLabel.textContent = t('chat.replying_to', { name: store.nameOf(msg.sender) });
    contextText.textContent = kindText(msg);
    context.hidden = false;
    input.focus();
  }

  function startEdit(msg) {
    reply = null;
    editing = msg;
    contextLabel.textContent = t('chat.editing');
    contextText.textContent = msg.text ?? '';
    context.hidden = false;
    input.value = msg.text ?? '';
    grow();
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  function sent() {
    showError('');
    onSent?.();
  }

  async function submit() {
    const text = input.value.replace(/^\s*\n/, '').trimEnd();
    if (!text.trim()) return;
    if (editing) {
      const msg = editing;
      try {
        await chat.editText(id, msg.id, text);
        endContext();
        showError('');
      } catch (e) {
        showError(chatErrorText(e));
      }
      return;
    }
    chat.send(id, { kind: 'text', text, reply_to: reply?.id });
    input.value = '';
    chat.draft.set(id, '');
    grow();
    endContext();
    closePanels();
    sent();
    input.focus();
  }

  function sendSticker(name) {
    chat.send(id, { kind: 'sticker', text: name, reply_to: reply?.id });
    endContext();
    closePanels();
    sent();
  }

  function attach(files) {
    for (const f of files) {
      const kind = kindOf(f);
      chat.send(id, { kind, file: f, name: f.name, text: kind === 'file' ? f.name : undefined, reply_to: reply?.id });
    }
    if (files.length) { endContext(); sent(); }
  }

  async function beginRecording() {
    showError('');
    if (!recordingSupported()) { showError(t('chat.record_unsupported')); return; }
    record.disabled = true;
    try {
      recording = await startRecording();
    } catch (e) {
      showError(t(recordingError(e)));
      return;
    } finally {
      record.disabled = false;
    }
    recordBar.hidden = false;
    record.setAttribute('aria-pressed', 'true');
    record.setAttribute('aria-label', t('chat.record_stop'));
    record.title = t('chat.record_stop');
    record.classList.add('recording-on');
    const tick = () => { elapsed.textContent = duration((Date.now() - recording.startedAt) / 1000); };
    tick();
    clock = setInterval(tick, 250);
  }

  async function stopRecording(keep) {
    const current = recording;
    if (!current) return;
    recording = null;
    clearInterval(clock);
    recordBar.hidden = true;
    record.setAttribute('aria-pressed', 'false');
    record.setAttribute('aria-label', t('chat.record'));
    record.title = t('chat.record');
    record.classList.remove('recording-on');
    if (!keep) { current.cancel(); return; }
    try {
      const { file: audio, ext, seconds } = await current.stop();
      if (seconds < 0.5) { toast(t('chat.record_too_short')); return; }
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      chat.send(id, { kind: 'voice', file: audio, name: `voice-${stamp}.${ext}`, reply_to: reply?.id });
      endContext();
      sent();
    } catch (e) {
      console.warn('voice note', e);
      showError(t('chat.record_failed'));
    }
  }

  input.addEventListener('input', () => {
    grow();
    if (!editing) chat.draft.set(id, input.value);
    if (input.value.trim() && !editing) chat.sendTyping(id);
  });
  input.addEventListener('keydown', (e) => {
    // Never while an input method is composing (Chinese, Japanese...): Enter picks a word.
    if (e.key !== 'Enter' || e.isComposing || e.keyCode === 229) return;
    if (e.shiftKey || e.altKey || touchFirst()) return;
    e.preventDefault();
    submit();
  });
  // Arrow keys move through the emoji and sticker grids.
  for (const panel of [emojiPanel, stickerPanel]) {
    panel.addEventListener('keydown', (e) => {
      const step = { ArrowRight: 1, ArrowDown: 8, ArrowLeft: -1, ArrowUp: -8 }[e.key];
      if (!step) return;
      const all = [...panel.querySelectorAll('button')];
      const at = all.indexOf(document.activeElement);
      if (at < 0) return;
      e.preventDefault();
      all[Math.max(0, Math.min(all.length - 1, at + step))].focus();
    });
  }
  form.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (!emojiPanel.hidden || !stickerPanel.hidden) { closePanels(); input.focus(); }
    else if (!context.hidden) endContext();
  });
  queueMicrotask(grow);

  return {
    el: form,
    setReply,
    startEdit,
    focus: () => input.focus(),
    destroy() {
      if (recording) { recording.cancel(); recording = null; }
      clearInterval(clock);
    },
  };
}
