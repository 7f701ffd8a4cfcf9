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
