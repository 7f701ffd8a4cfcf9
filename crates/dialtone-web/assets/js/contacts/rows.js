// One address-book row and what it shows: avatar, name, number, presence. Rows are kept
// and updated in place, so presence changes never redraw (or lose focus in) the list.
import { h } from '../dom.js';
import { t, ago, lang } from '../i18n.js';
import { store } from '../store.js';
import { avatarLetter } from '../avatar.js';
import { phoneText } from '../phones.js';

/** The name shown for a contact: my name for it, else its number as people write it. */
export function displayName(contact) {
  return contact.name?.trim() || phoneText(contact.phone);
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

/**
 * A row for `contact`; `actions(contact)` gives its buttons. Returns {el, contact,
 * drawn (the number's written form it shows), update(contact), refreshPresence()}.
 */
export function contactRow(contact, actions) {
  const letter = h('span', { 'aria-hidden': 'true' });
  const dot = h('span', { class: 'dot', 'data-test': 'presence-dot', role: 'img' });
  const avatar = h('span', { class: 'avatar' }, letter, dot);
  const name = h('span', { class: 'contact-name', 'data-test': 'contact-name' });
  const hidden = h('span', { class: 'contact-tag', 'data-test': 'hidden-label' }, t('contacts.hidden'));
  const number = h('span', { class: 'contact-phone', 'data-test': 'contact-phone', dir: 'ltr' });
  const status = h('span', { class: 'contact-presence', 'data-test': 'presence-text' });
  const buttons = h('span', { class: 'contact-actions' });
  const el = h('li', { class: 'contact', 'data-test': 'contact' },
    avatar,
    h('span', { class: 'contact-main' },
      h('span', { class: 'contact-title' }, name, hidden),
      h('span', { class: 'contact-sub' }, number, status)),
    buttons);

  const row = {
    el,
    contact,
    update(next) {
      row.contact = next;
      const shown = displayName(next);
      el.dataset.phone = next.phone;
      el.dataset.registered = String(Boolean(next.registered));
      letter.textContent = avatarLetter(shown);
      name.textContent = shown;
      hidden.hidden = !next.hidden;
      // The number under the name only when the name is not the number already.
      const named = Boolean(next.name?.trim());
      number.textContent = named ? phoneText(next.phone) : '';
      number.hidden = !named;
      row.drawn = phoneText(next.phone);
      dot.hidden = !next.registered;
      status.hidden = !next.registered;
      buttons.replaceChildren(...actions(next));
      row.refreshPresence();
    },
    refreshPresence() {
      if (!row.contact.registered) return;
      const p = presenceFor(row.contact);
      const state = stateName(p.state);
      dot.dataset.state = state;
      dot.setAttribute('aria-label', t(`presence.${state}`));
      status.dataset.state = state;
      status.textContent = presenceLine(p);
    },
  };
  row.update(contact);
  return row;
}

/** The order of the book: by name in the page's language, numbers last among equals. */
export function sortContacts(contacts) {
  const collator = new Intl.Collator(lang, { sensitivity: 'base', numeric: true });
  return [...contacts].sort((a, b) => collator.compare(displayName(a), displayName(b))
    || a.phone.localeCompare(b.phone));
}

/** Puts `rows` into `list` in order, moving only the nodes that are out of place (keeps focus). */
export function placeRows(list, rows) {
  rows.forEach((row, index) => {
    const at = list.children[index];
    if (at !== row.el) list.insertBefore(row.el, at ?? null);
  });
  while (list.children.length > rows.length) list.lastElementChild.remove();
}
