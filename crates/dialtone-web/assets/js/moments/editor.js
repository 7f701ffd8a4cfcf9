// Writing an article for my blog (#/write) and changing one (#/write/<id>): a title,
// Markdown with a preview rendered by the server (exactly as it will show), pictures
// uploaded with their progress and put in at the cursor as `![alt](attachment:ID)`, tags,
// who may read it, saved as a draft or published; and deleting it.
import { h, field, toast } from '../dom.js';
import { t } from '../i18n.js';
import { api, upload } from '../api.js';
import { go } from '../app.js';
import { settingsPage, fill, loading, failure, confirmDialog } from '../settings/ui.js';
import { audiencePicker } from './audience.js';
import { articleHtml } from './pictures.js';
import { itemPath, fetchItem } from './items.js';
import { myPhone } from './post.js';
import { momentError } from './errors.js';

const TITLE_CHARS = 200;
const MAX_TAGS = 10;

/** Tags as typed (spaces or commas between them), without their `#`, each once. */
export function readTags(text) {
  return [...new Set(text.split(/[\s,，、]+/).map((w) => w.replace(/^#+/, '')).filter(Boolean))];
}

/** Puts `text` in a textarea at its cursor (replacing a selection), on a line of its own. */
function insertAtCursor(area, text) {
  const start = area.selectionStart ?? area.value.length;
  const end = area.selectionEnd ?? start;
  const before = area.value.slice(0, start);
  const after = area.value.slice(end);
  const lead = before && !before.endsWith('\n') ? '\n' : '';
  const tail = after.startsWith('\n') ? '' : '\n';
  area.value = before + lead + text + tail + after;
  const at = (before + lead + text + tail).length;
  area.setSelectionRange(at, at);
  area.dispatchEvent(new Event('input'));
}

/** Picture uploads: each shows its progress, then goes into the text where the cursor was. */
function pictures(area, showError) {
  const list = h('ul', { class: 'composer-uploads editor-uploads', 'data-test': 'uploads' });
  const pending = new Set();
  const input = h('input', { type: 'file', multiple: true, accept: 'image/*', class: 'visually-hidden',
    'data-test': 'article-picture-input', onchange: () => { for (const f of input.files) add(f); input.value = ''; } });
  function add(file) {
    showError('');
    const progress = h('progress', { max: 1, value: 0, 'data-test': 'upload-progress',
      'aria-label': t('moments.upload_progress', { name: file.name }) });
    const status = h('span', { class: 'composer-upload-status', 'data-test': 'upload-status' });
    const preview = h('img', { src: URL.createObjectURL(file), alt: '', class: 'composer-preview' });
    const row = h('li', { class: 'composer-upload', 'data-test': 'upload', 'data-state': 'uploading' }, preview, progress, status);
    list.append(row);
    const done = upload(`/v1/attachments?filename=${encodeURIComponent(file.name)}`, file,
      { contentType: file.type || 'application/octet-stream', onProgress: (f) => { progress.value = f; } })
      .then((attachment) => {
        progress.value = 1;
        row.dataset.state = 'done';
        const alt = file.name.replace(/\.[^.]*$/, '').replace(/[[\]\\]/g, '');
        insertAtCursor(area, `![${alt}](attachment:${attachment.id})`);
      })
      .catch((e) => {
        row.dataset.state = 'failed';
        status.textContent = momentError(e);
      })
      .finally(() => pending.delete(done));
    pending.add(done);
  }
  return {
    el: h('div', { class: 'composer-media' }, list,
      h('label', { class: 'button composer-pick' }, input, h('span', { 'aria-hidden': 'true' }, '＋ '), t('blog.insert_picture'))),
    settled: () => Promise.all([...pending]),
  };
}

/** #/write and #/write/<id>. */
export async function write(main, ctx) {
  const editing = ctx.params[0] || null;
  const { el, body } = settingsPage(t(editing ? 'blog.edit_title' : 'blog.new_title'),
    { back: `#/space/${encodeURIComponent(myPhone() ?? '')}?tab=blog`, test: 'editor' });
  el.classList.add('moments-page', 'editor-page');
  main.append(el);
  let article = null;
  if (editing) {
    fill(body, loading());
    try {
      article = await fetchItem({ kind: 'article', id: editing });
    } catch (e) {
      fill(body, failure(momentError(e)));
      return;
    }
  }
  const draft = !article || article.draft;
  const error = h('p', { class: 'form-error', role: 'alert', 'data-test': 'editor-error', hidden: true });
  const showError = (text) => { error.textContent = text; error.hidden = !text; };
  const title = h('input', { type: 'text', maxlength: TITLE_CHARS, 'data-test': 'article-title-input', value: article?.title ?? '' });
  const markdown = h('textarea', { rows: 14, class: 'editor-markdown', 'data-test': 'article-markdown',
    placeholder: t('blog.markdown_placeholder') });
  markdown.value = article?.markdown ?? '';
  const preview = h('div', { class: 'editor-preview', 'data-test': 'article-preview', hidden: true, 'aria-live': 'polite' });
  const toggle = h('button', { type: 'button', 'data-test': 'article-preview-toggle', 'aria-pressed': 'false' }, t('blog.preview'));
  const media = pictures(markdown, showError);
  const tags = h('input', { type: 'text', 'data-test': 'article-tags-input', value: (article?.tags ?? []).join(' ') });
  const audience = audiencePicker(article?.audience ?? { kind: 'contacts' });
  const saveDraft = draft ? h('button', { type: 'button', 'data-test': 'article-save-draft' }, t('blog.save_draft')) : null;
  const publish = h('button', { type: 'submit', class: 'primary', 'data-test': 'article-publish' },
    t(draft ? 'blog.publish' : 'app.save'));
  const remove = article ? h('button', { type: 'button', class: 'danger', 'data-test': 'article-delete' }, t('moments.delete')) : null;

  let previewing = false;
  toggle.addEventListener('click', async () => {
    previewing = !previewing;
    toggle.setAttribute('aria-pressed', String(previewing));
    toggle.textContent = t(previewing ? 'blog.back_to_writing' : 'blog.preview');
    markdown.hidden = previewing;
    preview.hidden = !previewing;
    if (!previewing) { markdown.focus(); return; }
    fill(preview, loading());
    try {
      const answer = await api('/v1/articles/preview', { method: 'POST', body: { markdown: markdown.value } });
      fill(preview, articleHtml(answer.html));
    } catch (e) {
      fill(preview, h('p', { class: 'form-error' }, momentError(e)));
    }
  });

  const form = h('form', { class: 'stack composer editor', novalidate: true },
    field(t('blog.title_label'), title),
    h('div', { class: 'field' },
      h('div', { class: 'row editor-bar' }, h('label', { class: 'field-label', for: 'editor-markdown' }, t('blog.markdown')), toggle),
      markdown, preview, h('small', { class: 'field-hint' }, t('blog.markdown_hint'))),
    media.el,
    field(t('blog.tags'), tags, t('blog.tags_hint', { count: MAX_TAGS })),
    audience.el,
    error,
    h('div', { class: 'row editor-actions' }, publish, saveDraft, remove,
      h('a', { class: 'button', href: '#/drafts', 'data-test': 'go-drafts' }, t('blog.drafts'))));
  markdown.id = 'editor-markdown';
  fill(body, form);
  title.focus();

  async function save(asDraft) {
    showError('');
    const words = title.value.trim();
    if (!words) return showError(t('blog.title_missing'));
    if (!markdown.value.trim()) return showError(t('blog.text_missing'));
    const tagList = readTags(tags.value);
    if (tagList.length > MAX_TAGS) return showError(t('blog.too_many_tags', { count: MAX_TAGS }));
    const problem = audience.problem();
    if (problem) return showError(problem);
    for (const b of [publish, saveDraft]) if (b) b.disabled = true;
    try {
      await media.settled();
      const fields = { title: words, markdown: markdown.value, tags: tagList, audience: audience.value(), draft: asDraft };
      const saved = article
        ? await api(itemPath('article', article.id), { method: 'PATCH', body: fields })
        : await api('/v1/articles', { method: 'POST', body: fields });
      toast(t(asDraft ? 'blog.draft_saved' : article && !article.draft ? 'moments.saved' : 'blog.published'));
      go(asDraft ? `#/write/${encodeURIComponent(saved.id)}` : `#/article/${encodeURIComponent(saved.id)}`);
    } catch (e) {
      showError(momentError(e));
    } finally {
      for (const b of [publish, saveDraft]) if (b) b.disabled = false;
    }
    return undefined;
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); save(false); });
  saveDraft?.addEventListener('click', () => save(true));
  remove?.addEventListener('click', async () => {
    if (!await confirmDialog(t('moments.delete_confirm_article'), t('moments.delete'))) return;
    try {
      await api(itemPath('article', article.id), { method: 'DELETE' });
      toast(t('moments.deleted'));
      go(`#/space/${encodeURIComponent(myPhone() ?? '')}?tab=blog`);
    } catch (e) {
      showError(momentError(e));
    }
  });
}
