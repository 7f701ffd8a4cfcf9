// Who may see a post: public, all my contacts, only the contact groups and people I
// choose, or all my contacts except those I choose (WeChat's "Who can see").
import { h } from '../dom.js';
import { t, lang } from '../i18n.js';
import { api } from '../api.js';
import { store } from '../store.js';
import { phoneEl, phoneText } from '../phones.js';
import { fill } from '../settings/ui.js';

export const KINDS = ['public', 'contacts', 'chosen', 'all_except'];
/** People shown at once; a search narrows a big address book. */
const SHOWN = 60;

let pickers = 0;

/** {el, value(), problem()}: `initial` is a post's audience when editing. */
export function audiencePicker(initial = { kind: 'contacts' }) {
  const id = ++pickers;
  let kind = KINDS.includes(initial.kind) ? initial.kind : 'contacts';
  const groups = new Set(initial.groups || []);
  const phones = new Set(initial.phones || []);
  let filter = '';
  let groupList = null; // from the server, once

  const radios = KINDS.map((k) => h('label', { class: 'audience-option' },
    h('input', { type: 'radio', name: `audience-${id}`, value: k, checked: k === kind, 'data-test': `audience-${k}`,
      onchange: () => { kind = k; drawNames(); } }),
    h('span', { class: 'audience-text' }, h('span', {}, t(`moments.audience_${k}`)),
      h('small', { class: 'field-hint' }, t(`moments.audience_${k}_hint`)))));
  const names = h('div', { class: 'audience-names', 'data-test': 'audience-names' });
  const count = h('p', { class: 'muted', 'aria-live': 'polite', 'data-test': 'audience-count' });
  const el = h('fieldset', { class: 'audience', 'data-test': 'audience' },
    h('legend', {}, t('moments.audience')), h('div', { class: 'audience-kinds' }, radios), names);

  async function loadGroups() {
    try {
      // Straight to this screen after a reload: the book may not be read yet.
      if (!store.contactsLoaded) await store.loadContacts().catch(() => {});
      groupList = (await api('/v1/contact-groups')).groups || [];
    } catch {
      groupList = [];
    }
    drawNames();
  }

  const showCount = () => {
    count.textContent = t('moments.audience_chosen_count', { groups: groups.size, people: phones.size });
  };

  function drawNames() {
    if (kind !== 'chosen' && kind !== 'all_except') { fill(names); return; }
    if (!groupList) { fill(names, h('p', { class: 'muted', role: 'status' }, t('app.loading'))); loadGroups(); return; }
    const collator = new Intl.Collator(lang);
    const contacts = [...store.contacts.values()].sort((a, b) => collator.compare(a.name || a.phone, b.name || b.phone));
    const needle = filter.trim().toLocaleLowerCase(lang);
    const digits = needle.replace(/\D/g, '');
    const matching = contacts.filter((c) => !needle || (c.name || '').toLocaleLowerCase(lang).includes(needle)
      || (digits && c.phone.includes(digits)));
    const shown = [...contacts.filter((c) => phones.has(c.phone) && !matching.includes(c)), ...matching.slice(0, SHOWN)];
    const search = h('input', { type: 'search', 'data-test': 'audience-filter', value: filter,
      'aria-label': t('moments.audience_filter'), placeholder: t('moments.audience_filter') });
    search.addEventListener('input', () => {
      filter = search.value;
      drawNames();
      const again = names.querySelector('[data-test="audience-filter"]');
      again.focus();
      again.setSelectionRange(again.value.length, again.value.length);
    });
    fill(names,
      h('p', { class: 'field-hint' }, t(kind === 'chosen' ? 'moments.audience_chosen_lead' : 'moments.audience_all_except_lead')),
      h('h2', {}, t('moments.audience_groups')),
      groupList.length
        ? h('ul', { class: 'audience-list', 'data-test': 'audience-groups' }, groupList.map((g) => h('li', {},
          h('label', { class: 'audience-check' },
            h('input', { type: 'checkbox', 'data-test': 'audience-group', 'data-id': g.id, checked: groups.has(g.id),
              onchange: (e) => { if (e.target.checked) groups.add(g.id); else groups.delete(g.id); showCount(); } }),
            h('span', {}, g.name), h('small', { class: 'muted' }, t('moments.group_size', { count: g.phones.length }))))))
        : h('p', { class: 'muted' }, t('moments.audience_no_groups'), ' ', h('a', { href: '#/privacy' }, t('moments.audience_make_group'))),
      h('h2', {}, t('moments.audience_people')),
      search,
      h('ul', { class: 'audience-list', 'data-test': 'audience-people' },
        shown.map((c) => h('li', {}, h('label', { class: 'audience-check' },
          h('input', { type: 'checkbox', 'data-test': 'audience-person', 'data-phone': c.phone, checked: phones.has(c.phone),
            onchange: (e) => { if (e.target.checked) phones.add(c.phone); else phones.delete(c.phone); showCount(); } }),
          h('span', {}, c.name || phoneText(c.phone)), c.name ? phoneEl(c.phone, { class: 'muted' }) : null))),
        contacts.length ? null : h('li', { class: 'muted' }, t('moments.audience_no_contacts')),
        matching.length > SHOWN ? h('li', { class: 'muted' }, t('moments.audience_more', { count: matching.length - SHOWN })) : null),
      count);
    showCount();
  }

  drawNames();
  return {
    el,
    value() {
      const named = kind === 'chosen' || kind === 'all_except';
      return { kind, groups: named ? [...groups] : [], phones: named ? [...phones] : [] };
    },
    /** What keeps this audience from being sent, in words; null if nothing. */
    problem() {
      return kind === 'chosen' && !groups.size && !phones.size ? t('moments.audience_choose_someone') : null;
    },
  };
}
