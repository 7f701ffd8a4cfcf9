// Chats in real browsers: direct and group conversations, live delivery, receipts,
// typing, stickers, pictures, voice notes, edits and deletions, catching up after being
// offline, and a phone-sized screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openApp, newPhone, $, screenshot, waitFor, png } from '../harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });


/** Registers people over the API, each with everyone else in their address book. */
async function people(...names) {
  const users = [];
  for (const name of names) users.push({ name, ...(await server.register(newPhone(), { name, password: '' })) });
  for (const me of users) {
    const contacts = users.filter((u) => u !== me).map((u) => ({ name: u.name, phones: [u.phone] }));
    if (contacts.length) await server.api('/v1/contacts', { method: 'POST', token: me.token, body: { contacts } });
  }
  return users;
}

const direct = (from, to) => server.api('/v1/conversations', { method: 'POST', token: from.token, body: { kind: 'direct', peer: to.phone } });

const theirs = (text) => `${$('message')}[data-mine="false"] >> text=${text}`;
const mine = (text) => `${$('message')}[data-mine="true"] >> text=${text}`;
const row = (id) => `${$('conversation')}[data-id="${id}"]`;

async function sendText(page, text) {
  await page.fill($('composer'), text);
  await page.click($('send'));
  await page.waitForSelector(mine(text));
}

/**
 * A context whose network can be cut. Chromium's offline mode leaves open WebSockets
 * alone, so the socket goes through Playwright and is closed (and refused) by hand.
 */
async function cuttable({ context, page }) {
  const sockets = [];
  let down = false;
  await context.routeWebSocket(/\/v1\/ws/, (ws) => {
    if (down) { ws.close(); return; }
    sockets.push([ws, ws.connectToServer()]);
  });
  await page.reload();
  return {
    async cut() {
      down = true;
      await context.setOffline(true);
      for (const [ws, upstream] of sockets.splice(0)) { await upstream.close(); await ws.close(); }
    },
    async restore() {
      down = false;
      await context.setOffline(false);
    },
  };
}

/** The texts of the bubbles on screen, in order. */
const texts = (page) => page.$$eval(`${$('message')} ${$('message-text')}`, (els) => els.map((e) => e.textContent));

test('a direct chat: live list, unread count, replies, read ticks, sticker and picture', async () => {
  const [a, b] = await people('Alice', 'Bob');
  const alice = await openApp(browser, server, { session: a, hash: '#/chats' });
  const bob = await openApp(browser, server, { session: b, hash: '#/chats' });
  await bob.page.waitForSelector($('chats-empty'));

  // Alice starts the chat from her side (the contacts screen does the same call).
  const conv = await direct(a, b);
  await alice.page.goto(`${server.url}/#/chat/${conv.id}`);
  await sendText(alice.page, 'Hello Bob 😀\nsecond line');

  // Bob: the conversation appears live, one unread, the preview.
  await bob.page.waitForSelector(`${row(conv.id)} ${$('unread')} >> text=1`);
  assert.match(await bob.page.textContent(`${row(conv.id)} ${$('last-message')}`), /Hello Bob 😀/);
  assert.equal(await bob.page.textContent(`${row(conv.id)} ${$('conversation-title')}`), 'Alice');
  await bob.page.waitForFunction(() => document.querySelector('[data-test="nav-unread"]')?.textContent === '1');
  // Sent, then delivered to Bob's device (it acknowledged), not read yet.
  await alice.page.waitForSelector(`${$('message')}[data-mine="true"] ${$('tick')}[data-status="delivered"]`);

  await bob.page.click(row(conv.id));
  await bob.page.waitForURL(/#\/chat\//);
  const bubble = `${$('message')}[data-mine="false"] ${$('message-text')}`;
  await bob.page.waitForSelector(bubble);
  assert.equal(await bob.page.textContent(bubble), 'Hello Bob 😀\nsecond line');
  // Alice has the app open: Bob's header says so.
  await bob.page.waitForSelector(`${$('chat-presence')}[data-state="available"]`);
  await bob.page.waitForSelector(`${row(conv.id)}:not(:has(${$('unread')}))`);
  // Opening the chat read it: Alice's tick turns "read".
  await alice.page.waitForSelector(`${$('message')}[data-mine="true"] ${$('tick')}[data-status="read"]`);

  await sendText(bob.page, 'Hi Alice');
  await alice.page.waitForSelector(theirs('Hi Alice'));
  // Her own open chat does not count as unread.
  assert.equal(await alice.page.locator(`${row(conv.id)} ${$('unread')}`).count(), 0);

  // A sticker and a picture.
  await alice.page.click($('sticker-open'));
  await alice.page.click(`${$('sticker')} >> nth=0`);
  await bob.page.waitForSelector(`${$('message')}[data-mine="false"] ${$('message-sticker')}`);
  await waitFor(() => bob.page.$eval(`${$('message')}[data-mine="false"] ${$('message-sticker')}`,
    (img) => img.complete && img.naturalWidth > 0), 10000, 'the sticker to load');
  await alice.page.setInputFiles($('attach'), { name: 'gradient.png', mimeType: 'image/png', buffer: png() });
  const image = `${$('message')}[data-mine="false"] ${$('message-image')}`;
  await bob.page.waitForSelector(image);
  await waitFor(() => bob.page.$eval(image, (img) => img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0),
    10000, 'the picture to load');
  assert.match(await bob.page.textContent(`${row(conv.id)} ${$('last-message')}`), /\[Photo\]/);
  // Clicking the picture shows it whole.
  await bob.page.click(image);
  await bob.page.waitForSelector(`${$('image-full')}[src^="blob:"]`);
  await bob.page.keyboard.press('Escape');
  await waitFor(async () => !(await bob.page.isVisible($('image-viewer'))), 5000, 'the viewer to close');

  // Any other file: its name, its size and a download button.
  await alice.page.setInputFiles($('attach'), { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('see you at 8, bring snacks\n') });
  const file = `${$('message')}[data-mine="false"] ${$('message-file')}`;
  await bob.page.waitForSelector(`${file} >> text=notes.txt`);
  await bob.page.waitForFunction(() => /\d/.test(document.querySelector('[data-test="message-file"] .file-size')?.textContent ?? ''));
  assert.equal(await bob.page.locator(`${file} ${$('file-download')}`).count(), 1);
  const download = bob.page.waitForEvent('download');
  await bob.page.click(`${file} ${$('file-download')}`);
  assert.equal((await download).suggestedFilename(), 'notes.txt');

  await screenshot(bob.page, 'chats');
  assert.deepEqual(alice.page.problems, []);
  assert.deepEqual(bob.page.problems, []);
  await alice.context.close();
  await bob.context.close();
});

test('typing shows on the other side; edits and deletions reach it live; replies quote', async () => {
  const [a, b] = await people('Ann', 'Ben');
  const conv = await direct(a, b);
  const ann = await openApp(browser, server, { session: a, hash: `#/chat/${conv.id}` });
  const ben = await openApp(browser, server, { session: b, hash: `#/chat/${conv.id}` });
  await ann.page.waitForSelector($('composer'));
  await ben.page.waitForSelector(`${$('chat-empty')}`);

  // Typing: Ben sees it while Ann types, and it goes away once her message arrives.
  await ann.page.click($('composer'));
  await ann.page.keyboard.type('Are you coming tonight?', { delay: 20 });
  await ben.page.waitForSelector(`${$('typing')}:not([hidden])`);
  assert.match(await ben.page.textContent($('typing')), /typing/);
  await ben.page.waitForSelector(`${row(conv.id)} ${$('conversation-typing')}`);
  await ann.page.keyboard.press('Enter');
  await ben.page.waitForSelector(theirs('Are you coming tonight?'));
  await ben.page.waitForSelector(`${$('typing')}[hidden]`, { state: 'attached' });
  assert.equal(await ann.page.inputValue($('composer')), '');

  // Shift+Enter breaks the line instead of sending.
  await ann.page.click($('composer'));
  await ann.page.keyboard.type('line one');
  await ann.page.keyboard.press('Shift+Enter');
  await ann.page.keyboard.type('line two');
  assert.equal(await ann.page.inputValue($('composer')), 'line one\nline two');
  await ann.page.keyboard.press('Enter');
  await ben.page.waitForSelector(`${$('message')}[data-mine="false"] ${$('message-text')} >> text=/line one\\s+line two/`);

  // Ben replies to the first message through its menu.
  const first = `${$('message')}[data-mine="false"]:has-text("Are you coming tonight?")`;
  await ben.page.hover(first);
  await ben.page.click(`${first} ${$('message-actions')}`);
  await ben.page.click($('action-reply'));
  await ben.page.fill($('composer'), 'Yes! 🎉');
  await ben.page.click($('send'));
  const reply = `${$('message')}[data-mine="false"]:has-text("Yes!")`;
  await ann.page.waitForSelector(`${reply} ${$('reply-quote')} >> text=Are you coming tonight?`);

  // Ann edits her second message and deletes her first, for everyone.
  const second = `${$('message')}[data-mine="true"]:has-text("line one")`;
  await ann.page.click(`${second} ${$('message-actions')}`);
  await ann.page.click($('action-edit'));
  assert.equal(await ann.page.inputValue($('composer')), 'line one\nline two');
  await ann.page.fill($('composer'), 'line one, edited');
  await ann.page.click($('send'));
  await ben.page.waitForSelector(`${$('message')}[data-mine="false"]:has-text("line one, edited") ${$('edited')}`);
  assert.equal(await ben.page.locator('text=line two').count(), 0);

  const mineFirst = `${$('message')}[data-mine="true"]:has-text("Are you coming tonight?")`;
  await ann.page.click(`${mineFirst} ${$('message-actions')}`);
  await ann.page.click($('action-delete'));
  await ann.page.click($('confirm-ok'));
  await ben.page.waitForSelector(`${$('message')}[data-mine="false"] ${$('message-deleted')}`);
  await ann.page.waitForSelector(`${$('message')}[data-mine="true"] ${$('message-deleted')}`);
  assert.equal(await ben.page.locator(`${$('message')} ${$('message-text')} >> text=Are you coming tonight?`).count(), 0);
  assert.deepEqual(ann.page.problems, []);
  assert.deepEqual(ben.page.problems, []);
  await ann.context.close();
  await ben.context.close();
});

test('offline: what was sent meanwhile arrives once, in order, when back online', async () => {
  const [a, b] = await people('Amy', 'Bo');
  const conv = await direct(a, b);
  const amy = await openApp(browser, server, { session: a, hash: `#/chat/${conv.id}` });
  const bo = await openApp(browser, server, { session: b, hash: `#/chat/${conv.id}` });
  const network = await cuttable(bo);
  await sendText(amy.page, 'before');
  await bo.page.waitForSelector(theirs('before'));

  await network.cut();
  await bo.page.waitForSelector(`${$('connection')}:not([hidden])`);
  for (const text of ['one', 'two', 'three']) await sendText(amy.page, text);
  await network.restore();
  await bo.page.waitForSelector(theirs('three'));
  // Catch-up ends with the server's caught_up: the banner no longer says it is syncing.
  await bo.page.waitForSelector('body[data-sync="done"]', { state: 'attached' });
  await bo.page.waitForSelector(`${$('connection')}[hidden]`, { state: 'attached' });
  // Give any duplicate a chance to show up before counting.
  await bo.page.waitForFunction(() => document.querySelectorAll('[data-test="message"]').length >= 4);
  assert.deepEqual(await texts(bo.page), ['before', 'one', 'two', 'three']);
  const seqs = await bo.page.$$eval($('message'), (els) => els.map((e) => Number(e.dataset.seq)));
  assert.deepEqual(seqs, [1, 2, 3, 4]);

  // Sending while offline: the bubble says it did not go, and it goes once the
  // connection is back (the same client_id: never twice).
  await network.cut();
  await bo.page.fill($('composer'), 'from the tunnel');
  await bo.page.click($('send'));
  await bo.page.waitForSelector(`${$('message')}[data-mine="true"]:has-text("from the tunnel") ${$('tick')}[data-status="failed"]`);
  await bo.page.waitForSelector(`${$('message')}[data-mine="true"]:has-text("from the tunnel") ${$('retry')}`);
  await network.restore();
  await amy.page.waitForSelector(theirs('from the tunnel'));
  await bo.page.waitForSelector(`${$('message')}[data-mine="true"][data-seq="5"]:has-text("from the tunnel")`);
  assert.equal(await bo.page.locator($('retry')).count(), 0);
  const { messages } = await server.api(`/v1/conversations/${conv.id}/messages`, { token: a.token });
  assert.deepEqual(messages.map((m) => m.text), ['before', 'one', 'two', 'three', 'from the tunnel']);
  assert.deepEqual(amy.page.problems, []);
  await amy.context.close();
  await bo.context.close();
});

test('a group made on the new-group screen: everyone sees everyone, and its info page', async () => {
  const [a, b, c] = await people('Ada', 'Bea', 'Cy');
  const ada = await openApp(browser, server, { session: a, hash: '#/chats' });
  const bea = await openApp(browser, server, { session: b, hash: '#/chats' });
  const cy = await openApp(browser, server, { session: c, hash: '#/chats' });

  await ada.page.click($('new-group'));
  await ada.page.waitForSelector(`${$('member-option')}[data-phone="${b.phone}"]`);
  await ada.page.click($('group-create-submit'));
  await ada.page.waitForSelector(`${$('form-error')}:not([hidden])`);
  await ada.page.fill($('group-name-input'), 'Weekend hike');
  await ada.page.check(`${$('member-option')}[data-phone="${b.phone}"]`);
  await ada.page.check(`${$('member-option')}[data-phone="${c.phone}"]`);
  await screenshot(ada.page, 'new-group');
  await ada.page.click($('group-create-submit'));
  await ada.page.waitForURL(/#\/chat\//);
  await ada.page.waitForSelector(`${$('chat-title')} >> text=Weekend hike`);
  assert.match(await ada.page.textContent($('group-info')), /3 members/);

  await sendText(ada.page, 'Saturday at 8?');
  for (const { page } of [bea, cy]) {
    await page.waitForSelector(`${$('conversation')}:has-text("Weekend hike") ${$('unread')} >> text=1`);
    assert.match(await page.textContent(`${$('conversation')}:has-text("Weekend hike") ${$('last-message')}`), /Ada: Saturday at 8\?/);
    await page.click(`${$('conversation')}:has-text("Weekend hike")`);
    await page.waitForSelector(theirs('Saturday at 8?'));
    // In a group each bubble says who wrote it.
    assert.equal(await page.textContent(`${$('message')}[data-mine="false"] ${$('message-sender')}`), 'Ada');
  }
  await sendText(bea.page, 'Count me in');
  await ada.page.waitForSelector(theirs('Count me in'));
  await cy.page.waitForSelector(theirs('Count me in'));
  await sendText(cy.page, 'Me too');
  await ada.page.waitForSelector(theirs('Me too'));
  await bea.page.waitForSelector(theirs('Me too'));
  // Ada's message was read by the others: her tick says so.
  await ada.page.waitForSelector(`${$('message')}[data-mine="true"] ${$('tick')}[data-status="read"]`);

  // The info page: members, renaming (Ada made it, so she is its admin), leaving.
  await ada.page.click($('group-info'));
  await ada.page.waitForSelector(`${$('member')}[data-phone="${c.phone}"]`);
  assert.equal(await ada.page.locator($('member')).count(), 3);
  await ada.page.click($('group-rename'));
  await ada.page.fill($('group-rename-input'), 'Sunday hike');
  await ada.page.click($('group-rename-save'));
  await ada.page.waitForSelector('h1 >> text=Sunday hike');
  await ada.page.click(`${$('member')}[data-phone="${c.phone}"] ${$('member-remove')}`);
  await ada.page.click($('confirm-ok'));
  await ada.page.waitForFunction(() => document.querySelectorAll('[data-test="member"]').length === 2);
  await ada.page.click($('group-add'));
  await ada.page.check(`${$('add-member-option')}[data-phone="${c.phone}"]`);
  await ada.page.click($('add-members-submit'));
  await ada.page.waitForSelector(`${$('member')}[data-phone="${c.phone}"]`);

  await bea.page.goto(`${server.url}/#/group/${await bea.page.getAttribute($('conversation'), 'data-id')}`);
  await bea.page.waitForSelector(`${$('member')}[data-phone="${a.phone}"]`);
  assert.equal(await bea.page.locator($('group-rename')).count(), 0);
  await bea.page.click($('group-leave'));
  await bea.page.click($('confirm-ok'));
  await bea.page.waitForURL(/#\/chats$/);
  assert.equal(await bea.page.locator($('conversation')).count(), 0);
  for (const { page } of [ada, bea, cy]) assert.deepEqual(page.problems, []);
  for (const { context } of [ada, bea, cy]) await context.close();
});

test('group changes are live: a line says who did what, and a removed member is read-only at once', async () => {
  const [a, b, c] = await people('Ada', 'Bea', 'Cy');
  const group = await server.api('/v1/conversations', { method: 'POST', token: a.token,
    body: { kind: 'group', name: 'Book club', members: [b.phone, c.phone] } });
  const hash = `#/chat/${group.id}`;
  const bea = await openApp(browser, server, { session: b, hash });
  const cy = await openApp(browser, server, { session: c, hash });
  for (const { page } of [bea, cy]) {
    await page.waitForSelector(`${$('chat-title')} >> text=Book club`);
    await page.waitForSelector($('composer'));
  }
  assert.match(await bea.page.textContent($('group-info')), /3 members/);

  // Ada removes Cy: Bea sees the line and the new count; Cy's chat turns read-only.
  await server.api(`/v1/conversations/${group.id}/members/${encodeURIComponent(c.phone)}`, { method: 'DELETE', token: a.token });
  await bea.page.waitForSelector(`${$('system-line')}[data-action="removed"] >> text=Ada removed Cy`);
  await waitFor(async () => /2 members/.test(await bea.page.textContent($('group-info'))), 10000, 'the new member count');
  await cy.page.waitForSelector(`${$('removed-notice')}:not([hidden])`);
  assert.equal(await cy.page.isVisible($('composer')), false, 'a removed member has no composer');

  // A rename and the only admin leaving: Bea, the one left, becomes admin.
  await server.api(`/v1/conversations/${group.id}`, { method: 'PATCH', token: a.token, body: { name: 'Reading club' } });
  await bea.page.waitForSelector(`${$('system-line')} >> text=Ada renamed the group to “Reading club”`);
  await bea.page.waitForSelector(`${$('chat-title')} >> text=Reading club`);
  await server.api(`/v1/conversations/${group.id}/members/${encodeURIComponent(a.phone)}`, { method: 'DELETE', token: a.token });
  await bea.page.waitForSelector(`${$('system-line')} >> text=Ada left`);
  await bea.page.waitForSelector(`${$('system-line')} >> text=You are now an admin`);
  await waitFor(async () => /1 member\b/.test(await bea.page.textContent($('group-info'))), 10000, 'one member left');
  await screenshot(bea.page, 'group-changes');
  await screenshot(cy.page, 'group-removed');
  // The chat list previews the last line as it is, with no "name:" in front.
  await bea.page.goto(`${server.url}/#/chats`);
  await bea.page.waitForSelector(`${$('last-message')} >> text=You are now an admin`);
  for (const { page } of [bea, cy]) assert.deepEqual(page.problems, []);
  for (const { context } of [bea, cy]) await context.close();
});

test('a long history loads page by page when scrolling up', async () => {
  const [a, b] = await people('Hal', 'Ida');
  const conv = await direct(a, b);
  for (let i = 1; i <= 130; i++) {
    await server.api(`/v1/conversations/${conv.id}/messages`, { method: 'POST', token: i % 3 ? b.token : a.token,
      body: { client_id: `history-${i}`, kind: 'text', text: `message ${i}` } });
  }
  const { page, context } = await openApp(browser, server, { session: a, hash: `#/chats` });
  await page.waitForSelector(`${row(conv.id)} ${$('unread')}`);
  await page.click(row(conv.id));
  await page.waitForSelector(`${$('message')}[data-seq="130"]`);
  // At the bottom, newest last; not all of it loaded.
  const count = await page.locator($('message')).count();
  assert.ok(count < 130, `${count} messages at first`);
  await waitFor(() => page.$eval($('messages'), (box) => box.scrollHeight - box.scrollTop - box.clientHeight < 5), 5000, 'the bottom');
  while (!(await page.locator(`${$('message')}[data-seq="1"]`).count())) {
    const before = await page.locator($('message')).count();
    await page.$eval($('messages'), (box) => { box.scrollTop = 0; });
    await page.waitForFunction((n) => document.querySelectorAll('[data-test="message"]').length > n, before);
    // The older page went in above: what was being read stays in view.
    assert.ok(await page.$eval($('messages'), (box) => box.scrollTop > 0));
  }
  const seqs = await page.$$eval($('message'), (els) => els.map((e) => Number(e.dataset.seq)));
  assert.deepEqual(seqs, Array.from({ length: 130 }, (_, i) => i + 1));
  assert.equal(await page.locator($('load-older')).count(), 0);
  // Far from the newest message, a button leads back to it.
  await page.click($('jump-bottom'));
  await waitFor(() => page.$eval($('messages'), (box) => box.scrollHeight - box.scrollTop - box.clientHeight < 5), 5000, 'the bottom');
  await page.waitForSelector($('jump-bottom'), { state: 'hidden' });
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('a voice note: recorded from the microphone, played on the other side', async () => {
  const [a, b] = await people('Vic', 'Wes');
  const conv = await direct(a, b);
  const vic = await openApp(browser, server, { session: a, hash: `#/chat/${conv.id}` });
  await vic.context.grantPermissions(['microphone'], { origin: server.url });
  const wes = await openApp(browser, server, { session: b, hash: `#/chat/${conv.id}` });
  await vic.page.click($('record'));
  await vic.page.waitForSelector(`${$('recording')}:not([hidden])`);
  await vic.page.waitForFunction(() => document.querySelector('[data-test="record-time"]')?.textContent === '0:01');
  await vic.page.click($('record'));
  const voice = `${$('message')}[data-mine="false"] ${$('message-voice')}`;
  await wes.page.waitForSelector(voice);
  // The recording is real audio the browser can decode: it has a duration.
  await waitFor(() => wes.page.$eval(voice, (a) => a.src.startsWith('blob:') && a.readyState >= 1 && a.duration > 0.5),
    10000, 'the voice note to load');
  assert.match(await wes.page.textContent(`${row(conv.id)} ${$('last-message')}`), /\[Voice message\]/);
  assert.deepEqual(vic.page.problems, []);
  assert.deepEqual(wes.page.problems, []);
  await vic.context.close();
  await wes.context.close();
});

test('on a phone-sized screen (390×844): list, then the chat alone with a back button', async () => {
  const [a, b] = await people('Pia', 'Quinn');
  const conv = await direct(a, b);
  await server.api(`/v1/conversations/${conv.id}/messages`, { method: 'POST', token: b.token,
    body: { client_id: 'phone-test-1', kind: 'text', text: 'A long message to see that bubbles wrap nicely on a small screen without pushing anything sideways: https://example.com/a/really/long/path/that/goes/on/and/on/and/on' } });
  const { page, context } = await openApp(browser, server, { session: a, viewport: { width: 390, height: 844 }, hash: '#/chats' });
  await page.click(row(conv.id));
  await page.waitForSelector(theirs('A long message'));
  assert.equal(await page.isVisible($('conversation')), false, 'the list gives way to the chat');
  await sendText(page, 'sent from a phone 📱');
  await page.click($('emoji-open'));
  await page.click(`${$('emoji')} >> nth=0`);
  assert.equal(await page.inputValue($('composer')), '😀');
  await page.click($('send'));
  await page.waitForSelector(mine('😀'));
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width}px wide`);
  const box = await page.locator($('composer')).boundingBox();
  assert.ok(box.y + box.height <= 844 && box.x >= 0 && box.x + box.width <= 390, 'the composer is on screen');
  await screenshot(page, 'chat-phone');
  await page.click($('back'));
  await page.waitForSelector(row(conv.id));
  assert.match(await page.textContent(`${row(conv.id)} ${$('last-message')}`), /😀/);
  assert.deepEqual(page.problems, []);
  await context.close();
});

/** The English catalogue's sentences that would betray an untranslated screen. */
async function englishTells() {
  const catalogue = async (lang) => {
    const html = await (await fetch(`${server.url}/`, { headers: { 'accept-language': lang } })).text();
    return JSON.parse(html.match(/<script type="application\/json" id="catalogue">(.*?)<\/script>/s)[1]);
  };
  const [en, zh] = [await catalogue('en'), await catalogue('zh-CN')];
  return Object.entries(en)
    .filter(([key, text]) => zh[key] !== text)
    .map(([, text]) => text.replace(/\{\w+\}/g, '').trim())
    .filter((text) => text.length >= 4 && /[A-Za-z]{3}/.test(text));
}

test('the chat screens in Chinese', async () => {
  const tells = await englishTells();
  const [a, b] = await people('Li', 'Wang');
  const conv = await direct(b, a);
  await server.api(`/v1/conversations/${conv.id}/messages`, { method: 'POST', token: b.token,
    body: { client_id: 'zh-1', kind: 'sticker', text: 'basic/smile' } });
  const { page, context } = await openApp(browser, server, { session: a, locale: 'zh-CN', hash: '#/chats' });
  const check = async (name) => {
    const text = await page.evaluate(() => document.body.innerText);
    assert.match(text, /[\u4e00-\u9fff]/, `${name} shows no Chinese`);
    assert.deepEqual(tells.filter((t) => text.includes(t)), [], `${name} shows English`);
  };
  await page.waitForSelector(`${row(conv.id)} ${$('last-message')} >> text=[表情]`);
  await check('list');
  await page.click(row(conv.id));
  await page.waitForSelector(`${$('message')} ${$('message-sticker')}`);
  await page.click($('emoji-open'));
  await check('chat');
  await screenshot(page, 'zh-chat');
  await page.goto(`${server.url}/#/new-group`);
  await page.waitForSelector(`${$('member-option')}[data-phone="${b.phone}"]`);
  await check('new-group');
  await page.goto(`${server.url}/#/chat/not-a-conversation`);
  await page.waitForSelector('.chat-pane .error');
  await check('missing chat');
  assert.deepEqual(page.problems.filter((p) => !/404/.test(p)), []);
  await context.close();
});
