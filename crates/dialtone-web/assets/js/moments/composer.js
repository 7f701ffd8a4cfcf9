// Writing a post (#/compose) and editing one of mine (#/compose/<id>): text, up to nine
// pictures or one video or voice clip (each uploaded at once, with its progress), a link,
// a place and who may see it. An edit changes the text, the place and the audience (what
// the API lets change).
import { h, field, toast } from '../dom.js';
import { t } from '../i18n.js';
import { api, upload } from '../api.js';
import { go } from '../app.js';
import { settingsPage, fill, loading, failure } from '../settings/ui.js';
import { audiencePicker } from './audience.js';
import { fetchPost, postPath } from './post.js';
import { momentError } from './errors.js';

const MAX_PICTURES = 9;
const TEXT_CHARS = 5000;
const PLACE_CHARS = 100;

const kindOfFile = (file) => (file.type.startsWith('video/') ? 'video' : file.type.startsWith('audio/') ? 'audio' : 'image');

/** The list of uploads: {el, tiles, add(files), ids(), pending(), problem()}. */
function uploads(showError) {
  const tiles = [];
  const list = h('ul', { class: 'composer-uploads', 'data-test': 'uploads' });
  const input = h('input', { type: 'file', multiple: true, accept: 'image/*,video/*,audio/*', class: 'visually-hidden',
    'data-test': 'post-attach', onchange: () => { add([...input.files]); input.value = ''; } });
  const pick = h('label', { class: 'button composer-pick' }, input,
    h('span', { 'aria-hidden': 'true' }, '＋ '), t('moments.add_media'));
  const hint = h('p', { class: 'field-hint' }, t('moments.media_hint'));

  function refresh() {
    const clip = tiles.some((tile) => tile.kind !== 'image');
    pick.hidden = clip || tiles.length >= MAX_PICTURES;
  }

  function add(files) {
    showError('');
    const clipNow = tiles.some((tile) => tile.kind !== 'image');
    const clips = files.filter((f) => kindOfFile(f) !== 'image');
    if (clips.length && (clipNow || tiles.length || files.length > 1)) { showError(t('moments.clip_alone')); return; }
    if (clipNow) { showError(t('moments.clip_alone')); return; }
    let chosen = files;
    if (tiles.length + files.length > MAX_PICTURES) {
      chosen = files.slice(0, MAX_PICTURES - tiles.length);
      showError(t('moments.too_many_pictures', { count: MAX_PICTURES }));
    }
    for (const file of chosen) tiles.push(tile(file));
    refresh();
  }

  function tile(file) {
    const kind = kindOfFile(file);
    const controller = new AbortController();
    const preview = kind === 'image'
      ? h('img', { src: URL.createObjectURL(file), alt: '', class: 'composer-preview' })
      : h('span', { class: 'composer-preview composer-clip' }, t(kind === 'video' ? 'moments.video' : 'moments.voice'));
    const progress = h('progress', { max: 1, value: 0, 'data-test': 'upload-progress',
      'aria-label': t('moments.upload_progress', { name: file.name }) });
    const status = h('span', { class: 'composer-upload-status', 'data-test': 'upload-status' });
    const entry = { file, kind, id: null, failed: false };
    const remove = h('button', { type: 'button', class: 'icon composer-remove', 'data-test': 'upload-remove',
      'aria-label': t('moments.remove_media', { name: file.name }), onclick: () => {
        controller.abort();
        tiles.splice(tiles.indexOf(entry), 1);
        entry.el.remove();
        if (preview.src) URL.revokeObjectURL(preview.src);
        refresh();
      } }, '✕');
    entry.el = h('li', { class: 'composer-upload', 'data-test': 'upload', 'data-state': 'uploading' }, preview, progress, status, remove);
    list.append(entry.el);
    entry.done = upload(`/v1/attachments?filename=${encodeURIComponent(file.name)}`, file,
      { contentType: file.type || 'application/octet-stream', signal: controller.signal,
        onProgress: (fraction) => { progress.value = fraction; } })
      .then((attachment) => {
        entry.id = attachment.id;
        progress.value = 1;
        entry.el.dataset.state = 'done';
      })
      .catch((err) => {
        if (err?.name === 'AbortError') return;
        entry.failed = true;
        entry.el.dataset.state = 'failed';
        status.textContent = momentError(err);
      });
    return entry;
  }

  return {
    el: h('div', { class: 'composer-media' }, list, pick, hint),
    ids: () => tiles.map((tile) => tile.id),
    count: () => tiles.length,
    async settled() { await Promise.all(tiles.map((tile) => tile.done)); },
    failed: () => tiles.some((tile) => tile.failed),
  };
}

/** #/compose and #/compose/<id>. */
export async function compose(main, ctx) {
  const editing = ctx.params[0] || null;
  const { el, body } = settingsPage(editing ? t('moments.edit_title') : t('moments.new_title'),
    { back: editing ? `#/post/${encodeURIComponent(editing)}` : '#/moments', test: 'composer' });
  el.classList.add('moments-page');
  main.append(el);
  let post = null;
  if (editing) {
    fill(body, loading());
    try {
      post = await fetchPost(editing);
    } catch (e) {
      fill(body, failure(momentError(e)));
      return;
    }
  }

  const error = h('p', { class: 'form-error', role: 'alert', 'data-test': 'composer-error', hidden: true });
  const showError = (text) => { error.textContent = text; error.hidden = !text; };
  const text = h('textarea', { 'data-test': 'post-text-input', rows: 5, maxlength: TEXT_CHARS,
    placeholder: t('moments.text_placeholder') });
  text.value = post?.text ?? '';
  const link = h('input', { type: 'url', 'data-test': 'post-link-input', inputmode: 'url', maxlength: 2048,
    placeholder: 'https://' });
  const place = h('input', { type: 'text', 'data-test': 'post-place-input', maxlength: PLACE_CHARS });
  place.value = post?.place ?? '';
  const media = editing ? null : uploads(showError);
  const audience = audiencePicker(post?.audience ?? { kind: 'contacts' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-test': 'post-submit' },
    editing ? t('app.save') : t('moments.publish'));
  const form = h('form', { class: 'stack composer', novalidate: true },
    field(t('moments.text'), text),
    media ? h('div', { class: 'field' }, h('span', { class: 'field-label' }, t('moments.media')), media.el) : null,
    editing ? null : field(t('moments.link'), link, t('moments.link_hint')),
    field(t('moments.place'), place),
    audience.el,
    error,
    h('div', { class: 'row' }, submit));
  fill(body, form);
  text.focus();

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('');
    const words = text.value.trim();
    const url = link.value.trim();
    if (!editing && !words && !media.count() && !url) return showError(t('moments.empty_post'));
    if (editing && !words && !post.attachments.length && !post.link) return showError(t('moments.empty_post'));
    if (url && !/^https?:\/\/\S+$/i.test(url)) return showError(t('moments.error_invalid_link'));
    const problem = audience.problem();
    if (problem) return showError(problem);
    submit.disabled = true;
    try {
      if (editing) {
        await api(postPath(editing), { method: 'PATCH',
          body: { text: words, place: place.value.trim() || null, audience: audience.value() } });
        toast(t('moments.saved'));
        go(`#/post/${encodeURIComponent(editing)}`);
        return;
      }
      submit.textContent = t('moments.uploading');
      await media.settled();
      if (media.failed()) throw Object.assign(new Error('upload'), { code: 'upload_failed' });
      await api('/v1/posts', { method: 'POST', body: {
        text: words, attachments: media.ids(), link: url || undefined, place: place.value.trim() || undefined,
        audience: audience.value() } });
      toast(t('moments.posted'));
      go('#/moments');
    } catch (err) {
      showError(err.code === 'upload_failed' ? t('moments.upload_failed') : momentError(err));
      submit.disabled = false;
      submit.textContent = editing ? t('app.save') : t('moments.publish');
    }
  });
}
