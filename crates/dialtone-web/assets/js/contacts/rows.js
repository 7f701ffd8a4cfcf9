// The address book as people: one row per person, with their avatar and name, then each of
// their numbers, whether it is on dialtone (with presence) and what to do with it. The book
// holds one entry per number (API.md); entries with the same name are one person, an entry
// without a name is a person of its own. Rows are kept and updated in place, so presence
// changes never redraw (or lose focus in) the list.
import { h } from '../dom.js';
import { t, ago, lang } from '../i18n.js';
import { store } from '../store.js';
import { avatar } from '../avatar.js';
import { phoneText } from '../phones.js';

/** The name shown for a contact: my name for it, else its number as people write it. */
export function displayName(contact) {
  return contact.name?.trim() || phoneText(contact.phone);
}

/** Which person an entry belongs to. */
export function personKey(contact) {
  const name = contact.name?.trim();
  return name ? `name:${name}` : `phone:${contact.phone}`;
}

/**
 * The book's entries gathered into people: [{key, name, named, registered, contacts}], each
 * person's numbers on dialtone first, then in number order.
 */
export function peopleOf(contacts) {
  const people = new Map();
  for (const contact of contacts) {
    const key = personKey(contact);
    if (!people.has(key)) {
      people.set(key, { key, name: displayName(contact), named: Boolean(contact.name?.trim()), contacts: [] });
    }
    people.get(key).contacts.push(contact);
  }
  for (const person of people.values()) {
    person.contacts.sort((a, b) => Number(Boolean(b.registered)) - Number(Boolean(a.registered)) || a.phone.localeCompare(b.phone));
    person.registered = person.contacts.some((c) => c.registered);
  }
  return [...people.values()];
}

/** One of a person's numbers in words: the name alone when it is their only number, else with the number. */
export function whoAt(person, contact) {
  if (person.contacts.length === 1 || !person.named) return displayName(contact);
  return t('contacts.name_at_number', { name: person.name, number: phoneText(contact.phone) });
}

/**
 * When an offline contact was last seen, as far as we know. Live `presence` frames carry no
 * `last_seen_at`, so it comes from GET /v1/contacts or from a presence look-up (see
 * `remember`), whichever is newer.
 */
const lastSeen = new Map();
export function remember(phone, iso) {
  if (!iso) return;
  const known = lastSeen.get(phone);
  if (!known || new Date(iso) > new Date(known)) lastSeen.set(phone, iso);
}

/** The presence to show for a contact: the store's live state, with the last-seen time filled in. */
export function presenceFor(contact) {
  if (contact.presence?.state === 'offline') remember(contact.phone, contact.presence.last_seen_at);
  const p = store.presence.get(contact.phone) ?? contact.presence ?? { state: 'offline' };
  if (p.state === 'offline' && !p.last_seen_at && lastSeen.has(contact.phone)) {
    return { ...p, last_seen_at: lastSeen.get(contact.phone) };
  }
  return p;
}

/** The line under the name: status text, else the state; "last seen …" when offline. */
export function presenceLine(p) {
  if (p.state === 'offline') {
    return p.last_seen_at ? t('presence.last_seen', { when: ago(p.last_seen_at) }) : t('presence.offline');
  }
  return p.text?.trim() || t(`presence.${p.state}`);
}

const stateName = (state) => (['available', 'away', 'busy'].includes(state) ? state : 'offline');

/** Does the contact match what was typed: part of the name, or digits of the number. */
export function matches(contact, query) {
  const q = query.trim().toLocaleLowerCase(lang);
  if (!q) return true;
  if ((contact.name || '').toLocaleLowerCase(lang).includes(q)) return true;
  const digits = q.replace(/\D/g, '');
  // Only when the query is mostly a number: "li 2" must not match every number with a 2.
  if (!digits || digits.length < q.replace(/[\s()+\-.]/g, '').length) return false;
  const phone = contact.phone.replace(/\D/g, '');
  // A national form typed with its trunk prefix ("010 6234…") still finds "+86 10 6234…".
  return phone.includes(digits) || phone.includes(digits.replace(/^0+/, '') || digits);
}

/** One number of a person: the number, on dialtone or not (with presence), its buttons. */
function numberItem(person, contact, actions) {
  const number = h('bdi', { class: 'contact-phone', 'data-test': 'contact-phone', dir: 'ltr' }, phoneText(contact.phone));
  // The number is the name already when the person has none.
  number.hidden = !person.named;
  const hidden = contact.hidden ? h('span', { class: 'contact-tag', 'data-test': 'hidden-label' }, t('contacts.hidden')) : null;
  const dot = h('span', { class: 'dot dot-inline', 'data-test': 'presence-dot', role: 'img' });
  const status = h('span', { class: 'contact-presence', 'data-test': 'presence-text' });
  const state = contact.registered
    ? h('span', { class: 'number-state' }, dot, status)
    : h('span', { class: 'number-state muted', 'data-test': 'not-registered' }, t('contacts.not_registered'));
  const el = h('li', { class: 'contact-number', 'data-test': 'contact', 'data-phone': contact.phone,
    'data-registered': String(Boolean(contact.registered)) },
  h('span', { class: 'number-text' }, number, hidden, state),
  h('span', { class: 'contact-actions' }, actions(person, contact)));
  const item = {
    el,
    contact,
    state: null,
    refreshPresence() {
      if (!item.contact.registered) return;
      const p = presenceFor(item.contact);
      const shown = stateName(p.state);
      dot.dataset.state = shown;
      dot.setAttribute('aria-label', t(`presence.${shown}`));
      status.dataset.state = shown;
      status.textContent = presenceLine(p);
      item.state = shown;
    },
  };
  item.refreshPresence();
  return item;
}

/**
 * A row for `person`; `actions(person, contact)` gives a number's buttons. Returns {el,
 * person, shape (what it was drawn from), items: Map phone → number item, update(person),
 * refreshPresence(phone), keep(person)}.
 */
export function personRow(person, actions) {
  const face = h('span', { class: 'person-avatar' });
  const name = h('span', { class: 'contact-name', 'data-test': 'contact-name' });
  const numbers = h('ul', { class: 'person-numbers' });
  const el = h('li', { class: 'person', 'data-test': 'person' },
    face,
    h('div', { class: 'person-main' }, h('span', { class: 'contact-title' }, name), numbers));
  const row = {
    el,
    person,
    items: new Map(),
    update(next) {
      row.person = next;
      row.shape = shapeOf(next);
      el.dataset.key = next.key;
      el.dataset.registered = String(next.registered);
      face.replaceChildren(avatar(next.name));
      name.textContent = next.name;
      row.items = new Map(next.contacts.map((c) => [c.phone, numberItem(next, c, actions)]));
      numbers.replaceChildren(...[...row.items.values()].map((item) => item.el));
    },
    /** Presence moved for `phone`: returns [before, after] states of that number. */
    refreshPresence(phone) {
      const item = row.items.get(phone);
      if (!item) return [null, null];
      const before = item.state;
      item.refreshPresence();
      return [before, item.state];
    },
    /** Fresh entries of the same shape (newer presence from the server). */
    keep(next) {
      row.person = next;
      for (const c of next.contacts) { const item = row.items.get(c.phone); if (item) item.contact = c; }
    },
  };
  row.update(person);
  return row;
}

/** What a row draws from (presence aside, numbers' written forms included): a row is redrawn only when this changes. */
export function shapeOf(person) {
  return JSON.stringify([person.name, person.named, person.contacts.map((c) =>
    [c.phone, Boolean(c.registered), Boolean(c.hidden), c.user_id ?? null, phoneText(c.phone)])]);
}

/** The order of the book: by name in the page's language, numbers last among equals. */
export function sortPeople(people) {
  const collator = new Intl.Collator(lang, { sensitivity: 'base', numeric: true });
  return [...people].sort((a, b) => collator.compare(a.name, b.name)
    || a.contacts[0].phone.localeCompare(b.contacts[0].phone));
}

/** Puts `rows` into `list` in order, moving only the nodes that are out of place (keeps focus). */
export function placeRows(list, rows) {
  rows.forEach((row, index) => {
    const at = list.children[index];
    if (at !== row.el) list.insertBefore(row.el, at ?? null);
  });
  while (list.children.length > rows.length) list.lastElementChild.remove();
}
