// The conversation list: newest activity first, with previews, times, unread counts and
// who is typing, kept live.
import { h, clear } from '../dom.js';
import { t, shortTime, fullTime } from '../i18n.js';
import { store } from '../store.js';
import * as chat from '../chat-state.js';
import { titleOf, preview, avatar, counted } from './format.js';
import { errorText } from '../views/auth.js';
import { pushOffer } from './push-offer.js';
import { searchBox } from './search.js';

function row(conv, selected) {
  const typers = chat.typingIn(conv.id);
  const last = conv.last_message;
  const when = last?.sent_at ?? conv.created_at;
  const unread = conv.unread || 0;
  const title = titleOf(conv);
  const typingText = typers.length
    ? (conv.kind === 'group' ? t('chat.typing_one', { name: store.nameOf(typers[0]) }) : t('chat.typing'))
    : '';
  return h('li', { class: `conv${selected ? ' selected' : ''}${unread ? ' has-unread' : ''}`, 'data-test': 'conversation',
    'data-id': conv.id, 'data-kind': conv.kind },
  h('a', { class: 'conv-link', href: `#/chat/${encodeURIComponent(conv.id)}`, 'aria-current': selected ? 'page' : null },
    avatar(title, { group: conv.kind === 'group' }),
    h('span', { class: 'conv-main' },
      h('span', { class: 'conv-top' },
        h('span', { class: 'conv-title', 'data-test': 'conversation-title', dir: 'auto' }, title),
        h('time', { class: 'conv-time', datetime: when, title: fullTime(when), 'data-test': 'conversation-time' }, shortTime(when))),
      h('span', { class: `conv-bottom${typingText ? ' is-typing' : ''}` },
        h('span', { class: 'conv-preview', 'data-test': 'last-message', dir: 'auto' }, preview(conv, last)),
        typingText ? h('span', { class: 'conv-typing', 'data-test': 'conversation-typing' }, typingText) : null,
        conv.muted_until ? h('span', { class: 'ci ci-muted conv-muted', 'data-test': 'conversation-muted', role: 'img', 'aria-label': t('push.muted') }) : null,
        unread ? h('span', { class: `unread-count${conv.muted_until ? ' muted-count' : ''}`, 'data-test': 'unread', 'aria-label': counted('chat.unread', unread) },
          unread > 999 ? '999+' : String(unread)) : null))));
}

let savedScroll = 0;
/** The search typed above the list: still there when a result has opened its chat. */
let savedQuery = '';
window.addEventListener('dialtone:logged-out', () => { savedQuery = ''; });

/** The list panel; `selectedId` is the conversation open beside it. */
export function conversationList(selectedId) {
  const list = h('ul', { class: 'list conv-list', 'data-test': 'conversations', 'aria-label': t('chat.title') });
  const empty = h('div', { class: 'chats-empty', 'data-test': 'chats-empty', hidden: true },
    h('p', {}, t('chat.empty_title')),
    h('p', { class: 'muted' }, t('chat.empty_hint')),
    h('a', { class: 'button primary', href: '#/contacts', 'data-test': 'empty-contacts' }, t('chat.empty_action')));
  const loading = h('p', { class: 'muted list-status', role: 'status' }, t('app.loading'));
  const retry = h('button', { type: 'button', 'data-test': 'chats-retry', hidden: true,
    onclick: () => chat.refreshConversations().catch(() => {}) }, t('chat.retry'));
  // While a search shows its results, they take the list's place.
  const listParts = h('div', { class: 'conv-list-parts' }, loading, retry, empty, list);
  const search = searchBox({ onActive: (on) => { listParts.hidden = on; },
    query: savedQuery, onQuery: (q) => { savedQuery = q; } });
  const el = h('section', { class: 'chat-list-pane', 'aria-label': t('chat.title') },
    h('header', { class: 'page-header list-header' },
      h('h1', {}, t('chat.title')),
      h('a', { class: 'button', href: '#/new-group', 'data-test': 'new-group' },
        h('span', { class: 'ci ci-group', 'aria-hidden': 'true' }), t('chat.new_group'))),
    search.el, listParts);
  const offer = pushOffer();
  if (offer) listParts.prepend(offer);

  let loaded = false;
  function draw() {
    // Keep the keyboard focus on the same row across redraws.
    const focused = document.activeElement?.closest?.('[data-test="conversation"]')?.dataset.id;
    clear(list);
    const convs = chat.conversationList();
    for (const conv of convs) list.append(row(conv, conv.id === selectedId));
    const failure = chat.listFailure();
    loading.hidden = loaded && !(failure && !convs.length);
    loading.classList.toggle('error', Boolean(failure));
    loading.textContent = failure ? errorText(failure) : t('app.loading');
    retry.hidden = !failure || convs.length > 0;
    empty.hidden = !loaded || convs.length > 0 || Boolean(failure);
    if (offer) offer.hidden = !loaded || convs.length === 0;
    if (focused) list.querySelector(`[data-id="${CSS.escape(focused)}"] a`)?.focus();
  }

  const offs = [
    store.on('conversations', draw),
    store.on('typing', draw),
    store.on('contacts', draw),
  ];
  draw();
  chat.whenLoaded().then(() => { loaded = true; draw(); });
  // Opening a chat redraws the screen: the list stays scrolled where it was.
  requestAnimationFrame(() => { el.scrollTop = savedScroll; });
  return {
    el,
    destroy() {
      savedScroll = el.scrollTop;
      search.destroy();
      offs.forEach((off) => off());
    },
  };
}
