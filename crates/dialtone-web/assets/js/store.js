// What the client knows and shows: the account, the address book with presence, and a
// small event bus views subscribe to. Messaging state lives in chat-state.js.
import { api } from './api.js';
import { live } from './live.js';
import { learnPhones, onLearnt, phoneText } from './phones.js';

class Store extends EventTarget {
  constructor() {
    super();
    this.account = null;
    /** phone (E.164) → Contact from GET /v1/contacts */
    this.contacts = new Map();
    /** phone → {state, text?, last_seen_at?} as this user may see it */
    this.presence = new Map();
    /** Whether the book has been loaded since the page opened (or the session reset). */
    this.contactsLoaded = false;
  }

  on(type, fn) {
    const listener = (e) => fn(e.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  async loadAccount() {
    this.account = await api('/v1/account');
    await learnPhones([this.account.phone]);
    this.emit('account', this.account);
    return this.account;
  }

  async loadContacts() {
    const { contacts } = await api('/v1/contacts');
    // Their written forms first, so that the screens draw each number once.
    await learnPhones(contacts.map((c) => c.phone));
    this.contacts = new Map(contacts.map((c) => [c.phone, c]));
    this.contactsLoaded = true;
    for (const c of contacts) if (c.presence) this.presence.set(c.phone, c.presence);
    this.emit('contacts', this.contacts);
    return this.contacts;
  }

  /** The name this user gave a number, else the number itself (as people write it). */
  nameOf(phone) {
    if (this.account && phone === this.account.phone) return this.account.display_name || phoneText(phone);
    return this.contacts.get(phone)?.name || phoneText(phone);
  }

  presenceOf(phone) {
    return this.presence.get(phone) ?? { state: 'offline' };
  }

  setPresence(frame) {
    const { phone, state, text } = frame;
    // Live frames may not carry last_seen_at: keep the one we knew while offline.
    const before = this.presence.get(phone);
    const last_seen_at = frame.last_seen_at ?? (state === 'offline' ? before?.last_seen_at : undefined);
    this.presence.set(phone, { state, text, last_seen_at });
    this.emit('presence', { phone, state, text, last_seen_at });
  }

  reset() {
    this.account = null;
    this.contactsLoaded = false;
    this.contacts = new Map();
    this.presence = new Map();
  }
}

export const store = new Store();

// A number's written form arrived: names made of numbers change, as when the book does.
// (Before the book is loaded there is nothing to redraw: loading it will say so.)
onLearnt(() => { if (store.contactsLoaded) store.emit('contacts', store.contacts); });

live.on('ready', (frame) => {
  for (const p of frame.presence || []) store.setPresence(p);
  store.emit('ready', frame);
});
live.on('presence', (frame) => store.setPresence(frame));
live.on('contact_registered', () => { store.loadContacts().catch(() => {}); });
