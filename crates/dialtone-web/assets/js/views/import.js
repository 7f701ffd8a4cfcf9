// Importing an address-book file: the server reads it (any format and encoding dialtone
// knows) and answers with a preview; nothing is stored until the user confirms.
import { h, field } from '../dom.js';
import { t, config, regionOptions } from '../i18n.js';
import { api } from '../api.js';
import { store } from '../store.js';
import { errorText } from './auth.js';
import { importPreview, PAGE } from '../contacts/import-preview.js';
import { learnPhones } from '../phones.js';
import { importErrorText } from '../contacts/reasons.js';

const ACCEPT = '.csv,.txt,.vcf,.xlsx,.xls,.ods,.ldif,.wab,.contact';
/** The server's limit for one file (64 MiB): bigger ones are refused before uploading. */
const MAX_BYTES = 64 * 1024 * 1024;
/** Encodings worth offering when detection guesses wrong, [label, catalogue key]. */
const ENCODINGS = [
  ['utf-8', 'import.enc_utf8'],
  ['gb18030', 'import.enc_gb18030'],
  ['big5', 'import.enc_big5'],
  ['utf-16le', 'import.enc_utf16le'],
  ['utf-16be', 'import.enc_utf16be'],
  ['shift_jis', 'import.enc_shift_jis'],
  ['euc-kr', 'import.enc_euc_kr'],
  ['windows-1252', 'import.enc_windows1252'],
  ['windows-1250', 'import.enc_windows1250'],
  ['windows-1251', 'import.enc_windows1251'],
];

export function importView(main) {
  let controller = null;
  const file = h('input', { type: 'file', 'data-test': 'import-file', accept: ACCEPT });
  const region = h('select', { 'data-test': 'import-region' },
    regionOptions().map((r) => h('option', { value: r.code,
      selected: r.code === (store.account?.region || config.region) }, `${r.name} +${r.calling}`)));
  const encoding = h('select', { 'data-test': 'import-encoding' },
    h('option', { value: '' }, t('import.enc_auto')),
    ENCODINGS.map(([label, key]) => h('option', { value: label }, t(key))));
  const status = h('div', { class: 'import-status', role: 'status', 'aria-live': 'polite', 'data-test': 'import-status' });
  const output = h('div', { class: 'import-output' });

  main.append(h('div', { class: 'page import-page' },
    h('header', { class: 'page-header' },
      h('h1', {}, t('import.title')),
      h('a', { class: 'button', href: '#/contacts', 'data-test': 'import-back' }, t('import.back'))),
    h('p', { class: 'lead' }, t('import.lead')),
    h('form', { class: 'import-form stack', novalidate: true, onsubmit: (e) => { e.preventDefault(); read(); } },
      field(t('import.file'), file, t('import.file_hint')),
      h('div', { class: 'import-options' },
        field(t('import.region'), region, t('import.region_hint')),
        field(t('import.encoding_override'), encoding, t('import.encoding_hint'))),
      h('div', { class: 'row' }, h('button', { type: 'submit', 'data-test': 'import-read' }, t('import.read')))),
    status,
    output));

  async function read() {
    const chosen = file.files?.[0];
    controller?.abort();
    output.replaceChildren();
    if (!chosen) {
      status.replaceChildren(h('p', { class: 'form-error' }, t('import.choose_first')));
      return;
    }
    if (chosen.size > MAX_BYTES) {
      status.replaceChildren(h('p', { class: 'form-error', 'data-test': 'import-error' }, t('import.error_too_large')));
      return;
    }
    controller = new AbortController();
    const { signal } = controller;
    status.replaceChildren(h('p', { class: 'muted' }, t('import.reading', { file: chosen.name })));
    const query = new URLSearchParams({ filename: chosen.name, region: region.value });
    if (encoding.value) query.set('encoding', encoding.value);
    try {
      const preview = await api(`/v1/contacts/import?${query}`, { method: 'POST', raw: chosen,
        contentType: 'application/octet-stream', signal });
      if (signal.aborted) return;
      // The first rows' numbers written as people write them before they are drawn.
      await learnPhones(preview.contacts.slice(0, PAGE).flatMap((c) => c.phones));
      if (signal.aborted) return;
      status.replaceChildren();
      output.replaceChildren(importPreview(preview, { region: region.value, signal }));
    } catch (e) {
      if (e.name === 'AbortError') return;
      // The code says what kind of problem; the server's message names the line or record.
      const known = importErrorText(e.code);
      status.replaceChildren(h('div', { class: 'import-error', role: 'alert', 'data-test': 'import-error' },
        h('p', { class: 'form-error' }, known ?? errorText(e)),
        known && e.message && e.message !== e.code
          ? h('p', { class: 'muted', 'data-test': 'import-error-detail', lang: 'en' }, e.message) : null));
    }
  }

  file.addEventListener('change', read);
  // A different region or encoding reads the same file again.
  region.addEventListener('change', () => { if (file.files?.length) read(); });
  encoding.addEventListener('change', () => { if (file.files?.length) read(); });

  return () => controller?.abort();
}
