// Pictures of items, laid out before they load: every item describes its attachments
// (`media`: type, size, pixels, thumbnail), so the room a picture takes is kept from the
// first paint and no request asks what an attachment is. Also the faces of authors (their
// avatar picture, or the letter) and an article's sanitised HTML, whose pictures are
// fetched with the token (an <img src> cannot send it).
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { avatar } from '../avatar.js';
import { attachmentUrl, showImage, whenNear, fill } from '../chat/media.js';

export function kindOfType(type = '') {
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('audio/')) return 'audio';
  return 'image';
}

/** An item's attachments described, in order (an attachment not described is a picture). */
export function mediaOf(item) {
  const described = new Map((item.media || []).map((m) => [m.id, m]));
  return (item.attachments || []).map((id) => described.get(id) ?? { id, content_type: 'image/*', thumbnail: true });
}

/** Keeps a picture's room before it loads (its width and height give the aspect ratio). */
export function sized(img, m) {
  if (m?.width && m?.height) {
    img.setAttribute('width', String(m.width));
    img.setAttribute('height', String(m.height));
  }
  return img;
}

/** The thumbnail if the server made one (the media says), else the picture. */
export const thumbUrl = (m) => attachmentUrl(m.id, { thumbnail: Boolean(m.thumbnail) });

function picture(m, index, count) {
  const label = t('moments.open_picture', { n: index + 1, count });
  const img = sized(h('img', { alt: '', 'data-test': 'post-picture', decoding: 'async' }), m);
  const button = h('button', { type: 'button', class: 'post-thumb', 'aria-label': label, 'data-test': 'post-thumb',
    onclick: () => showImage(m.id, label) }, img);
  if (count === 1 && m.width && m.height) button.style.aspectRatio = `${m.width} / ${m.height}`;
  whenNear(button, () => fill(img, thumbUrl(m)));
  return button;
}

/** The pictures of a post as a grid, or its one video or voice clip. */
export function itemMedia(item) {
  const all = mediaOf(item);
  if (!all.length) return null;
  const box = h('div', { class: `post-media count-${all.length}`, 'data-test': 'post-media' });
  const kind = kindOfType(all[0].content_type);
  if (all.length > 1 || kind === 'image') {
    box.append(...all.map((m, i) => picture(m, i, all.length)));
    return box;
  }
  box.classList.add('post-clip');
  const player = h(kind, { controls: true, preload: 'metadata', 'data-test': `post-${kind}`,
    'aria-label': t(kind === 'video' ? 'moments.video' : 'moments.voice') });
  box.append(player);
  whenNear(player, () => fill(player, attachmentUrl(all[0].id)));
  return box;
}

/** An author's face: their avatar picture (item.author.avatar), else their letter. */
export function face(name, avatarId, cls = '') {
  if (!avatarId) return avatar(name, { cls });
  const img = h('img', { class: `avatar avatar-picture ${cls}`.trim(), alt: '', 'aria-hidden': 'true',
    'data-test': 'avatar-picture', width: 42, height: 42 });
  whenNear(img, () => fill(img, attachmentUrl(avatarId, { thumbnail: true })));
  return img;
}

const ATTACHMENT_SRC = /^\/v1\/attachments\/([A-Za-z0-9_-]{1,64})$/;

/**
 * An article's HTML (sanitised by the server with an allow-list) as nodes. It is parsed in
 * a document of its own, which loads and runs nothing; its pictures (only attachments)
 * get their size from `media` and their bytes with the token.
 */
export function articleHtml(html, media = []) {
  const described = new Map(media.map((m) => [m.id, m]));
  const doc = new DOMParser().parseFromString(`<!doctype html><body>${html}`, 'text/html');
  const box = h('div', { class: 'article-body', 'data-test': 'article-html' });
  box.append(...[...doc.body.childNodes].map((n) => document.adoptNode(n)));
  for (const img of box.querySelectorAll('img')) {
    const id = ATTACHMENT_SRC.exec(img.getAttribute('src') || '')?.[1];
    img.removeAttribute('src');
    if (!id) { img.remove(); continue; }
    img.dataset.test = 'article-picture';
    img.setAttribute('decoding', 'async');
    sized(img, described.get(id));
    whenNear(img, () => fill(img, attachmentUrl(id)));
  }
  for (const a of box.querySelectorAll('a[href]')) {
    if (/^https?:/i.test(a.getAttribute('href'))) {
      a.target = '_blank';
      a.rel = 'noopener noreferrer nofollow ugc';
    }
  }
  return box;
}
