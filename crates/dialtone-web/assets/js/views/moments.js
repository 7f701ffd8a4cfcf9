// Moments (WeChat's 朋友圈): the feed of my contacts' posts and mine (#/moments), live; one
// post (#/post/<id>); a person's space with their profile (#/space/<phone>); my
// notifications (#/notifications); writing a post and editing my profile (../moments/).
import { h, toast } from '../dom.js';
import { t, ago, fullTime } from '../i18n.js';
import { api } from '../api.js';
import { go } from '../app.js';
import { avatar } from '../avatar.js';
import { settingsPage, fill, loading, failure } from '../settings/ui.js';
import { moments as state } from '../moments/state.js';
import { postList } from '../moments/list.js';
import { fetchPost, myPhone, postCard, who } from '../moments/post.js';
import { fetchItem, itemHref } from '../moments/items.js';
import { profileCard } from '../moments/profile.js';
import { momentError } from '../moments/errors.js';

import { blogTab } from '../moments/blog.js';
import { albumsTab } from '../moments/albums.js';

export { compose } from '../moments/composer.js';
export { profileEdit } from '../moments/profile.js';
export { article, drafts } from '../moments/blog.js';
export { write } from '../moments/editor.js';
export { album, albumNew } from '../moments/albums.js';

/** The header's buttons: write a post, notifications (with the unread count), my space. */
function toolbar() {
  const count = h('span', { class: 'badge badge-inline', 'data-test': 'notifications-count', hidden: true });
  const show = (n) => { count.hidden = !n; count.textContent = n > 99 ? '99+' : String(n); };
  show(state.unread);
  const off = state.on('unread', show);
  const el = h('div', { class: 'row header-actions moments-actions' },
    h('a', { class: 'button', href: '#/notifications', 'data-test': 'go-notifications' }, t('moments.notifications'), count),
    h('a', { class: 'button', href: `#/space/${encodeURIComponent(myPhone() ?? '')}`, 'data-test': 'go-my-space' }, t('moments.my_space')),
    h('a', { class: 'button primary', href: '#/compose', 'data-test': 'go-compose' }, t('moments.new_post')));
  return { el, off };
}

/** #/moments: the feed, newest first; a new post of a contact appears on top as it is posted. */
export function moments(main) {
  const bar = toolbar();
  const list = postList('/v1/feed', { empty: t('moments.feed_empty'), test: 'feed' });
  main.append(h('div', { class: 'page moments-page', 'data-test': 'moments' },
    h('header', { class: 'page-header' }, h('h1', {}, t('moments.title')), bar.el),
    list.el));
  list.load();
  const offItem = state.on('feed-item', async (frame) => {
    if (list.cards.has(frame.item_id)) return;
    try {
      list.prepend(await fetchItem({ kind: frame.kind, id: frame.item_id }));
    } catch { /* gone already, or no longer mine to see */ }
  });
  // A like or a comment on a post on screen: show it.
  const offNote = state.on('notification', (n) => list.cards.get(n.item_id)?.refresh());
  return () => { bar.off(); offItem(); offNote(); list.destroy(); };
}

/** #/post/<id>: one post (from a notification). */
export async function post(main, ctx) {
  const id = ctx.params[0];
  const { el, body } = settingsPage(t('moments.post_title'), { back: '#/moments', test: 'post-page' });
  el.classList.add('moments-page');
  main.append(el);
  fill(body, loading());
  let card = null;
  try {
    const item = await fetchPost(id).catch(async (e) => {
      // A notification names an item without its kind: an article is read as one.
      if (e.status !== 404) throw e;
      const other = await fetchItem({ kind: 'article', id }).catch(() => { throw e; });
      go(`#/article/${encodeURIComponent(other.id)}`);
      return null;
    });
    if (!item) return undefined;
    card = postCard(item, { onRemoved: () => fill(body, h('p', { class: 'muted' }, t('moments.error_item_not_found'))) });
    fill(body, card.el);
  } catch (e) {
    fill(body, h('p', { class: 'muted', 'data-test': 'post-missing' }, momentError(e)));
  }
  const off = state.on('notification', (n) => { if (n.item_id === id) card?.refresh(); });
  return off;
}

async function startChat(phone, button) {
  button.disabled = true;
  try {
    const conversation = await api('/v1/conversations', { method: 'POST', body: { kind: 'direct', peer: phone } });
    go('#/chat/' + encodeURIComponent(conversation.id));
  } catch (e) {
    toast(momentError(e), 'error');
    button.disabled = false;
  }
}

/**
 * #/space/<phone>: the profile and the posts of a person. Whoever may not see them gets
 * what the server gives for a number that is not registered, and this screen draws both
 * the same way: nothing in it tells them apart.
 */
export async function space(main, ctx) {
  const phone = ctx.params[0] || myPhone();
  const path = `/v1/users/${encodeURIComponent(phone)}`;
  const box = h('div', { class: 'page moments-page space-page', 'data-test': 'space' });
  main.append(box);
  fill(box, loading());
  const notFound = () => fill(box,
    h('header', { class: 'page-header' }, h('h1', {}, t('moments.space_title'))),
    h('p', { class: 'muted', 'data-test': 'space-missing' }, t('moments.space_missing')),
    h('a', { class: 'button', href: '#/moments' }, t('moments.back_to_feed')));
  let profile;
  try {
    profile = await api(`${path}/profile`);
  } catch (e) {
    if (e.status === 404) notFound();
    else fill(box, failure(momentError(e)));
    return undefined;
  }
  if (!main.isConnected) return undefined;
  const mine = profile.phone === myPhone();
  const actions = mine
    ? [h('a', { class: 'button', href: '#/profile-edit', 'data-test': 'go-profile-edit' }, t('moments.profile_edit')),
      h('a', { class: 'button primary', href: '#/compose', 'data-test': 'go-compose' }, t('moments.new_post'))]
    : [h('button', { type: 'button', 'data-test': 'space-message', onclick: (e) => startChat(profile.phone, e.currentTarget) },
      t('moments.message'))];
  const tab = ['blog', 'albums'].includes(ctx.query.get('tab')) ? ctx.query.get('tab') : 'posts';
  const failed = (e) => { if (e.status === 404) notFound(); else fill(box, failure(momentError(e))); };
  const here = `#/space/${encodeURIComponent(profile.phone)}`;
  const tabs = h('nav', { class: 'space-tabs', 'aria-label': t('moments.space_sections') },
    [['posts', here, 'moments.space_tab_posts'], ['blog', `${here}?tab=blog`, 'blog.tab'], ['albums', `${here}?tab=albums`, 'albums.tab']]
      .map(([name, href, key]) => h('a', { href, class: 'space-tab', 'data-test': `space-tab-${name}`,
        'aria-current': name === tab ? 'page' : null }, t(key))));
  let section;
  if (tab === 'blog') section = blogTab(profile.phone, { mine, tag: ctx.query.get('tag'), onFailure: failed });
  else if (tab === 'albums') section = albumsTab(profile.phone, { mine, onFailure: failed });
  else {
    const list = postList(`${path}/posts`, { empty: t(mine ? 'moments.space_empty_mine' : 'moments.space_empty'), test: 'space-posts',
      onFailure: failed });
    list.load();
    const off = state.on('notification', (n) => list.cards.get(n.item_id)?.refresh());
    section = { el: list.el, destroy: () => { off(); list.destroy(); } };
  }
  fill(box, h('a', { class: 'button settings-back', href: '#/moments', 'data-test': 'back' },
    h('span', { 'aria-hidden': 'true' }, '‹ '), t('moments.title')),
  profileCard(profile, actions),
  tabs,
  h('h2', { class: 'sr-only' }, t(tab === 'blog' ? 'blog.tab' : tab === 'albums' ? 'albums.tab' : mine ? 'moments.my_space' : 'moments.space_posts')),
  section.el);
  return () => section.destroy();
}

function notificationText(n) {
  const name = who(n.actor);
  if (n.kind === 'like') return t('moments.notification_like', { name });
  if (n.kind === 'reply') return t('moments.notification_reply', { name });
  return t('moments.notification_comment', { name });
}

/** #/notifications: comments on my posts, replies to my comments and likes; opening the list reads them. */
export function notifications(main) {
  const { el, body } = settingsPage(t('moments.notifications'), { back: '#/moments', test: 'notifications' });
  el.classList.add('moments-page');
  main.append(el);
  const list = h('ul', { class: 'list notification-list', 'data-test': 'notification-list' });
  const status = h('p', { class: 'muted', role: 'status', 'data-test': 'notifications-status' }, t('app.loading'));
  const more = h('button', { type: 'button', class: 'post-more', 'data-test': 'load-more', hidden: true, onclick: () => load() },
    t('moments.load_more'));
  body.append(status, list, more);
  const shown = new Set();
  let cursor = null;

  function row(n) {
    shown.add(n.id);
    return h('li', { 'data-test': 'notification', 'data-kind': n.kind, 'data-unread': String(!n.read), class: n.read ? '' : 'unread' },
      avatar(who(n.actor)),
      h('a', { class: 'notification-main', href: itemHref({ id: n.item_id, kind: n.item_kind || 'post', album_id: n.album_id }) },
        h('span', { class: 'notification-what', 'data-test': 'notification-text' }, notificationText(n)),
        n.text ? h('span', { class: 'notification-quote', 'data-test': 'notification-quote' }, n.text) : null,
        h('time', { class: 'muted', datetime: n.created_at, title: fullTime(n.created_at) }, ago(n.created_at))),
      n.read ? null : h('span', { class: 'sr-only' }, t('moments.unread')));
  }

  async function load() {
    more.disabled = true;
    try {
      const query = new URLSearchParams({ limit: '30' });
      if (cursor) query.set('cursor', cursor);
      const page = await api(`/v1/notifications?${query}`);
      list.append(...page.notifications.filter((n) => !shown.has(n.id)).map(row));
      cursor = page.next_cursor ?? null;
      more.hidden = !cursor;
      status.hidden = shown.size > 0;
      status.textContent = t('moments.notifications_empty');
      // Seen: the badge goes (the rows keep their unread mark while the list is open).
      if (page.notifications.some((n) => !n.read)) await state.markRead();
    } catch (e) {
      status.hidden = false;
      status.textContent = momentError(e);
    } finally {
      more.disabled = false;
    }
  }
  load();
  const off = state.on('notification', (n) => {
    if (shown.has(n.id)) return;
    list.prepend(row(n));
    status.hidden = true;
    state.markRead([n.id]).catch(() => {});
  });
  return off;
}
