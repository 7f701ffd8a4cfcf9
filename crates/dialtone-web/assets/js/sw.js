// The service worker: makes dialtone installable and lets the app open offline.
// Network first for the app's own files (a new version always wins when online), the
// cached copy when offline. The API and the socket are never cached.
//
// The server writes the three constants below when it serves /sw.js: the version of the
// shell's files, the list of them (every embedded file the page may load, the views it
// imports later included) and the languages. A new version changes these bytes, so the
// browser installs the new worker, which caches the new files and drops the old cache.
const VERSION = 'dev';
const FILES = [];
const LANGUAGES = [];
const CACHE = `dialtone-shell-${VERSION}`;
/** The shell varies by language (cookie, Accept-Language): one copy per language too, which `?lang=` asks for. */
const shellKey = (lang) => `/?lang=${encodeURIComponent(lang)}`;
/** Offline, the copy we have is the one to show, whatever the request's headers (Vary). */
const ANY_HEADERS = { ignoreVary: true };

async function precache() {
  const cache = await caches.open(CACHE);
  // Every file, or the install fails and the old worker (and its cache) stays.
  await cache.addAll(FILES);
  // Each language's shell (its catalogue), to open in the language chosen while offline.
  await cache.addAll(LANGUAGES.map(shellKey));
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

/** The language the page would be shown in: the `lang` cookie where this browser lets a worker read it. */
async function chosenLanguage() {
  try {
    return (await self.cookieStore?.get('lang'))?.value ?? null;
  } catch {
    return null;
  }
}

async function fromCache(request, isShell) {
  const cache = await caches.open(CACHE);
  if (isShell) {
    const lang = await chosenLanguage();
    const hit = (lang && await cache.match(shellKey(lang), ANY_HEADERS)) || await cache.match('/', ANY_HEADERS);
    if (hit) return hit;
  }
  return (await cache.match(request, { ...ANY_HEADERS, ignoreSearch: true })) || Response.error();
}

/** Keeps a fresh copy: the shell under '/' and under its language, a file under its path. */
async function remember(response, url, isShell) {
  const cache = await caches.open(CACHE);
  const lang = isShell && response.headers.get('Content-Language');
  if (lang) await cache.put(shellKey(lang), response.clone());
  await cache.put(isShell ? '/' : url.pathname, response);
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  const isShell = url.pathname === '/';
  const own = isShell || url.pathname.startsWith('/assets/') || url.pathname === '/manifest.webmanifest';
  if (!own) return;
  event.respondWith((async () => {
    try {
      const response = await fetch(event.request);
      if (response.ok) event.waitUntil(remember(response.clone(), url, isShell));
      return response;
    } catch {
      return fromCache(event.request, isShell);
    }
  })());
});

// ── Notifications when the app is closed (Web Push, docs/api/push.md) ─────────────────
// The server pushes only to a device with no live connection; the payload says what the
// user's settings and the privacy policy allow (no name or text for a hidden contact
// unless allowed). One notification per conversation (its tag): a burst adds to its
// count; reading the conversation on another device closes it.

/** The few words a notification needs, in the app's languages (the worker has no catalogue). */
const WORDS = {
  en: {
    app: 'dialtone', new_message: 'New message', photo: 'Photo', voice: 'Voice message',
    video: 'Video', file: 'File', sticker: 'Sticker', missed_voice: 'Missed voice call',
    missed_video: 'Missed video call', incoming_voice: 'Incoming voice call',
    incoming_video: 'Incoming video call', count: (n) => `${n} new messages`,
  },
  'zh-CN': {
    app: '拨号音', new_message: '新消息', photo: '[图片]', voice: '[语音]', video: '[视频]',
    file: '[文件]', sticker: '[表情]', missed_voice: '未接语音通话', missed_video: '未接视频通话',
    incoming_voice: '语音通话邀请', incoming_video: '视频通话邀请', count: (n) => `${n} 条新消息`,
  },
};

async function words() {
  const lang = await chosenLanguage();
  if (lang && WORDS[lang]) return WORDS[lang];
  return (self.navigator.language || '').toLowerCase().startsWith('zh') ? WORDS['zh-CN'] : WORDS.en;
}

/** What a message says in one line: its text, else what it is. */
function describe(data, w) {
  const word = { image: w.photo, voice: w.voice, video: w.video, file: w.file, sticker: w.sticker }[data.kind];
  if (data.kind === 'call') return data.media === 'video' ? w.missed_video : w.missed_voice;
  if (data.text) return word && data.kind !== 'file' ? `${word} ${data.text}` : data.text;
  if (word && data.name) return word;
  return w.new_message;
}

async function setBadge(count) {
  if (typeof count !== 'number') return;
  try {
    if (count > 0) await self.navigator.setAppBadge?.(count);
    else await self.navigator.clearAppBadge?.();
  } catch { /* not supported here */ }
}

async function closeWhere(test) {
  for (const n of await self.registration.getNotifications()) if (test(n.data || {})) n.close();
}

/** Whether the app is open and in view (then it shows the message itself). */
async function appInView() {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  return windows.some((c) => c.visibilityState === 'visible');
}

async function showMessage(data, w) {
  await setBadge(data.unread);
  if (await appInView()) return;
  const tag = `conversation:${data.conversation_id}`;
  const [shown] = await self.registration.getNotifications({ tag });
  const count = (shown?.data?.count ?? 0) + (data.count ?? 1);
  let body = describe(data, w);
  if (data.group && data.name) body = `${data.name}: ${body}`;
  if (count > 1) body = `${w.count(count)}\n${body}`;
  const title = data.group || data.name || w.app;
  await self.registration.showNotification(title, {
    tag, body, renotify: !data.silent, silent: Boolean(data.silent),
    icon: '/assets/icons/icon.svg', badge: '/assets/icons/maskable.svg', timestamp: Date.now(),
    data: { type: 'message', conversation_id: data.conversation_id, seq: data.seq, count },
  });
}

async function showCall(data, w) {
  await self.registration.showNotification(data.name || w.app, {
    tag: `call:${data.call_id}`,
    body: data.media === 'video' ? w.incoming_video : w.incoming_voice,
    requireInteraction: true, renotify: !data.silent, silent: Boolean(data.silent),
    icon: '/assets/icons/icon.svg', badge: '/assets/icons/maskable.svg', timestamp: Date.now(),
    data: { type: 'call', call_id: data.call_id, conversation_id: data.conversation_id },
  });
}

async function onPush(data) {
  const w = await words();
  switch (data.type) {
    case 'message':
      // A missed call's line replaces its ringing.
      if (data.kind === 'call') await closeWhere((d) => d.type === 'call' && d.conversation_id === data.conversation_id);
      return showMessage(data, w);
    case 'call':
      return showCall(data, w);
    case 'call_ended':
      return closeWhere((d) => d.type === 'call' && d.call_id === data.call_id);
    case 'read':
      await closeWhere((d) => d.type === 'message' && d.conversation_id === data.conversation_id && d.seq <= data.seq);
      return setBadge(data.unread);
    default:
      return undefined;
  }
}

self.addEventListener('push', (event) => {
  let data = null;
  try { data = event.data?.json() ?? null; } catch { data = null; }
  if (data && typeof data === 'object') event.waitUntil(onPush(data));
});

/** Opens the app at `hash`: the window already open is told to go there, else a new one. */
async function openApp(hash) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((c) => new URL(c.url).origin === self.location.origin);
  if (open) {
    open.postMessage({ type: 'open', hash });
    try { await open.focus(); } catch { /* focus needs the click's activation */ }
    return;
  }
  await self.clients.openWindow(`/${hash}`);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const d = event.notification.data || {};
  const hash = d.conversation_id ? `#/chat/${encodeURIComponent(d.conversation_id)}` : '#/chats';
  event.waitUntil(openApp(hash));
});
