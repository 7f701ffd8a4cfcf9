// Session life: what happens when someone logs in or out.
import { api, session } from './api.js';
import { live } from './live.js';
import { store } from './store.js';

/** Goes to a screen: go('#/chats'). */
export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

let started = false;
/** Starts everything a logged-in client runs: the socket, contacts, messaging state. */
export async function startSession() {
  if (started) return;
  started = true;
  // This browser's last presence choice (invisible, busy + text) before going online, so
  // someone who chose invisible is never seen online for a moment.
  try {
    await (await import('./settings/presence.js')).restorePresence();
  } catch (e) {
    console.error('presence not restored', e);
  }
  try {
    const chat = await import('./chat-state.js');
    chat.start?.();
  } catch (e) {
    console.error('messaging state did not start', e);
  }
  // Calls ring on any screen: their frames are listened to before the socket opens too.
  try {
    const [{ startCalls }, { startCallScreen }] = await Promise.all([import('./calls/call.js'), import('./calls/screen.js')]);
    startCalls();
    startCallScreen();
  } catch (e) {
    console.error('calls did not start', e);
  }
  // Only now, with the messaging state listening: the messages the server re-sends right
  // after `ready` must not be missed.
  live.connect();
  store.loadContacts().catch(() => {});
  import('./push.js').then(({ startPush }) => startPush()).catch((e) => console.error('push did not start', e));
}

// A 401 without a reload (revoked elsewhere): the next login starts everything again.
window.addEventListener('dialtone:logged-out', () => { started = false; });

/** After a code or password login: keeps the token and starts the session. */
export async function loggedIn(result) {
  session.save(result);
  await store.loadAccount();
  await startSession();
}

/** Logs this device out and forgets everything about the session. */
export async function logout() {
  try { await api('/v1/sessions/current', { method: 'DELETE' }); } catch { /* gone already */ }
  session.clear();
  live.close();
  // A fresh page: no state of the old session survives.
  location.replace('/#/welcome');
  location.reload();
}
