// What an address-book file holds (the server's preview), and adding it to the book.
import { h, toast } from '../dom.js';
import { t, counted } from '../i18n.js';
import { phoneEl } from '../phones.js';
import { go } from '../app.js';
import { store } from '../store.js';
import { errorText } from '../views/auth.js';
import { entriesOf, mergeInParts } from './merge.js';
import { formatName, rejectReason } from './reasons.js';

const number = new Intl.NumberFormat();
/** Rows drawn at a time: a file may hold 100,000 contacts. */
export const PAGE = 200;

/** "line 12", "record 3 (line 40)", "sheet Sheet1 row 5" from the server, in the reader's language. */
export function locationText(location) {
  let m = /^line (\d+)$/.exec(location);
  if (m) return t('import.at_line', { line: m[1] });
  m = /^record (\d+) \(line (\d+)\)$/.exec(location);
  if (m) return t('import.at_record', { record: m[1], line: m[2] });
  m = /^sheet (.+) row (\d+)$/.exec(location);
  if (m) return t('import.at_sheet', { sheet: m[1], row: m[2] });
  return location;
}

function labelText(label) {
  switch (label) {
    case 'mobile': case 'cell': return t('import.label_mobile');
    case 'home': return t('import.label_home');
    case 'work': return t('import.label_work');
    case 'fax': case 'home_fax': case 'work_fax': return t('import.label_fax');
    case 'pager': return t('import.label_pager');
    case 'other': case undefined: case null: case '': return null;
    default: return label; // the file's own words
  }
}

function contactItem(c) {
  const details = c.details?.length ? c.details : c.phones.map((n) => ({ number: n }));
  return h('li', { class: 'import-row', 'data-test': 'import-row' },
    h('span', { class: c.name ? 'import-name' : 'import-name muted' }, c.name || t('import.no_name')),
    h('ul', { class: 'import-phones' }, details.map((d) => {
      const label = labelText(d.label);
      return h('li', {}, phoneEl(d.number),
        d.extension ? h('span', { class: 'muted' }, ' ', t('import.extension', { ext: d.extension })) : null,
        label ? h('span', { class: 'muted' }, ' · ', label) : null);
    })));
}

function rejectItem(r) {
  return h('li', { class: 'import-reject', 'data-test': 'import-reject' },
    h('span', { class: 'import-where', 'data-test': 'import-reject-location' }, locationText(r.location)),
    h('span', { class: 'import-input' }, r.name && r.name !== r.input ? `${r.name}: ` : '', h('bdi', {}, r.input)),
    h('span', { class: 'import-reason' }, rejectReason(r.reason)));
}

/** A list that draws PAGE items and a "show more" button for the rest. */
function pagedList(items, draw, { cls, test }) {
  const list = h('ul', { class: `list ${cls}`, 'data-test': test });
  const more = h('button', { type: 'button', class: 'link', 'data-test': `${test}-more` });
  let shown = 0;
  const next = () => {
    list.append(...items.slice(shown, shown + PAGE).map(draw));
    shown = Math.min(items.length, shown + PAGE);
    more.hidden = shown >= items.length;
    more.textContent = t('import.show_more', { count: number.format(items.length - shown) });
  };
  more.addEventListener('click', next);
  next();
  return h('div', {}, list, more);
}

function stat(label, value, test) {
  return h('div', { class: 'stat' }, h('dt', {}, label), h('dd', { 'data-test': test }, value));
}

/** The preview of `file`; confirming merges it in parts. `region` reads any national numbers left. */
export function importPreview(preview, { region, signal }) {
  const { stats = {} } = preview;
  const entries = entriesOf(preview.contacts);
  const progress = h('progress', { 'data-test': 'import-progress', max: Math.max(1, entries.length), value: 0, hidden: true });
  const progressText = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite', 'data-test': 'import-progress-text' });
  const error = h('p', { class: 'form-error', role: 'alert', 'data-test': 'import-merge-error', hidden: true });
  const confirm = h('button', { type: 'button', class: 'primary', 'data-test': 'import-confirm',
    disabled: entries.length === 0 }, t('import.confirm', { count: number.format(preview.contacts.length) }));
  const result = h('div', { class: 'import-result', 'data-test': 'import-result', hidden: true });
  let from = 0;
  /** The book's numbers before the first part went in. */
  let before = new Set();
  const rejectedByServer = [];

  async function run() {
    confirm.disabled = true;
    error.hidden = true;
    progress.hidden = false;
    const onProgress = (done, total) => {
      progress.value = done;
      progressText.textContent = t('import.progress', { done: number.format(done), total: number.format(total) });
    };
    onProgress(from, entries.length);
    try {
      if (from === 0) before = new Set((await store.loadContacts()).keys());
      const outcome = await mergeInParts(entries, { region, from, onProgress, signal });
      rejectedByServer.push(...outcome.rejected);
      from = entries.length;
      await store.loadContacts().catch(() => {});
      // Counted as the preview counts: people (the file's contacts) and their numbers.
      const added = new Set(entries.flatMap((e) => e.phones).filter((p) => !before.has(p) && store.contacts.has(p)));
      const people = preview.contacts.filter((c) => c.phones.some((p) => added.has(p))).length;
      const text = added.size
        ? t('import.done', { people: counted('import.done_people', people), numbers: counted('import.done_numbers', added.size) })
        : t('import.done_nothing_new');
      if (!rejectedByServer.length) {
        toast(text);
        go('#/contacts');
        return;
      }
      // Some entries were refused on merging: stay, so that they can be read.
      result.hidden = false;
      result.replaceChildren(h('p', {}, text),
        h('p', {}, t('import.refused_on_merge', { count: number.format(rejectedByServer.length) })),
        h('ul', { class: 'list' }, rejectedByServer.map((r) => h('li', { 'data-test': 'import-merge-reject' },
          h('bdi', {}, r.input), ' — ', rejectReason(r.reason)))),
        h('a', { class: 'button primary', href: '#/contacts', 'data-test': 'import-done' }, t('import.go_contacts')));
    } catch (e) {
      if (e.name === 'AbortError') return;
      rejectedByServer.push(...(e.rejected || []));
      from = e.done ?? from;
      error.textContent = errorText(e);
      error.hidden = false;
      confirm.textContent = t('import.resume');
      confirm.disabled = false;
    }
  }
  confirm.addEventListener('click', run);

  return h('section', { class: 'import-preview stack', 'data-test': 'import-preview', 'aria-labelledby': 'import-preview-title' },
    h('h2', { id: 'import-preview-title' }, t('import.preview_title')),
    h('dl', { class: 'import-stats', 'data-test': 'import-summary' },
      stat(t('import.format'), formatName(preview.format), 'import-format'),
      stat(t('import.encoding'), preview.encoding, 'import-encoding-used'),
      stat(t('import.records'), number.format(stats.records ?? preview.contacts.length), 'import-records'),
      stat(t('import.contacts'), number.format(preview.contacts.length), 'import-count'),
      stat(t('import.numbers'), number.format(stats.numbers ?? entries.reduce((n, e) => n + e.phones.length, 0)), 'import-numbers'),
      stat(t('import.rejected'), number.format(preview.rejected.length), 'import-rejected-count'),
      stats.merged_duplicates ? stat(t('import.duplicates'), number.format(stats.merged_duplicates), 'import-duplicates') : null),
    h('div', { class: 'import-actions stack' }, confirm, progress, progressText, error, result),
    preview.contacts.length
      ? h('div', {}, h('h3', {}, t('import.contacts_heading')),
        pagedList(preview.contacts, contactItem, { cls: 'import-list', test: 'import-rows' }))
      : h('p', { class: 'muted', 'data-test': 'import-nothing' }, t('import.nothing')),
    preview.rejected.length
      ? h('div', {}, h('h3', {}, t('import.rejects_heading')),
        h('p', { class: 'muted' }, t('import.rejects_lead')),
        pagedList(preview.rejected, rejectItem, { cls: 'import-rejects', test: 'import-rejects' }))
      : null);
}
