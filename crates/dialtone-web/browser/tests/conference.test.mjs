// A group call (conference) between three real Chromium processes (fake camera and
// microphone) through the server's SFU on loopback: each browser receives the other two's
// audio and video (getStats per member's stream, and a WebAudio analyser on the sound:
// headless Chromium reports no audio energy), a muted member's audio stops being forwarded
// while their video goes on, who speaks is highlighted, a leaver stops being forwarded and
// leaves the member list, someone out of the call sees it going on with its count, and the
// last one out leaves the call's record in the group for everyone. And a one-to-one call
// that someone is added to (call_add) moves both parties into the new group's conference.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { startServer, launchBrowser, openApp, newPhone, $, waitFor, screenshot } from '../harness.mjs';

/** Sound without a click first: the analyser's AudioContext must run in a page nobody touched. */
const AUTOPLAY = ['--autoplay-policy=no-user-gesture-required'];

let server;
const browsers = [];
before(async () => {
  // Port 0: parallel servers never fight over the SFU's UDP port (it advertises 127.0.0.1).
  server = await startServer({ config: '\n[calls]\nsfu_bind = "127.0.0.1:0"\n' });
  // Three browser processes: three devices.
  for (let i = 0; i < 3; i++) browsers.push(await launchBrowser({ args: AUTOPLAY }));
});
after(async () => {
  for (const b of browsers) await b.close();
  await server?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs in every page before the app: keeps every RTCPeerConnection (for getStats) and the
 * stream id each received track came with, and remembers whoever was ever shown speaking.
 */
function watchConference() {
  window.__peers = [];
  window.__trackStream = {};
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.__peers.push(this);
      this.addEventListener('track', (e) => { window.__trackStream[e.track.id] = e.streams[0]?.id ?? null; });
    }
  };
  window.__spoke = [];
  new MutationObserver(() => {
    for (const tile of document.querySelectorAll('[data-test="conference-tile"][data-speaking="true"]')) {
      if (!window.__spoke.includes(tile.dataset.phone)) window.__spoke.push(tile.dataset.phone);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-speaking'] });
}

const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** No serious or critical axe violation on the page as it is (as a11y.test.mjs checks). */
async function expectAccessible(page, screen) {
  if (!await page.evaluate(() => typeof window.axe === 'object')) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] }))
    .violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`));
  page.audited = true;
  assert.deepEqual(violations, [], `${screen}: serious or critical accessibility violations`);
}

/** The page's errors, but for axe's inline styles (which the app's CSP refuses) on an audited page. */
const problems = (...pages) => pages.flatMap((page) => page.problems
  .filter((p) => !(page.audited && /Applying inline style violates/.test(p))));

/** The remote tiles the page shows: {phone: stream id}. */
function tiles(page) {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-test="conference-tile"][data-me="false"]')]
    .map((t) => [t.dataset.phone, t.dataset.stream])));
}

/**
 * What the page receives, by the stream id its tracks came with (a member's `stream` in
 * `call_members`): {stream: {audio, video, frames}} (bytes, and video frames decoded).
 */
function inbound(page) {
  return page.evaluate(async () => {
    const pc = window.__peers.at(-1);
    const out = {};
    if (!pc || pc.connectionState === 'closed') return out;
    for (const s of (await pc.getStats()).values()) {
      if (s.type !== 'inbound-rtp') continue;
      const stream = window.__trackStream[s.trackIdentifier];
      if (!stream) continue;
      const into = (out[stream] ??= { audio: 0, video: 0, frames: 0 });
      if (s.kind === 'audio') into.audio += s.bytesReceived ?? 0;
      else { into.video += s.bytesReceived ?? 0; into.frames += s.framesDecoded ?? 0; }
    }
    return out;
  });
}

/** Waits until audio (and video, with decoded frames) from each of `streams` keeps rising. */
async function receiving(page, streams, { audio = true, video = true } = {}, what = 'media') {
  const zero = { audio: 0, video: 0, frames: 0 };
  const first = await inbound(page);
  return waitFor(async () => {
    const now = await inbound(page);
    return streams.every((id) => {
      const a = first[id] ?? zero;
      const b = now[id] ?? zero;
      return (!audio || b.audio > a.audio + 2000) && (!video || (b.video > a.video + 20000 && b.frames > a.frames + 15));
    }) ? now : null;
  }, 20000, `${what} to rise from ${streams.length} stream(s)`);
}

/** Waits until `kind` bytes ('audio' | 'video') from `stream` stay the same over 2 s. */
async function frozen(page, stream, kind, what) {
  await waitFor(async () => {
    const before = (await inbound(page))[stream]?.[kind] ?? 0;
    await sleep(2000);
    const after = (await inbound(page))[stream]?.[kind] ?? 0;
    return after === before;
  }, 15000, what);
}

/**
 * The loudest sample of what the page plays for member `phone` over up to `ms` (the fake
 * microphone beeps), through a WebAudio analyser on that tile's stream: 0 means silence.
 */
function loudness(page, phone, ms = 4000) {
  return page.evaluate(async ({ phone, ms }) => {
    const stream = document.querySelector(`[data-test="conference-tile"][data-phone="${phone}"] [data-test="tile-audio"]`).srcObject;
    const context = new AudioContext();
    await context.resume();
    const analyser = context.createAnalyser();
    analyser.fftSize = 2048;
    context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    let peak = 0;
    const end = performance.now() + ms;
    while (performance.now() < end && peak < 0.05) {
      analyser.getFloatTimeDomainData(samples);
      for (const v of samples) peak = Math.max(peak, Math.abs(v));
      await new Promise((r) => setTimeout(r, 20));
    }
    await context.close();
    return peak;
  }, { phone, ms });
}

const inCall = `${$('call-screen')}[data-group="true"][data-phase="live"]`;

test('a three-party video conference through the SFU: everyone receives the other two, mute, speaking, leaving, and the record', async () => {
  const users = [];
  for (const name of ['Alice', 'Bob', 'Carol']) users.push({ name, ...(await server.register(newPhone(), { name, password: '' })) });
  for (const me of users) {
    const contacts = users.filter((u) => u !== me).map((u) => ({ name: u.name, phones: [u.phone] }));
    await server.api('/v1/contacts', { method: 'POST', token: me.token, body: { contacts } });
  }
  const [a, b, c] = users;
  const group = await server.api('/v1/conversations', { method: 'POST', token: a.token,
    body: { kind: 'group', name: 'Book club', members: [b.phone, c.phone] } });
  const open = async (browser, user) => {
    const app = await openApp(browser, server, { session: user, hash: `#/chat/${group.id}`, init: [watchConference] });
    await app.page.waitForSelector(`${$('call-video')}:not([disabled])`);
    return { ...app, user };
  };
  const alice = await open(browsers[0], a);
  const bob = await open(browsers[1], b);
  const carol = await open(browsers[2], c);
  const everyone = [alice, bob, carol];
  const others = (side) => everyone.filter((s) => s !== side);

  // Alice starts a video call in the group; Bob and Carol ring, and their chat says a call is on.
  await alice.page.click($('call-video'));
  await alice.page.waitForSelector(inCall);
  for (const side of [bob, carol]) {
    await side.page.waitForSelector(`${$('call-screen')}[data-group="true"][data-phase="incoming"][data-media="video"]`);
    assert.equal(await side.page.textContent($('conference-title')), 'Book club');
    assert.equal(await side.page.textContent($('call-status')), 'Alice started a group video call');
    await side.page.waitForSelector(`${$('conference-banner')}:not([hidden])[data-count="1"]`, { state: 'attached' });
  }
  await expectAccessible(bob.page, 'the incoming group call');
  // Bob joins from the ring; Carol says "not now", then joins from the banner in the chat.
  await bob.page.click($('call-accept-video'));
  await carol.page.click($('call-decline'));
  await carol.page.waitForSelector($('call-screen'), { state: 'detached' });
  await carol.page.waitForSelector(`${$('conference-banner')}:visible`);
  assert.match(await carol.page.textContent($('conference-banner-text')), /^A group call is going on · [12] in it$/);
  await carol.page.click($('conference-join-video'));

  // Everyone is in: two remote tiles each, the count, and media from both others.
  for (const side of everyone) {
    await side.page.waitForSelector(`${inCall}[data-state="connected"]`, { timeout: 20000 });
    const want = others(side).map((o) => o.user.phone).sort();
    const shown = await waitFor(async () => {
      const now = await tiles(side.page);
      return JSON.stringify(Object.keys(now).sort()) === JSON.stringify(want) && Object.values(now).every(Boolean) ? now : null;
    }, 10000, `${side.user.name}'s tiles of the other two`);
    side.streams = shown;
    assert.equal(await side.page.textContent($('conference-count')), '3 in the call');
  }
  for (const side of everyone) {
    await receiving(side.page, Object.values(side.streams), {}, `${side.user.name}'s inbound audio and video`);
    for (const o of others(side)) {
      assert.ok(await loudness(side.page, o.user.phone) > 0.01, `${side.user.name} hears ${o.user.name}`);
      // The picture is drawn.
      await side.page.waitForFunction((phone) => document.querySelector(
        `[data-test="conference-tile"][data-phone="${phone}"] [data-test="tile-video"]`).videoWidth > 0, o.user.phone);
    }
  }
  // Who speaks is shown (the fake microphones beep), from the server's call_speaking.
  await waitFor(() => alice.page.evaluate(() => window.__spoke.length > 0), 15000, 'a speaker highlight');
  await screenshot(alice.page, 'conference');
  await expectAccessible(alice.page, 'the conference');

  // Carol mutes: the SFU stops forwarding her sound; her video goes on; the others see her muted.
  await carol.page.click($('call-mute'));
  await carol.page.waitForSelector(`${$('call-mute')}[aria-pressed="true"]`);
  for (const side of [alice, bob]) {
    const stream = side.streams[c.phone];
    await frozen(side.page, stream, 'audio', `${side.user.name}'s audio from Carol to stop`);
    await side.page.waitForSelector(`${$('conference-tile')}[data-phone="${c.phone}"][data-audio="false"] ${$('tile-muted')}:visible`);
    await receiving(side.page, [stream], { audio: false }, `${side.user.name}'s video from Carol`);
    // Bob still comes through to Alice, and Alice to Bob.
    const other = side === alice ? b.phone : a.phone;
    await receiving(side.page, [side.streams[other]], { video: false }, `${side.user.name}'s audio from the unmuted one`);
  }

  // Alice leaves: Bob and Carol stop receiving her, their member lists drop her, and Alice,
  // now out of it, sees the call going on with two in it.
  await alice.page.click($('call-hangup'));
  await alice.page.waitForSelector($('call-screen'), { state: 'detached' });
  for (const side of [bob, carol]) {
    await side.page.waitForSelector(`${$('conference-tile')}[data-phone="${a.phone}"]`, { state: 'detached' });
    await side.page.waitForFunction(() => document.querySelector('[data-test="conference-count"]').textContent === '2 in the call');
    await frozen(side.page, side.streams[a.phone], 'video', `${side.user.name}'s video from Alice to stop`);
    await frozen(side.page, side.streams[a.phone], 'audio', `${side.user.name}'s audio from Alice to stop`);
  }
  await bob.page.waitForSelector(`${$('conference-tile')}[data-phone="${c.phone}"]`);
  await receiving(bob.page, [bob.streams[c.phone]], { audio: false }, "Bob's video from Carol after Alice left");
  await alice.page.waitForSelector(`${$('conference-banner')}:visible`);
  await alice.page.waitForSelector(`${$('conference-banner')}[data-count="2"]`);
  assert.equal(await alice.page.textContent($('conference-banner-text')), 'A group call is going on · 2 in it');

  // The last ones out: the call is over, the banner goes, and the record is in everyone's chat.
  await bob.page.click($('call-hangup'));
  await bob.page.waitForSelector($('call-screen'), { state: 'detached' });
  await carol.page.click($('call-hangup'));
  await carol.page.waitForSelector($('call-screen'), { state: 'detached' });
  for (const side of everyone) {
    const line = `${$('call-record')}[data-outcome="answered"][data-media="video"]`;
    await side.page.waitForSelector(line, { timeout: 10000 });
    assert.match(await side.page.textContent(line), /^Video call · \d+:\d\d$/);
    await side.page.waitForSelector($('conference-banner'), { state: 'hidden' });
    assert.equal(await side.page.evaluate(() => window.__peers.at(-1).connectionState), 'closed');
  }
  assert.deepEqual(problems(alice.page, bob.page, carol.page), []);
  for (const side of everyone) await side.context.close();
});

test('adding someone to a one-to-one video call moves both into a new group conference: the added one rings and joins, all three hear each other', async () => {
  const users = [];
  for (const name of ['Ann', 'Ben', 'Cat']) users.push({ name, ...(await server.register(newPhone(), { name, password: '' })) });
  for (const me of users) {
    const contacts = users.filter((u) => u !== me).map((u) => ({ name: u.name, phones: [u.phone] }));
    await server.api('/v1/contacts', { method: 'POST', token: me.token, body: { contacts } });
  }
  const [a, b, c] = users;
  const direct = await server.api('/v1/conversations', { method: 'POST', token: a.token, body: { kind: 'direct', peer: b.phone } });
  const open = async (browser, user, hash) => ({ ...(await openApp(browser, server, { session: user, hash, init: [watchConference] })), user });
  const ann = await open(browsers[0], a, `#/chat/${direct.id}`);
  const ben = await open(browsers[1], b, `#/chat/${direct.id}`);
  const cat = await open(browsers[2], c, '#/chats');
  const everyone = [ann, ben, cat];
  const others = (side) => everyone.filter((s) => s !== side);
  for (const side of [ann, ben]) await side.page.waitForSelector(`${$('call-video')}:not([disabled])`);

  // Ann calls Ben with video; Ben takes it.
  await ann.page.click($('call-video'));
  await ben.page.waitForSelector(`${$('call-screen')}[data-phase="incoming"][data-media="video"]`);
  await ben.page.click($('call-accept-video'));
  for (const side of [ann, ben]) {
    await side.page.waitForSelector(`${$('call-screen')}:not([data-group])[data-state="connected"]`, { timeout: 15000 });
  }

  // Ann opens "Add people": her contacts on dialtone but Ben (already in it), picked by ticking.
  const add = ann.page.locator($('call-add'));
  assert.equal(await add.getAttribute('aria-label'), 'Add people');
  assert.equal(await add.getAttribute('aria-expanded'), 'false');
  await add.click();
  await ann.page.waitForSelector(`${$('call-add-panel')}:visible`);
  assert.equal(await add.getAttribute('aria-expanded'), 'true');
  const offered = await ann.page.$$eval($('call-add-option'), (boxes) => boxes.map((b) => b.dataset.phone));
  assert.deepEqual(offered, [c.phone]);
  // Nobody ticked: nothing is sent, and it says why.
  await ann.page.click($('call-add-submit'));
  assert.equal(await ann.page.textContent($('call-add-error')), 'Pick someone to add.');
  await expectAccessible(ann.page, 'the add-people picker');
  await ann.page.check(`${$('call-add-option')}[data-phone="${c.phone}"]`);
  await ann.page.click($('call-add-submit'));

  // Cat rings for the group call and joins it with her camera.
  await cat.page.waitForSelector(`${$('call-screen')}[data-group="true"][data-phase="incoming"][data-media="video"]`, { timeout: 15000 });
  assert.equal(await cat.page.textContent($('call-status')), 'Ann started a group video call');
  await cat.page.click($('call-accept-video'));

  // Ann and Ben are moved without doing anything: the conference screen, with their cameras
  // on as in the call, no "call ended" toast, and the one-to-one connection closed.
  for (const side of everyone) {
    await side.page.waitForSelector(`${inCall}[data-state="connected"]`, { timeout: 20000 });
    const want = others(side).map((o) => o.user.phone).sort();
    side.streams = await waitFor(async () => {
      const now = await tiles(side.page);
      return JSON.stringify(Object.keys(now).sort()) === JSON.stringify(want) && Object.values(now).every(Boolean) ? now : null;
    }, 10000, `${side.user.name}'s tiles of the other two`);
    await side.page.waitForFunction(() => document.querySelector('[data-test="conference-count"]').textContent === '3 in the call');
    assert.equal(await side.page.getAttribute(`${$('conference-tile')}[data-me="true"]`, 'data-video'), 'true');
  }
  for (const side of [ann, ben]) {
    assert.deepEqual(await side.page.$$eval($('toast'), (ts) => ts.map((t) => t.textContent)), [], `${side.user.name}: no toast on the move`);
    assert.deepEqual(await side.page.evaluate(() => window.__peers.map((p) => p.connectionState)), ['closed', 'connected']);
  }
  for (const side of everyone) await receiving(side.page, Object.values(side.streams), {}, `${side.user.name}'s inbound audio and video`);
  await screenshot(ben.page, 'conference-moved');

  // The new group is in Cat's chat list, with the three in it.
  const listed = await server.api('/v1/conversations', { token: a.token });
  const made = (listed.conversations ?? listed).filter((conv) => conv.kind === 'group');
  assert.equal(made.length, 1);
  const conversationId = made[0].id;
  await cat.page.waitForSelector(`${$("conversation")}[data-id="${conversationId}"][data-kind="group"]`, { state: "attached" });
  const group = await server.api(`/v1/conversations/${conversationId}`, { token: c.token });
  assert.deepEqual([...group.members].sort(), [a.phone, b.phone, c.phone].sort());

  // Everyone leaves; the one-to-one chat shows the call taken.
  for (const side of everyone) {
    await side.page.click($('call-hangup'));
    await side.page.waitForSelector($('call-screen'), { state: 'detached' });
  }
  for (const side of [ann, ben]) {
    const line = `${$('call-record')}[data-outcome="answered"][data-media="video"]`;
    await side.page.waitForSelector(line, { timeout: 10000 });
    assert.match(await side.page.textContent(line), /^Video call · \d+:\d\d$/);
  }
  await cat.page.waitForSelector(`${$('conversation')}[data-id="${conversationId}"]`);
  assert.deepEqual(problems(ann.page, ben.page, cat.page), []);
  for (const side of everyone) await side.context.close();
});
