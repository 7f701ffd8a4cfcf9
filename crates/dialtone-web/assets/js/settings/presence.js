// My own presence. The API has no "read my setting" call, so the last choice made on this
// browser is kept in localStorage (per account) to show it on the Me screen and to put it
// back when a session starts, so that someone who chose "invisible" or "busy" stays that
// way after a reload or a new login instead of coming back as available.
import { api, session } from '../api.js';
import { store } from '../store.js';

const KEY = 'dialtone.presence';
export const STATES = ['available', 'away', 'busy', 'invisible'];

/** {state, text} last chosen here by the logged-in account, or null. */
export function savedPresence() {
  let saved = null;
  try { saved = JSON.parse(localStorage.getItem(KEY) || 'null'); } catch { /* corrupt: ignore */ }
  const phone = session.current?.phone;
  if (!saved || !phone || saved.phone !== phone || !STATES.includes(saved.state)) return null;
  return { state: saved.state, text: saved.text || '' };
}

/** Sets my presence on the server and remembers it here. */
export async function setMyPresence(state, text) {
  const clean = (text || '').trim();
  await api('/v1/presence', { method: 'PUT', body: { state, text: clean || null } });
  localStorage.setItem(KEY, JSON.stringify({ phone: session.current?.phone, state, text: clean }));
  store.emit('my-presence', { state, text: clean });
}

let restored = null;
/**
 * Puts the remembered choice back, once per page load. Best called before the socket
 * connects, so that an invisible user is never seen online for a moment.
 */
export function restorePresence() {
  if (!restored) {
    const saved = savedPresence();
    restored = saved && (saved.state !== 'available' || saved.text)
      ? api('/v1/presence', { method: 'PUT', body: { state: saved.state, text: saved.text || null } })
        .catch((e) => { restored = null; console.warn('presence not restored', e.code); })
      : Promise.resolve();
  }
  return restored;
}
