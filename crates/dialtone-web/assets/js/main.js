// Boot, the layout and the router: `#/name/param?query` → a view function from views/.
import { h, clear } from './dom.js';
import { t } from './i18n.js';
import { session } from './api.js';
import { live } from './live.js';
import { store } from './store.js';
import { go, startSession } from './app.js';
import { moments, start as startMoments } from './moments/state.js';

/** name → [module, export, public?]; a view is `fn(main, ctx)` returning an optional cleanup. */
const routes = {
  welcome: ['./views/auth.js', 'welcome', true],
  register: ['./views/auth.js', 'register', true],
  forgot: ['./views/auth.js', 'forgot', true],
  login: ['./views/auth.js', 'login', true],
  password: ['./views/auth.js', 'password'],
  chats: ['./views/chats.js', 'chats'],
  chat: ['./views/chats.js', 'chat'],
  'new-group': ['./views/chats.js', 'newGroup'],
  group: ['./views/chats.js', 'groupInfo'],
  contacts: ['./views/contacts.js', 'contacts'],
  import: ['./views/import.js', 'importView'],
  moments: ['./views/moments.js', 'moments'],
  post: ['./views/moments.js', 'post'],
  compose: ['./views/moments.js', 'compose'],
  space: ['./views/moments.js', 'space'],
  notifications: ['./views/moments.js', 'notifications'],
  'profile-edit': ['./views/moments.js', 'profileEdit'],
  article: ['./views/moments.js', 'article'],
  write: ['./views/moments.js', 'write'],
  drafts: ['./views/moments.js', 'drafts'],
  album: ['./views/moments.js', 'album'],
  'album-new': ['./views/moments.js', 'albumNew'],
  me: ['./views/settings.js', 'me'],
  privacy: ['./views/settings.js', 'privacy'],
  devices: ['./views/settings.js', 'devices'],
};

const root = document.getElementById('app');
/**
 * Toasts have a row of their own in the layout, below the screen (above the tab bar on a
 * phone): the screen shrinks while one shows, so a toast never covers a button.
 */
const toasts = document.getElementById('toasts');
let cleanup = null;
let layout = null; // {private, main, nav}
let rendering = 0;

function parseHash() {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [name, ...params] = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { name: name || '', params, query: new URLSearchParams(query) };
}

function navLink(name, label, extra = null) {
  return h('a', { href: `#/${name}`, class: 'nav-link', 'data-test': `nav-${name}`, 'data-route': name },
    h('span', { class: `nav-icon icon-${name}`, 'aria-hidden': 'true' }), h('span', { class: 'nav-text' }, label), extra);
}

function buildLayout(isPrivate) {
  clear(root);
  const main = h('main', { id: 'view', tabindex: '-1' });
  if (!isPrivate) {
    root.append(h('div', { class: 'public-layout' }, h('div', { class: 'public-scroll' }, main), toasts));
    return { private: false, main };
  }
  const badge = h('span', { class: 'badge', 'data-test': 'nav-unread', hidden: true });
  const momentsBadge = h('span', { class: 'badge', 'data-test': 'nav-moments-unread', hidden: true });
  const banner = h('div', { class: 'banner', role: 'status', 'data-test': 'connection', hidden: true });
  const nav = h('nav', { class: 'rail', 'aria-label': t('nav.label') },
    navLink('chats', t('nav.chats'), badge), navLink('contacts', t('nav.contacts')),
    navLink('moments', t('nav.moments'), momentsBadge), navLink('me', t('nav.me')));
  root.append(h('div', { class: 'private-layout' }, banner, nav, main, toasts));
  const showStatus = (status) => {
    const syncing = status === 'open' && live.syncing;
    document.body.dataset.sync = syncing ? 'syncing' : (status === 'open' ? 'done' : 'offline');
    banner.hidden = status === 'open' && !syncing;
    if (syncing) banner.textContent = t('app.syncing');
    else banner.textContent = status === 'connecting' ? t('app.connecting') : t('app.offline');
  };
  live.on('status', showStatus);
  live.on('syncing', () => showStatus(live.status));
  setTimeout(() => showStatus(live.status), 1500);
  store.on('unread-total', (count) => {
    badge.hidden = !count;
    badge.textContent = count > 99 ? '99+' : String(count);
    badge.setAttribute('aria-label', t('nav.unread', { count }));
  });
  const showMoments = (count) => {
    momentsBadge.hidden = !count;
    momentsBadge.textContent = count > 99 ? '99+' : String(count);
    momentsBadge.setAttribute('aria-label', t('nav.notifications', { count }));
  };
  moments.on('unread', showMoments);
  showMoments(moments.unread);
  return { private: true, main, nav };
}

async function render() {
  const ticket = ++rendering;
  const { name, params, query } = parseHash();
  const loggedIn = Boolean(session.token);
  let route = routes[name];
  if (!route) return go(loggedIn ? '#/chats' : '#/welcome');
  const isPublic = route[2] === true;
  if (!isPublic && !loggedIn) return go('#/welcome');
  if (isPublic && loggedIn && name !== 'forgot') return go('#/chats');

  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  if (!layout || layout.private === isPublic) layout = buildLayout(!isPublic);
  for (const link of layout.nav?.querySelectorAll('a') ?? []) {
    const current = link.dataset.route === name || (name === 'chat' && link.dataset.route === 'chats')
      || (['privacy', 'devices', 'password'].includes(name) && link.dataset.route === 'me')
      || (name === 'import' && link.dataset.route === 'contacts')
      || (['post', 'compose', 'space', 'notifications', 'profile-edit', 'article', 'write', 'drafts', 'album', 'album-new'].includes(name) && link.dataset.route === 'moments');
    if (current) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  const main = layout.main;
  main.dataset.view = name;
  let view;
  try {
    const module = await import(route[0]);
    view = module[route[1]];
  } catch (e) {
    console.error('view failed to load', route, e);
  }
  if (ticket !== rendering) return;
  clear(main);
  if (typeof view !== 'function') {
    main.append(h('p', { class: 'error' }, t('app.error_generic')));
    return;
  }
  try {
    cleanup = (await view(main, { params, query, name })) || null;
  } catch (e) {
    console.error(e);
    main.append(h('p', { class: 'error' }, t('app.error_generic')));
  }
}

async function boot() {
  startMoments();
  window.addEventListener('dialtone:logged-out', () => {
    live.close();
    store.reset();
    layout = null;
    go('#/welcome');
  });
  if (session.token) {
    try {
      await store.loadAccount();
    } catch (e) {
      if (e.status === 401) session.clear();
      // Otherwise offline: start anyway; the socket reconnects when the network is back.
    }
    if (session.token) startSession();
  }
  window.addEventListener('hashchange', render);
  await render();
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').catch((e) => console.warn('service worker', e));
  }
}

boot();
