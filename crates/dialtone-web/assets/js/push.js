// Notifications when the app is closed (docs/api/push.md): this device's Web Push
// subscription, asked for at a moment that makes sense (a banner over the chat list once
// the user has conversations, never on first load), kept in step with the server at each
// start, the app icon's badge, and the way a notification's click opens a chat.
import { api } from './api.js';
import { store } from './store.js';
import { live } from './live.js';
import { t } from './i18n.js';

const DISMISSED_KEY = 'dialtone.push-asked';

/** Whether this browser can be notified when the app is closed. */
export function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

/** 'granted', 'denied', 'default', or 'unsupported'. */
export function permission() {
  return pushSupported() ? Notification.permission : 'unsupported';
}

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '='));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

async function registration() {
  return navigator.serviceWorker.ready;
}

/** The user's offset from UTC in minutes (east positive), for quiet hours. */
export function utcOffsetMinutes() {
  return 0 - new Date().getTimezoneOffset();
}

async function send(subscription) {
  await api('/v1/push/subscription', { method: 'PUT', body: subscription.toJSON() });
}

/**
 * Turns notifications on for this device: asks the browser's permission (this must run
 * from a click), subscribes with the server's key and gives the server the subscription.
 * Resolves to true when on.
 */
export async function enablePush() {
  if (!pushSupported()) return false;
  const granted = await Notification.requestPermission();
  if (granted !== 'granted') return false;
  const { public_key: key } = await api('/v1/push/key');
  const reg = await registration();
  let subscription = await reg.pushManager.getSubscription();
  if (subscription) {
    // Made with another server key (a different server behind this origin): start over.
    const current = subscription.options?.applicationServerKey;
    const wanted = keyBytes(key);
    const same = current && new Uint8Array(current).every((b, i) => b === wanted[i]);
    if (!same) { await subscription.unsubscribe(); subscription = null; }
  }
  subscription ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  await send(subscription);
  await api('/v1/push/settings', { method: 'PATCH', body: { utc_offset_minutes: utcOffsetMinutes() } }).catch(() => {});
  return true;
}

/** Turns notifications off for this device. */
export async function disablePush() {
  try {
    const subscription = pushSupported() ? await (await registration()).pushManager.getSubscription() : null;
    await subscription?.unsubscribe();
  } finally {
    await api('/v1/push/subscription', { method: 'DELETE' });
  }
}

/** Whether this device is set to be notified (server side). */
export async function pushEnabled() {
  if (permission() !== 'granted') return false;
  try { return (await api('/v1/push/subscription')).subscribed; } catch { return false; }
}

/**
 * At each start: a device that has a subscription gives it to the server again (a
 * browser may have renewed it, a new login is a new device), and the user's offset from
 * UTC follows travel and daylight saving.
 */
export async function resumePush() {
  if (permission() !== 'granted') return;
  try {
    const subscription = await (await registration()).pushManager.getSubscription();
    if (!subscription) return;
    await send(subscription);
    const settings = await api('/v1/push/settings');
    if (settings.utc_offset_minutes !== utcOffsetMinutes()) {
      await api('/v1/push/settings', { method: 'PATCH', body: { utc_offset_minutes: utcOffsetMinutes() } });
    }
  } catch (e) {
    console.warn('push subscription not renewed', e);
  }
}

/** Whether to offer notifications now: possible, not decided yet, not put off. */
export function shouldAsk() {
  return permission() === 'default' && !localStorage.getItem(DISMISSED_KEY);
}

/** The user said "not now": ask again in a week. */
export function putOff() {
  localStorage.setItem(DISMISSED_KEY, String(Date.now()));
}

/** Forgets a "not now" older than a week. */
function expireDismissal() {
  const at = Number(localStorage.getItem(DISMISSED_KEY) || 0);
  if (at && Date.now() - at > 7 * 24 * 3600 * 1000) localStorage.removeItem(DISMISSED_KEY);
}

/** The app icon's badge follows the unread count (where the Badging API exists). */
function showBadge(count) {
  try {
    if (count > 0) navigator.setAppBadge?.(count)?.catch?.(() => {});
    else navigator.clearAppBadge?.()?.catch?.(() => {});
  } catch { /* not supported */ }
}

/** What the user chose of previews (read at start, refreshed when the page comes back). */
let settings = { previews: true, hidden_previews: false };
async function loadSettings() {
  try { settings = await api('/v1/push/settings'); } catch { /* keep the last known */ }
}

/** The chat the page shows, from its address. */
function openChat() {
  const m = location.hash.match(/^#\/chat\/([^/?]+)/);
  return m ? decodeURIComponent(m[1]) : null;
}

/** Closes what the notifications say of a conversation once the user sees it. */
async function closeNotificationsOf(conversationId) {
  if (!conversationId || permission() !== 'granted') return;
  const reg = await navigator.serviceWorker?.getRegistration();
  for (const n of await reg?.getNotifications({ tag: `conversation:${conversationId}` }) ?? []) n.close();
}

/**
 * The app is open but not in view (another tab, a phone's app in the background) and its
 * socket still live: the server pushes nothing (the device is connected), so the page
 * shows the notification itself, as the worker would, through the same registration and
 * tag (one per conversation, the count added up).
 */
async function notifyFromPage(msg) {
  if (permission() !== 'granted' || document.visibilityState === 'visible' || live.syncing) return;
  const chat = await import('./chat-state.js');
  if (!msg?.conversation_id || msg.sender === chat.me() || msg.kind === 'system' || msg.deleted) return;
  if (msg.kind === 'call' && msg.call?.outcome !== 'missed') return;
  const conv = chat.conversations.get(msg.conversation_id);
  if (conv?.muted_until && new Date(conv.muted_until).getTime() > Date.now() && !(msg.text ?? '').includes(`@${chat.me()}`)) return;
  const { titleOf, preview } = await import('./chat/format.js');
  // A chat this page does not list is a hidden contact's (vault closed): nothing of them.
  const open = Boolean(conv) || settings.hidden_previews;
  const reg = await navigator.serviceWorker.ready;
  const tag = `conversation:${msg.conversation_id}`;
  const [shown] = await reg.getNotifications({ tag });
  const count = (shown?.data?.count ?? 0) + 1;
  let body = open && settings.previews && conv ? preview(conv, msg) : t('push.new_message');
  if (count > 1) body = `${t('push.count', { count })}\n${body}`;
  await reg.showNotification(open && conv ? titleOf(conv) : t('app.name'), {
    tag, body, renotify: true, icon: '/assets/icons/icon.svg', badge: '/assets/icons/maskable.svg',
    data: { type: 'message', conversation_id: msg.conversation_id, seq: msg.seq, count },
  });
}

let started = false;
/** Starts what the page does for notifications: badge, renewal, clicks, its own notifications. */
export function startPush() {
  if (started) return;
  started = true;
  expireDismissal();
  loadSettings();
  store.on('unread-total', showBadge);
  live.on('message', (f) => { notifyFromPage(f.message).catch((e) => console.warn('notification not shown', e)); });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    loadSettings();
    closeNotificationsOf(openChat());
  });
  window.addEventListener('hashchange', () => { if (document.visibilityState === 'visible') closeNotificationsOf(openChat()); });
  // A notification clicked while the app is open: the worker says which chat to open.
  navigator.serviceWorker?.addEventListener('message', (event) => {
    const d = event.data;
    if (d?.type === 'open' && typeof d.hash === 'string' && d.hash.startsWith('#/')) location.hash = d.hash;
  });
  resumePush();
}
