// The address book: who is on dialtone (with live presence) and whom to invite, search,
// add, delete, start a chat.
import { h, toast } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { go } from '../app.js';
import { store } from '../store.js';
import { errorText } from './auth.js';
import { contactRow, displayName, matches, placeRows, presenceFor, remember, sortContacts } from '../contacts/rows.js';
import { phoneText } from '../phones.js';
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

async function invite(contact) {
  const text = t('contacts.invite_text', { url: location.origin });
  try {
    await navigator.clipboard.writeText(text);
    toast(t('contacts.invite_copied', { name: displayName(contact) }));
  } catch {
    // No clipboard (permission refused, insecure origin): say so rather than fail silently.
    toast(t('contacts.invite_copy_failed'), 'error');
  }
}

async function remove(contact) {
  if (!window.confirm(t('contacts.delete_confirm', { name: displayName(contact) }))) return;
  try {
    await api(`/v1/contacts/${encodeURIComponent(contact.phone)}`, { method: 'DELETE' });
    toast(t('contacts.deleted', { name: displayName(contact) }));
    await store.loadContacts();
  } catch (e) {
    toast(errorText(e), 'error');
  }
}

function actions(contact) {
  const name = displayName(contact);
  const primary = contact.registered
    ? h('button', { type: 'button', class: 'primary compact', 'data-test': 'start-chat',
      'aria-label': t('contacts.message_label', { name }),
      onclick: (e) => startChat(contact, e.currentTarget) }, t('contacts.message'))
    : h('button', { type: 'button', class: 'compact', 'data-test': 'invite',
      'aria-label': t('contacts.invite_label', { name }), onclick: () => invite(contact) }, t('contacts.invite'));
  const del = h('button', { type: 'button', class: 'icon delete', 'data-test': 'delete-contact',
    'aria-label': t('contacts.delete_label', { name }), title: t('contacts.delete'), onclick: () => remove(contact) },
  h('span', { class: 'icon-delete', 'aria-hidden': 'true' }));
  return [primary, del];
}

/** What a row draws from (presence aside): a row is redrawn only when this changes. */
const shape = (c) => JSON.stringify([c.name, Boolean(c.registered), Boolean(c.hidden), c.user_id ?? null]);

function section(title, test) {
  const count = h('span', { class: 'count' });
  const heading = h('h2', { 'data-test': `${test}-heading` }, title, ' ', count);
  const list = h('ul', { class: 'list contact-list', 'data-test': `${test}-list` });
  return { el: h('section', { class: 'contact-section' }, heading, list), list, count };
}

export function contacts(main) {
  const rows = new Map(); // phone → row
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
        if (Boolean(row.contact.registered) !== part) continue;
        row.el.hidden = !matches(row.contact, query);
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
    const book = [...store.contacts.values()];
    const keep = new Set(book.map((c) => c.phone));
    for (const phone of rows.keys()) if (!keep.has(phone)) rows.delete(phone);
    for (const contact of book) {
      const row = rows.get(contact.phone);
      if (!row) rows.set(contact.phone, contactRow(contact, actions));
      else if (shape(row.contact) !== shape(contact) || row.drawn !== phoneText(contact.phone)) row.update(contact);
      else row.contact = contact; // same row, fresher presence from the server
    }
    const sorted = sortContacts(book);
    placeRows(registered.list, sorted.filter((c) => c.registered).map((c) => rows.get(c.phone)));
    placeRows(others.list, sorted.filter((c) => !c.registered).map((c) => rows.get(c.phone)));
    for (const row of rows.values()) row.state = presenceFor(row.contact).state;
    status.hidden = true;
    filter();
  }

  // Live frames carry no last-seen time: ask once when someone we saw online goes offline.
  async function lookUpLastSeen(phone) {
    try {
      const p = await api(`/v1/users/${encodeURIComponent(phone)}/presence`);
      if (p?.state !== 'offline' || !p.last_seen_at) return;
      remember(phone, p.last_seen_at);
      rows.get(phone)?.refreshPresence();
    } catch { /* the dot already says offline */ }
  }

  const offContacts = store.on('contacts', () => { loaded = true; sync(); });
  const offPresence = store.on('presence', (p) => {
    const row = rows.get(p.phone);
    if (!row || !row.contact.registered) return;
    const before = row.state;
    row.refreshPresence();
    row.state = row.el.querySelector('[data-test="presence-dot"]').dataset.state;
    if (before && before !== row.state) {
      announcer.textContent = t('contacts.presence_changed',
        { name: displayName(row.contact), state: t(`presence.${row.state}`) });
      if (row.state === 'offline' && !p.last_seen_at) lookUpLastSeen(p.phone);
    }
  });
  // "Last seen 3 minutes ago" ages while the screen is open.
  const ticker = setInterval(() => { for (const row of rows.values()) row.refreshPresence(); }, 30000);
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
