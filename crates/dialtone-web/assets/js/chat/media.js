// Attachments in bubbles: fetched with the bearer token as blobs (an <img src> cannot
// send it), only when the bubble comes near the screen, and shown full size on demand.
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { blobUrl, session } from '../api.js';
import { localMedia } from '../chat-state.js';

const attachmentPath = (id, thumbnail = false) =>
  `/v1/attachments/${encodeURIComponent(id)}${thumbnail ? '?thumbnail=true' : ''}`;

/** An object URL for an attachment: this tab's own upload, or downloaded once. */
export function attachmentUrl(id, { thumbnail = false } = {}) {
  if (localMedia.has(id)) return Promise.resolve(localMedia.get(id));
  return blobUrl(attachmentPath(id, thumbnail));
}

/** The thumbnail if the server made one, else the picture itself. */
export function imageUrl(id) {
  return attachmentUrl(id, { thumbnail: true }).catch(() => attachmentUrl(id));
}

const sizes = new Map();
/** The byte size of an attachment, from a HEAD request (messages carry only its id). */
export function attachmentSize(id) {
  if (!sizes.has(id)) {
    const headers = { Authorization: `Bearer ${session.token}` };
    if (session.vaultToken) headers['X-Vault-Token'] = session.vaultToken;
    sizes.set(id, fetch(attachmentPath(id), { method: 'HEAD', headers }).then((r) => {
      const length = Number(r.headers.get('Content-Length'));
      return r.ok && Number.isFinite(length) ? length : null;
    }).catch(() => null));
  }
  return sizes.get(id);
}

const waiting = new Map();
const observer = typeof IntersectionObserver === 'function'
  ? new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      const load = waiting.get(entry.target);
      waiting.delete(entry.target);
      load?.();
    }
  }, { rootMargin: '600px 0px' })
  : null;

/** Runs `load` when `el` comes within a screen of the viewport. */
export function whenNear(el, load) {
  if (!observer) { load(); return; }
  waiting.set(el, load);
  observer.observe(el);
}

/** Sets `el.src` from a promised URL; marks the element broken if it cannot be fetched. */
export function fill(el, promise, onLoaded) {
  el.classList.add('loading');
  promise.then((url) => {
    if (onLoaded) el.addEventListener(el.tagName === 'IMG' ? 'load' : 'loadedmetadata', onLoaded, { once: true });
    el.src = url;
    el.classList.remove('loading');
  }).catch(() => {
    el.classList.remove('loading');
    el.classList.add('broken');
    el.setAttribute('title', t('chat.media_unavailable'));
  });
}

let viewer = null;
/** Shows a picture over the page (Esc or the button closes it). */
export function showImage(id, alt) {
  if (!viewer) {
    viewer = h('dialog', { class: 'image-viewer', 'data-test': 'image-viewer', 'aria-label': t('chat.image_viewer') });
    viewer.addEventListener('click', (e) => { if (e.target === viewer) viewer.close(); });
    document.body.append(viewer);
  }
  clear(viewer);
  const img = h('img', { alt, 'data-test': 'image-full' });
  const close = h('button', { type: 'button', class: 'icon viewer-close', 'data-test': 'image-close',
    'aria-label': t('app.close'), onclick: () => viewer.close() }, '✕');
  viewer.append(close, img);
  fill(img, attachmentUrl(id));
  viewer.showModal();
  close.focus();
}

/** Saves an attachment under its name (fetched first: the link needs the token). */
export async function download(id, name) {
  const url = await attachmentUrl(id);
  const a = h('a', { href: url, download: name || 'file', class: 'visually-hidden' });
  document.body.append(a);
  a.click();
  a.remove();
}
