// The blog: an article with a picture and a tag is written in Markdown, previewed as the
// server renders it, kept as a draft (a contact sees nothing of it), then published: the
// contact gets it live in Moments and finds it in the author's blog, its picture loads, and
// HTML typed in the Markdown shows as text. The feed shows the author's avatar and lays
// pictures out from the items' `media`, with no request per attachment to ask its type.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openApp, newPhone, $, screenshot, waitFor, png } from '../harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const book = (user, people) => server.api('/v1/contacts', { method: 'POST', token: user.token,
  body: { contacts: people.map(([name, other]) => ({ name, phones: [other.phone] })) } });

async function uploadPng(user, bytes) {
  const response = await fetch(`${server.url}/v1/attachments?filename=face.png`, {
    method: 'POST', headers: { authorization: `Bearer ${user.token}`, 'content-type': 'image/png' }, body: bytes });
  assert.equal(response.status, 201);
  return (await response.json()).id;
}

const loaded = (page, selector) => waitFor(() => page.$eval(selector, (img) => img.complete && img.naturalWidth > 0).catch(() => false),
  10000, `${selector} to load`);

test('an article is previewed, kept as a draft unseen, then published to a contact\'s Moments and blog', async () => {
  const a = await server.register(newPhone(), { name: 'Amy' });
  const c = await server.register(newPhone(), { name: 'Cai' });
  await book(a, [['Cai', c]]);
  await book(c, [['Amy', a]]);
  await server.api('/v1/profile', { method: 'PATCH', token: a.token, body: { avatar: await uploadPng(a, png(40, 40)) } });
  const post = await server.api('/v1/posts', { method: 'POST', token: a.token, body: { text: 'two pictures', audience: { kind: 'contacts' },
    attachments: [await uploadPng(a, png(64, 32)), await uploadPng(a, png(30, 60))] } });

  // Cai has Moments open: Amy's post, her avatar, pictures sized before they load, no HEAD.
  const cai = await openApp(browser, server, { session: c, hash: '#/moments' });
  const heads = [];
  cai.page.on('request', (r) => { if (r.method() === 'HEAD') heads.push(r.url()); });
  const card = `${$('post')}[data-id="${post.id}"]`;
  await cai.page.waitForSelector(card);
  assert.deepEqual(await cai.page.$$eval(`${card} ${$('post-picture')}`, (imgs) => imgs.map((i) => [i.getAttribute('width'), i.getAttribute('height')])),
    [['64', '32'], ['30', '60']]);
  await loaded(cai.page, `${card} ${$('avatar-picture')}`);

  // Amy writes.
  const amy = await openApp(browser, server, { session: a, hash: `#/space/${encodeURIComponent(a.phone)}` });
  await amy.page.click($('space-tab-blog'));
  await amy.page.click($('go-write'));
  await amy.page.fill($('article-title-input'), 'A week in Yunnan');
  await amy.page.fill($('article-markdown'), 'We went **north**.\n\n<script>alert("x")</script>\n\n');
  await amy.page.setInputFiles($('article-picture-input'), { name: 'lake.png', mimeType: 'image/png', buffer: png(80, 40) });
  await amy.page.waitForSelector(`${$('upload')}[data-state="done"]`);
  const markdown = await amy.page.inputValue($('article-markdown'));
  assert.match(markdown, /!\[lake\]\(attachment:[A-Za-z0-9_-]+\)/);
  await amy.page.fill($('article-tags-input'), '#travel, yunnan');
  await amy.page.click($('article-preview-toggle'));
  await amy.page.waitForSelector(`${$('article-preview')} strong:text-is("north")`);
  await loaded(amy.page, `${$('article-preview')} ${$('article-picture')}`);
  assert.match(await amy.page.textContent($('article-preview')), /<script>alert\("x"\)<\/script>/);
  assert.equal(await amy.page.locator(`${$('article-preview')} script`).count(), 0);
  await screenshot(amy.page, 'blog-editor-preview');
  await amy.page.click($('article-save-draft'));
  await amy.page.waitForURL(/#\/write\/.+/);
  const id = decodeURIComponent(amy.page.url().split('#/write/')[1]);

  // The draft: in Amy's drafts, nowhere for Cai.
  const { items } = await server.api('/v1/articles/drafts', { token: a.token });
  assert.deepEqual(items.map((i) => i.id), [id]);
  assert.deepEqual((await server.api(`/v1/users/${encodeURIComponent(a.phone)}/articles`, { token: c.token })).items, []);
  await assert.rejects(server.api(`/v1/articles/${id}`, { token: c.token }), /404/);
  const blog = await openApp(browser, server, { session: c, hash: `#/space/${encodeURIComponent(a.phone)}?tab=blog` });
  await blog.page.waitForSelector(`${$('blog-status')}:text("No articles yet.")`);

  // Published: live in Cai's Moments, as an article card.
  await amy.page.click($('article-publish'));
  await amy.page.waitForURL(new RegExp(`#/article/${id}$`));
  const article = `${$('post')}[data-id="${id}"][data-kind="article"]`;
  await cai.page.waitForSelector(`${article} ${$('article-open')}:text-is("A week in Yunnan")`);
  assert.match(await cai.page.textContent(`${article} ${$('article-excerpt')}`), /We went north/);
  await screenshot(cai.page, 'blog-feed');
  await cai.page.click(`${article} ${$('article-open')}`);
  await cai.page.waitForSelector(`${$('article-page')} ${$('article-html')}`);
  await loaded(cai.page, `${$('article-html')} ${$('article-picture')}`);
  assert.match(await cai.page.textContent($('article-html')), /<script>alert\("x"\)<\/script>/);
  assert.equal(await cai.page.locator(`${$('article-html')} script`).count(), 0);
  await cai.page.click($('post-like'));
  await cai.page.waitForSelector(`${$('post-like')}[aria-pressed="true"]`);

  // And in Amy's blog, by its tag.
  await blog.page.reload();
  await blog.page.waitForSelector(`${$('blog')} ${article}`);
  await blog.page.click(`${article} ${$('article-tag')}:text-is("#travel")`);
  await blog.page.waitForSelector(`${$('blog-filter')}:has-text("#travel")`);
  await blog.page.waitForSelector(`${$('blog')} ${article}`);
  assert.deepEqual(heads, [], 'no HEAD request for attachments');
  for (const { page, context } of [amy, cai, blog]) {
    assert.deepEqual(page.problems.filter((p) => !/status of 404/.test(p)), []);
    await context.close();
  }
});
