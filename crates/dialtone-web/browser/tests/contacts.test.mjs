// The address book: adding a number, live presence, importing real address-book files,
// search, invitations, and a phone-sized screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launchBrowser, openApp, newPhone, $, screenshot, waitFor } from '../harness.mjs';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const row = (phone) => `${$('contact')}[data-phone="${phone}"]`;
const dotOf = (phone) => `${row(phone)} ${$('presence-dot')}`;
/**
 * Console problems, less the expected ones: views of other areas that may not exist yet
 * while the client is being built (chats.js, chat-state.js), and the 4xx of a file this
 * test sends on purpose (Chromium logs every failed request, without its address).
 */
function watch(page, expected = /\/assets\/js\/(views\/chats|chat-state)\.js/) {
  let allowed = 0;
  page.on('response', (r) => { if (r.status() >= 400 && expected.test(r.url())) allowed += 1; });
  return () => {
    let left = allowed;
    return page.problems.filter((p) => {
      if (/Failed to load resource/.test(p) && left > 0) { left -= 1; return false; }
      return !/chat-state|view failed to load/.test(p);
    });
  };
}

test('a number added by the form shows as registered, its presence changes live', async (t) => {
  const a = await server.register(newPhone(), { name: 'Ann' });
  const b = await server.register(newPhone(), { name: 'Ben' });
  const ann = await openApp(browser, server, { session: a, hash: '#/contacts' });
  const { page } = ann;
  const problems = watch(page);
  await page.waitForSelector($('contacts-empty'));

  // Typed the national way, with the country picked.
  await page.selectOption($('add-region'), 'CN');
  await page.fill($('add-name'), 'Ben Bai');
  await page.fill($('add-phone'), `${b.phone.slice(3, 6)} ${b.phone.slice(6, 10)} ${b.phone.slice(10)}`);
  await page.click($('add-submit'));
  await page.waitForSelector(row(b.phone));
  assert.equal(await page.getAttribute(row(b.phone), 'data-registered'), 'true');
  // The number grouped as people write it, not E.164.
  await page.waitForFunction(([sel, text]) => document.querySelector(sel)?.textContent === text,
    [`${row(b.phone)} ${$('contact-phone')}`, await server.written(b.phone)]);
  assert.equal(await page.getAttribute(dotOf(b.phone), 'data-state'), 'offline');
  assert.match(await page.textContent(`${row(b.phone)} ${$('presence-text')}`), /Offline|Last seen/);
  assert.ok(await page.isVisible(`${row(b.phone)} ${$('start-chat')}`));
  assert.equal(await page.locator(`${row(b.phone)} ${$('invite')}`).count(), 0);

  // A bad number is refused with its reason, and nothing is added.
  await page.fill($('add-name'), 'Nobody');
  await page.fill($('add-phone'), '12');
  await page.click($('add-submit'));
  await page.waitForSelector(`${$('add-error')}:not([hidden])`);
  assert.match(await page.textContent($('add-error')), /12/);
  assert.equal(await page.locator($('contact')).count(), 1);

  // Ben opens the app: Ann's dot turns green without a reload.
  const ben = await openApp(browser, server, { session: b, hash: '#/contacts' });
  const went = Date.now();
  await page.waitForSelector(`${dotOf(b.phone)}[data-state="available"]`, { timeout: 15000 });
  assert.equal(await page.textContent(`${row(b.phone)} ${$('presence-text')}`), 'Available');
  await page.waitForFunction(() => document.querySelector('[data-test="presence-announcer"]').textContent.includes('Available'));
  t.diagnostic(`online after ${Date.now() - went} ms`);
  await screenshot(page, 'contacts');
  // A status set elsewhere shows live too: its colour and its words.
  await server.api('/v1/presence', { method: 'PUT', token: b.token, body: { state: 'away', text: 'At lunch' } });
  await page.waitForSelector(`${dotOf(b.phone)}[data-state="away"]`);
  assert.equal(await page.textContent(`${row(b.phone)} ${$('presence-text')}`), 'At lunch');

  // Ben closes his tab: the socket closes with it, Ann sees him offline at once.
  await ben.context.close();
  const left = Date.now();
  await page.waitForSelector(`${dotOf(b.phone)}[data-state="offline"]`, { timeout: 15000 });
  const tookMs = Date.now() - left;
  t.diagnostic(`offline after ${tookMs} ms`);
  assert.ok(tookMs < 10000, `offline took ${tookMs} ms`);
  // The last-seen time is looked up once he is gone.
  await page.waitForFunction((sel) => /Last seen/.test(document.querySelector(sel)?.textContent),
    `${row(b.phone)} [data-test="presence-text"]`);

  // Message: a direct conversation is opened and the app goes to it.
  await page.click(`${row(b.phone)} ${$('start-chat')}`);
  await page.waitForURL(/#\/chat\/[^/]+$/);
  const id = decodeURIComponent(page.url().split('#/chat/')[1]);
  const conversation = await server.api(`/v1/conversations/${encodeURIComponent(id)}`, { token: a.token });
  assert.ok(conversation.members.includes(b.phone));

  // Delete, after confirming.
  await page.goto(`${server.url}/#/contacts`);
  await page.waitForSelector(row(b.phone));
  page.once('dialog', (d) => d.accept());
  await page.click(`${row(b.phone)} ${$('delete-contact')}`);
  await page.waitForSelector($('contacts-empty'));
  const { contacts } = await server.api('/v1/contacts', { token: a.token });
  assert.equal(contacts.length, 0);
  assert.deepEqual(problems(), []);
  await ann.context.close();
});

test('importing a vCard and a CSV: preview, rejects with their line, confirm', async () => {
  const me = await server.register(newPhone(), { name: 'Importer' });
  // The CSV's first line is this user's number.
  const wang = await server.register('+8613700137000', { name: 'Wang' });
  const { page, context } = await openApp(browser, server, { session: me, hash: '#/contacts' });
  const problems = watch(page, /\/v1\/contacts\/import/);
  await page.waitForSelector($('contacts-empty'));
  await page.click($('go-import'));
  await page.waitForURL(/#\/import$/);

  // A real iPhone export: North American numbers written nationally, so region US.
  await page.selectOption($('import-region'), 'US');
  await page.setInputFiles($('import-file'), path.join(fixtures, 'ezvcard_John_Doe_IPHONE.vcf'));
  await page.waitForSelector($('import-row'));
  assert.equal(await page.textContent($('import-format')), 'vCard');
  assert.equal(await page.textContent($('import-encoding-used')), 'UTF-8');
  assert.equal(await page.locator($('import-row')).count(), 1);
  const vcardRow = await page.textContent($('import-row'));
  assert.match(vcardRow, /John Richter James Doe/);
  assert.match(vcardRow, /\+1 905-555-1234/);
  assert.match(vcardRow, /mobile/);
  // One person with six numbers, counted so everywhere.
  assert.equal(await page.textContent($('import-count')), '1');
  assert.equal(await page.textContent($('import-numbers')), '6');
  assert.equal(await page.textContent($('import-confirm')), 'Add to my contacts (1)');
  await page.click($('import-confirm'));
  await page.waitForURL(/#\/contacts$/);
  await page.waitForSelector(row('+19055551234'));
  assert.equal(await page.textContent($('toast')), 'Import finished: 1 new contact with 6 numbers.');
  assert.equal(await page.locator($('person')).count(), 1);
  assert.equal(await page.locator(`${$('person')} ${$('contact')}`).count(), 6);

  // The Android export: every card is unusable, each rejected with its record and line.
  await page.click($('go-import'));
  await page.setInputFiles($('import-file'), path.join(fixtures, 'ezvcard_John_Doe_ANDROID.vcf'));
  await page.waitForSelector($('import-reject'));
  assert.equal(await page.locator($('import-row')).count(), 0);
  assert.ok(await page.isDisabled($('import-confirm')));
  assert.match(await page.textContent(`${$('import-reject')} >> nth=0`), /Entry 1 \(line 1\).*no phone number/);

  // A file that is no address book: a clear message, not a blank screen.
  await page.setInputFiles($('import-file'), { name: 'photo.vcf', mimeType: 'image/png', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 1, 2, 3, 255, 254, 0, 7]) });
  await page.waitForSelector($('import-error'));
  assert.match(await page.textContent($('import-error')), /not an address-book format|damaged|empty/);

  // The small CSV, read in China: one registered number, one line with no number.
  await page.selectOption($('import-region'), 'CN');
  await page.setInputFiles($('import-file'), path.join(fixtures, 'contacts-small.csv'));
  await page.waitForSelector($('import-row'));
  assert.equal(await page.textContent($('import-format')), 'CSV');
  assert.equal(await page.locator($('import-row')).count(), 2);
  assert.equal(await page.locator($('import-reject')).count(), 1);
  const reject = await page.textContent($('import-reject'));
  assert.match(reject, /Line 3/);
  assert.match(reject, /call me maybe/);
  assert.match(reject, /not a phone number/);
  assert.equal(await page.textContent($('import-rejected-count')), '1');
  await page.waitForSelector($('toast'), { state: 'detached' });
  await page.$eval($('import-preview'), (el) => el.scrollIntoView());
  await screenshot(page, 'import-preview');
  await page.click($('import-confirm'));
  await page.waitForURL(/#\/contacts$/);

  // Wang is on dialtone: first, under its own heading; the others to invite.
  await page.waitForSelector(row(wang.phone));
  assert.equal(await page.getAttribute(row(wang.phone), 'data-registered'), 'true');
  const order = await page.$$eval('[data-test="contact"]', (rows) => rows.map((r) => r.dataset.phone));
  assert.equal(order[0], wang.phone);
  assert.equal(order.length, 8);
  // A row per person: John Doe's six numbers are one row.
  const others = await page.$$eval('[data-test="others-list"] [data-test="person"]', (rows) => rows.map((r) =>
    [r.querySelector('[data-test="contact-name"]').textContent, r.querySelectorAll('[data-test="contact"]').length]));
  assert.deepEqual(others, [['Mr. John Richter James Doe Sr.', 6], ['Zhang Wei', 1]]);
  assert.ok(await page.isVisible(`${row('+8618600001234')} ${$('invite')}`));
  assert.deepEqual(problems(), []);
  await context.close();
});

test('search filters as one types; invite copies a text with the app address', async () => {
  const me = await server.register(newPhone(), { name: 'Searcher' });
  const friend = await server.register(newPhone(), { name: 'Friend' });
  await server.api('/v1/contacts', { method: 'POST', token: me.token, body: { contacts: [
    { name: '李雷', phones: [friend.phone] },
    { name: 'Han Meimei', phones: ['+8618900001111'] },
    { name: 'Hans Müller', phones: ['+4915112345678'] },
  ] } });
  const { page, context } = await openApp(browser, server, { session: me, hash: '#/contacts' });
  const problems = watch(page);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await page.waitForSelector(row(friend.phone));
  const visible = () => page.$$eval('[data-test="person"]', (rows) => rows.filter((r) => !r.hidden)
    .flatMap((r) => [...r.querySelectorAll('[data-test="contact"]')].map((n) => n.dataset.phone)));
  assert.equal((await visible()).length, 3);

  await page.fill($('contact-search'), 'han');
  await waitFor(async () => (await visible()).length === 2, 5000, 'two Han');
  await page.fill($('contact-search'), '李');
  await waitFor(async () => (await visible()).join() === friend.phone, 5000, 'Li Lei only');
  assert.ok(await page.isHidden($('others-heading')));
  // Digits of the number, national form with its trunk zero too.
  await page.fill($('contact-search'), '0189 0000');
  await waitFor(async () => (await visible()).join() === '+8618900001111', 5000, 'by number');
  await page.fill($('contact-search'), 'nobody at all');
  await page.waitForSelector(`${$('contacts-no-match')}:not([hidden])`);
  await page.fill($('contact-search'), '');
  await waitFor(async () => (await visible()).length === 3, 5000, 'all again');

  await page.click(`${row('+4915112345678')} ${$('invite')}`);
  await page.waitForSelector(`${$('toast')} >> text=Invitation copied`);
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.ok(copied.includes(server.url), copied);

  // A hidden contact is listed only while the vault is open, and marked as hidden.
  await server.api('/v1/vault/password', { method: 'PUT', token: me.token, body: { password: 'vault secret 1' } });
  await server.api(`/v1/contacts/${encodeURIComponent(friend.phone)}/hidden`, { method: 'PUT', token: me.token, body: { hidden: true } });
  await page.reload();
  await page.waitForSelector(row('+8618900001111'));
  assert.equal(await page.locator(row(friend.phone)).count(), 0);
  const vault = await server.api('/v1/vault/unlock', { method: 'POST', token: me.token, body: { password: 'vault secret 1' } });
  await page.evaluate((v) => sessionStorage.setItem('dialtone.vault', JSON.stringify(v)), vault);
  await page.reload();
  await page.waitForSelector(`${row(friend.phone)} ${$('hidden-label')}:visible`);
  assert.ok(await page.isHidden(`${row('+8618900001111')} ${$('hidden-label')}`));
  assert.deepEqual(problems(), []);
  await context.close();
});

test('one person with two numbers: the preview, the toast and the book count people and numbers alike', async () => {
  const me = await server.register(newPhone(), { name: 'Counter' });
  const wang = await server.register(newPhone(), { name: 'Wang' });
  const national = (p) => `${p.slice(3, 6)} ${p.slice(6, 10)} ${p.slice(10)}`;
  // Wang Fang has a mobile on dialtone and a home number that is not; Zhang Wei one number.
  const csv = `Name,Mobile Phone,Home Phone\nWang Fang,${national(wang.phone)},010 6234 5678\nZhang Wei,+86 186 0000 4321,\n`;
  const { page, context } = await openApp(browser, server, { session: me, hash: '#/import' });
  const problems = watch(page);
  await page.selectOption($('import-region'), 'CN');
  await page.setInputFiles($('import-file'), { name: 'two.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.waitForSelector($('import-row'));
  assert.equal(await page.textContent($('import-count')), '2');
  assert.equal(await page.textContent($('import-numbers')), '3');
  assert.equal(await page.textContent($('import-confirm')), 'Add to my contacts (2)');
  assert.match(await page.textContent(`${$('import-row')} >> nth=0`), /\+86 10 6234 5678/);
  await page.click($('import-confirm'));
  await page.waitForURL(/#\/contacts$/);
  assert.equal(await page.textContent($('toast')), 'Import finished: 2 new contacts with 3 numbers.');

  // One row for Wang Fang, under "On dialtone", listing both numbers and which is on dialtone.
  await page.waitForSelector(row(wang.phone));
  const people = await page.$$eval('[data-test="person"]', (rows) => rows.map((r) => ({
    name: r.querySelector('[data-test="contact-name"]').textContent,
    list: r.closest('[data-test$="-list"]').dataset.test,
    numbers: [...r.querySelectorAll('[data-test="contact"]')].map((n) => [n.dataset.phone, n.dataset.registered]),
  })));
  assert.deepEqual(people, [
    { name: 'Wang Fang', list: 'registered-list', numbers: [[wang.phone, 'true'], ['+861062345678', 'false']] },
    { name: 'Zhang Wei', list: 'others-list', numbers: [['+8618600004321', 'false']] },
  ]);
  assert.equal(await page.textContent($('registered-heading')), 'On dialtone (1)');
  assert.equal(await page.textContent($('others-heading')), 'Invite to dialtone (1)');
  assert.ok(await page.isVisible(`${row(wang.phone)} ${$('start-chat')}`));
  assert.ok(await page.isVisible(`${row('+861062345678')} ${$('invite')}`));
  assert.equal(await page.textContent(`${row('+861062345678')} ${$('not-registered')}`), 'Not on dialtone');
  assert.equal(await page.textContent(`${row('+861062345678')} ${$('contact-phone')}`), '+86 10 6234 5678');
  assert.equal(await page.getAttribute(`${row('+861062345678')} ${$('invite')}`, 'aria-label'),
    'Invite Wang Fang (+86 10 6234 5678) to dialtone');
  await screenshot(page, 'contacts-person');
  assert.deepEqual(problems(), []);
  await context.close();
});

/** The part of an element's box the reader sees: clipped by the scrolling screen. */
function seen(box, view) {
  const top = Math.max(box.top, view.top);
  const bottom = Math.min(box.bottom, view.bottom);
  return bottom > top ? { left: box.left, right: box.right, top, bottom } : null;
}
const overlap = (a, b) => a && b && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

test('on a 360 px phone a number and its buttons never overlap, nor a toast the next button', async () => {
  const me = await server.register(newPhone(), { name: 'Narrow' });
  const friend = await server.register(newPhone(), { name: 'Friend' });
  await server.api('/v1/contacts', { method: 'POST', token: me.token, body: { contacts: [
    { name: 'Alexandra Konstantinopoulou-Smythe', phones: [friend.phone, '+442079460123'] },
    { name: 'Jürgen', phones: ['+4915112345678'] },
    { name: '', phones: ['+8618900003333'] },
  ] } });
  const { page, context } = await openApp(browser, server,
    { session: me, hash: '#/contacts', viewport: { width: 360, height: 740 } });
  const problems = watch(page);
  await page.waitForSelector(row(friend.phone));
  await page.waitForFunction(([sel, text]) => document.querySelector(sel)?.textContent === text,
    [`${row(friend.phone)} ${$('contact-phone')}`, await server.written(friend.phone)]);
  const boxes = await page.$$eval('[data-test="contact"]', (items) => items.map((item) => {
    const box = (el) => { const r = el.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width }; };
    const phone = item.querySelector('[data-test="contact-phone"]');
    return {
      phone: item.dataset.phone,
      number: phone.hidden ? null : box(phone),
      buttons: [...item.querySelectorAll('button')].map(box),
    };
  }));
  assert.equal(boxes.length, 4);
  for (const { phone, number, buttons } of boxes) {
    assert.equal(buttons.length, 2, phone);
    if (!number) continue;
    assert.ok(number.width > 0 && number.right <= 360, `${phone}: the number runs off the screen`);
    for (const button of buttons) assert.ok(!overlap(number, button), `${phone}: a button covers the number`);
  }
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `the page is ${width}px wide`);
  await screenshot(page, 'contacts-360');

  // The add form's button at the bottom of the screen, then a toast: it takes room, it covers nothing.
  await page.fill($('add-name'), 'Toast Test');
  await page.fill($('add-phone'), '189 0000 4444');
  await page.$eval($('add-submit'), (el) => el.scrollIntoView({ block: 'end' }));
  await page.click($('add-submit'));
  await page.waitForSelector($('toast'));
  const covered = await page.evaluate(() => {
    const rect = (el) => el.getBoundingClientRect();
    const toast = rect(document.querySelector('[data-test="toast"]'));
    const view = rect(document.getElementById('view'));
    return [...document.querySelectorAll('button, a.button, input, select')]
      .filter((el) => el.offsetParent !== null)
      .map((el) => ({ test: el.dataset.test ?? el.tagName, box: rect(el) }))
      .filter(({ box }) => {
        const top = Math.max(box.top, view.top);
        const bottom = Math.min(box.bottom, view.bottom);
        return bottom > top && box.left < toast.right && toast.left < box.right && top < toast.bottom && toast.top < bottom;
      })
      .map(({ test }) => test);
  });
  assert.deepEqual(covered, [], 'the toast covers these');
  assert.deepEqual(problems(), []);
  await context.close();
});

test('the Chinese interface and a phone-sized screen (390×844) without sideways scrolling', async () => {
  const me = await server.register(newPhone(), { name: 'Phone' });
  const friend = await server.register(newPhone(), { name: 'Friend' });
  await server.api('/v1/presence', { method: 'PUT', token: friend.token,
    body: { state: 'busy', text: '开会中，有事请留言，会后回复大家的消息，谢谢理解' } });
  await server.api('/v1/contacts', { method: 'POST', token: me.token, body: { contacts: [
    { name: '一个名字非常非常非常非常非常长的联系人用来测试省略号效果', phones: [friend.phone] },
    { name: 'Somebody With A Rather Long Western Name', phones: ['+8618900002222'] },
  ] } });
  const { page, context } = await openApp(browser, server,
    { session: me, hash: '#/contacts', locale: 'zh-CN', viewport: { width: 390, height: 844 } });
  const problems = watch(page);
  await page.waitForSelector(row(friend.phone));
  assert.equal(await page.textContent('h1'), '通讯录');
  const widths = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    view: document.getElementById('view').scrollWidth,
    client: document.getElementById('view').clientWidth,
  }));
  assert.ok(widths.page <= 390, `the page is ${widths.page}px wide`);
  assert.ok(widths.view <= widths.client, `the view scrolls sideways: ${widths.view} > ${widths.client}`);
  await screenshot(page, 'contacts-phone');

  await page.click($('go-import'));
  await page.setInputFiles($('import-file'), path.join(fixtures, 'contacts-small.csv'));
  await page.waitForSelector($('import-reject'));
  assert.match(await page.textContent($('import-reject')), /第 3 行/);
  const importWidth = await page.evaluate(() => document.getElementById('view').scrollWidth);
  assert.ok(importWidth <= 390, `the import screen is ${importWidth}px wide`);
  await page.$eval($('import-preview'), (el) => el.scrollIntoView());
  await screenshot(page, 'import-preview-phone');
  assert.deepEqual(problems(), []);
  await context.close();
});
