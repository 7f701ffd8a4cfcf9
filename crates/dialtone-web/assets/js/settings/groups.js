// Contact groups on the Privacy screen: make a group from chosen contacts, then block or
// allow the whole group with one switch (WeChat's "tags" used for privacy).
import { h, field, toast } from '../dom.js';
import { t, lang } from '../i18n.js';
import { api } from '../api.js';
import { store } from '../store.js';
import { phoneEl, phoneText } from '../phones.js';
import { errorText } from '../views/auth.js';
import { section, switchInput, fill, loading, failure } from './ui.js';

/** How many contacts the picker shows at once; a search narrows a big address book. */
const SHOWN = 60;

/**
 * `state` is the Privacy screen's {block, allow, groups}; `changed()` redraws the lists
 * that count groups.
 */
export function groupsSection(state, changed) {
  const listBox = h('div', { 'aria-live': 'polite' });
  const formBox = h('div');
  const el = section(t('privacy.groups'), { hint: t('privacy.groups_hint'), test: 'contact-groups' }, listBox, formBox);
  fill(listBox, loading());
  const chosen = new Set();
  let filter = '';

  function memberNames(group) {
    const names = group.phones.map((p) => store.nameOf(p));
    return names.length > 4 ? t('privacy.group_members_more', { names: names.slice(0, 4).join(', '), count: names.length - 4 })
      : names.join(', ');
  }

  async function toggle(kind, group, on, input) {
    const base = kind === 'block' ? '/v1/blocklist' : '/v1/allowlist';
    input.disabled = true;
    try {
      await api(`${base}/groups/${encodeURIComponent(group.id)}`, { method: on ? 'PUT' : 'DELETE' });
      const list = state[kind];
      list.groups = on ? [...new Set([...list.groups, group.id])] : list.groups.filter((id) => id !== group.id);
      toast(t(on ? `privacy.group_${kind}_on` : `privacy.group_${kind}_off`, { name: group.name }));
      changed();
    } catch (e) {
      input.checked = !on;
      toast(errorText(e), 'error');
    } finally {
      input.disabled = false;
    }
  }

  function drawList() {
    if (!state.groups.length) return fill(listBox, h('p', { class: 'muted' }, t('privacy.groups_empty')));
    fill(listBox, h('ul', { class: 'list settings-rows' }, state.groups.map((group) => {
      const block = switchInput(t('privacy.group_block'), { checked: state.block.groups.includes(group.id),
        test: 'group-block', onchange: (e) => toggle('block', group, e.target.checked, e.target) });
      const allow = switchInput(t('privacy.group_allow'), { checked: state.allow.groups.includes(group.id),
        test: 'group-allow', onchange: (e) => toggle('allow', group, e.target.checked, e.target) });
      return h('li', { 'data-test': 'contact-group', 'data-id': group.id, class: 'settings-group' },
        h('div', { class: 'settings-grow' },
          h('span', { class: 'settings-name' }, group.name),
          h('span', { class: 'muted settings-members' }, t('privacy.group_count', { count: group.phones.length }),
            group.phones.length ? ` · ${memberNames(group)}` : '')),
        h('div', { class: 'settings-group-switches', role: 'group', 'aria-label': group.name }, block.el, allow.el));
    })));
  }

  function drawForm() {
    const collator = new Intl.Collator(lang);
    const contacts = [...store.contacts.values()].sort((a, b) => collator.compare(a.name || a.phone, b.name || b.phone));
    const name = h('input', { type: 'text', 'data-test': 'group-name', maxlength: 64 });
    const search = h('input', { type: 'search', 'data-test': 'group-filter', value: filter,
      'aria-label': t('privacy.contact_filter'), placeholder: t('privacy.contact_filter') });
    const picker = h('ul', { class: 'settings-picker', 'data-test': 'group-members' });
    const count = h('p', { class: 'muted', 'aria-live': 'polite' });
    const error = h('p', { class: 'form-error', role: 'alert', 'data-test': 'group-error', hidden: true });
    const create = h('button', { type: 'submit', class: 'primary', 'data-test': 'group-create' }, t('privacy.group_create'));

    const drawPicker = () => {
      const needle = filter.trim().toLowerCase();
      const matching = contacts.filter((c) => !needle || (c.name || '').toLowerCase().includes(needle) || c.phone.includes(needle.replace(/[^\d+]/g, '') || '\u0000'));
      // The chosen ones stay in view so they can be unticked.
      const shown = [...contacts.filter((c) => chosen.has(c.phone) && !matching.includes(c)), ...matching.slice(0, SHOWN)];
      fill(picker, shown.map((c) => h('li', {}, h('label', { class: 'settings-check' },
        h('input', { type: 'checkbox', 'data-test': 'group-member', 'data-phone': c.phone, checked: chosen.has(c.phone),
          onchange: (e) => { if (e.target.checked) chosen.add(c.phone); else chosen.delete(c.phone); showCount(); } }),
        h('span', {}, c.name || phoneText(c.phone)), c.name ? phoneEl(c.phone, { class: 'muted' }) : null))));
      if (!contacts.length) picker.append(h('li', { class: 'muted' }, t('privacy.no_contacts')));
      else if (matching.length > SHOWN) picker.append(h('li', { class: 'muted' }, t('privacy.more_contacts', { count: matching.length - SHOWN })));
    };
    const showCount = () => { count.textContent = t('privacy.group_chosen', { count: chosen.size }); };
    search.addEventListener('input', () => { filter = search.value; drawPicker(); });
    drawPicker();
    showCount();

    const form = h('form', { class: 'stack settings-group-form', novalidate: true },
      h('h3', {}, t('privacy.group_new')),
      field(t('privacy.group_name'), name),
      h('fieldset', { class: 'settings-fieldset' }, h('legend', {}, t('privacy.group_members')), search, picker, count),
      error, h('div', { class: 'row' }, create));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const label = name.value.trim();
      error.hidden = true;
      if (!label) { error.textContent = t('privacy.group_need_name'); error.hidden = false; name.focus(); return; }
      if (!chosen.size) { error.textContent = t('privacy.group_need_members'); error.hidden = false; return; }
      create.disabled = true;
      try {
        const group = await api('/v1/contact-groups', { method: 'POST', body: { name: label, phones: [...chosen] } });
        state.groups.push(group);
        name.value = '';
        chosen.clear();
        filter = '';
        toast(t('privacy.group_created', { name: group.name }));
        draw();
      } catch (err) {
        error.textContent = errorText(err);
        error.hidden = false;
        create.disabled = false;
      }
    });
    fill(formBox, form);
  }

  function draw() {
    if (!state.groups || !state.block || !state.allow) return;
    // Keep a half-typed group name across redraws caused by address-book updates.
    const typed = formBox.querySelector('[data-test="group-name"]')?.value;
    const focused = formBox.contains(document.activeElement) ? document.activeElement.dataset.test : null;
    drawList();
    drawForm();
    if (typed) formBox.querySelector('[data-test="group-name"]').value = typed;
    if (focused) formBox.querySelector(`[data-test="${focused}"]`)?.focus();
  }

  return {
    el,
    draw,
    fail: () => { fill(listBox, failure(t('app.error_generic'))); fill(formBox); },
    dispose() {},
  };
}
