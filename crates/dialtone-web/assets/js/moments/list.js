// A list of posts paged by cursor (the feed, a space): the next page loads when the end of
// the list comes near (or its button is pressed), posts are never shown twice, and a live
// post goes on top.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { store } from '../store.js';
import { whenNear } from '../chat/media.js';
import { postCard } from './post.js';
import { momentError } from './errors.js';

/**
 * `path` answers {items, next_cursor?} (any kind of item; `params` are added to the query). Returns {el, cards (id → card), load(), prepend(post)};
 * `onFailure(error)` is told when the first page cannot be read; `empty` is the text for no posts.
 */
export function postList(path, { empty, onFailure = null, test = 'posts', params = {} } = {}) {
  const cards = new Map();
  const items = h('div', { class: 'post-list', 'data-test': test });
  const status = h('p', { class: 'muted post-list-status', role: 'status', 'data-test': `${test}-status` }, t('app.loading'));
  const more = h('button', { type: 'button', class: 'post-more', 'data-test': 'load-more', hidden: true,
    onclick: () => load() }, t('moments.load_more'));
  let cursor = null;
  let loading = false;
  let done = false;
  let started = false;

  const showEmpty = () => {
    status.hidden = cards.size > 0 || !done;
    if (!status.hidden) status.textContent = empty;
  };

  function add(post, { top = false } = {}) {
    if (cards.has(post.id)) return cards.get(post.id);
    const card = postCard(post, { onRemoved: () => { cards.delete(post.id); showEmpty(); } });
    cards.set(post.id, card);
    if (top) items.prepend(card.el); else items.append(card.el);
    return card;
  }

  async function load() {
    if (loading || done) return;
    loading = true;
    more.disabled = true;
    try {
      const query = new URLSearchParams({ limit: '10', ...params });
      if (cursor) query.set('cursor', cursor);
      const page = await api(`${path}?${query}`);
      for (const post of page.items || []) add(post);
      cursor = page.next_cursor ?? null;
      done = !cursor;
      started = true;
      more.hidden = done;
      showEmpty();
      if (!done) whenNear(more, load);
    } catch (e) {
      if (!started && onFailure) { onFailure(e); return; }
      status.hidden = false;
      status.textContent = momentError(e);
      more.hidden = done;
    } finally {
      loading = false;
      more.disabled = false;
    }
  }

  // Names come from the address book, which may arrive after the posts.
  const off = store.on('contacts', () => { for (const card of cards.values()) card.update(card.post); });

  return {
    el: h('div', { class: 'post-list-box' }, status, items, more),
    cards,
    destroy: off,
    load,
    prepend(post) { add(post, { top: true }); showEmpty(); },
  };
}
