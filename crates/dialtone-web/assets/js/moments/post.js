// One item of a space or the feed, as WeChat Moments shows it: the author, then what the
// item is (a post's text, pictures as a grid or a video or voice clip alone, link card and
// place; an article's title and excerpt, or all of it; an album's cover and title; a
// photo full size with its caption), the time, likes and comments with replies. Everything the server sends becomes text nodes (link
// titles and descriptions included); the card asks the server again after every action,
// so what it shows is what the server decided (likes of people I may not see are not counted).
import { h, append, clear, toast } from '../dom.js';
import { t, ago, fullTime } from '../i18n.js';
import { api, session } from '../api.js';
import { store } from '../store.js';
import { imageUrl, whenNear, fill } from '../chat/media.js';
import { confirmDialog } from '../settings/ui.js';
import { go } from '../app.js';
import { momentError } from './errors.js';
import { fetchItem, itemPath, itemHref, editHref } from './items.js';
import { itemMedia, face as authorFace, articleHtml, thumbUrl, sized } from './pictures.js';

/** My number (E.164). */
export const myPhone = () => store.account?.phone ?? session.current?.phone ?? null;

/** The name shown for a person: the one in my address book, else the number. */
export const who = (phone) => store.nameOf(phone);

export const postPath = (id) => `/v1/posts/${encodeURIComponent(id)}`;

/** A post as the server lets me see it now. */
export function fetchPost(id) {
  return api(postPath(id));
}

function linkCard(link) {
  if (!link?.url || !/^https?:\/\//i.test(link.url)) return null;
  let host = link.url;
  try { host = new URL(link.url).host; } catch { /* shown whole */ }
  const image = link.image ? h('img', { class: 'post-link-image', alt: '', 'data-test': 'post-link-image' }) : null;
  if (image) whenNear(image, () => fill(image, imageUrl(link.image)));
  return h('a', { class: 'post-link', href: link.url, target: '_blank', rel: 'noopener noreferrer nofollow ugc',
    'data-test': 'post-link' },
  image,
  h('span', { class: 'post-link-text' },
    h('span', { class: 'post-link-title', 'data-test': 'post-link-title' }, link.title || host),
    link.description ? h('span', { class: 'post-link-description', 'data-test': 'post-link-description' }, link.description) : null,
    h('span', { class: 'post-link-host muted' }, host)));
}

let cards = 0;

/** An article's tags, each a link to the author's blog of that tag. */
export function tagLinks(item) {
  if (!item.tags?.length) return null;
  const blog = `#/space/${encodeURIComponent(item.author.phone)}?tab=blog&tag=`;
  return h('ul', { class: 'article-tags', 'aria-label': t('blog.tags') }, item.tags.map((tag) => h('li', {},
    h('a', { class: 'article-tag', href: blog + encodeURIComponent(tag), 'data-test': 'article-tag' }, `#${tag}`))));
}

/**
 * What the item is, below its author's name. `full`: an article whole (its own page) or a
 * photo full size (the album's viewer), else a summary that opens it.
 */
function itemBody(p, full) {
  if (p.kind === 'article') {
    const title = p.title || t('blog.untitled');
    return [
      full ? h('h2', { class: 'article-title', 'data-test': 'article-title' }, title)
        : h('a', { class: 'article-title', href: itemHref(p), 'data-test': 'article-open' }, title),
      p.draft ? h('span', { class: 'badge badge-inline article-draft', 'data-test': 'article-draft' }, t('blog.draft')) : null,
      tagLinks(p),
      full ? articleHtml(p.html || '', p.media || [])
        : p.text ? h('p', { class: 'post-text article-excerpt', 'data-test': 'article-excerpt' }, p.text) : null,
      full || !p.text ? null : h('a', { href: itemHref(p), class: 'article-more', 'aria-hidden': 'true', tabindex: '-1' }, t('blog.read_more')),
    ];
  }
  if (p.kind === 'album') {
    const cover = p.cover ? h('img', { class: 'album-cover', alt: '', 'data-test': 'album-cover' }) : null;
    if (cover) whenNear(cover, () => fill(cover, thumbUrl({ id: p.cover, thumbnail: true })));
    return [
      h('a', { class: 'album-card', href: itemHref(p), 'data-test': 'album-open' },
        cover ?? h('span', { class: 'album-cover album-cover-empty', 'aria-hidden': 'true' }, '🖼'),
        h('span', { class: 'album-card-title', 'data-test': 'album-title' }, p.title || t('albums.untitled'))),
      p.text ? h('p', { class: 'post-text', 'data-test': 'album-description' }, p.text) : null,
    ];
  }
  if (p.kind === 'photo') {
    const [m] = p.media || [{ id: p.attachments[0] }];
    const img = sized(h('img', { class: 'photo-full', alt: p.text || '', 'data-test': 'photo-full' }), m);
    if (m?.id) fill(img, full ? thumbUrl({ id: m.id, thumbnail: false }) : thumbUrl(m));
    return [img, p.text ? h('p', { class: 'post-text', 'data-test': 'photo-caption' }, p.text) : null];
  }
  return [
    p.text ? h('p', { class: 'post-text', 'data-test': 'post-text' }, p.text) : null,
    itemMedia(p),
    linkCard(p.link),
  ];
}

/**
 * A card for `post` (any item). Returns {el, post, update(post), refresh()}; `onRemoved()`
 * runs when the item is deleted or is no longer mine to see.
 */
export function postCard(post, { onRemoved = null, full = false } = {}) {
  const nameId = `post-author-${++cards}`;
  const content = h('div', { class: 'post-content' });
  const body = h('div', { class: 'post-body' }, content);
  const el = h('article', { class: 'post', 'data-test': 'post', 'aria-labelledby': nameId }, h('div', { class: 'post-face' }), body);
  const face = el.firstChild;
  let current = post;
  let replyTo = null; // the comment being answered
  let busy = false;

  // The comment form lives across redraws, so a half-typed comment survives new likes.
  const input = h('input', { type: 'text', maxlength: 1000, 'data-test': 'comment-input', enterkeyhint: 'send',
    'aria-label': t('moments.comment_label') });
  const replyNote = h('span', { class: 'muted post-reply-note', 'data-test': 'reply-note' });
  const cancelReply = h('button', { type: 'button', class: 'link', 'data-test': 'reply-cancel',
    onclick: () => setReply(null) }, t('app.cancel'));
  const send = h('button', { type: 'submit', class: 'primary compact', 'data-test': 'comment-send' }, t('moments.send'));
  const form = h('form', { class: 'post-comment-form', hidden: true },
    h('div', { class: 'row post-reply-row' }, replyNote, cancelReply), h('div', { class: 'row' }, input, send));
  body.append(form);

  function setReply(comment) {
    replyTo = comment;
    replyNote.textContent = comment ? t('moments.replying_to', { name: who(comment.author) }) : '';
    replyNote.parentElement.hidden = !comment;
    input.placeholder = comment ? t('moments.reply_placeholder', { name: who(comment.author) }) : t('moments.comment_placeholder');
    form.hidden = false;
    input.focus();
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || busy) return;
    busy = true;
    send.disabled = true;
    try {
      await api(`/v1/items/${encodeURIComponent(current.id)}/comments`, { method: 'POST',
        body: replyTo ? { text, reply_to: replyTo.id } : { text } });
      input.value = '';
      replyTo = null;
      form.hidden = true;
      await refresh();
    } catch (err) {
      toast(momentError(err), 'error');
      if (err.code === 'item_not_found') gone();
    } finally {
      busy = false;
      send.disabled = false;
    }
  });

  function gone() {
    el.remove();
    onRemoved?.();
  }

  async function refresh() {
    try {
      current = await fetchItem(current);
      draw();
    } catch (err) {
      if (err.status === 404) gone();
    }
  }

  async function act(work) {
    if (busy) return;
    busy = true;
    try {
      await work();
      await refresh();
    } catch (err) {
      toast(momentError(err), 'error');
      if (err.code === 'item_not_found') gone();
    } finally {
      busy = false;
    }
  }

  const like = () => act(() => api(`/v1/items/${encodeURIComponent(current.id)}/like`,
    { method: current.likes.liked ? 'DELETE' : 'PUT' }));

  async function remove() {
    if (!await confirmDialog(t(`moments.delete_confirm_${current.kind || 'post'}`), t('moments.delete'))) return;
    try {
      await api(itemPath(current.kind, current.id), { method: 'DELETE' });
      toast(t('moments.deleted'));
      gone();
    } catch (err) {
      toast(momentError(err), 'error');
    }
  }

  async function removeComment(comment) {
    if (!await confirmDialog(t('moments.comment_delete_confirm'), t('moments.delete'))) return;
    act(() => api(`/v1/comments/${encodeURIComponent(comment.id)}`, { method: 'DELETE' }));
  }

  function comments() {
    const mine = myPhone();
    const own = current.author.phone === mine;
    if (!current.comments.length) return null;
    return h('ul', { class: 'post-comments', 'data-test': 'post-comments' }, current.comments.map((c) => {
      const line = c.reply_to
        ? t('moments.replied', { author: who(c.author), target: who(c.reply_to.author) })
        : who(c.author);
      return h('li', { 'data-test': 'comment', 'data-id': c.id, 'data-author': c.author },
        h('span', { class: 'post-comment-who', 'data-test': 'comment-who' }, line),
        h('span', { class: 'post-comment-sep', 'aria-hidden': 'true' }, ': '),
        h('span', { class: 'post-comment-text', 'data-test': 'comment-text' }, c.text),
        h('span', { class: 'post-comment-actions' },
          c.author !== mine ? h('button', { type: 'button', class: 'link', 'data-test': 'comment-reply',
            'aria-label': t('moments.reply_to', { name: who(c.author) }), onclick: () => setReply(c) }, t('moments.reply')) : null,
          c.author === mine || own ? h('button', { type: 'button', class: 'link danger-link', 'data-test': 'comment-delete',
            'aria-label': t('moments.comment_delete_label', { name: who(c.author) }), onclick: () => removeComment(c) },
          t('moments.delete')) : null));
    }));
  }

  function draw() {
    const p = current;
    const mine = p.author.phone === myPhone();
    el.dataset.id = p.id;
    el.dataset.kind = p.kind || 'post';
    el.dataset.author = p.author.phone;
    face.replaceChildren(h('a', { href: `#/space/${encodeURIComponent(p.author.phone)}`, tabindex: '-1', 'aria-hidden': 'true' },
      authorFace(who(p.author.phone), p.author.avatar)));
    const likers = p.likes.phones.length
      ? h('p', { class: 'post-likers', 'data-test': 'post-likers' },
        h('span', { class: 'post-heart', 'aria-hidden': 'true' }, '♥ '),
        h('span', { class: 'sr-only' }, t('moments.liked_by'), ' '),
        p.likes.phones.map((phone) => who(phone)).join(t('moments.list_separator')))
      : null;
    const audience = mine && p.audience
      ? h('span', { class: 'post-audience muted', 'data-test': 'post-audience', 'data-kind': p.audience.kind },
        t(`moments.audience_${p.audience.kind}`))
      : null;
    append(clear(content), [
      h('a', { class: 'post-author', id: nameId, href: `#/space/${encodeURIComponent(p.author.phone)}`,
        'data-test': 'post-author' }, who(p.author.phone)),
      ...itemBody(p, full),
      p.place ? h('p', { class: 'post-place', 'data-test': 'post-place' },
        h('span', { class: 'sr-only' }, t('moments.place'), ' '), p.place) : null,
      h('div', { class: 'post-meta' },
        h('time', { datetime: p.created_at, title: fullTime(p.created_at), class: 'muted' }, ago(p.created_at)),
        p.edited_at ? h('span', { class: 'muted', 'data-test': 'post-edited' }, t('moments.edited')) : null,
        audience,
        h('span', { class: 'post-actions' },
          h('button', { type: 'button', class: 'compact post-like', 'data-test': 'post-like',
            'aria-pressed': String(Boolean(p.likes.liked)), onclick: like },
          h('span', { 'aria-hidden': 'true' }, p.likes.liked ? '♥' : '♡'), ' ',
          p.likes.liked ? t('moments.unlike') : t('moments.like'),
          p.likes.count ? h('span', { class: 'post-count', 'data-test': 'post-like-count' }, ` ${p.likes.count}`) : null),
          h('button', { type: 'button', class: 'compact', 'data-test': 'post-comment', onclick: () => setReply(null) },
            t('moments.comment')),
          mine && p.kind !== 'photo' ? h('button', { type: 'button', class: 'compact', 'data-test': 'post-edit',
            onclick: () => go(editHref(p)) }, t('moments.edit')) : null,
          mine ? h('button', { type: 'button', class: 'compact danger', 'data-test': 'post-delete', onclick: remove },
            t('moments.delete')) : null)),
      likers || p.comments.length ? h('div', { class: 'post-reactions' }, likers, comments()) : null]);
  }

  draw();
  return {
    el,
    get post() { return current; },
    update(next) { current = next; draw(); },
    refresh,
  };
}
