// The installed app opens without a network: after one visit the service worker has every
// file of the shell (the views loaded later included), and while online the network wins.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openApp, newPhone, $ } from '../harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

/** Waits until the service worker controls the page and has finished caching. */
async function workerInCharge(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated');
}

test('while online the network wins over the cached copy', async () => {
  const me = await server.register(newPhone(), { name: 'Online' });
  const { page, context } = await openApp(browser, server, { session: me, hash: '#/chats' });
  await page.waitForSelector($('nav-chats'));
  await workerInCharge(page);
  // A stale shell in the cache: served only if the worker preferred it to the network.
  await page.evaluate(async () => {
    for (const key of await caches.keys()) {
      const cache = await caches.open(key);
      await cache.put('/', new Response('<!doctype html><p id="stale">stale</p>', { headers: { 'Content-Type': 'text/html' } }));
    }
  });
  await page.reload();
  await page.waitForSelector($('nav-chats'));
  assert.equal(await page.locator('#stale').count(), 0);
  assert.ok(await page.evaluate(() => navigator.serviceWorker.controller !== null), 'the reload went through the worker');
  await context.close();
});

test('after one visit the app opens offline, its views and its other language included', async () => {
  // A server of its own: this test stops it.
  const own = await startServer();
  try {
    const me = await own.register(newPhone(), { name: 'Offline' });
    const { page, context } = await openApp(browser, own, { session: me, hash: '#/chats' });
    await page.waitForSelector($('nav-chats'));
    await workerInCharge(page);

    // Offline as the browser sees it, and the server gone, so that nothing can come from it.
    await context.setOffline(true);
    await own.stop();
    await page.reload();
    await page.waitForSelector($('nav-chats'));
    assert.equal(await page.textContent('h1'), 'Chats');
    await page.waitForSelector(`${$('connection')}:not([hidden])`);
    // A view this visit never opened: its module comes from the cache too.
    await page.click($('nav-contacts'));
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'Contacts');
    // The other language's shell (its catalogue) was cached as well.
    await page.evaluate(() => { document.cookie = 'lang=zh-CN; path=/'; });
    await page.reload();
    await page.waitForSelector($('nav-chats'));
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.equal(await page.textContent(`${$('nav-chats')} .nav-text`), '聊天');
    await context.close();
  } finally {
    await own.stop();
  }
});
