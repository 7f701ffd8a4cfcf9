// Albums: made for a contact group, three pictures uploaded at once, reordered and given a
// cover by their owner; a member of the group opens it, steps through the photos and likes
// one; a contact outside the group finds no album in the owner's space.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openApp, newPhone, $, screenshot, waitFor, png } from '../harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const book = (user, people) => server.api('/v1/contacts', { method: 'POST', token: user.token,
  body: { contacts: people.map(([name, other]) => ({ name, phones: [other.phone] })) } });

const tiles = (page) => page.$$eval('[data-test="photo"]', (els) => els.map((el) => el.dataset.id));

test('an album for a contact group: uploaded at once, reordered, a cover; a member likes a photo, an outsider sees nothing', async () => {
  const owner = await server.register(newPhone(), { name: 'Ola' });
  const member = await server.register(newPhone(), { name: 'Mei' });
  const other = await server.register(newPhone(), { name: 'Nik' });
  await book(owner, [['Mei', member], ['Nik', other]]);
  await book(member, [['Ola', owner]]);
  await book(other, [['Ola', owner]]);
  const group = await server.api('/v1/contact-groups', { method: 'POST', token: owner.token, body: { name: 'Family', phones: [member.phone] } });

  const ola = await openApp(browser, server, { session: owner, hash: `#/space/${encodeURIComponent(owner.phone)}?tab=albums` });
  const { page } = ola;
  await page.click($('go-album-new'));
  await page.fill($('album-title-input'), 'Spring trip');
  await page.fill($('album-description-input'), 'Hangzhou in April');
  await page.check($('audience-chosen'));
  await page.check(`${$('audience-group')}[data-id="${group.id}"]`);
  await page.click($('album-create'));
  await page.waitForURL(/#\/album\/.+/);
  const albumId = decodeURIComponent(page.url().split('#/album/')[1]);

  await page.setInputFiles($('album-upload'), [
    { name: 'one.png', mimeType: 'image/png', buffer: png(40, 30) },
    { name: 'two.png', mimeType: 'image/png', buffer: png(30, 40) },
    { name: 'three.png', mimeType: 'image/png', buffer: png(50, 50) }]);
  await waitFor(async () => (await tiles(page)).length === 3, 15000, 'three photos');
  const [first, second, third] = await tiles(page);
  // The first picture became the cover; move it one later, then make the third the cover.
  await page.waitForSelector(`${$('photo')}[data-id="${first}"][data-cover="true"]`);
  await page.click(`${$('photo')}[data-id="${first}"] ${$('photo-later')}`);
  await waitFor(async () => (await tiles(page)).join() === [second, first, third].join(), 10000, 'the new order');
  await page.click(`${$('photo')}[data-id="${third}"] ${$('photo-set-cover')}`);
  await page.waitForSelector(`${$('photo')}[data-id="${third}"][data-cover="true"]`);
  await page.click(`${$('photo')}[data-id="${second}"] ${$('photo-caption-edit')}`);
  await page.fill($('photo-caption-input'), 'West Lake');
  await page.click($('photo-caption-save'));
  await page.waitForSelector(`${$('photo')}[data-id="${second}"] ${$('photo-tile-caption')}:text-is("West Lake")`);
  await screenshot(page, 'album-owner');
  const album = await server.api(`/v1/albums/${albumId}`, { token: owner.token });
  assert.deepEqual(album.photos.map((p) => p.id), [second, first, third]);
  assert.equal(album.cover, album.photos[2].attachments[0]);

  // Mei (in the group): the album in Ola's space, its cover; she opens it and likes photo 2.
  const mei = await openApp(browser, server, { session: member, viewport: { width: 360, height: 740 },
    hash: `#/space/${encodeURIComponent(owner.phone)}?tab=albums` });
  const tile = `${$('album-tile')}[data-id="${albumId}"]`;
  await mei.page.waitForSelector(tile);
  await waitFor(() => mei.page.$eval(`${tile} img`, (img) => img.complete && img.naturalWidth > 0), 10000, 'the cover');
  await mei.page.click(tile);
  await waitFor(async () => (await tiles(mei.page)).join() === [second, first, third].join(), 10000, 'the photos');
  assert.equal(await mei.page.locator($('photo-set-cover')).count(), 0, 'the owner\'s tools are the owner\'s');
  await mei.page.click(`${$('photo')}[data-id="${second}"] ${$('photo-open')}`);
  await mei.page.waitForSelector(`${$('photo-viewer')}[data-photo="${second}"] ${$('photo-caption')}:text-is("West Lake")`);
  await mei.page.keyboard.press('ArrowRight');
  await mei.page.waitForSelector(`${$('photo-viewer')}[data-photo="${first}"]`);
  await mei.page.click($('viewer-prev'));
  await mei.page.waitForSelector(`${$('photo-viewer')}[data-photo="${second}"]`);
  await waitFor(() => mei.page.$eval($('photo-full'), (img) => img.complete && img.naturalWidth > 0), 10000, 'the photo');
  const [download] = await Promise.all([mei.page.waitForEvent('download'), mei.page.click($('photo-download'))]);
  assert.equal(download.suggestedFilename(), 'Spring trip-1.png');
  await mei.page.click(`${$('photo-viewer')} ${$('post-like')}`);
  await mei.page.waitForSelector(`${$('photo-viewer')} ${$('post-like')}[aria-pressed="true"]`);
  await screenshot(mei.page, 'album-viewer-phone');
  const width = await mei.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `the page is ${width}px wide`);
  await mei.page.click($('viewer-close'));
  await mei.page.waitForSelector(`${$('photo')}[data-id="${second}"] ${$('photo-like-count')}:text-is("♥ 1")`);

  // Nik (not in the group): no album in Ola's space, and the album itself is not found.
  const nik = await openApp(browser, server, { session: other, hash: `#/space/${encodeURIComponent(owner.phone)}?tab=albums` });
  await nik.page.waitForSelector(`${$('albums-status')}:text("No albums yet.")`);
  assert.equal(await nik.page.locator($('album-tile')).count(), 0);
  await assert.rejects(server.api(`/v1/albums/${albumId}`, { token: other.token }), /404/);
  for (const { page: p, context } of [ola, mei, nik]) {
    assert.deepEqual(p.problems, []);
    await context.close();
  }
});
