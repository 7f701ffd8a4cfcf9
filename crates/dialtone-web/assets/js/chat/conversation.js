// One open conversation: header (presence or members), the messages with day separators,
// the typing line and the composer. Bubbles are kept across redraws (a playing voice note
// keeps playing when a message arrives) and only rebuilt when the message changed.
import { h, clear, toast } from '../dom.js';
import { t, ago } from '../i18n.js';
import { store } from '../store.js';
import * as chat from '../chat-state.js';
import { titleOf, avatar, presenceText, dayLabel, counted } from './format.js';
import { renderMessage, setTick, versionOf } from './message.js';
import { composer } from './composer.js';
import { showMenu, confirmDialog, chatErrorText } from './ui.js';
import { errorText } from '../views/auth.js';
import { calls } from '../calls/call.js';
import { conferences } from '../calls/conference.js';
import { api } from '../api.js';
import { searchBox } from './search.js';

const NEAR_BOTTOM_PX = 120;
const OLDER_WHEN_PX = 300;

function typingText(conv, phones) {
  if (!phones.length) return '';
  if (conv.kind === 'direct') return t('chat.typing');
  if (phones.length === 1) return t('chat.typing_one', { name: store.nameOf(phones[0]) });
  return t('chat.typing_many', { count: phones.length });
}

/** The conversation pane for `id`: {el, destroy}; `focusSeq` opens it at that message. */
export function conversationPane(id, { focusSeq = null } = {}) {
  const el = h('section', { class: 'chat-pane', 'aria-label': t('chat.conversation') });
  const status = h('p', { class: 'muted pane-status', role: 'status' }, t('app.loading'));
  el.append(status);
  const offs = [];
  let destroyed = false;
  let parts = null;

  chat.setOpen(id);
  (async () => {
    let conv;
    try {
      await chat.whenLoaded();
      conv = await chat.conversation(id);
    } catch (e) {
      if (destroyed) return;
      status.textContent = e?.status === 404 ? t('chat.error_not_found') : errorText(e);
      status.classList.replace('muted', 'error');
      status.after(h('a', { class: 'button', href: '#/chats', 'data-test': 'back' }, t('chat.back_to_chats')));
      return;
    }
    if (destroyed) return;
    status.remove();
    parts = build(id, conv, el, offs, focusSeq);
    // Names and members may have changed while this tab was away.
    chat.conversation(id, { fresh: true }).catch(() => {});
  })();

  return {
    el,
    destroy() {
      destroyed = true;
      chat.setOpen(null);
      offs.forEach((off) => off());
      parts?.destroy();
    },
  };
}

function build(id, initialConv, el, offs, focusSeq) {
  let conv = initialConv;
  const group = conv.kind === 'group';
  const nodes = new Map(); // key → element
  let stick = true;
  let firstKey = null;
  let headerKey = `${titleOf(conv)}|${conv.members.length}`;

  // Header
  const title = h('h2', { class: 'chat-title', 'data-test': 'chat-title', dir: 'auto' });
  const sub = h('p', { class: 'chat-sub', 'data-test': 'chat-status', 'aria-live': 'polite' });
  const avatarBox = h('span', { class: 'chat-avatar' });
  const back = h('a', { class: 'button icon back', href: '#/chats', 'data-test': 'back', 'aria-label': t('app.back'), title: t('app.back') },
    h('span', { class: 'ci ci-back', 'aria-hidden': 'true' }));
  // A direct chat calls its other person, a group starts (or joins) its conference, by
  // voice or video (one call at a time).
  const startCall = (media) => calls.start(id, group ? null : chat.peerOf(conv), media, { group });
  const callButton = (media, icon, label) => h('button', { type: 'button', class: 'button icon call-start',
    'data-test': `call-${media}`, 'aria-label': label, title: label,
    onclick: () => startCall(media) }, h('span', { class: `ci ${icon}`, 'aria-hidden': 'true' }));
  const callButtons = group ? [callButton('voice', 'ci-phone', t('calls.group_voice_call')), callButton('video', 'ci-video', t('calls.group_video_call'))]
    : [callButton('voice', 'ci-phone', t('calls.voice_call')), callButton('video', 'ci-video', t('calls.video_call'))];
  // A group's conference going on without me: who is in it, and join.
  const bannerText = h('span', { class: 'conference-banner-text', 'data-test': 'conference-banner-text' });
  const banner = h('div', { class: 'conference-banner', 'data-test': 'conference-banner', role: 'status', hidden: true },
    h('span', { class: 'ci ci-phone', 'aria-hidden': 'true' }), bannerText,
    h('button', { type: 'button', class: 'button compact', 'data-test': 'conference-join', onclick: () => startCall('voice') }, t('calls.join_voice')),
    h('button', { type: 'button', class: 'button compact', 'data-test': 'conference-join-video', onclick: () => startCall('video') }, t('calls.join_video')));
  const drawCallButtons = () => {
    for (const b of callButtons) b.disabled = calls.busy || Boolean(conv.removed);
    for (const b of banner.querySelectorAll('button')) b.disabled = calls.busy || Boolean(conv.removed);
    const going = group ? conferences.of(id) : null;
    // Mine while I join or am in it; while it only rings here, the chat says it is on.
    const inIt = going && calls.current?.group && calls.current.id === going.callId && calls.current.state !== 'ringing';
    banner.hidden = !going || inIt || Boolean(conv.removed);
    if (!going) return;
    banner.dataset.count = String(going.members.length);
    bannerText.textContent = going.members.length ? counted('calls.going_on', going.members.length) : t('calls.going_on_starting');
  };
  // Mute: no notifications from this chat while the app is closed (8 hours, a week, always).
  const muteIcon = h('span', { class: 'ci ci-bell', 'aria-hidden': 'true' });
  const muteButton = h('button', { type: 'button', class: 'button icon chat-mute', 'data-test': 'chat-mute',
    'aria-label': t('push.mute'), title: t('push.mute'), 'aria-haspopup': 'menu',
    onclick: () => showMenu(muteButton, [
      { label: t('push.mute_8h'), test: 'mute-8h', action: () => setMute('8h') },
      { label: t('push.mute_week'), test: 'mute-1w', action: () => setMute('1w') },
      { label: t('push.mute_always'), test: 'mute-always', action: () => setMute('always') },
      ...(conv.muted_until ? [{ label: t('push.unmute'), test: 'mute-off', action: () => setMute('off') }] : []),
    ], t('push.mute')) }, muteIcon);
  const drawMute = () => {
    const muted = Boolean(conv.muted_until);
    muteIcon.className = `ci ${muted ? 'ci-muted' : 'ci-bell'}`;
    muteButton.classList.toggle('is-muted', muted);
    muteButton.dataset.muted = String(muted);
    const label = muted ? t('push.muted_until', { time: new Date(conv.muted_until).getFullYear() >= 9999 ? t('push.always') : new Date(conv.muted_until).toLocaleString() }) : t('push.mute');
    muteButton.title = label;
    muteButton.setAttribute('aria-label', label);
  };
  async function setMute(duration) {
    try {
      const { muted_until: until } = await api(`/v1/conversations/${encodeURIComponent(id)}/mute`, { method: 'PUT', body: { duration } });
      conv.muted_until = until ?? undefined;
      const known = chat.conversations.get(id);
      if (known) known.muted_until = conv.muted_until;
      drawMute();
      store.emit('conversations');
      toast(until ? t('push.muted_toast') : t('push.unmuted_toast'));
    } catch (e) {
      toast(chatErrorText(e));
    }
  }
  // Search within this chat: a box under the header, its results over the messages.
  const inChat = searchBox({ conversationId: id, label: t('chat.search_in_chat'),
    onActive: (on) => { box.hidden = on; } });
  const searchRow = h('div', { class: 'chat-search', 'data-test': 'chat-search', hidden: true }, inChat.el);
  const searchButton = h('button', { type: 'button', class: 'button icon', 'data-test': 'chat-search-toggle',
    'aria-label': t('chat.search_in_chat'), title: t('chat.search_in_chat'), 'aria-expanded': 'false',
    onclick: () => {
      searchRow.hidden = !searchRow.hidden;
      searchButton.setAttribute('aria-expanded', String(!searchRow.hidden));
      if (searchRow.hidden) { inChat.input.value = ''; inChat.input.dispatchEvent(new Event('input')); box.hidden = false; }
      else inChat.input.focus();
    } }, h('span', { class: 'ci ci-search', 'aria-hidden': 'true' }));
  const header = h('header', { class: 'chat-header' }, back, avatarBox, h('div', { class: 'chat-heading' }, title, sub), searchButton, callButtons, muteButton);

  function drawHeader() {
    title.textContent = titleOf(conv);
    clear(avatarBox);
    clear(sub);
    if (group) {
      avatarBox.append(avatar(titleOf(conv), { group: true }));
      sub.append(h('a', { href: `#/group/${encodeURIComponent(id)}`, 'data-test': 'group-info' },
        counted('chat.member_count', conv.members.length)));
    } else {
      const peer = chat.peerOf(conv);
      const p = store.presenceOf(peer);
      avatarBox.append(avatar(titleOf(conv), { presence: p.state === 'invisible' ? 'offline' : p.state }));
      sub.append(h('span', { 'data-test': 'chat-presence', 'data-state': p.state }, presenceText(p, ago)));
    }
  }

  // Messages
  const older = h('div', { class: 'older' });
  const box = h('div', { class: 'messages', 'data-test': 'messages', role: 'log', 'aria-live': 'polite',
    'aria-label': t('chat.messages'), tabindex: '0' }, older);
  const typingLine = h('p', { class: 'typing-line', 'data-test': 'typing', 'aria-live': 'polite', hidden: true });
  const jump = h('button', { type: 'button', class: 'jump-bottom', 'data-test': 'jump-bottom', hidden: true,
    'aria-label': t('chat.jump_bottom'), title: t('chat.jump_bottom'),
    onclick: () => { stick = true; box.scrollTo({ top: box.scrollHeight, behavior: 'smooth' }); } },
  h('span', { class: 'ci ci-down', 'aria-hidden': 'true' }));
  const input = composer(id, { onSent: () => { stick = true; requestAnimationFrame(toBottom); } });
  // Once I am out of a group its chat is read-only: no composer, a line saying why.
  const removedNotice = h('p', { class: 'removed-notice', 'data-test': 'removed-notice', role: 'status', hidden: true },
    t('chat.removed_notice'));
  function drawComposer() {
    input.el.hidden = Boolean(conv.removed);
    removedNotice.hidden = !conv.removed;
  }
  el.append(header, searchRow, banner, box, jump, typingLine, input.el, removedNotice);

  const nearBottom = () => box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_BOTTOM_PX;
  function toBottom() { box.scrollTop = box.scrollHeight; }
  const keepAtBottom = () => { if (stick) toBottom(); };

  const ctx = {
    group,
    replied: (messageId) => chat.findMessage(id, messageId),
    jumpTo(messageId) {
      const target = box.querySelector(`[data-id="${CSS.escape(messageId)}"]`);
      if (!target) { toast(t('chat.reply_not_loaded')); return; }
      target.scrollIntoView({ block: 'center', behavior: 'smooth' });
      target.classList.add('flash');
      setTimeout(() => target.classList.remove('flash'), 1600);
    },
    menu: (msg, button) => openActions(msg, button),
    retry: (msg) => chat.retry(id, msg.client_id),
    discard: (msg) => chat.discard(id, msg.client_id),
    stick: keepAtBottom,
  };

  function openActions(msg, button) {
    const mine = msg.sender === chat.me();
    const items = [{ label: t('chat.action_reply'), test: 'action-reply', action: () => input.setReply(msg) }];
    if (msg.kind === 'text' || msg.text) {
      items.push({ label: t('chat.action_copy'), test: 'action-copy', action: () => copy(msg.text ?? '') });
    }
    if (mine && msg.kind === 'text') items.push({ label: t('chat.action_edit'), test: 'action-edit', action: () => input.startEdit(msg) });
    if (mine) items.push({ label: t('chat.action_delete'), test: 'action-delete', action: () => remove(msg) });
    showMenu(button, items, t('chat.actions'));
  }

  async function copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      toast(t('chat.copied'));
    } catch {
      toast(t('chat.copy_failed'), 'error');
    }
  }

  async function remove(msg) {
    if (!await confirmDialog(t('chat.delete_confirm'), t('chat.delete_for_everyone'))) return;
    try {
      await chat.deleteForEveryone(id, msg.id);
    } catch (e) {
      toast(chatErrorText(e), 'error');
    }
  }

  function dayElement(date) {
    return h('div', { class: 'day', 'data-test': 'day', role: 'separator' }, h('span', {}, dayLabel(date)));
  }

  // Opened further back than the newest page: the newer messages come a page at a time.
  const newer = h('div', { class: 'newer' });
  function drawNewer() {
    clear(newer);
    if (!chat.threadState(id).hasNewer) return;
    newer.append(h('button', { type: 'button', class: 'link', 'data-test': 'load-newer', onclick: async () => {
      try { await chat.loadNewer(id); } catch (e) { toast(errorText(e), 'error'); }
    } }, t('chat.load_newer')));
  }

  function drawOlder() {
    const state = chat.threadState(id);
    clear(older);
    if (!state.loaded) older.append(h('p', { class: 'muted', role: 'status' }, t('app.loading')));
    else if (state.hasOlder) {
      older.append(h('button', { type: 'button', class: 'link', 'data-test': 'load-older', onclick: loadOlder }, t('chat.load_older')));
    } else if (!chat.messagesOf(id).length && !chat.pendingOf(id).length) {
      older.append(h('p', { class: 'muted chat-start', 'data-test': 'chat-empty' }, t('chat.no_messages')));
    }
  }

  function draw() {
    const beforeHeight = box.scrollHeight;
    const beforeTop = box.scrollTop;
    const list = [...chat.messagesOf(id), ...chat.pendingOf(id)];
    const wanted = [];
    let lastDay = null;
    for (const msg of list) {
      const date = new Date(msg.sent_at);
      const day = date.toDateString();
      if (day !== lastDay) {
        lastDay = day;
        const key = `d${day}`;
        wanted.push(nodes.get(key) ?? Object.assign(dayElement(date), { key }));
      }
      const key = msg.status ? `p${msg.client_id}` : `s${msg.seq}`;
      const version = versionOf(msg);
      let node = nodes.get(key);
      if (!node || node.version !== version) node = Object.assign(renderMessage(msg, ctx), { key, version });
      node.msg = msg;
      wanted.push(node);
    }
    // Put the wanted nodes in order after the "older" strip; drop the rest.
    const keep = new Set(wanted);
    for (const node of [...box.children]) if (node !== older && node !== newer && !keep.has(node)) node.remove();
    let cursor = older.nextSibling;
    for (const node of wanted) {
      if (node !== cursor) box.insertBefore(node, cursor);
      else cursor = cursor.nextSibling;
    }
    nodes.clear();
    for (const node of wanted) nodes.set(node.key, node);
    box.append(newer);
    drawNewer();
    drawOlder();
    drawTicks();

    const newFirst = wanted.find((n) => n.msg)?.key ?? null;
    if (firstKey && newFirst !== firstKey && !stick) {
      // Older messages went in above: the ones being read stay where they were.
      box.scrollTop = beforeTop + (box.scrollHeight - beforeHeight);
    } else if (stick) {
      toBottom();
    }
    firstKey = newFirst;
    markVisible();
    fillScreen();
  }

  /** A short first page leaves nothing to scroll: fetch more until the screen is full.
   * Only once the list is laid out (a list not on screen yet has no height, and would
   * seem short however long it is); its resize looks again. */
  function fillScreen() {
    const state = chat.threadState(id);
    if (!box.isConnected || box.clientHeight === 0) return;
    if (state.loaded && state.hasOlder && box.scrollHeight <= box.clientHeight) loadOlder();
  }

  function drawTicks() {
    for (const node of nodes.values()) if (node.tick && node.msg) setTick(node.tick, chat.statusOf(conv, node.msg));
  }

  function drawTyping() {
    const text = typingText(conv, chat.typingIn(id));
    typingLine.textContent = text;
    typingLine.hidden = !text;
  }

  /** Read up to the last message on screen, when the page is being looked at. */
  function markVisible() {
    if (document.visibilityState !== 'visible' || !box.isConnected) return;
    const bottom = box.getBoundingClientRect().bottom;
    const seen = box.querySelectorAll('.msg[data-seq]');
    for (let i = seen.length - 1; i >= 0; i--) {
      if (seen[i].getBoundingClientRect().top < bottom - 8) {
        chat.markRead(id, Number(seen[i].dataset.seq));
        return;
      }
    }
  }

  async function loadOlder() {
    try {
      await chat.loadOlder(id);
    } catch (e) {
      toast(errorText(e), 'error');
    }
  }

  let scrollTimer = null;
  box.addEventListener('scroll', () => {
    stick = nearBottom();
    jump.hidden = stick;
    if (box.scrollTop < OLDER_WHEN_PX && chat.threadState(id).hasOlder) loadOlder();
    clearTimeout(scrollTimer);
    scrollTimer = setTimeout(markVisible, 250);
  }, { passive: true });
  const onVisible = () => { if (document.visibilityState === 'visible') markVisible(); };
  document.addEventListener('visibilitychange', onVisible);
  const resize = new ResizeObserver(() => { keepAtBottom(); fillScreen(); });
  resize.observe(box);

  offs.push(
    store.on('messages', (e) => { if (e?.conversation_id === id) draw(); }),
    store.on('receipt', (e) => { if (e?.conversation_id === id) drawTicks(); }),
    store.on('typing', (e) => { if (e?.conversation_id === id) drawTyping(); }),
    store.on('presence', (e) => { if (!group && e?.phone === chat.peerOf(conv)) drawHeader(); }),
    store.on('contacts', () => { drawHeader(); for (const n of nodes.values()) n.version = null; draw(); }),
    store.on('conversations', () => {
      const now = chat.conversations.get(id);
      if (!now) return;
      const before = headerKey;
      conv = now;
      drawMute();
      headerKey = `${titleOf(conv)}|${conv.members.length}`;
      if (headerKey !== before) { drawHeader(); drawTicks(); }
      drawComposer();
    }),
    store.on('upload', (e) => {
      if (e?.conversation_id !== id) return;
      const bar = box.querySelector(`[data-client-id="${CSS.escape(e.client_id)}"] [data-test="upload-progress"]`);
      if (bar) bar.value = e.progress;
    }),
    calls.on('change', drawCallButtons),
    conferences.on(({ conversationId }) => { if (conversationId === id) drawCallButtons(); }),
    () => document.removeEventListener('visibilitychange', onVisible),
    () => resize.disconnect(),
  );

  drawHeader();
  drawMute();
  drawCallButtons();
  drawComposer();
  drawTyping();
  draw();
  const opened = focusSeq ? openAt(focusSeq) : chat.loadLatest(id);
  opened.catch((e) => {
    clear(older);
    older.append(h('p', { class: 'error', role: 'alert' }, errorText(e)));
  });
  if (window.matchMedia('(pointer: fine)').matches) input.focus();

  /** Loads the history around `seq`, scrolls to that message and flashes it. */
  async function openAt(seq) {
    stick = false;
    await chat.loadAround(id, seq);
    draw();
    const target = box.querySelector(`.msg[data-seq="${seq}"]`);
    if (!target) { stick = true; toBottom(); return; }
    target.scrollIntoView({ block: 'center' });
    stick = nearBottom();
    target.classList.add('flash');
    setTimeout(() => target.classList.remove('flash'), 1600);
  }

  return { destroy: () => { input.destroy(); inChat.destroy(); } };
}
