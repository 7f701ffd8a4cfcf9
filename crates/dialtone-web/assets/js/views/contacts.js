// The address book: who is on dialtone (with live presence) and whom to invite, one row per
// person with each of their numbers; search, add, delete, start a chat.
import { h, toast } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { go } from '../app.js';
import { store } from '../store.js';
import { errorText } from './auth.js';
import { matches, peopleOf, personRow, placeRows, remember, shapeOf, sortPeople, whoAt } from '../contacts/rows.js';
import { addForm } from '../contacts/add-form.js';

const number = new Intl.NumberFormat();

async function startChat(contact, button) {
  button.disabled = true;
  try {
    const conversation = await api('/v1/conversations', { method: 'POST', body: { kind: 'direct', peer: contact.phone } });
    go('#/chat/' + encodeURIComponent(conversation.id));
  } catch (e) {
    toast(errorText(e), 'error');
    button.disabled = false;
  }
}

async function invite(person, contact) {
  const text = t('contacts.invite_text', { url: location.origin });
  try {
    await navigator.clipboard.writeText(text);
    toast(t('contacts.invite_copied', { name: whoAt(person, contact) }));
  } catch {
    // No clipboard (permission refused, insecure origin): say so rather than fail silently.
    toast(t('contacts.invite_copy_failed'), 'error');
  }
}

async function remove(person, contact) {
  const name = whoAt(person, contact);
  if (!window.confirm(t('contacts.delete_confirm', { name }))) return;
  try {
    await api(`/v1/contacts/${encodeURIComponent(contact.phone)}`, { method: 'DELETE' });
    toast(t('contacts.deleted', { name }));
    await store.loadContacts();
  } catch (e) {
    toast(errorText(e), 'error');
  }
}

/** The buttons of one of a person's numbers. */
function actions(person, contact) {
  const name = whoAt(person, contact);
  const primary = contact.registered
    ? h('button', { type: 'button', class: 'primary compact', 'data-test': 'start-chat',
      'aria-label': t('contacts.message_label', { name }),
      onclick: (e) => startChat(contact, e.currentTarget) }, t('contacts.message'))
    : h('button', { type: 'button', class: 'compact', 'data-test': 'invite',
      'aria-label': t('contacts.invite_label', { name }), onclick: () => invite(person, contact) }, t('contacts.invite'));
  const del = h('button', { type: 'button', class: 'icon delete', 'data-test': 'delete-contact',
    'aria-label': t('contacts.delete_label', { name }), title: t('contacts.delete'), onclick: () => remove(person, contact) },
  h('span', { class: 'icon-delete', 'aria-hidden': 'true' }));
  const space = contact.registered
    ? h('a', { class: 'button compact', href: `#/space/${encodeURIComponent(contact.phone)}`, 'data-test': 'open-space',
      'aria-label': t('contacts.space_label', { name }) }, t('contacts.space'))
    : null;
  return [primary, space, del];
}

function section(title, test) {
  const count = h('span', { class: 'count' });
  const heading = h('h2', { 'data-test': `${test}-heading` }, title, ' ', count);
  const list = h('ul', { class: 'list contact-list', 'data-test': `${test}-list` });
  return { el: h('section', { class: 'contact-section' }, heading, list), list, count };
}

export function contacts(main) {
  const rows = new Map(); // person key → row
  const rowOfPhone = new Map(); // phone → the row it is in
  const search = h('input', { type: 'search', class: 'contact-search', 'data-test': 'contact-search',
    'aria-label': t('contacts.search'), placeholder: t('contacts.search_placeholder'), autocomplete: 'off',
    enterkeyhint: 'search', 'aria-controls': 'contact-sections' });
  const registered = section(t('contacts.registered_heading'), 'registered');
  const others = section(t('contacts.others_heading'), 'others');
  const status = h('p', { class: 'muted', role: 'status', 'data-test': 'contacts-status' }, t('app.loading'));
  const empty = h('div', { class: 'contacts-empty', 'data-test': 'contacts-empty', hidden: true },
    h('p', {}, t('contacts.empty')),
    h('a', { class: 'button primary', href: '#/import' }, t('contacts.empty_import')));
  const noMatch = h('p', { class: 'muted', 'data-test': 'contacts-no-match', hidden: true }, t('contacts.no_match'));
  // Presence changes are announced once, in words, instead of every row being a live region.
  const announcer = h('div', { class: 'sr-only', 'aria-live': 'polite', 'data-test': 'presence-announcer' });
  const add = addForm();
  let loaded = store.contacts.size > 0;

  main.append(h('div', { class: 'page contacts-page' },
    h('header', { class: 'page-header' },
      h('h1', {}, t('contacts.title')),
      h('div', { class: 'row header-actions' },
        h('a', { class: 'button', href: '#/import', 'data-test': 'go-import' }, t('contacts.import')),
        h('button', { type: 'button', 'data-test': 'go-add', onclick: () => {
          add.el.scrollIntoView({ behavior: 'smooth', block: 'start' });
          add.focus();
        } }, t('contacts.add')))),
    search,
    status,
    empty,
    noMatch,
    h('div', { id: 'contact-sections' }, registered.el, others.el),
    announcer,
    add.el));

  function filter() {
    const query = search.value;
    let shown = 0;
    for (const [target, part] of [[registered, true], [others, false]]) {
      let visible = 0;
      for (const row of rows.values()) {
        if (row.person.registered !== part) continue;
        row.el.hidden = !row.person.contacts.some((c) => matches(c, query));
        if (!row.el.hidden) visible += 1;
      }
      target.el.hidden = visible === 0;
      target.count.textContent = `(${number.format(visible)})`;
      shown += visible;
    }
    noMatch.hidden = !(loaded && rows.size > 0 && shown === 0);
    empty.hidden = !(loaded && rows.size === 0);
  }

  function sync() {
    const people = peopleOf([...store.contacts.values()]);
    const keep = new Set(people.map((p) => p.key));
    for (const key of rows.keys()) if (!keep.has(key)) rows.delete(key);
    rowOfPhone.clear();
    for (const person of people) {
      const row = rows.get(person.key);
      if (!row) rows.set(person.key, personRow(person, actions));
      else if (row.shape !== shapeOf(person)) row.update(person);
      else row.keep(person); // same row, fresher presence from the server
      for (const c of person.contacts) rowOfPhone.set(c.phone, rows.get(person.key));
    }
    const sorted = sortPeople(people);
    placeRows(registered.list, sorted.filter((p) => p.registered).map((p) => rows.get(p.key)));
    placeRows(others.list, sorted.filter((p) => !p.registered).map((p) => rows.get(p.key)));
    for (const row of rows.values()) for (const c of row.person.contacts) row.refreshPresence(c.phone);
    status.hidden = true;
    filter();
  }

  // Live frames carry no last-seen time: ask once when someone we saw online goes offline.
  async function lookUpLastSeen(phone) {
    try {
      const p = await api(`/v1/users/${encodeURIComponent(phone)}/presence`);
      if (p?.state !== 'offline' || !p.last_seen_at) return;
      remember(phone, p.last_seen_at);
      rowOfPhone.get(phone)?.refreshPresence(phone);
    } catch { /* the dot already says offline */ }
  }

  const offContacts = store.on('contacts', () => { loaded = true; sync(); });
  const offPresence = store.on('presence', (p) => {
    const row = rowOfPhone.get(p.phone);
    const contact = row?.person.contacts.find((c) => c.phone === p.phone);
    if (!contact?.registered) return;
    const [before, after] = row.refreshPresence(p.phone);
    if (before && before !== after) {
      announcer.textContent = t('contacts.presence_changed',
        { name: whoAt(row.person, contact), state: t(`presence.${after}`) });
      if (after === 'offline' && !p.last_seen_at) lookUpLastSeen(p.phone);
    }
  });
  // "Last seen 3 minutes ago" ages while the screen is open.
  const ticker = setInterval(() => {
    for (const row of rows.values()) for (const c of row.person.contacts) row.refreshPresence(c.phone);
  }, 30000);
  search.addEventListener('input', filter);

  if (loaded) sync();
  store.loadContacts().catch((e) => {
    if (!main.isConnected) return;
    status.hidden = false;
    status.className = 'error';
    status.replaceChildren(errorText(e), ' ',
      h('button', { type: 'button', class: 'link', 'data-test': 'contacts-retry', onclick: () => go('#/contacts') },
        t('contacts.retry')));
  });

  return () => { offContacts(); offPresence(); clearInterval(ticker); };
}
