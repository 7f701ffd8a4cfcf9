// Search in chats (docs/api/search.md): a box and its results, over all chats (above the
// conversation list) or within one (the open chat's search action). Results show the
// chat, the sender, the time and the snippet with its matches marked; the snippet is the
// server's plain text, cut at the highlights' UTF-16 offsets (what JS strings index) into
// text nodes and <mark>s, never parsed as HTML. A result opens its chat at the message
// (#/chat/<id>?seq=<seq>).
import { h, clear } from '../dom.js';
import { t, shortTime, fullTime } from '../i18n.js';
import { api } from '../api.js';
import { store } from '../store.js';
import * as chat from '../chat-state.js';
import { titleOf } from './format.js';
import { errorText } from '../views/auth.js';

/** Typing pauses this long before a search goes. */
const DEBOUNCE_MS = 250;
/** The server's limit on a query, in characters. */
const MAX_QUERY = 256;

/** The snippet as text nodes and <mark>s. */
export function marked(snippet) {
  const text = snippet?.text ?? '';
  const parts = [];
  let at = 0;
  for (const [start, end] of snippet?.highlights ?? []) {
    if (start < at || end > text.length || start >= end) continue;
    if (start > at) parts.push(text.slice(at, start));
    parts.push(h('mark', {}, text.slice(start, end)));
    at = end;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}

function resultRow(result, { showChat }) {
  const msg = result.message;
  const conv = chat.conversations.get(msg.conversation_id);
  const sender = msg.sender === chat.me() ? t('chat.search_you') : store.nameOf(msg.sender);
  const href = `#/chat/${encodeURIComponent(msg.conversation_id)}?seq=${msg.seq}`;
  return h('li', { class: 'search-result', 'data-test': 'search-result', 'data-id': msg.id },
    h('a', { href, class: 'search-link' },
      h('span', { class: 'search-top' },
        showChat ? h('span', { class: 'search-chat', 'data-test': 'search-chat', dir: 'auto' }, conv ? titleOf(conv) : '') : null,
        h('span', { class: 'search-sender', 'data-test': 'search-sender', dir: 'auto' }, sender),
        h('time', { class: 'search-time', datetime: msg.sent_at, title: fullTime(msg.sent_at) }, shortTime(msg.sent_at))),
      h('span', { class: 'search-snippet', 'data-test': 'search-snippet', dir: 'auto' }, marked(result.snippet))));
}

/**
 * A search box with its results: {el, input, active(), destroy()}. `conversationId`
 * searches one chat; `onActive(bool)` hears when results show (a query is typed) or go.
 */
export function searchBox({ conversationId = null, onActive = () => {}, label, query = '', onQuery = () => {} } = {}) {
  const input = h('input', { type: 'search', class: 'search-input', 'data-test': 'search-input',
    placeholder: label ?? t('chat.search_placeholder'), 'aria-label': label ?? t('chat.search_placeholder'),
    maxlength: String(MAX_QUERY), autocomplete: 'off', enterkeyhint: 'search' });
  const status = h('p', { class: 'muted search-status', 'data-test': 'search-status', role: 'status' });
  const list = h('ul', { class: 'list search-results', 'data-test': 'search-results', 'aria-label': t('chat.search_results') });
  const more = h('button', { type: 'button', class: 'link search-more', 'data-test': 'search-more', hidden: true,
    onclick: () => run(false) }, t('chat.search_more'));
  const results = h('div', { class: 'search-panel', hidden: true }, status, list, more);
  const el = h('div', { class: 'search', role: 'search' }, input, results);

  let timer = null;
  let cursor = null;
  let asked = 0; // the newest search asked for; older answers are dropped
  let shown = false;

  function show(on) {
    results.hidden = !on;
    if (on !== shown) { shown = on; onActive(on); }
  }

  async function run(fresh) {
    const q = input.value.trim();
    if (!q) { show(false); return; }
    show(true);
    const mine = ++asked;
    if (fresh) { cursor = null; clear(list); }
    status.textContent = t('app.loading');
    const params = new URLSearchParams({ q: input.value.slice(0, MAX_QUERY) });
    if (conversationId) params.set('conversation_id', conversationId);
    if (cursor) params.set('cursor', cursor);
    try {
      const page = await api(`/v1/search?${params}`);
      if (mine !== asked) return;
      for (const r of page.results) list.append(resultRow(r, { showChat: !conversationId }));
      cursor = page.next_cursor ?? null;
      more.hidden = !cursor;
      status.textContent = list.children.length ? '' : t('chat.search_none');
    } catch (e) {
      if (mine !== asked) return;
      status.textContent = errorText(e);
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    onQuery(input.value);
    if (!input.value.trim()) { asked += 1; clear(list); more.hidden = true; show(false); return; }
    timer = setTimeout(() => run(true), DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && input.value) { input.value = ''; input.dispatchEvent(new Event('input')); }
  });

  // A query kept from before (the list redrawn when a result opened a chat) shows again.
  if (query) { input.value = query; run(true); }

  return {
    el,
    input,
    active: () => shown,
    destroy() { clearTimeout(timer); asked += 1; },
  };
}
