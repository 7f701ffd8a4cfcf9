// The same thing looks the same on every screen: a number is grouped as people write it, a
// time of day has one format, a person without a name has one avatar.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openApp, newPhone, $ } from '../harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

/** A time zone where it is now between 1 and 9 in the morning: one-digit hours. */
function morningZone() {
  const utc = new Date().getUTCHours();
  for (let n = -12; n <= 12; n += 1) {
    const local = (((utc - n) % 24) + 24) % 24;
    if (local >= 1 && local <= 9) return n >= 0 ? `Etc/GMT+${n}` : `Etc/GMT${n}`;
  }
  throw new Error('no morning zone');
}

test('an unnamed number: grouped, one avatar, one clock on every screen', async () => {
  const me = await server.register(newPhone(), { name: 'Me' });
  const other = await server.register(newPhone(), { name: '' });
  // In my book without a name.
  await server.api('/v1/contacts', { method: 'POST', token: me.token, body: { contacts: [{ name: '', phones: [other.phone] }] } });
  const conv = await server.api('/v1/conversations', { method: 'POST', token: other.token, body: { kind: 'direct', peer: me.phone } });
  await server.api(`/v1/conversations/${conv.id}/messages`, { method: 'POST', token: other.token,
    body: { client_id: crypto.randomUUID(), kind: 'text', text: 'hi, it is me' } });
  const written = await server.written(other.phone);
  assert.match(written, /^\+86 139 \d{4} \d{4}$/);

  const timezoneId = morningZone();
  const { page, context } = await openApp(browser, server, { session: me, timezoneId, hash: `#/chat/${encodeURIComponent(conv.id)}` });
  const item = `${$('conversation')}[data-id="${conv.id}"]`;
  await page.waitForSelector(`${$('message')} >> text=hi, it is me`);
  await page.waitForFunction(([sel, text]) => document.querySelector(sel)?.textContent === text,
    [`${item} ${$('conversation-title')}`, written]);

  // One clock: the list and the bubble write the same time the same way ("9:05 AM").
  const listTime = await page.textContent(`${item} ${$('conversation-time')}`);
  const bubbleTime = await page.textContent(`${$('message')} time`);
  assert.equal(listTime, bubbleTime);
  assert.match(bubbleTime, /^[1-9]:\d\d\sAM$/, `${bubbleTime} in ${timezoneId}`);

  // One avatar: the list, the chat's header, the book and the block list.
  const letters = [];
  letters.push(await page.textContent(`${item} .avatar`));
  letters.push(await page.textContent('.chat-header .avatar'));
  assert.ok((await page.textContent('.chat-heading')).includes(written));
  await page.goto(`${server.url}/#/contacts`);
  const row = `${$('contact')}[data-phone="${other.phone}"]`;
  await page.waitForSelector(row);
  letters.push(await page.textContent(`${$('person')}:has(${row}) .avatar`));
  assert.equal(await page.textContent(`${$('person')}:has(${row}) ${$('contact-name')}`), written);
  await server.api(`/v1/blocklist/${encodeURIComponent(other.phone)}`, { method: 'PUT', token: me.token });
  await page.goto(`${server.url}/#/privacy`);
  const blocked = `${$('blocked')}[data-phone="${other.phone}"]`;
  await page.waitForSelector(blocked);
  letters.push(await page.textContent(`${blocked} .avatar`));
  assert.equal(await page.textContent(`${blocked} .settings-name`), written);
  assert.deepEqual(letters, ['#', '#', '#', '#']);
  assert.deepEqual(page.problems, []);
  await context.close();
});
