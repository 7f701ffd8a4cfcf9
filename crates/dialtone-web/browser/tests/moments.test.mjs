// Moments (the community): a post with a picture for chosen people appears live in a
// contact's feed, their like and comment reach the owner as a notification badge; and the
// privacy cases seen from the screens: a blocked contact gets the owner's space exactly
// as an unregistered number's, and a post for a contact group reaches its members only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openApp, newPhone, $, screenshot, waitFor, png } from '../harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

/** Puts `people` ([[name, user]]) into `user`'s address book. */
const book = (user, people) => server.api('/v1/contacts', { method: 'POST', token: user.token,
  body: { contacts: people.map(([name, other]) => ({ name, phones: [other.phone] })) } });

const postOf = (id) => `${$('post')}[data-id="${id}"]`;
const postBy = (phone, text) => `${$('post')}[data-author="${phone}"]:has(${$('post-text')}:text-is("${text}"))`;

async function badge(page) {
  return page.$eval($('nav-moments-unread'), (el) => (el.hidden ? '' : el.textContent));
}

test('a post with a picture for chosen people appears live in a contact\'s Moments; their like and comment reach the owner', async () => {
  const a = await server.register(newPhone(), { name: 'Amy' });
  const b = await server.register(newPhone(), { name: 'Bao' });
  await book(a, [['Bao', b]]);
  await book(b, [['Amy', a]]);

  // Bao has Moments open.
  const bao = await openApp(browser, server, { session: b, hash: '#/moments' });
  await bao.page.waitForSelector(`${$('feed-status')}:not([hidden])`);

  // Amy logs in with her password and writes a post.
  const amy = await openApp(browser, server, { hash: '#/login' });
  await amy.page.fill($('phone'), a.phone);
  await amy.page.fill($('password'), 'correct horse battery');
  await amy.page.click($('login'));
  await amy.page.waitForURL(/#\/chats/);
  await amy.page.click($('nav-moments'));
  await amy.page.click($('go-compose'));
  const text = 'Sunset at the beach <b>not bold</b>';
  await amy.page.fill($('post-text-input'), text);
  await amy.page.setInputFiles($('post-attach'), { name: 'sunset.png', mimeType: 'image/png', buffer: png(64, 48) });
  await amy.page.waitForSelector(`${$('upload')}[data-state="done"]`);
  assert.equal(await amy.page.$eval($('upload-progress'), (p) => p.value), 1);
  await amy.page.fill($('post-place-input'), 'Sanya');
  await amy.page.check($('audience-chosen'));
  // Nobody chosen yet: said before anything is sent.
  await amy.page.click($('post-submit'));
  await amy.page.waitForSelector(`${$('composer-error')}:text("Choose at least one group or person")`);
  await amy.page.check(`${$('audience-person')}[data-phone="${b.phone}"]`);
  // A link to a private address: the server's 422 forbidden_link, in words.
  await amy.page.fill($('post-link-input'), 'http://127.0.0.1/');
  await amy.page.click($('post-submit'));
  await amy.page.waitForSelector(`${$('composer-error')}:text("private or local network")`);
  await amy.page.fill($('post-link-input'), '');
  await amy.page.click($('post-submit'));
  await amy.page.waitForURL(/#\/moments$/);
  const mine = postBy(a.phone, text);
  await amy.page.waitForSelector(`${mine} ${$('post-audience')}[data-kind="chosen"]`);

  // Bao: the post appears without a reload, as text, with its picture.
  const seen = postBy(a.phone, text);
  await bao.page.waitForSelector(seen, { timeout: 10000 });
  assert.equal(await bao.page.textContent(`${seen} ${$('post-author')}`), 'Amy');
  assert.equal(await bao.page.$eval(`${seen} ${$('post-text')}`, (el) => el.children.length), 0, 'the text is not HTML');
  assert.equal(await bao.page.textContent(`${seen} ${$('post-place')}`), 'Place Sanya');
  assert.equal(await bao.page.locator(`${seen} ${$('post-audience')}`).count(), 0, 'the audience is the author\'s only');
  await waitFor(() => bao.page.$eval(`${seen} ${$('post-picture')}`, (img) => img.complete && img.naturalWidth > 0), 10000, 'the picture');
  await bao.page.click(`${seen} ${$('post-thumb')}`);
  await bao.page.waitForSelector(`${$('image-viewer')} ${$('image-full')}`);
  await bao.page.click($('image-close'));

  // Bao likes it and comments.
  await bao.page.click(`${seen} ${$('post-like')}`);
  await bao.page.waitForSelector(`${seen} ${$('post-like')}[aria-pressed="true"]`);
  assert.match(await bao.page.textContent(`${seen} ${$('post-likers')}`), /Bao/);
  await bao.page.click(`${seen} ${$('post-comment')}`);
  await bao.page.fill(`${seen} ${$('comment-input')}`, 'Lovely!');
  await bao.page.click(`${seen} ${$('comment-send')}`);
  await bao.page.waitForSelector(`${seen} ${$('comment-text')}:text-is("Lovely!")`);
  await screenshot(bao.page, 'moments-feed');

  // Amy: the badge counts both, and her card shows them.
  await waitFor(async () => (await badge(amy.page)) === '2', 10000, 'the notification badge');
  await amy.page.waitForSelector(`${mine} ${$('comment-text')}:text-is("Lovely!")`);
  assert.match(await amy.page.textContent(`${mine} ${$('post-likers')}`), /Bao/);
  await amy.page.click($('go-notifications'));
  await amy.page.waitForSelector(`${$('notification')}[data-kind="comment"] >> text=Bao commented on your post`);
  await amy.page.waitForSelector(`${$('notification')}[data-kind="like"]`);
  await waitFor(async () => (await badge(amy.page)) === '', 10000, 'the badge to go once read');
  const { unread } = await server.api('/v1/notifications', { token: a.token });
  assert.equal(unread, 0);

  // Amy answers Bao's comment from the post: "Amy replied to Bao", live on Bao's screen.
  await amy.page.click(`${$('notification')}[data-kind="comment"] a`);
  await amy.page.waitForSelector(`${$('post-page')} ${$('post')}`);
  await amy.page.click(`${$('comment')}[data-author="${b.phone}"] ${$('comment-reply')}`);
  await amy.page.fill($('comment-input'), 'Thanks!');
  await amy.page.click($('comment-send'));
  await amy.page.waitForSelector(`${$('comment-who')}:text-is("Amy replied to Bao")`);
  await bao.page.waitForSelector(`${seen} ${$('comment-who')}:text-is("Amy replied to Bao")`);
  await waitFor(async () => (await badge(bao.page)) === '1', 10000, 'Bao\'s badge');
  await screenshot(amy.page, 'moments-post');

  // The refused link's 422 is the only complaint.
  assert.deepEqual(amy.page.problems.filter((p) => !/status of 422/.test(p)), []);
  assert.deepEqual(bao.page.problems, []);
  await amy.context.close();
  await bao.context.close();
});

test('a blocked contact sees the owner\'s space as an unregistered number\'s, and nothing of them in Moments', async () => {
  const owner = await server.register(newPhone(), { name: 'Olu' });
  const c = await server.register(newPhone(), { name: 'Cai' });
  const unregistered = newPhone();
  await book(owner, [['Cai', c]]);
  await server.api('/v1/contacts', { method: 'POST', token: c.token, body: { contacts: [
    { name: 'Olu', phones: [owner.phone] }, { name: 'Nobody', phones: [unregistered] }] } });
  const post = await server.api('/v1/posts', { method: 'POST', token: owner.token,
    body: { text: 'for everyone', audience: { kind: 'public' } } });
  await server.api('/v1/profile', { method: 'PATCH', token: owner.token, body: { signature: 'Carpe diem' } });

  // Before the block, Cai sees Olu's space, reached from the contact list.
  const { page, context } = await openApp(browser, server, { session: c, hash: '#/contacts', viewport: { width: 360, height: 740 } });
  await page.click(`${$('contact')}[data-phone="${owner.phone}"] ${$('open-space')}`);
  await page.waitForSelector(`${$('space')} ${postOf(post.id)}`);
  assert.equal(await page.textContent($('profile-signature')), 'Carpe diem');
  await screenshot(page, 'moments-space-phone');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `the page is ${width}px wide`);

  await server.api(`/v1/blocklist/${encodeURIComponent(c.phone)}`, { method: 'PUT', token: owner.token });
  const shown = async (phone) => {
    await page.goto(`${server.url}/#/moments`);
    await page.waitForSelector('#view[data-view="moments"]');
    await page.goto(`${server.url}/#/space/${encodeURIComponent(phone)}`);
    await page.waitForSelector(`#view[data-view="space"] ${$('space-missing')}`);
    return page.$eval('#view', (el) => el.innerHTML);
  };
  assert.equal(await shown(owner.phone), await shown(unregistered));

  // The feed: Cai's own post (read in the same page) but nothing of Olu's.
  await server.api('/v1/posts', { method: 'POST', token: c.token, body: { text: 'mine', audience: { kind: 'contacts' } } });
  await page.goto(`${server.url}/#/moments`);
  await page.waitForSelector(postBy(c.phone, 'mine'));
  assert.equal(await page.locator(`${$('post')}[data-author="${owner.phone}"]`).count(), 0);
  await page.goto(`${server.url}/#/post/${encodeURIComponent(post.id)}`);
  await page.waitForSelector(`${$('post-missing')}:text("This post is no longer available")`);
  // The 404s asked for are the only complaints.
  assert.deepEqual(page.problems.filter((p) => !/status of 404/.test(p)), []);
  await context.close();
});

test('a post for a contact group is seen by the group\'s members only (in Chinese)', async () => {
  const owner = await server.register(newPhone(), { name: 'Ola' });
  const member = await server.register(newPhone(), { name: 'Mei' });
  const other = await server.register(newPhone(), { name: 'Nik' });
  await book(owner, [['Mei', member], ['Nik', other]]);
  await book(member, [['Ola', owner]]);
  await book(other, [['Ola', owner]]);
  const group = await server.api('/v1/contact-groups', { method: 'POST', token: owner.token,
    body: { name: '家人', phones: [member.phone] } });

  const zh = { locale: 'zh-CN', hash: '#/moments' };
  const mei = await openApp(browser, server, { ...zh, session: member });
  const nik = await openApp(browser, server, { ...zh, session: other });
  const ola = await openApp(browser, server, { ...zh, session: owner, hash: '#/compose', viewport: { width: 390, height: 844 } });
  for (const { page } of [mei, nik]) await page.waitForSelector(`${$('feed-status')}:not([hidden])`);

  await ola.page.fill($('post-text-input'), '只给家人看');
  await ola.page.check($('audience-chosen'));
  await ola.page.check(`${$('audience-group')}[data-id="${group.id}"]`);
  await screenshot(ola.page, 'moments-composer-zh');
  await ola.page.click($('post-submit'));
  await ola.page.waitForSelector(postBy(owner.phone, '只给家人看'));
  // Then a post for all contacts: once Nik has it, he would have had the first one too.
  await server.api('/v1/posts', { method: 'POST', token: owner.token, body: { text: '大家好', audience: { kind: 'contacts' } } });

  await mei.page.waitForSelector(postBy(owner.phone, '只给家人看'));
  await mei.page.waitForSelector(postBy(owner.phone, '大家好'));
  await nik.page.waitForSelector(postBy(owner.phone, '大家好'));
  assert.equal(await nik.page.locator(postBy(owner.phone, '只给家人看')).count(), 0);
  // Nor after a reload.
  await nik.page.reload();
  await nik.page.waitForSelector(postBy(owner.phone, '大家好'));
  assert.equal(await nik.page.locator(postBy(owner.phone, '只给家人看')).count(), 0);
  assert.equal(await mei.page.textContent(`${$('post')} ${$('post-author')}`), 'Ola');
  assert.equal(await mei.page.textContent(`${$('post')} ${$('post-like')}`), '♡ 赞');
  for (const { page, context } of [mei, nik, ola]) {
    assert.deepEqual(page.problems, []);
    await context.close();
  }
});
