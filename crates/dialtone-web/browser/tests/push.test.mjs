// Notifications when the app is closed (docs/api/push.md), on the client's side: the offer
// over the chat list subscribes this device with the server's key and gives the server the
// subscription; the service worker turns pushes into the right notifications (one per
// conversation, counts added up, closed by a read elsewhere, the badge set) and a click
// opens the conversation; a chat is muted from its header; the settings reach the server.
//
// Headless Chromium has no push service to subscribe with (it would be Google's), so the
// page's `pushManager.subscribe` is replaced by one that records its options and answers a
// subscription as a browser would; pushes are delivered to the worker by DevTools
// (`ServiceWorker.deliverPushMessage`), as the push service would. What the server puts in
// a push, encrypted, is checked against an independent decryptor by the server's tests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openApp, newPhone, $, waitFor, screenshot } from '../harness.mjs';

/** A push service's origin, as browsers are given them (the server does not call it here). */
const PUSH_ORIGIN = 'https://push.example.net';
let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

/** A browser's subscription keys: a real P-256 point and a 16-byte secret (base64url). */
const P256DH = 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4';
const AUTH = 'BTBZMqHH6r4Tts7J_aSIgg';

/** In every page: permission is asked once and granted; subscribing records its options. */
function fakePush([origin, p256dh, auth]) {
  let state = 'default';
  Object.defineProperty(Notification, 'permission', { get: () => state, configurable: true });
  Notification.requestPermission = async () => { state = 'granted'; window.__permissionAsked = (window.__permissionAsked || 0) + 1; return state; };
  let current = null;
  PushManager.prototype.getSubscription = async () => current;
  PushManager.prototype.subscribe = async (options) => {
    const key = btoa(String.fromCharCode(...new Uint8Array(options.applicationServerKey)))
      .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    window.__subscribedWith = { userVisibleOnly: options.userVisibleOnly, key };
    current = {
      endpoint: `${origin}/push/${Math.random().toString(36).slice(2)}`,
      options: { applicationServerKey: options.applicationServerKey },
      toJSON() { return { endpoint: this.endpoint, expirationTime: null, keys: { p256dh, auth } }; },
      async unsubscribe() { current = null; return true; },
    };
    return current;
  };
}

async function pair() {
  const a = await server.register(newPhone(), { name: 'Alice' });
  const b = await server.register(newPhone(), { name: 'Bob' });
  await server.api('/v1/contacts', { method: 'POST', token: a.token, body: { contacts: [{ name: 'Bob Wang', phones: [b.phone] }] } });
  await server.api('/v1/contacts', { method: 'POST', token: b.token, body: { contacts: [{ name: 'Alice Li', phones: [a.phone] }] } });
  const conv = await server.api('/v1/conversations', { method: 'POST', token: a.token, body: { kind: 'direct', peer: b.phone } });
  return { a, b, conv };
}

/** The service worker's registration id, for DevTools. */
async function registrationId(page, cdp) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  const found = new Promise((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const mine = registrations.find((r) => r.scopeURL.startsWith(server.url) && !r.isDeleted);
      if (mine) resolve(mine.registrationId);
    });
  });
  await cdp.send('ServiceWorker.enable');
  return found;
}

async function push(cdp, id, data) {
  await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId: id, data: JSON.stringify(data) });
}

/** The notifications the worker shows: [{title, body, tag, data, silent}]. */
function shown(worker) {
  return worker.evaluate(async () => (await self.registration.getNotifications())
    .map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data, silent: n.silent })));
}

test('the offer over the chat list subscribes this device with the server key', async () => {
  const { b } = await pair();
  const { page, context } = await openApp(browser, server, { session: b, hash: '#/chats', timezoneId: 'Asia/Shanghai', init: [fakePush, [PUSH_ORIGIN, P256DH, AUTH]] });
  // Not on first load without conversations: here Bob has one, so it is offered.
  await page.waitForSelector(`${$('push-offer')}:not([hidden])`);
  await screenshot(page, 'push-offer');
  assert.equal(await page.evaluate(() => window.__permissionAsked || 0), 0, 'nothing asked before the click');
  assert.equal((await server.api('/v1/push/subscription', { token: b.token })).subscribed, false);
  await page.click($('push-enable'));
  await waitFor(async () => (await server.api('/v1/push/subscription', { token: b.token })).subscribed, 10000, 'the subscription to reach the server');
  const { public_key: key } = await server.api('/v1/push/key');
  assert.deepEqual(await page.evaluate(() => window.__subscribedWith), { userVisibleOnly: true, key });
  assert.equal(await page.locator($('push-offer')).count(), 0);
  // The user's offset from UTC went with it, for quiet hours.
  const settings = await server.api('/v1/push/settings', { token: b.token });
  assert.equal(settings.utc_offset_minutes, 480);
  // Turned off in the settings: the server forgets the device.
  await page.goto(`${server.url}/#/me`);
  await page.waitForSelector(`${$('push-device')}:checked`);
  await page.click($('push-device'));
  await waitFor(async () => !(await server.api('/v1/push/subscription', { token: b.token })).subscribed, 10000, 'the subscription to go');
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('"not now" puts the offer off', async () => {
  const { b } = await pair();
  const { page, context } = await openApp(browser, server, { session: b, hash: '#/chats', init: [fakePush, [PUSH_ORIGIN, P256DH, AUTH]] });
  await page.waitForSelector(`${$('push-offer')}:not([hidden])`);
  await page.click($('push-later'));
  await page.reload();
  await page.waitForSelector($('conversation'));
  assert.equal(await page.locator($('push-offer')).count(), 0);
  assert.equal(await page.evaluate(() => window.__permissionAsked || 0), 0);
  await context.close();
});

test('pushes become one notification per conversation, a read elsewhere closes it, a click opens the chat', async () => {
  const { a, b, conv } = await pair();
  const { page, context } = await openApp(browser, server, { session: b, hash: '#/chats' });
  // The user allowed notifications (the offer's test asks; here the browser remembers).
  await context.grantPermissions(['notifications'], { origin: server.url });
  await page.waitForSelector($('conversation'));
  const cdp = await context.newCDPSession(page);
  const id = await registrationId(page, cdp);
  const worker = context.serviceWorkers()[0] ?? await context.waitForEvent('serviceworker');
  // The app closed: only the worker is left.
  await page.goto('about:blank');
  const message = { type: 'message', conversation_id: conv.id, seq: 1, sender: a.phone, name: 'Alice Li', kind: 'text', text: '晚上一起吃饭？', count: 1, unread: 1 };
  await push(cdp, id, message);
  await waitFor(async () => (await shown(worker)).length === 1, 10000, 'a notification');
  let [n] = await shown(worker);
  assert.equal(n.title, 'Alice Li');
  assert.equal(n.body, '晚上一起吃饭？');
  assert.equal(n.tag, `conversation:${conv.id}`);
  // A burst gathered by the server: the same notification, its count added up.
  await push(cdp, id, { ...message, seq: 4, text: 'the latest', count: 3, unread: 4 });
  await waitFor(async () => (await shown(worker))[0]?.body.includes('the latest'), 10000, 'the notification to be replaced');
  [n] = await shown(worker);
  assert.equal((await shown(worker)).length, 1);
  assert.equal(n.body, '4 new messages\nthe latest');
  assert.equal(n.data.count, 4);
  // Hidden contact (no name, no text): nothing that names them.
  await push(cdp, id, { type: 'message', conversation_id: 'other', seq: 1, kind: 'text', count: 1, unread: 5 });
  await waitFor(async () => (await shown(worker)).length === 2, 10000, 'a second notification');
  const anonymous = (await shown(worker)).find((x) => x.tag === 'conversation:other');
  assert.equal(anonymous.title, 'dialtone');
  assert.equal(anonymous.body, 'New message');
  // Quiet hours: silent.
  await push(cdp, id, { type: 'message', conversation_id: 'quiet', seq: 1, kind: 'image', name: 'Q', count: 1, unread: 6, silent: true });
  await waitFor(async () => (await shown(worker)).some((x) => x.tag === 'conversation:quiet'), 10000, 'a quiet notification');
  const quiet = (await shown(worker)).find((x) => x.tag === 'conversation:quiet');
  assert.equal(quiet.silent, true);
  assert.equal(quiet.body, 'Photo');
  // Read on another device, up to the seq shown: closed.
  await push(cdp, id, { type: 'read', conversation_id: 'other', seq: 1, unread: 4 });
  await waitFor(async () => !(await shown(worker)).some((x) => x.tag === 'conversation:other'), 10000, 'the read to close it');
  // A call rings, then stops ringing.
  await push(cdp, id, { type: 'call', call_id: 'k1', conversation_id: conv.id, media: 'video', name: 'Alice Li' });
  await waitFor(async () => (await shown(worker)).some((x) => x.tag === 'call:k1'), 10000, 'the call');
  assert.equal((await shown(worker)).find((x) => x.tag === 'call:k1').body, 'Incoming video call');
  await push(cdp, id, { type: 'call_ended', call_id: 'k1', conversation_id: conv.id });
  await waitFor(async () => !(await shown(worker)).some((x) => x.tag === 'call:k1'), 10000, 'the call to stop ringing');

  // The app is open again (on its chat list) and the notification is clicked: the chat opens.
  await page.goto(`${server.url}/#/chats`);
  await page.waitForSelector($('conversation'));
  await worker.evaluate(async (tag) => {
    const [clicked] = await self.registration.getNotifications({ tag });
    self.dispatchEvent(new NotificationEvent('notificationclick', { notification: clicked }));
  }, `conversation:${conv.id}`);
  await page.waitForFunction((cid) => location.hash === `#/chat/${encodeURIComponent(cid)}`, conv.id);
  await page.waitForSelector($('chat-title'));
  assert.equal(await page.textContent($('chat-title')), 'Alice Li');
  assert.ok(!(await shown(worker)).some((x) => x.tag === `conversation:${conv.id}`), 'the clicked one closed');
  await context.close();
});

test('a chat is muted from its header and unmuted again', async () => {
  const { b, conv } = await pair();
  const { page, context } = await openApp(browser, server, { session: b, hash: `#/chat/${encodeURIComponent(conv.id)}` });
  await page.waitForSelector($('chat-mute'));
  assert.equal(await page.getAttribute($('chat-mute'), 'data-muted'), 'false');
  await page.click($('chat-mute'));
  await page.click($('mute-8h'));
  await page.waitForSelector(`${$('chat-mute')}[data-muted="true"]`);
  const muted = await server.api(`/v1/conversations/${conv.id}`, { token: b.token });
  const hours = (new Date(muted.muted_until) - Date.now()) / 3600e3;
  assert.ok(hours > 7.9 && hours <= 8, `muted for ${hours} h`);
  await page.waitForSelector($('conversation-muted'));
  await page.click($('chat-mute'));
  await page.click($('mute-off'));
  await page.waitForSelector(`${$('chat-mute')}[data-muted="false"]`);
  assert.equal((await server.api(`/v1/conversations/${conv.id}`, { token: b.token })).muted_until, undefined);
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('previews and quiet hours set on Me reach the server', async () => {
  const { b } = await pair();
  const { page, context } = await openApp(browser, server, { session: b, hash: '#/me', init: [fakePush, [PUSH_ORIGIN, P256DH, AUTH]] });
  await page.waitForSelector($('push-previews'));
  await page.click($('push-previews'));
  await waitFor(async () => (await server.api('/v1/push/settings', { token: b.token })).previews === false, 10000, 'previews off');
  await page.click($('push-hidden-previews'));
  await waitFor(async () => (await server.api('/v1/push/settings', { token: b.token })).hidden_previews === true, 10000, 'hidden previews on');
  await page.click($('push-quiet'));
  await waitFor(async () => (await server.api('/v1/push/settings', { token: b.token })).quiet_hours !== null, 10000, 'quiet hours on');
  await page.fill($('quiet-from'), '23:30');
  await page.dispatchEvent($('quiet-from'), 'change');
  await waitFor(async () => (await server.api('/v1/push/settings', { token: b.token })).quiet_hours?.from === '23:30', 10000, 'quiet hours moved');
  assert.deepEqual((await server.api('/v1/push/settings', { token: b.token })).quiet_hours, { from: '23:30', to: '07:00' });
  await screenshot(page, 'push-settings');
  assert.deepEqual(page.problems, []);
  await context.close();
});

/** In every page: `window.__hidden = true` makes the page out of view (another tab, a phone's app in the background). */
function controllableVisibility() {
  Object.defineProperty(document, 'visibilityState', { get: () => (window.__hidden ? 'hidden' : 'visible'), configurable: true });
  Object.defineProperty(document, 'hidden', { get: () => Boolean(window.__hidden), configurable: true });
}

test('open but out of view, the page shows the notification itself; back in view on the chat, it goes', async () => {
  const { a, b, conv } = await pair();
  const { page, context } = await openApp(browser, server, { session: b, hash: '#/chats', init: [controllableVisibility] });
  await context.grantPermissions(['notifications'], { origin: server.url });
  await page.waitForSelector($('conversation'));
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.evaluate(() => { window.__hidden = true; document.dispatchEvent(new Event('visibilitychange')); });
  await server.api(`/v1/conversations/${conv.id}/messages`, { method: 'POST', token: a.token, body: { client_id: 'n1', kind: 'text', text: 'are you there?' } });
  const notes = () => page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications())
    .map((n) => ({ title: n.title, body: n.body, tag: n.tag })));
  await waitFor(async () => (await notes()).length === 1, 10000, 'the page to show a notification');
  assert.deepEqual(await notes(), [{ title: 'Alice Li', body: 'are you there?', tag: `conversation:${conv.id}` }]);
  // In view: no notification for what the user sees arrive.
  await page.evaluate(() => { window.__hidden = false; document.dispatchEvent(new Event('visibilitychange')); });
  await page.click(`${$('conversation')}[data-id="${conv.id}"] a`);
  await waitFor(async () => (await notes()).length === 0, 10000, 'the notification to close in the chat');
  await server.api(`/v1/conversations/${conv.id}/messages`, { method: 'POST', token: a.token, body: { client_id: 'n2', kind: 'text', text: 'seen live' } });
  await page.waitForSelector('text=seen live');
  assert.deepEqual(await notes(), []);
  assert.deepEqual(page.problems, []);
  await context.close();
});
