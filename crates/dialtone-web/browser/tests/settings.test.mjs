// Me, Privacy and Devices: presence and status text as contacts see them, blocking,
// allow list and contact groups, hidden contacts behind the vault, devices, language
// and logging out, each checked through the API as another user would see it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openApp, newPhone, $, screenshot, waitFor } from '../harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

/** Adds `other` to `user`'s address book under `name`. */
async function addContact(user, other, name) {
  await server.api('/v1/contacts', { method: 'POST', token: user.token,
    body: { contacts: [{ name, phones: [other.phone] }] } });
}

/** What `viewer` sees of `phone`'s presence over the API. */
function presenceOf(viewer, phone) {
  return server.api(`/v1/users/${encodeURIComponent(phone)}/presence`, { token: viewer.token });
}

/** The status of an API call made with `token` (200, 401...). */
async function statusWith(token, path = '/v1/account') {
  const response = await fetch(server.url + path, { headers: { authorization: `Bearer ${token}` } });
  return response.status;
}

/** "+8613912345678" → "139 1234 5678", the way people type a mainland number. */
function national(phone) {
  const digits = phone.slice(3);
  return `${digits.slice(0, 3)} ${digits.slice(3, 7)} ${digits.slice(7)}`;
}

async function pair() {
  const a = await server.register(newPhone(), { name: 'Alice' });
  const b = await server.register(newPhone(), { name: 'Bob' });
  await addContact(a, b, 'B');
  await addContact(b, a, 'A');
  return { a, b };
}

test('presence and status text set on Me reach a contact; invisible shows as offline', async () => {
  const { a, b } = await pair();
  const { page, context } = await openApp(browser, server, { session: a, hash: '#/me' });
  await page.waitForSelector($('presence-state'));
  assert.equal(await page.textContent($('my-phone')), await server.written(a.phone));
  assert.equal(await page.textContent($('my-name')), 'Alice');
  // A's page holds the socket: A is online to B.
  await waitFor(async () => (await presenceOf(b, a.phone)).state === 'available', 10000, 'A online');

  await page.selectOption($('presence-state'), 'busy');
  await page.fill($('status-text'), 'In a meeting');
  await page.click($('save-presence'));
  await waitFor(async () => {
    const seen = await presenceOf(b, a.phone);
    return seen.state === 'busy' && seen.text === 'In a meeting';
  }, 10000, 'B to see A busy');
  await page.waitForSelector(`${$('my-status')}:has-text("In a meeting")`);
  await screenshot(page, 'me');

  await page.selectOption($('presence-state'), 'invisible');
  await page.click($('save-presence'));
  await waitFor(async () => (await presenceOf(b, a.phone)).state === 'offline', 10000, 'B to see A offline');

  // The choice survives a reload: the screen shows it and A stays invisible.
  await page.reload();
  await page.waitForSelector($('presence-state'));
  assert.equal(await page.inputValue($('presence-state')), 'invisible');
  assert.equal(await page.inputValue($('status-text')), 'In a meeting');
  assert.equal((await presenceOf(b, a.phone)).state, 'offline');
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('display name, registration lock, and the Me screen on a phone', async () => {
  const a = await server.register(newPhone(), { name: 'Alice' });
  const { page, context } = await openApp(browser, server, { session: a, hash: '#/me',
    viewport: { width: 390, height: 844 } });
  await page.waitForSelector($('display-name'));
  await page.fill($('display-name'), 'Alice Liddell');
  await page.click($('save-name'));
  await page.waitForSelector(`${$('my-name')}:has-text("Alice Liddell")`);
  assert.equal((await server.api('/v1/account', { token: a.token })).display_name, 'Alice Liddell');

  assert.equal(await page.isChecked($('registration-lock')), false);
  await page.click($('registration-lock'));
  await waitFor(async () => (await server.api('/v1/account', { token: a.token })).registration_lock, 5000, 'the lock');
  await page.waitForSelector(`${$('registration-lock')}:checked:not([disabled])`);

  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width}px wide on a 390px screen`);
  await page.evaluate(() => { document.getElementById('view').scrollTop = 0; });
  await screenshot(page, 'me-phone');
  for (const link of ['go-privacy', 'go-devices', 'go-password']) assert.ok(await page.isVisible($(link)), link);
  await page.click($('go-privacy'));
  await page.waitForSelector($('visibility'));
  const privacyWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(privacyWidth <= 390, `privacy is ${privacyWidth}px wide on a 390px screen`);
  assert.deepEqual(page.problems, []);
  await context.close();

  // Without a password the lock cannot be turned on, and the screen says why.
  const nopass = await server.register(newPhone(), { password: null });
  const other = await openApp(browser, server, { session: nopass, hash: '#/me' });
  await other.page.waitForSelector($('registration-lock'));
  assert.equal(await other.page.isDisabled($('registration-lock')), true);
  assert.match(await other.page.textContent($('registration-lock-hint')), /password/i);
  await other.context.close();
});

test('blocking a contact on Privacy hides my presence from them at once; unblocking restores it', async () => {
  const { a, b } = await pair();
  const { page, context } = await openApp(browser, server, { session: a, hash: '#/privacy' });
  await page.waitForSelector($('block-add'));
  await waitFor(async () => (await presenceOf(b, a.phone)).state === 'available', 10000, 'A online');

  // A national form, as typed: the server reads it in A's region.
  await page.fill($('block-phone'), national(b.phone));
  await page.click($('block-add'));
  const row = `${$('blocked')}[data-phone="${b.phone}"]`;
  await page.waitForSelector(row);
  assert.equal(await page.textContent(`${row} .settings-name`), 'B', 'the row shows the contact name');
  assert.equal((await presenceOf(b, a.phone)).state, 'offline');
  assert.deepEqual((await server.api('/v1/blocklist', { token: a.token })).phones, [b.phone]);

  // Garbage is refused with a message, not sent.
  await page.fill($('block-phone'), '12');
  await page.click($('block-add'));
  await page.waitForSelector(`${$('block-error')}:not([hidden])`);

  await page.click(`${row} ${$('unblock')}`);
  await page.waitForSelector(row, { state: 'detached' });
  await waitFor(async () => (await presenceOf(b, a.phone)).state === 'available', 5000, 'A visible again');
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('privacy settings, the allow list and contact groups are saved as they change', async () => {
  const { a, b } = await pair();
  const c = await server.register(newPhone(), { name: 'Carol' });
  await addContact(a, c, 'C');
  const { page, context } = await openApp(browser, server, { session: a, hash: '#/privacy' });
  await page.waitForSelector($('visibility'));

  await page.selectOption($('last-seen'), 'nobody');
  await page.waitForSelector($('toast'));
  await page.selectOption($('discoverable'), 'contacts');
  await page.selectOption($('visibility'), 'allowlist');
  await page.waitForSelector(`${$('allowlist-state')}:has-text("In effect")`);
  await waitFor(async () => (await server.api('/v1/privacy', { token: a.token })).visibility === 'allowlist', 5000, 'visibility');
  assert.deepEqual(await server.api('/v1/privacy', { token: a.token }),
    { visibility: 'allowlist', discoverable: 'contacts', last_seen: 'nobody' });
  // With an allow-list and nobody on it, B no longer sees A online.
  await waitFor(async () => (await presenceOf(b, a.phone)).state === 'offline', 5000, 'B shut out');

  await page.fill($('allow-phone'), b.phone);
  await page.click($('allow-add'));
  await page.waitForSelector(`${$('allowed')}[data-phone="${b.phone}"]`);
  await waitFor(async () => (await presenceOf(b, a.phone)).state === 'available', 5000, 'B allowed');
  await page.click(`${$('allowed')}[data-phone="${b.phone}"] ${$('disallow')}`);
  await page.waitForSelector(`${$('allowed')}[data-phone="${b.phone}"]`, { state: 'detached' });
  assert.deepEqual((await server.api('/v1/allowlist', { token: a.token })).phones, []);

  // A group of B and C, then the whole group on the allow list and on the block list.
  await page.fill($('group-name'), 'Family');
  await page.check(`${$('group-member')}[data-phone="${b.phone}"]`);
  await page.check(`${$('group-member')}[data-phone="${c.phone}"]`);
  await page.click($('group-create'));
  const group = `${$('contact-group')}:has-text("Family")`;
  await page.waitForSelector(group);
  const [{ id, phones }] = (await server.api('/v1/contact-groups', { token: a.token })).groups;
  assert.deepEqual(phones.sort(), [b.phone, c.phone].sort());
  await page.click(`${group} ${$('group-allow')}`);
  await waitFor(async () => (await server.api('/v1/allowlist', { token: a.token })).groups.includes(id), 5000, 'group allowed');
  await waitFor(async () => (await presenceOf(b, a.phone)).state === 'available', 5000, 'B allowed by group');
  await page.click(`${group} ${$('group-block')}`);
  await waitFor(async () => (await server.api('/v1/blocklist', { token: a.token })).groups.includes(id), 5000, 'group blocked');
  // The block list wins over the allow list.
  await waitFor(async () => (await presenceOf(c, a.phone)).state === 'offline', 5000, 'C blocked');
  assert.equal((await presenceOf(b, a.phone)).state, 'offline');
  await page.evaluate(() => { document.getElementById('view').scrollTop = 0; });
  await screenshot(page, 'privacy');
  await page.locator($('contact-groups')).scrollIntoViewIfNeeded();
  await screenshot(page, 'privacy-groups');
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('devices: revoking another device logs it out there at once', async () => {
  const a = await server.register(newPhone(), { name: 'Alice' });
  const second = await server.api('/v1/sessions', { method: 'POST',
    body: { phone: a.phone, password: 'correct horse battery', device_name: 'Second phone' } });
  const other = await openApp(browser, server, { session: second, hash: '#/chats' });
  await other.page.waitForSelector($('nav-me'));

  const { page, context } = await openApp(browser, server, { session: a, hash: '#/devices' });
  await page.waitForSelector(`${$('device')} >> nth=1`);
  assert.equal(await page.locator($('device')).count(), 2);
  const mine = page.locator(`${$('device')}[data-current]`);
  assert.equal(await mine.locator($('this-device')).count(), 1);
  await screenshot(page, 'devices');

  const theirs = `${$('device')}:not([data-current])`;
  assert.match(await page.textContent(theirs), /Second phone/);
  // Cancelling keeps it.
  await page.click(`${theirs} ${$('revoke')}`);
  await page.click($('confirm-cancel'));
  assert.equal(await statusWith(second.token), 200);
  await page.click(`${theirs} ${$('revoke')}`);
  await page.click($('confirm-ok'));
  await page.waitForSelector(theirs, { state: 'detached' });
  assert.equal(await statusWith(second.token), 401);
  // The revoked browser is sent back to the welcome screen (its socket was closed).
  await other.page.waitForURL(/#\/welcome/);
  await other.page.waitForSelector($('go-register'));
  assert.equal(await statusWith(a.token), 200);
  assert.deepEqual(page.problems, []);
  await context.close();
  await other.context.close();
});

test('vault: a hidden contact leaves the list until the vault is unlocked', async () => {
  const { a, b } = await pair();
  const { page, context } = await openApp(browser, server, { session: a, hash: '#/privacy' });
  const row = `${$('vault-contact')}[data-phone="${b.phone}"]`;
  await page.waitForSelector(row);

  await page.fill($('vault-new-password'), 'open sesame');
  await page.click($('vault-set'));
  await page.waitForSelector(`${$('toast')}:has-text("Vault password saved")`);

  await page.click(`${row} ${$('hide-contact')}`);
  await page.waitForSelector(row, { state: 'detached' });
  const listed = (await server.api('/v1/contacts', { token: a.token })).contacts.map((c) => c.phone);
  assert.ok(!listed.includes(b.phone), 'hidden from the API listing');

  await page.fill($('vault-password'), 'wrong one');
  await page.click($('vault-unlock'));
  await page.waitForSelector(`${$('vault-error')}:not([hidden])`);
  await page.fill($('vault-password'), 'open sesame');
  await page.click($('vault-unlock'));
  await page.waitForSelector(`${$('vault-status')}[data-state="unlocked"]`);
  assert.match(await page.textContent($('vault-status')), /Unlocked until \d{1,2}:\d{2}/);
  await page.waitForSelector(row);
  assert.equal(await page.isChecked(`${row} ${$('hide-contact')}`), true);

  // Changing the vault password needs the current one.
  await page.fill($('vault-new-password'), 'new sesame');
  await page.click($('vault-set'));
  await page.waitForSelector(`${$('vault-set-error')}:not([hidden])`);
  await page.fill($('vault-current-password'), 'open sesame');
  await page.click($('vault-set'));
  await page.waitForSelector(`${$('toast')}:has-text("Vault password saved")`);
  await server.api('/v1/vault/unlock', { method: 'POST', token: a.token, body: { password: 'new sesame' } });
  assert.equal(await page.isHidden($('vault-set-error')), true);

  await page.click($('vault-lock'));
  await page.waitForSelector(`${$('vault-status')}[data-state="locked"]`);
  await page.waitForSelector(row, { state: 'detached' });
  // The two wrong vault passwords above were meant to fail (the browser logs each 403).
  assert.deepEqual(page.problems.filter((p) => !/status of 403/.test(p)), []);
  await context.close();
});

test('switching the language on Me reloads the app in Chinese', async () => {
  const a = await server.register(newPhone(), { name: 'Alice' });
  const { page, context } = await openApp(browser, server, { session: a, hash: '#/me' });
  await page.waitForSelector($('language'));
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await Promise.all([page.waitForEvent('load'), page.selectOption($('language'), 'zh-CN')]);
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  await page.waitForSelector($('presence-state'));
  assert.equal(await page.textContent('[data-test="me"] h1'), '我');
  assert.match(await page.textContent($('logout')), /退出登录/);
  assert.equal(await page.inputValue($('language')), 'zh-CN');
  assert.deepEqual(page.problems, []);
  await context.close();
});

test('logging out returns to the welcome screen and the token stops working', async () => {
  const a = await server.register(newPhone(), { name: 'Alice' });
  // Logged in through the screens: openApp's `session` would put the token back on reload.
  const { page, context } = await openApp(browser, server);
  await page.click($('go-login'));
  await page.fill($('phone'), a.phone);
  await page.fill($('password'), 'correct horse battery');
  await page.click($('login'));
  await page.waitForURL(/#\/chats/);
  const { token } = await page.evaluate(() => JSON.parse(localStorage.getItem('dialtone.session')));
  await page.click($('nav-me'));
  await page.waitForSelector($('logout'));
  await page.click($('logout'));
  await page.waitForURL(/#\/welcome/);
  await page.waitForSelector($('go-register'));
  assert.equal(await statusWith(token), 401);
  assert.equal(await statusWith(a.token), 200, 'other devices stay logged in');
  assert.equal(await page.evaluate(() => localStorage.getItem('dialtone.session')), null);
  assert.deepEqual(page.problems, []);
  await context.close();
});
