// Search in chats in a real browser: a Chinese word typed in the box above the chat list
// finds the message far back in a chat, its match marked; the result opens the chat
// scrolled to that message (loaded around it), which is in view; and the open chat
// searches within itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openApp, newPhone, $, waitFor, screenshot } from '../harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

/** Registers people over the API, each with the others in their address book. */
async function people(...names) {
  const users = [];
  for (const name of names) users.push({ name, ...(await server.register(newPhone(), { name, password: '' })) });
  for (const me of users) {
    const contacts = users.filter((u) => u !== me).map((u) => ({ name: u.name, phones: [u.phone] }));
    await server.api('/v1/contacts', { method: 'POST', token: me.token, body: { contacts } });
  }
  return users;
}

const send = (from, conv, text, i) => server.api(`/v1/conversations/${conv}/messages`,
  { method: 'POST', token: from.token, body: { client_id: `c${i}`, kind: 'text', text } });

/** Whether the element is inside the visible part of the message list. */
function inView(selector) {
  const el = document.querySelector(selector);
  const box = document.querySelector('[data-test="messages"]');
  if (!el || !box) return false;
  const a = el.getBoundingClientRect();
  const b = box.getBoundingClientRect();
  return a.height > 0 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
}

test('a Chinese word finds a message far back; the result opens the chat at it', async () => {
  const [a, b] = await people('Alice', 'Bob');
  const conv = await server.api('/v1/conversations', { method: 'POST', token: a.token, body: { kind: 'direct', peer: b.phone } });
  const target = await send(a, conv.id, '我们明天去北京开会，别迟到', 0);
  // Far more than a page after it: the chat opens on the newest page, not at the match.
  for (let i = 1; i <= 160; i++) await send(i % 2 ? b : a, conv.id, `filler line ${i}`, i);
  // The index is written off the send path: wait until the word is searchable.
  await waitFor(async () => (await server.api(`/v1/search?q=${encodeURIComponent('北京')}`, { token: b.token })).results.length === 1,
    10000, 'the message to be indexed');

  const bob = await openApp(browser, server, { session: b, hash: '#/chats' });
  const { page } = bob;
  await page.waitForSelector(`${$('conversation')}[data-id="${conv.id}"]`);
  await page.fill($('search-input'), '北京');
  const result = `${$('search-result')}[data-id="${target.id}"]`;
  await page.waitForSelector(result);
  assert.equal(await page.textContent(`${result} ${$('search-chat')}`), 'Alice');
  assert.equal(await page.textContent(`${result} ${$('search-sender')}`), 'Alice');
  assert.equal(await page.textContent(`${result} ${$('search-snippet')}`), '我们明天去北京开会，别迟到');
  assert.deepEqual(await page.$$eval(`${result} mark`, (ms) => ms.map((m) => m.textContent)), ['北京']);
  // The list gave way to the results.
  assert.equal(await page.isVisible($('conversations')), false);
  await screenshot(page, 'search-results');

  await page.click(result);
  const bubble = `.msg[data-seq="${target.seq}"]`;
  await page.waitForSelector(bubble);
  await page.waitForFunction(inView, bubble, { timeout: 10000 });
  assert.match(page.url(), new RegExp(`#/chat/${conv.id}\\?seq=${target.seq}$`));
  await screenshot(page, 'search-opened');

  // Within the open chat: its own search, results from this chat only.
  await page.click($('chat-search-toggle'));
  await page.fill(`${$('chat-search')} ${$('search-input')}`, 'filler 15');
  await page.waitForSelector(`${$('chat-search')} ${$('search-result')}`);
  const marks = await page.$$eval(`${$('chat-search')} ${$('search-result')} mark`, (ms) => ms.map((m) => m.textContent));
  assert.ok(marks.includes('filler') && marks.includes('15'), marks.join());
  assert.equal(await page.$$eval(`${$('chat-search')} ${$('search-chat')}`, (els) => els.length), 0);
  await bob.context.close();
});
