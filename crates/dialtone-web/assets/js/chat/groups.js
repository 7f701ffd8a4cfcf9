// Groups: making one from registered contacts, and its info page (members, adding and
// removing them, renaming, leaving).
import { h, clear, field, toast } from '../dom.js';
import { t } from '../i18n.js';
import { store } from '../store.js';
import { phoneEl, phoneText } from '../phones.js';
import { go } from '../app.js';
import * as chat from '../chat-state.js';
import { titleOf, avatar, counted } from './format.js';
import { confirmDialog, chatErrorText } from './ui.js';

/** Registered contacts (not `except`), by name. */
function candidates(except = []) {
  const collator = new Intl.Collator(document.documentElement.lang);
  return [...store.contacts.values()]
    .filter((c) => c.registered && c.phone !== chat.me() && !except.includes(c.phone))
    .sort((a, b) => collator.compare(a.name || a.phone, b.name || b.phone));
}

/** A filterable list of checkboxes of contacts; `.chosen()` gives the ticked numbers. */
export function contactPicker(test, except = []) {
  const chosen = new Set();
  const filter = h('input', { type: 'search', 'data-test': `${test}-filter`, placeholder: t('chat.search_contacts'),
    'aria-label': t('chat.search_contacts') });
  const list = h('ul', { class: 'list pick-list' });
  const count = h('p', { class: 'muted', 'aria-live': 'polite', 'data-test': `${test}-count` });
  function draw() {
    clear(list);
    const words = filter.value.trim().toLowerCase();
    const people = candidates(except);
    const shown = people.filter((c) => !words || (c.name || '').toLowerCase().includes(words) || c.phone.includes(words));
    for (const c of shown) {
      const box = h('input', { type: 'checkbox', 'data-test': test, 'data-phone': c.phone, value: c.phone,
        checked: chosen.has(c.phone), onchange: () => { if (box.checked) chosen.add(c.phone); else chosen.delete(c.phone); drawCount(); } });
      list.append(h('li', {}, h('label', { class: 'pick' }, box, avatar(c.name || phoneText(c.phone)),
        h('span', { class: 'pick-text' }, h('span', { class: 'pick-name' }, c.name || phoneText(c.phone)), phoneEl(c.phone, { class: 'muted' })))));
    }
    if (!people.length) {
      list.append(h('li', { class: 'muted' }, t('chat.no_contacts_on_dialtone'), ' ',
        h('a', { href: '#/contacts' }, t('chat.empty_action'))));
    }
    drawCount();
  }
  function drawCount() { count.textContent = counted('chat.selected_count', chosen.size); }
  filter.addEventListener('input', draw);
  draw();
  return { el: h('div', { class: 'stack' }, filter, count, list), chosen: () => [...chosen], redraw: draw };
}

function header(title, backHref) {
  return h('header', { class: 'page-header' },
    h('a', { class: 'button icon back-always', href: backHref, 'data-test': 'back', 'aria-label': t('app.back'), title: t('app.back') },
      h('span', { class: 'ci ci-back', 'aria-hidden': 'true' })),
    h('h1', {}, title), h('span', { class: 'header-space' }));
}

/** #/new-group */
export function newGroup(main) {
  const name = h('input', { type: 'text', 'data-test': 'group-name-input', maxlength: 100, required: true, autocomplete: 'off' });
  const picker = contactPicker('member-option');
  const error = h('p', { class: 'form-error', role: 'alert', 'data-test': 'form-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-test': 'group-create-submit' }, t('chat.group_create'));
  const form = h('form', { class: 'stack', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const members = picker.chosen();
    const text = !name.value.trim() ? t('chat.group_name_needed') : !members.length ? t('chat.group_members_needed') : '';
    error.textContent = text;
    error.hidden = !text;
    if (text) { (name.value.trim() ? form.querySelector('input[type=checkbox]') : name)?.focus(); return; }
    submit.disabled = true;
    try {
      const conv = await chat.createGroup(name.value.trim(), members);
      go(`#/chat/${encodeURIComponent(conv.id)}`);
    } catch (err) {
      error.textContent = chatErrorText(err);
      error.hidden = false;
      submit.disabled = false;
    }
  } },
  field(t('chat.group_name'), name),
  h('fieldset', { class: 'pick-set' }, h('legend', {}, t('chat.group_members')), picker.el),
  error, submit);
  form.addEventListener('input', () => { error.hidden = true; });
  main.append(h('div', { class: 'page group-page' }, header(t('chat.new_group'), '#/chats'), form));
  const off = store.on('contacts', () => picker.redraw());
  return off;
}

/** #/group/<id> */
export async function groupInfo(main, ctx) {
  const id = ctx.params[0];
  const page = h('div', { class: 'page group-page' });
  main.append(page);
  const offs = [];
  let conv;
  try {
    conv = await chat.conversation(id, { fresh: true });
  } catch (e) {
    page.append(header(t('chat.group_info'), '#/chats'), h('p', { class: 'error', role: 'alert' }, chatErrorText(e)));
    return null;
  }

  function draw() {
    conv = chat.conversations.get(id) ?? conv;
    const admin = chat.isAdmin(conv);
    clear(page);
    page.append(header(titleOf(conv), `#/chat/${encodeURIComponent(id)}`));
    const error = h('p', { class: 'form-error', role: 'alert', 'data-test': 'form-error', hidden: true });
    const fail = (e) => { error.textContent = chatErrorText(e); error.hidden = false; };

    if (admin) {
      const input = h('input', { type: 'text', 'data-test': 'group-rename-input', maxlength: 100, value: conv.name ?? '' });
      const form = h('form', { class: 'row rename-form', hidden: true, onsubmit: async (e) => {
        e.preventDefault();
        if (!input.value.trim()) return;
        try { await chat.rename(id, input.value.trim()); toast(t('app.saved')); draw(); } catch (err) { fail(err); }
      } }, field(t('chat.group_name'), input),
      h('button', { type: 'submit', class: 'primary', 'data-test': 'group-rename-save' }, t('app.save')));
      page.append(h('button', { type: 'button', 'data-test': 'group-rename',
        onclick: () => { form.hidden = !form.hidden; if (!form.hidden) input.focus(); } }, t('chat.group_rename')), form);
    }

    page.append(h('h2', {}, counted('chat.member_count', conv.members.length)));
    const collator = new Intl.Collator(document.documentElement.lang);
    const members = [...conv.members].sort((a, b) => collator.compare(store.nameOf(a), store.nameOf(b)));
    page.append(h('ul', { class: 'list member-list', 'data-test': 'members' }, members.map((phone) => {
      const isMe = phone === chat.me();
      return h('li', { 'data-test': 'member', 'data-phone': phone },
        avatar(store.nameOf(phone)),
        h('span', { class: 'pick-text' },
          h('span', { class: 'pick-name' }, isMe ? t('chat.you') : store.nameOf(phone)),
          phoneEl(phone, { class: 'muted' })),
        conv.admins?.includes(phone) ? h('span', { class: 'admin-badge', 'data-test': 'admin' }, t('chat.admin')) : null,
        admin && !isMe ? h('button', { type: 'button', class: 'danger', 'data-test': 'member-remove',
          'aria-label': t('chat.remove_member', { name: store.nameOf(phone) }), onclick: async () => {
            if (!await confirmDialog(t('chat.remove_confirm', { name: store.nameOf(phone) }), t('chat.remove'))) return;
            try { await chat.removeMember(id, phone); draw(); } catch (err) { fail(err); }
          } }, t('chat.remove')) : null);
    })));

    if (admin) {
      const picker = contactPicker('add-member-option', conv.members);
      const add = h('form', { class: 'stack add-members', hidden: true, onsubmit: async (e) => {
        e.preventDefault();
        const phones = picker.chosen();
        if (!phones.length) return;
        try { await chat.addMembers(id, phones); draw(); } catch (err) { fail(err); }
      } }, picker.el, h('button', { type: 'submit', class: 'primary', 'data-test': 'add-members-submit' }, t('chat.add_members')));
      page.append(h('button', { type: 'button', 'data-test': 'group-add',
        onclick: () => { add.hidden = !add.hidden; } }, t('chat.add_members')), add);
    }

    page.append(error, h('button', { type: 'button', class: 'danger group-leave', 'data-test': 'group-leave', onclick: async () => {
      if (!await confirmDialog(t('chat.leave_confirm'), t('chat.group_leave'))) return;
      try { await chat.removeMember(id, chat.me()); go('#/chats'); } catch (err) { fail(err); }
    } }, t('chat.group_leave')));
  }

  draw();
  offs.push(store.on('contacts', draw));
  return () => offs.forEach((off) => off());
}
