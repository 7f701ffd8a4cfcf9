// A blog: a space's Blog tab (its published articles, newest first, or those of one tag),
// one article on its own page (#/article/<id>: its sanitised HTML, likes and comments), and
// my drafts (#/drafts). Writing is in ./editor.js.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { settingsPage, fill, loading } from '../settings/ui.js';
import { postList } from './list.js';
import { postCard } from './post.js';
import { fetchItem } from './items.js';
import { momentError } from './errors.js';
import { moments as state } from './state.js';

/** The Blog tab of a space: {el, destroy}. `tag` narrows it to one tag. */
export function blogTab(phone, { mine, tag = null, onFailure }) {
  const path = `/v1/users/${encodeURIComponent(phone)}/articles`;
  const list = postList(path, { test: 'blog', params: tag ? { tag } : {}, onFailure,
    empty: t(tag ? 'blog.empty_tag' : mine ? 'blog.empty_mine' : 'blog.empty') });
  const space = `#/space/${encodeURIComponent(phone)}?tab=blog`;
  const el = h('div', { class: 'blog-tab' },
    mine ? h('div', { class: 'row space-tab-actions' },
      h('a', { class: 'button primary', href: '#/write', 'data-test': 'go-write' }, t('blog.write')),
      h('a', { class: 'button', href: '#/drafts', 'data-test': 'go-drafts' }, t('blog.drafts'))) : null,
    tag ? h('p', { class: 'blog-filter', 'data-test': 'blog-filter' }, t('blog.tagged', { tag }), ' ',
      h('a', { href: space, 'data-test': 'blog-filter-clear' }, t('blog.all_articles'))) : null,
    list.el);
  list.load();
  const off = state.on('notification', (n) => list.cards.get(n.item_id)?.refresh());
  return { el, destroy: () => { off(); list.destroy(); } };
}

/** #/article/<id>: one article whole. */
export async function article(main, ctx) {
  const id = ctx.params[0];
  const { el, body } = settingsPage(t('blog.article'), { back: '#/moments', test: 'article-page' });
  el.classList.add('moments-page', 'article-page');
  main.append(el);
  fill(body, loading());
  let card = null;
  try {
    const item = await fetchItem({ kind: 'article', id });
    el.querySelector('[data-test="back"]').setAttribute('href', `#/space/${encodeURIComponent(item.author.phone)}?tab=blog`);
    card = postCard(item, { full: true, onRemoved: () => fill(body, h('p', { class: 'muted' }, t('blog.gone'))) });
    card.el.classList.add('article-full');
    fill(body, card.el);
  } catch (e) {
    fill(body, h('p', { class: 'muted', 'data-test': 'article-missing' }, momentError(e)));
  }
  return state.on('notification', (n) => { if (n.item_id === id) card?.refresh(); });
}

/** #/drafts: my articles not published yet. */
export function drafts(main) {
  const { el, body } = settingsPage(t('blog.drafts'), { back: '#/write', test: 'drafts-page' });
  el.classList.add('moments-page');
  main.append(el);
  const list = postList('/v1/articles/drafts', { test: 'drafts', empty: t('blog.drafts_empty') });
  body.append(list.el);
  list.load();
  return () => list.destroy();
}
