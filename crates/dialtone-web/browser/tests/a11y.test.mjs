// Accessibility of the main screens, checked by axe-core (injected into the page): no
// serious or critical violation (contrast, names of controls, ...) on any of them, in
// either language, and the menus stay inside the page's landmarks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { startServer, launchBrowser, openApp, newPhone, $, png } from '../harness.mjs';

const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

/**
 * Runs axe on the page as it is. Evaluated through the debugging protocol, so the page's
 * strict CSP (scripts from this origin only) does not stop it.
 */
async function audit(page) {
  if (!await page.evaluate(() => typeof window.axe === 'object')) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join(' ').trim()}`),
    }));
  });
}

/** Fails on serious and critical violations; reports the others. */
async function expectAccessible(t, page, screen) {
  const violations = await audit(page);
  for (const v of violations) t.diagnostic(`${screen}: ${v.impact} ${v.id} (${v.help}): ${v.nodes.join(' | ')}`);
  const grave = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(grave, [], `${screen}: serious or critical accessibility violations`);
  return violations;
}

async function upload(user, name, type, bytes) {
  const response = await fetch(`${server.url}/v1/attachments?filename=${encodeURIComponent(name)}`, {
    method: 'POST', headers: { authorization: `Bearer ${user.token}`, 'content-type': type }, body: bytes });
  assert.equal(response.status, 201);
  return (await response.json()).id;
}

const send = (user, conv, body) => server.api(`/v1/conversations/${conv}/messages`, { method: 'POST', token: user.token,
  body: { client_id: crypto.randomUUID(), ...body } });

test('the main screens have no serious or critical accessibility violation', async (t) => {
  const a = await server.register(newPhone(), { name: 'Ada' });
  const b = await server.register(newPhone(), { name: 'Bo' });
  await server.api('/v1/contacts', { method: 'POST', token: a.token, body: { contacts: [
    { name: 'Bo', phones: [b.phone, '+8618600007777'] }, { name: 'Cy', phones: ['+4915112345678'] }] } });
  await server.api('/v1/contacts', { method: 'POST', token: b.token, body: { contacts: [{ name: 'Ada', phones: [a.phone] }] } });
  const conv = await server.api('/v1/conversations', { method: 'POST', token: a.token, body: { kind: 'direct', peer: b.phone } });
  // A file each way: its size and its link, on a sent bubble's green and on white.
  await send(a, conv.id, { kind: 'text', text: 'Hello Bo 👋' });
  await send(a, conv.id, { kind: 'file', text: 'minutes.txt', attachment_id: await upload(a, 'minutes.txt', 'text/plain', Buffer.from('minutes of the meeting\n'.repeat(40))) });
  await send(b, conv.id, { kind: 'file', text: 'plan.txt', attachment_id: await upload(b, 'plan.txt', 'text/plain', Buffer.from('the plan\n')) });
  await send(b, conv.id, { kind: 'image', attachment_id: await upload(b, 'p.png', 'image/png', png()) });

  // Logged out.
  const guest = await openApp(browser, server);
  await guest.page.waitForSelector($('go-register'));
  await expectAccessible(t, guest.page, 'welcome');
  await guest.context.close();

  // Bo online, so that Ada's book shows someone "Available" (green text).
  const bo = await openApp(browser, server, { session: b, hash: '#/chats' });
  const ada = await openApp(browser, server, { session: a, hash: '#/contacts' });
  const { page } = ada;
  await page.waitForSelector(`${$('contact')}[data-phone="${b.phone}"] ${$('presence-text')}[data-state="available"]`);
  await expectAccessible(t, page, 'contacts');

  await page.goto(`${server.url}/#/chat/${encodeURIComponent(conv.id)}`);
  await page.waitForSelector(`${$('message')}[data-mine="true"] ${$('file-download')}`);
  await page.waitForSelector(`${$('message')}[data-mine="false"] ${$('file-download')}`);
  // Each file's button says which file it downloads.
  assert.deepEqual(await page.$$eval('[data-test="file-download"]', (els) => els.map((e) => e.getAttribute('aria-label'))),
    ['Download minutes.txt', 'Download plan.txt']);
  await expectAccessible(t, page, 'chat');

  // The message-actions menu, open: inside the page's landmarks like everything else.
  await page.click(`${$('message')}[data-mine="true"] >> nth=0 >> ${$('message-actions')}`);
  await page.waitForSelector($('menu'));
  assert.ok(await page.$eval($('menu'), (el) => Boolean(el.closest('main, nav, header, footer, aside, [role="region"]'))),
    'the menu is outside every landmark');
  const withMenu = await expectAccessible(t, page, 'chat with the message menu open');
  assert.deepEqual(withMenu.filter((v) => v.id === 'region'), [], 'content outside the landmarks');
  await page.keyboard.press('Escape');

  for (const screen of ['new-group', 'me', 'privacy', 'devices']) {
    await page.goto(`${server.url}/#/${screen}`);
    await page.waitForFunction(() => document.querySelector('#view h1'));
    await page.waitForFunction(() => !document.querySelector('#view [role="status"].muted:not([hidden])')?.textContent?.includes('…'));
    await expectAccessible(t, page, screen);
  }
  await page.goto(`${server.url}/#/group/${encodeURIComponent(conv.id)}`);
  await page.waitForFunction(() => document.querySelector('#view h1, #view h2'));
  await expectAccessible(t, page, 'conversation info');

  await page.goto(`${server.url}/#/import`);
  await page.setInputFiles($('import-file'), { name: 'book.csv', mimeType: 'text/csv',
    buffer: Buffer.from('Name,Mobile Phone\nWang Fang,137 0013 7000\nLi Lei,call me maybe\n') });
  await page.waitForSelector($('import-preview'));
  await expectAccessible(t, page, 'import preview');
  await ada.context.close();
  await bo.context.close();

  // The same in Chinese, on a phone.
  const zh = await openApp(browser, server, { session: a, locale: 'zh-CN', viewport: { width: 390, height: 844 },
    hash: `#/chat/${encodeURIComponent(conv.id)}` });
  await zh.page.waitForSelector(`${$('message')}[data-mine="true"] ${$('file-download')}`);
  assert.equal(await zh.page.getAttribute(`${$('message')}[data-mine="true"] ${$('file-download')}`, 'aria-label'), '下载 minutes.txt');
  await expectAccessible(t, zh.page, 'chat (zh-CN, phone)');
  await zh.page.goto(`${server.url}/#/contacts`);
  await zh.page.waitForSelector(`${$('contact')}[data-phone="${b.phone}"]`);
  await expectAccessible(t, zh.page, 'contacts (zh-CN, phone)');
  await zh.context.close();
});

test('the Moments screens have no serious or critical accessibility violation', async (t) => {
  const a = await server.register(newPhone(), { name: 'Ada' });
  const b = await server.register(newPhone(), { name: 'Bo' });
  await server.api('/v1/contacts', { method: 'POST', token: a.token, body: { contacts: [{ name: 'Bo', phones: [b.phone] }] } });
  await server.api('/v1/contacts', { method: 'POST', token: b.token, body: { contacts: [{ name: 'Ada', phones: [a.phone] }] } });
  await server.api('/v1/contact-groups', { method: 'POST', token: a.token, body: { name: 'Friends', phones: [b.phone] } });
  const post = await server.api('/v1/posts', { method: 'POST', token: b.token, body: { text: 'Two pictures', place: 'Hangzhou',
    attachments: [await upload(b, 'a.png', 'image/png', png()), await upload(b, 'b.png', 'image/png', png(30, 20))],
    audience: { kind: 'contacts' } } });
  await server.api(`/v1/items/${post.id}/like`, { method: 'PUT', token: a.token });
  const comment = await server.api(`/v1/items/${post.id}/comments`, { method: 'POST', token: a.token, body: { text: 'Nice' } });
  await server.api(`/v1/items/${post.id}/comments`, { method: 'POST', token: b.token, body: { text: 'Thanks', reply_to: comment.id } });
  await server.api('/v1/posts', { method: 'POST', token: a.token, body: { text: 'Mine', audience: { kind: 'public' } } });

  const { page, context } = await openApp(browser, server, { session: a, hash: '#/moments' });
  await page.waitForSelector(`${$('post')}[data-id="${post.id}"] ${$('comment')}`);
  await page.click(`${$('post')}[data-id="${post.id}"] ${$('post-comment')}`);
  await expectAccessible(t, page, 'moments');
  await page.goto(`${server.url}/#/compose`);
  await page.check($('audience-chosen'));
  await page.waitForSelector($('audience-group'));
  await expectAccessible(t, page, 'compose');
  await page.goto(`${server.url}/#/space/${encodeURIComponent(b.phone)}`);
  await page.waitForSelector(`${$('space')} ${$('post')}`);
  await expectAccessible(t, page, 'space');
  await page.goto(`${server.url}/#/profile-edit`);
  await page.waitForSelector($('profile-save'));
  await expectAccessible(t, page, 'profile edit');

  // The blog and the albums.
  const picture = await upload(b, 'lake.png', 'image/png', png(40, 20));
  const article = await server.api('/v1/articles', { method: 'POST', token: b.token, body: { title: 'Lakes',
    markdown: `# Lakes\n\nSome **water**.\n\n![lake](attachment:${picture})\n\n> quoted`, tags: ['travel'], audience: { kind: 'contacts' } } });
  const album = await server.api('/v1/albums', { method: 'POST', token: b.token, body: { title: 'Trip', audience: { kind: 'contacts' } } });
  await server.api(`/v1/albums/${album.id}/photos`, { method: 'POST', token: b.token, body: { photos: [
    { attachment: await upload(b, 'p1.png', 'image/png', png()), caption: 'First' }, { attachment: await upload(b, 'p2.png', 'image/png', png(20, 30)) }] } });
  await page.goto(`${server.url}/#/space/${encodeURIComponent(b.phone)}?tab=blog`);
  await page.waitForSelector(`${$('post')}[data-id="${article.id}"]`);
  await expectAccessible(t, page, 'blog');
  await page.goto(`${server.url}/#/article/${encodeURIComponent(article.id)}`);
  await page.waitForSelector($('article-picture'));
  await expectAccessible(t, page, 'article');
  await page.goto(`${server.url}/#/space/${encodeURIComponent(b.phone)}?tab=albums`);
  await page.waitForSelector($('album-tile'));
  await expectAccessible(t, page, 'albums');
  await page.goto(`${server.url}/#/album/${encodeURIComponent(album.id)}`);
  await page.waitForSelector($('photo-open'));
  await expectAccessible(t, page, 'album');
  await page.click($('photo-open'));
  await page.waitForSelector($('photo-full'));
  await expectAccessible(t, page, 'photo viewer');
  await page.goto(`${server.url}/#/write`);
  await page.fill($('article-markdown'), '## Hello\n\n- one\n- two');
  await page.click($('article-preview-toggle'));
  await page.waitForSelector(`${$('article-preview')} h2`);
  await expectAccessible(t, page, 'article editor (preview)');
  await context.close();

  // My own album, with its tools, in Chinese on a phone.
  const own = await openApp(browser, server, { session: b, locale: 'zh-CN', viewport: { width: 360, height: 740 },
    hash: `#/album/${encodeURIComponent(album.id)}` });
  await own.page.waitForSelector($('photo-set-cover'));
  await expectAccessible(t, own.page, 'my album (zh-CN, phone)');
  await own.page.goto(`${server.url}/#/album-new`);
  await own.page.waitForSelector($('album-title-input'));
  await expectAccessible(t, own.page, 'new album (zh-CN, phone)');
  await own.context.close();

  const zh = await openApp(browser, server, { session: b, locale: 'zh-CN', viewport: { width: 360, height: 740 }, hash: '#/notifications' });
  await zh.page.waitForSelector($('notification'));
  await expectAccessible(t, zh.page, 'notifications (zh-CN, phone)');
  await zh.page.goto(`${server.url}/#/moments`);
  await zh.page.waitForSelector(`${$('post')}[data-id="${post.id}"]`);
  await expectAccessible(t, zh.page, 'moments (zh-CN, phone)');
  await zh.context.close();
});
