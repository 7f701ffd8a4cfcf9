// Merging a (possibly huge) imported address book with POST /v1/contacts in parts: the
// contract allows 50,000 entries and 8 MiB per request; parts of 5,000 stay far below
// both and let the screen show progress.
import { api } from '../api.js';

export const PART = 5000;
/** The server refuses an entry with more numbers than this (it is a person, not a list). */
const PHONES_PER_ENTRY = 32;

/** Entries as POST /v1/contacts takes them; a contact with very many numbers is split. */
export function entriesOf(contacts) {
  const entries = [];
  for (const c of contacts) {
    for (let i = 0; i < c.phones.length; i += PHONES_PER_ENTRY) {
      entries.push({ name: c.name, phones: c.phones.slice(i, i + PHONES_PER_ENTRY) });
    }
  }
  return entries;
}

/**
 * Sends `entries` from index `from` on, PART at a time. onProgress(done, total) after each
 * part. Resolves to {book, rejected, done}; on failure rejects with the ApiError, whose
 * `done` says where to continue.
 */
export async function mergeInParts(entries, { region, from = 0, onProgress, signal } = {}) {
  const rejected = [];
  let book = null;
  let done = from;
  while (done < entries.length) {
    const part = entries.slice(done, done + PART);
    try {
      const reply = await api('/v1/contacts', { method: 'POST', body: { contacts: part, region }, signal });
      book = reply.contacts;
      rejected.push(...(reply.rejected || []));
    } catch (e) {
      e.done = done;
      e.rejected = rejected;
      throw e;
    }
    done += part.length;
    onProgress?.(done, entries.length);
  }
  return { book, rejected, done };
}
