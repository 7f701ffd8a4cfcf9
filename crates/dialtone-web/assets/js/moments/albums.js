// Photo albums: a space's Albums tab (cover and title of each), making one (#/album-new),
// one album (#/album/<id>: its photos as a grid, a viewer that steps through them full size
// with each photo's likes and comments and a link to download the original) and, for my
// own, adding many pictures at once, captions, order, the cover, deleting.
import { h, field, toast } from '../dom.js';
import { t } from '../i18n.js';
import { api, upload } from '../api.js';
import { go } from '../app.js';
import { download, whenNear, fill as fillSrc } from '../chat/media.js';
import { settingsPage, fill, loading, confirmDialog } from '../settings/ui.js';
import { audiencePicker } from './audience.js';
import { postCard, myPhone, who } from './post.js';
import { itemPath, fetchItem } from './items.js';
import { sized, thumbUrl } from './pictures.js';
import { momentError } from './errors.js';

/** A cover or photo tile's picture, its room kept from the media's size. */
function tilePicture(m, test) {
  const img = sized(h('img', { alt: '', 'data-test': test, decoding: 'async' }), m);
  whenNear(img, () => fillSrc(img, thumbUrl(m)));
  return img;
}

/** The Albums tab of a space: {el, destroy}. */
export function albumsTab(phone, { mine, onFailure }) {
  const grid = h('ul', { class: 'album-grid', 'data-test': 'albums' });
  const status = h('p', { class: 'muted post-list-status', role: 'status', 'data-test': 'albums-status' }, t('app.loading'));
  const more = h('button', { type: 'button', class: 'post-more', hidden: true, 'data-test': 'load-more', onclick: () => load() },
    t('moments.load_more'));
  let cursor = null;
  async function load() {
    more.disabled = true;
    try {
      const query = new URLSearchParams({ limit: '24' });
      if (cursor) query.set('cursor', cursor);
      const page = await api(`/v1/users/${encodeURIComponent(phone)}/albums?${query}`);
      grid.append(...page.items.map((album) => h('li', {}, h('a', { class: 'album-tile', href: `#/album/${encodeURIComponent(album.id)}`,
        'data-test': 'album-tile', 'data-id': album.id },
      album.cover ? tilePicture({ id: album.cover, thumbnail: true }, 'album-cover')
        : h('span', { class: 'album-cover album-cover-empty', 'aria-hidden': 'true' }, '🖼'),
      h('span', { class: 'album-tile-title' }, album.title),
      h('span', { class: 'muted album-tile-date' }, new Date(album.created_at).toLocaleDateString())))));
      cursor = page.next_cursor ?? null;
      more.hidden = !cursor;
      status.hidden = grid.children.length > 0;
      status.textContent = t(mine ? 'albums.empty_mine' : 'albums.empty');
    } catch (e) {
      if (!grid.children.length && onFailure) { onFailure(e); return; }
      status.hidden = false;
      status.textContent = momentError(e);
    } finally {
      more.disabled = false;
    }
  }
  load();
  return {
    el: h('div', { class: 'albums-tab' },
      mine ? h('div', { class: 'row space-tab-actions' },
        h('a', { class: 'button primary', href: '#/album-new', 'data-test': 'go-album-new' }, t('albums.new'))) : null,
      status, grid, more),
    destroy() {},
  };
}

/** #/album-new: title, description and who may see it. */
export function albumNew(main) {
  const { el, body } = settingsPage(t('albums.new'), { back: `#/space/${encodeURIComponent(myPhone() ?? '')}?tab=albums`, test: 'album-new' });
  el.classList.add('moments-page');
  main.append(el);
  const title = h('input', { type: 'text', maxlength: 100, 'data-test': 'album-title-input' });
  const description = h('textarea', { rows: 3, maxlength: 1000, 'data-test': 'album-description-input' });
  const audience = audiencePicker({ kind: 'contacts' });
  const error = h('p', { class: 'form-error', role: 'alert', 'data-test': 'album-error', hidden: true });
  const create = h('button', { type: 'submit', class: 'primary', 'data-test': 'album-create' }, t('albums.create'));
  const form = h('form', { class: 'stack composer', novalidate: true },
    field(t('albums.title_label'), title), field(t('albums.description'), description), audience.el, error,
    h('div', { class: 'row' }, create));
  fill(body, form);
  title.focus();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const problem = !title.value.trim() ? t('albums.title_missing') : audience.problem();
    error.textContent = problem ?? '';
    error.hidden = !problem;
    if (problem) return;
    create.disabled = true;
    try {
      const album = await api('/v1/albums', { method: 'POST',
        body: { title: title.value.trim(), description: description.value.trim() || undefined, audience: audience.value() } });
      go(`#/album/${encodeURIComponent(album.id)}`);
    } catch (err) {
      error.textContent = momentError(err);
      error.hidden = false;
      create.disabled = false;
    }
  });
}

/** Many pictures at once: each uploads with its progress, then all join the album together. */
function uploader(albumId, reload) {
  const list = h('ul', { class: 'composer-uploads', 'data-test': 'uploads' });
  const input = h('input', { type: 'file', multiple: true, accept: 'image/*', class: 'visually-hidden', 'data-test': 'album-upload',
    onchange: () => { const files = [...input.files]; input.value = ''; if (files.length) add(files); } });
  const status = h('p', { class: 'form-error', role: 'alert', hidden: true, 'data-test': 'album-upload-error' });
  async function add(files) {
    status.hidden = true;
    const rows = files.map((file) => {
      const progress = h('progress', { max: 1, value: 0, 'data-test': 'upload-progress',
        'aria-label': t('moments.upload_progress', { name: file.name }) });
      const note = h('span', { class: 'composer-upload-status', 'data-test': 'upload-status' });
      const row = h('li', { class: 'composer-upload', 'data-test': 'upload', 'data-state': 'uploading' },
        h('img', { src: URL.createObjectURL(file), alt: '', class: 'composer-preview' }), progress, note);
      list.append(row);
      return upload(`/v1/attachments?filename=${encodeURIComponent(file.name)}`, file,
        { contentType: file.type || 'application/octet-stream', onProgress: (f) => { progress.value = f; } })
        .then((a) => { progress.value = 1; row.dataset.state = 'done'; return a.id; })
        .catch((e) => { row.dataset.state = 'failed'; note.textContent = momentError(e); return null; });
    });
    const ids = (await Promise.all(rows)).filter(Boolean);
    if (!ids.length) return;
    try {
      await api(`${itemPath('album', albumId)}/photos`, { method: 'POST', body: { photos: ids.map((id) => ({ attachment: id })) } });
      list.replaceChildren();
      toast(t('albums.added', { count: ids.length }));
      reload();
    } catch (e) {
      status.textContent = momentError(e);
      status.hidden = false;
    }
  }
  return h('div', { class: 'composer-media album-uploader' },
    h('label', { class: 'button primary composer-pick' }, input, h('span', { 'aria-hidden': 'true' }, '＋ '), t('albums.add_photos')),
    list, status);
}

let viewer = null;
/** The viewer: one photo full size with its likes and comments; arrows, keys and swipes step. */
function openViewer(current, photos, index, onClose) {
  viewer?.close();
  const dialog = h('dialog', { class: 'photo-viewer', 'data-test': 'photo-viewer', 'aria-label': t('albums.viewer') });
  viewer = dialog;
  let at = index;
  let card = null;
  const counter = h('span', { class: 'photo-viewer-count', 'data-test': 'viewer-count', 'aria-live': 'polite' });
  const stage = h('div', { class: 'photo-viewer-stage' });
  const prev = h('button', { type: 'button', class: 'icon photo-step', 'data-test': 'viewer-prev', 'aria-label': t('albums.previous'),
    onclick: () => show(at - 1) }, '‹');
  const next = h('button', { type: 'button', class: 'icon photo-step', 'data-test': 'viewer-next', 'aria-label': t('albums.next'),
    onclick: () => show(at + 1) }, '›');
  const original = h('button', { type: 'button', class: 'compact', 'data-test': 'photo-download',
    onclick: () => {
      const photo = photos[at];
      const type = photo.media?.[0]?.content_type ?? '';
      const ext = { 'image/jpeg': '.jpg', 'image/png': '.png', 'image/gif': '.gif', 'image/webp': '.webp' }[type] ?? '';
      download(photo.attachments[0], `${current.title}-${at + 1}${ext}`).catch((e) => toast(momentError(e), 'error'));
    } },
  t('albums.download_original'));
  const close = h('button', { type: 'button', class: 'icon viewer-close', 'data-test': 'viewer-close', 'aria-label': t('app.close'),
    onclick: () => dialog.close() }, '✕');
  dialog.append(h('div', { class: 'photo-viewer-bar' }, counter, original, close), h('div', { class: 'photo-viewer-main' }, prev, stage, next));
  function show(i) {
    if (i < 0 || i >= photos.length) return;
    at = i;
    counter.textContent = t('albums.photo_of', { n: at + 1, count: photos.length });
    prev.disabled = at === 0;
    next.disabled = at === photos.length - 1;
    card = postCard(photos[at], { full: true, onRemoved: () => dialog.close() });
    card.el.classList.add('photo-card');
    dialog.dataset.photo = photos[at].id;
    stage.replaceChildren(card.el);
  }
  dialog.addEventListener('keydown', (e) => {
    if (e.target.closest('input, textarea')) return;
    if (e.key === 'ArrowLeft') show(at - 1);
    if (e.key === 'ArrowRight') show(at + 1);
  });
  let startX = null;
  stage.addEventListener('pointerdown', (e) => { startX = e.clientX; });
  stage.addEventListener('pointerup', (e) => {
    if (startX === null) return;
    const dx = e.clientX - startX;
    startX = null;
    if (Math.abs(dx) > 50) show(at + (dx < 0 ? 1 : -1));
  });
  dialog.addEventListener('close', () => { dialog.remove(); if (viewer === dialog) viewer = null; onClose?.(card?.post); });
  document.body.append(dialog);
  show(index);
  dialog.showModal();
  close.focus();
  return { refresh: (id) => { if (photos[at]?.id === id) card?.refresh(); } };
}

/** #/album/<id>: the photos, the viewer, and the owner's tools. */
export async function album(main, ctx) {
  const id = ctx.params[0];
  const { el, body } = settingsPage(t('albums.album'), { back: '#/moments', test: 'album-page' });
  el.classList.add('moments-page', 'album-page');
  main.append(el);
  fill(body, loading());
  let current = null;
  let open = null;
  let wanted = ctx.query.get('photo'); // opened once, from a link to one photo

  async function reload() {
    try {
      current = await fetchItem({ kind: 'album', id });
    } catch (e) {
      fill(body, h('p', { class: 'muted', 'data-test': 'album-missing' }, momentError(e)));
      return;
    }
    draw();
  }

  async function act(work) {
    try {
      await work();
    } catch (e) {
      toast(momentError(e), 'error');
    }
    await reload();
  }

  /** Moves a photo one place: the new order's positions, sent for those that changed. */
  function move(index, by) {
    const order = [...current.photos];
    const [photo] = order.splice(index, 1);
    order.splice(index + by, 0, photo);
    act(async () => {
      for (const [i, p] of order.entries()) {
        if (p.position !== i) await api(itemPath('photo', p.id), { method: 'PATCH', body: { position: i } });
      }
    });
  }

  async function caption(photo) {
    const input = h('input', { type: 'text', maxlength: 1000, value: photo.text, 'data-test': 'photo-caption-input',
      'aria-label': t('albums.caption') });
    const row = body.querySelector(`[data-test="photo"][data-id="${photo.id}"] .photo-caption-slot`);
    const save = h('button', { type: 'submit', class: 'compact primary', 'data-test': 'photo-caption-save' }, t('app.save'));
    const form = h('form', { class: 'row photo-caption-form' }, input, save);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      act(() => api(itemPath('photo', photo.id), { method: 'PATCH', body: { caption: input.value.trim() } }));
    });
    row.replaceChildren(form);
    input.focus();
  }

  function draw() {
    const a = current;
    const mine = a.author.phone === myPhone();
    el.querySelector('h1').textContent = a.title;
    el.querySelector('[data-test="back"]').setAttribute('href', `#/space/${encodeURIComponent(a.author.phone)}?tab=albums`);
    const photos = a.photos || [];
    const tools = (p, i) => (mine ? h('div', { class: 'photo-tools' },
      h('button', { type: 'button', class: 'compact', 'data-test': 'photo-earlier', disabled: i === 0,
        'aria-label': t('albums.move_earlier', { n: i + 1 }), onclick: () => move(i, -1) }, '←'),
      h('button', { type: 'button', class: 'compact', 'data-test': 'photo-later', disabled: i === photos.length - 1,
        'aria-label': t('albums.move_later', { n: i + 1 }), onclick: () => move(i, 1) }, '→'),
      h('button', { type: 'button', class: 'compact', 'data-test': 'photo-set-cover', disabled: a.cover === p.attachments[0],
        'aria-label': t('albums.set_cover_n', { n: i + 1 }),
        onclick: () => act(() => api(itemPath('album', a.id), { method: 'PATCH', body: { cover: p.attachments[0] } })) }, t('albums.set_cover')),
      h('button', { type: 'button', class: 'compact', 'data-test': 'photo-caption-edit', 'aria-label': t('albums.edit_caption_n', { n: i + 1 }),
        onclick: () => caption(p) }, t('albums.edit_caption')),
      h('button', { type: 'button', class: 'compact danger', 'data-test': 'photo-delete', 'aria-label': t('albums.delete_photo_n', { n: i + 1 }),
        onclick: async () => {
          if (await confirmDialog(t('moments.delete_confirm_photo'), t('moments.delete'))) act(() => api(itemPath('photo', p.id), { method: 'DELETE' }));
        } }, t('moments.delete'))) : null);
    const grid = h('ul', { class: 'photo-grid', 'data-test': 'photos' }, photos.map((p, i) => h('li', {
      class: 'photo-tile', 'data-test': 'photo', 'data-id': p.id, 'data-cover': String(a.cover === p.attachments[0]) },
    h('button', { type: 'button', class: 'photo-open', 'data-test': 'photo-open',
      'aria-label': p.text ? t('albums.open_photo_caption', { n: i + 1, caption: p.text }) : t('albums.open_photo', { n: i + 1 }),
      onclick: () => { open = openViewer(a, photos, i, () => { open = null; reload(); }); } },
    tilePicture((p.media || [])[0] ?? { id: p.attachments[0], thumbnail: true }, 'photo-thumb'),
    p.likes.count ? h('span', { class: 'photo-likes', 'data-test': 'photo-like-count' }, `♥ ${p.likes.count}`) : null),
    a.cover === p.attachments[0] ? h('span', { class: 'photo-cover-mark', 'data-test': 'photo-cover-mark' }, t('albums.cover')) : null,
    h('div', { class: 'photo-caption-slot' }, p.text ? h('span', { class: 'photo-tile-caption', 'data-test': 'photo-tile-caption' }, p.text) : null),
    tools(p, i))));
    fill(body,
      h('p', { class: 'album-by' }, h('a', { href: `#/space/${encodeURIComponent(a.author.phone)}?tab=albums`, 'data-test': 'album-author' },
        who(a.author.phone))),
      a.text ? h('p', { class: 'album-description', 'data-test': 'album-description' }, a.text) : null,
      mine ? uploader(a.id, reload) : null,
      photos.length ? grid : h('p', { class: 'muted', 'data-test': 'album-empty' }, t(mine ? 'albums.no_photos_mine' : 'albums.no_photos')),
      mine ? h('div', { class: 'row album-owner' },
        h('button', { type: 'button', class: 'danger', 'data-test': 'album-delete', onclick: async () => {
          if (!await confirmDialog(t('moments.delete_confirm_album'), t('moments.delete'))) return;
          try {
            await api(itemPath('album', a.id), { method: 'DELETE' });
            toast(t('moments.deleted'));
            go(`#/space/${encodeURIComponent(a.author.phone)}?tab=albums`);
          } catch (e) { toast(momentError(e), 'error'); }
        } }, t('albums.delete'))) : null);
    if (wanted && !open) {
      const i = photos.findIndex((p) => p.id === wanted);
      wanted = null;
      if (i >= 0) open = openViewer(a, photos, i, () => { open = null; reload(); });
    }
  }
  await reload();
  return () => viewer?.close();
}
