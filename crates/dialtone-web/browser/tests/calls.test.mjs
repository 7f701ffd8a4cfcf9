// One-to-one calls between two real Chromium processes (fake camera and microphone) over
// loopback: voice and video connect, media flows both ways (getStats, and a WebAudio
// analyser on the received sound: headless Chromium reports no audio energy), the camera
// goes off and on mid-call (renegotiation from either side), hanging up ends both sides
// and leaves a record in the chat; a blocked caller never rings; a call forced through a
// real coturn relays, and coturn refuses wrong or expired credentials.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { startServer, launchBrowser, openApp, newPhone, $, waitFor, screenshot } from '../harness.mjs';

/** Sound without a click first: the analyser's AudioContext must run in a page nobody touched. */
const AUTOPLAY = ['--autoplay-policy=no-user-gesture-required'];

let server;
const browsers = [];
before(async () => {
  server = await startServer();
  // Two browser processes: two devices, as in life.
  browsers.push(await launchBrowser({ args: AUTOPLAY }), await launchBrowser({ args: AUTOPLAY }));
});
after(async () => {
  for (const b of browsers) await b.close();
  await server?.stop();
});

/**
 * Runs in every page before the app: keeps every RTCPeerConnection the app makes (for
 * getStats), and with `relay` sets the app's relay-only switch.
 */
function watchCalls(relay) {
  window.__peers = [];
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.__peers.push(this);
    }
  };
  // Every AudioContext made (the ringtone is one).
  window.__audio = [];
  const NativeAudio = window.AudioContext;
  window.AudioContext = class extends NativeAudio {
    constructor(...args) {
      super(...args);
      window.__audio.push(this);
    }
  };
  if (relay) localStorage.setItem('dialtone.calls.relay-only', '1');
  // Whether the call screen ever showed (a ring that came and went is still a ring).
  window.__rang = false;
  new MutationObserver(() => {
    if (document.querySelector('[data-test="call-screen"][data-phase="incoming"]')) window.__rang = true;
  }).observe(document, { subtree: true, childList: true, attributes: true });
}

/** Registers people on `srv`, each with everyone else in their address book. */
async function people(srv, ...names) {
  const users = [];
  for (const name of names) users.push({ name, ...(await srv.register(newPhone(), { name, password: '' })) });
  for (const me of users) {
    const contacts = users.filter((u) => u !== me).map((u) => ({ name: u.name, phones: [u.phone] }));
    await srv.api('/v1/contacts', { method: 'POST', token: me.token, body: { contacts } });
  }
  return users;
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

/** Alice and Bob, each in their own browser with their direct chat open; Bob's page in `bobLocale`. */
async function twoPeople({ srv = server, relay = false, bobLocale = 'en-US' } = {}) {
  const [a, b] = await people(srv, 'Alice', 'Bob');
  const conv = await srv.api('/v1/conversations', { method: 'POST', token: a.token, body: { kind: 'direct', peer: b.phone } });
  const open = async (browser, user, locale) => {
    const app = await openApp(browser, srv, { locale, session: user, hash: `#/chat/${conv.id}`, init: [watchCalls, relay] });
    await app.page.waitForSelector(`${$('call-voice')}:not([disabled])`);
    return { ...app, user, zh: locale === 'zh-CN' };
  };
  const alice = await open(browsers[0], a, 'en-US');
  const bob = await open(browsers[1], b, bobLocale);
  return { alice, bob, conv };
}

const screenIn = (state) => `${$('call-screen')}[data-state="${state}"]`;

/** The latest peer connection of the page, by getStats: inbound bytes and frames, the chosen pair. */
function stats(page) {
  return page.evaluate(async () => {
    const pc = window.__peers.at(-1);
    if (!pc) return null;
    const report = await pc.getStats();
    const out = { audioBytes: 0, videoBytes: 0, framesDecoded: 0, local: null, remote: null };
    for (const s of report.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioBytes += s.bytesReceived ?? 0;
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        out.videoBytes += s.bytesReceived ?? 0;
        out.framesDecoded += s.framesDecoded ?? 0;
      }
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        const pair = report.get(s.selectedCandidatePairId);
        out.local = report.get(pair?.localCandidateId)?.candidateType ?? null;
        out.remote = report.get(pair?.remoteCandidateId)?.candidateType ?? null;
      }
    }
    return out;
  });
}

/** Waits until inbound audio (and video: bytes and decoded frames) keeps coming in. */
async function flowing(page, { video }) {
  const first = await stats(page);
  assert.ok(first, 'the page has a peer connection');
  return waitFor(async () => {
    const now = await stats(page);
    const audio = now.audioBytes > first.audioBytes + 2000;
    const pictures = now.videoBytes > first.videoBytes + 20000 && now.framesDecoded > first.framesDecoded + 15;
    return audio && (!video || pictures) ? now : null;
  }, 15000, `inbound ${video ? 'audio and video' : 'audio'} to rise`);
}

/**
 * The loudest sample of the received sound over up to `ms`, through a WebAudio analyser on
 * the remote stream (the fake microphone beeps): 0 means silence.
 */
function loudness(page, ms = 4000) {
  return page.evaluate(async (ms) => {
    const stream = document.querySelector('[data-test="remote-audio"]').srcObject;
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
  }, ms);
}

/** Alice calls Bob (voice or video); Bob answers the same way; both wait for media. */
async function connect({ alice, bob }, media) {
  await alice.page.click($(`call-${media}`));
  await alice.page.waitForSelector(`${$('call-screen')}[data-phase="outgoing"]`);
  // Bob rings: who calls, by name and number, and how.
  await bob.page.waitForSelector(`${$('call-screen')}[data-phase="incoming"][data-media="${media}"]`);
  assert.equal(await bob.page.textContent($('call-peer-name')), 'Alice');
  assert.equal(await bob.page.textContent($('call-peer-phone')), await server.written(alice.user.phone));
  const ringing = bob.zh ? { video: '视频通话来电', voice: '语音通话来电' } : { video: 'Incoming video call', voice: 'Incoming voice call' };
  assert.equal(await bob.page.textContent($('call-status')), ringing[media]);
  assert.equal(await alice.page.textContent($('call-status')), 'Calling…');
  await expectAccessible(bob.page, 'the incoming call');
  await bob.page.click($(media === 'video' ? 'call-accept-video' : 'call-accept'));
  await alice.page.waitForSelector(screenIn('connected'), { timeout: 15000 });
  await bob.page.waitForSelector(screenIn('connected'), { timeout: 15000 });
}

/** The record an answered call leaves, in the page's language: "Voice call · 0:12". */
const answered = (side, media) => new RegExp(`^${side.zh ? { voice: '语音通话', video: '视频通话' }[media]
  : { voice: 'Voice call', video: 'Video call' }[media]} · \\d+:\\d\\d$`);

/** Hangs up from `from`; both screens go, both chats show the record. */
async function hangUp(from, other, media) {
  await from.page.click($('call-hangup'));
  for (const side of [from, other]) {
    await side.page.waitForSelector($('call-screen'), { state: 'detached', timeout: 10000 });
    const line = `${$('call-record')}[data-outcome="answered"][data-media="${media}"]`;
    await side.page.waitForSelector(line, { timeout: 10000 });
    assert.match(await side.page.textContent(line), answered(side, media));
  }
  assert.match(await from.page.textContent($('toast')), from.zh ? /^通话结束 · \d+:\d\d$/ : /^Call ended · \d+:\d\d$/);
}

test('a voice call connects, sound goes both ways, mute silences it, hanging up ends it on both sides', async () => {
  const pair = await twoPeople();
  const { alice, bob, conv } = pair;
  await connect(pair, 'voice');
  for (const side of [alice, bob]) {
    const now = await flowing(side.page, { video: false });
    assert.equal(now.videoBytes, 0, 'a voice call has no video');
    assert.ok(await loudness(side.page) > 0.01, 'the other side is heard');
  }
  // The clock runs.
  await alice.page.waitForFunction(() => /^\d+:\d\d$/.test(document.querySelector('[data-test="call-status"]').textContent));

  // Bob mutes: Alice hears silence (bytes may still come: silence is sent), then unmutes.
  await bob.page.click($('call-mute'));
  await bob.page.waitForSelector(`${$('call-mute')}[aria-pressed="true"]`);
  await waitFor(async () => (await loudness(alice.page, 1500)) < 0.002, 10000, 'silence after mute');
  await bob.page.click($('call-mute'));
  assert.ok(await loudness(alice.page) > 0.01, 'heard again after unmute');

  // Another microphone: the new track replaces the old one and sound keeps coming.
  await bob.page.click($('call-devices'));
  await bob.page.waitForSelector(`${$('call-mic-select')} option >> nth=1`, { state: 'attached' });
  const before = await bob.page.evaluate(() => window.__peers.at(-1).getSenders().find((s) => s.track?.kind === 'audio').track.id);
  await bob.page.selectOption($('call-mic-select'), { index: 1 });
  await waitFor(() => bob.page.evaluate((id) => {
    const sender = window.__peers.at(-1).getSenders().find((s) => s.track?.kind === 'audio');
    return sender && sender.track.id !== id && sender.track.readyState === 'live';
  }, before), 10000, 'the new microphone to be sent');
  await flowing(alice.page, { video: false });
  assert.ok(await loudness(alice.page) > 0.01, 'heard through the new microphone');
  await screenshot(bob.page, 'call-voice');

  await hangUp(alice, bob, 'voice');
  // The chat list says it too.
  assert.match(await bob.page.textContent(`${$('conversation')}[data-id="${conv.id}"] ${$('last-message')}`), answered(bob, 'voice'));
  assert.deepEqual(problems(alice.page, bob.page), []);
  await alice.context.close();
  await bob.context.close();
});

test('a video call (the callee in Chinese) shows both pictures, the camera goes off and on from either side, and hangs up', async () => {
  const pair = await twoPeople({ bobLocale: 'zh-CN' });
  const { alice, bob } = pair;
  await connect(pair, 'video');
  for (const side of [alice, bob]) {
    await side.page.waitForSelector(`${$('call-screen')}[data-remote-video="true"]`);
    await side.page.waitForSelector(`${$('local-video')}:visible`);
    await flowing(side.page, { video: true });
    assert.ok(await loudness(side.page) > 0.01, 'the other side is heard');
    // The picture is drawn: the video element has a size from the decoded frames.
    await side.page.waitForFunction(() => document.querySelector('[data-test="remote-video"]').videoWidth > 0);
  }
  await screenshot(bob.page, 'call-video');
  await expectAccessible(bob.page, 'the video call');

  // Bob (the callee) turns his camera off: a new offer from his side; Alice's picture goes.
  await bob.page.click($('call-camera'));
  await bob.page.waitForSelector(`${$('call-camera')}[aria-pressed="false"]`);
  await alice.page.waitForSelector(`${$('call-screen')}[data-remote-video="false"]`, { timeout: 10000 });
  // ... and on again: frames come again.
  await bob.page.click($('call-camera'));
  await alice.page.waitForSelector(`${$('call-screen')}[data-remote-video="true"]`, { timeout: 10000 });
  await flowing(alice.page, { video: true });
  // Alice (the caller) does the same.
  await alice.page.click($('call-camera'));
  await bob.page.waitForSelector(`${$('call-screen')}[data-remote-video="false"]`, { timeout: 10000 });
  await alice.page.click($('call-camera'));
  await bob.page.waitForSelector(`${$('call-screen')}[data-remote-video="true"]`, { timeout: 10000 });
  await flowing(bob.page, { video: true });
  // Both at once (glare: two offers cross; the callee's side yields): both pictures go, then come back.
  await Promise.all([alice.page.click($('call-camera')), bob.page.click($('call-camera'))]);
  for (const side of [alice, bob]) await side.page.waitForSelector(`${$('call-screen')}[data-remote-video="false"]`, { timeout: 10000 });
  await Promise.all([alice.page.click($('call-camera')), bob.page.click($('call-camera'))]);
  for (const side of [alice, bob]) {
    await side.page.waitForSelector(`${$('call-screen')}[data-remote-video="true"]`, { timeout: 10000 });
    await flowing(side.page, { video: true });
  }
  // Both still connected over one connection each.
  for (const side of [alice, bob]) assert.equal(await side.page.evaluate(() => window.__peers.length), 1);

  await hangUp(bob, alice, 'video');
  assert.deepEqual(problems(alice.page, bob.page), []);
  await alice.context.close();
  await bob.context.close();
});

test('a call rings on any screen, with a ringtone; declining tells the caller and leaves a record', async () => {
  const { alice, bob, conv } = await twoPeople();
  await bob.page.goto(`${bob.page.url().split('#')[0]}#/moments`);
  await bob.page.waitForSelector('[data-view="moments"]');
  await alice.page.click($('call-video'));
  await bob.page.waitForSelector(`${$('call-screen')}[data-phase="incoming"]`);
  assert.equal(await bob.page.textContent($('call-peer-name')), 'Alice');
  // The ringtone: an AudioContext that runs while it rings and is closed when it stops.
  await waitFor(() => bob.page.evaluate(() => window.__audio.some((c) => c.state === 'running')), 5000, 'the ringtone');
  await bob.page.click($('call-decline'));
  await bob.page.waitForSelector($('call-screen'), { state: 'detached' });
  await waitFor(() => bob.page.evaluate(() => window.__audio.every((c) => c.state === 'closed')), 5000, 'the ringtone to stop');
  await alice.page.waitForSelector($('call-screen'), { state: 'detached' });
  assert.equal(await alice.page.textContent($('toast')), 'Call declined');
  await alice.page.waitForSelector(`${$('call-record')}[data-outcome="declined"] >> text=Video call declined`);
  await bob.page.goto(`${bob.page.url().split('#')[0]}#/chat/${conv.id}`);
  await bob.page.waitForSelector(`${$('call-record')}[data-outcome="declined"] >> text=Declined video call`);
  assert.deepEqual(problems(alice.page, bob.page), []);
  await alice.context.close();
  await bob.context.close();
});

test('a caller the callee blocked never rings them, sees "calling" and can cancel', async () => {
  const [a, b, c] = await people(server, 'Alice', 'Bob', 'Carol');
  const conv = await server.api('/v1/conversations', { method: 'POST', token: a.token, body: { kind: 'direct', peer: b.phone } });
  await server.api(`/v1/blocklist/${encodeURIComponent(a.phone)}`, { method: 'PUT', token: b.token });
  const alice = await openApp(browsers[0], server, { session: a, hash: `#/chat/${conv.id}`, init: [watchCalls, false] });
  const bob = await openApp(browsers[1], server, { session: b, hash: '#/chats', init: [watchCalls, false] });
  await bob.page.waitForFunction(() => document.body.dataset.sync === 'done');

  await alice.page.click($('call-voice'));
  // The server took the call: Alice is calling, as with anyone.
  await alice.page.waitForSelector(`${$('call-screen')}[data-state="calling"]`);
  // A barrier: something sent after the call reaches Bob; the ring would have come first.
  const carol = await server.api('/v1/conversations', { method: 'POST', token: c.token, body: { kind: 'direct', peer: b.phone } });
  await server.api(`/v1/conversations/${carol.id}/messages`, { method: 'POST', token: c.token,
    body: { client_id: crypto.randomUUID(), kind: 'text', text: 'after the call' } });
  await bob.page.waitForSelector(`${$('conversation')}[data-id="${carol.id}"]`);
  // And a few seconds more on screen.
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    assert.equal(await bob.page.evaluate(() => window.__rang), false, 'Bob never rings');
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(await bob.page.locator($('call-screen')).count(), 0);
  assert.match(await alice.page.textContent($('call-status')), /Calling/);

  await alice.page.click($('call-cancel'));
  await alice.page.waitForSelector($('call-screen'), { state: 'detached' });
  assert.equal(await alice.page.textContent($('toast')), 'Call cancelled');
  // Alice's chat has the record of a call nobody answered; Bob's side never hears of it.
  await alice.page.waitForSelector(`${$('call-record')}[data-outcome="missed"] >> text=Voice call, not answered`);
  assert.equal(await bob.page.evaluate(() => window.__rang), false);
  assert.deepEqual(problems(alice.page, bob.page), []);
  await alice.context.close();
  await bob.context.close();
});

test('a denied or missing microphone is explained (Chinese and English) and nothing is sent', async () => {
  const [a, b] = await people(server, 'Alice', 'Bob');
  const conv = await server.api('/v1/conversations', { method: 'POST', token: a.token, body: { kind: 'direct', peer: b.phone } });
  const refuse = (name) => {
    window.__sent = [];
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) { window.__sent.push(JSON.parse(data).type); return send.call(this, data); };
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('refused', name));
  };
  for (const [locale, name, text] of [
    ['zh-CN', 'NotAllowedError', /没有使用麦克风的权限/],
    ['en-US', 'NotFoundError', /No microphone was found/],
    ['en-US', 'NotReadableError', /in use by another app/],
  ]) {
    const alice = await openApp(browsers[0], server, { locale, session: a, hash: `#/chat/${conv.id}`, init: [refuse, name] });
    await alice.page.click($('call-voice'));
    await alice.page.waitForSelector(`${$('toast')}.toast-error`);
    assert.match(await alice.page.textContent($('toast')), text);
    assert.equal(await alice.page.locator($('call-screen')).count(), 0);
    assert.ok(!(await alice.page.evaluate(() => window.__sent)).includes('call_start'), 'no call_start without a microphone');
    await alice.context.close();
  }
});

// ---- TURN -------------------------------------------------------------------------------

/** A free UDP port on 127.0.0.1. */
function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.on('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** coturn on 127.0.0.1 with the TURN REST API's shared secret, relaying on loopback. */
async function startCoturn(secret) {
  const port = await freeUdpPort();
  const relayFrom = 49152 + Math.floor(Math.random() * 10000);
  const child = spawn('turnserver', ['-n', '--listening-ip=127.0.0.1', `--listening-port=${port}`, '--relay-ip=127.0.0.1',
    `--min-port=${relayFrom}`, `--max-port=${relayFrom + 200}`, '--use-auth-secret', `--static-auth-secret=${secret}`,
    '--realm=dialtone.test', '--fingerprint', '--no-tls', '--no-dtls', '--no-tcp-relay', '--allow-loopback-peers',
    '--no-cli', '--log-file=stdout', '--simple-log', '--no-software-attribute'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  let exited = null;
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  child.on('exit', (code) => { exited = code; });
  await waitFor(() => {
    if (exited !== null) throw new Error(`turnserver exited with ${exited}:\n${log}`);
    return /listener opened on|Total General servers/i.test(log);
  }, 10000, 'coturn to listen');
  return {
    url: `turn:127.0.0.1:${port}?transport=udp`,
    get log() { return log; },
    async stop() {
      if (exited !== null) return;
      child.kill('SIGTERM');
      await waitFor(() => exited !== null, 5000, 'coturn to stop').catch(() => child.kill('SIGKILL'));
    },
  };
}

/** Gathers candidates in `page` with relay-only policy: {types, errors} (errors: STUN codes). */
function gather(page, iceServers) {
  return page.evaluate(async (iceServers) => {
    const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
    const types = [];
    const errors = [];
    pc.onicecandidate = (e) => { if (e.candidate?.candidate) types.push(e.candidate.type); };
    pc.onicecandidateerror = (e) => errors.push(e.errorCode);
    pc.createDataChannel('probe');
    await pc.setLocalDescription();
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve(); };
      setTimeout(resolve, 10000);
    });
    pc.close();
    return { types, errors };
  }, iceServers);
}

test('a call forced through coturn relays, and coturn refuses wrong or expired credentials', async () => {
  const secret = randomBytes(24).toString('hex');
  const turn = await startCoturn(secret);
  let srv;
  try {
    srv = await startServer({ config: `\n[calls]\nturn_urls = ["${turn.url}"]\nturn_secret = "${secret}"\n` });
    const pair = await twoPeople({ srv, relay: true });
    const { alice, bob } = pair;

    // The server hands out TURN credentials by the REST API scheme.
    const { ice_servers: servers, expires_at: expiresAt } = await srv.api('/v1/calls/ice-servers', { token: alice.user.token });
    const turnServer = servers.find((s) => [s.urls].flat().some((u) => u.startsWith('turn:')));
    assert.ok(turnServer, `a TURN server is given: ${JSON.stringify(servers)}`);
    const [expiry, userId] = turnServer.username.split(':');
    assert.equal(userId, alice.user.user_id);
    assert.ok(Number(expiry) * 1000 > Date.now() && Date.parse(expiresAt) > Date.now());
    assert.equal(turnServer.credential, createHmac('sha1', secret).update(turnServer.username).digest('base64'));

    // A real call through it: the chosen pair is relay on both sides.
    await connect({ alice, bob }, 'voice');
    for (const side of [alice, bob]) {
      const now = await flowing(side.page, { video: false });
      assert.equal(now.local, 'relay', 'the local candidate is a relay');
      assert.equal(now.remote, 'relay', 'the remote candidate is a relay');
      assert.ok(await loudness(side.page) > 0.01, 'heard through the relay');
    }
    await hangUp(alice, bob, 'voice');

    // The same credentials gather a relay candidate; wrong or expired ones do not.
    const good = await gather(alice.page, [turnServer]);
    assert.ok(good.types.includes('relay'), `valid credentials give a relay candidate: ${JSON.stringify(good)}`);
    const wrong = await gather(alice.page, [{ ...turnServer, credential: 'd3JvbmcgY3JlZGVudGlhbA==' }]);
    assert.deepEqual(wrong.types, [], 'a wrong credential gathers nothing');
    const oldName = `${Math.floor(Date.now() / 1000) - 60}:${alice.user.user_id}`;
    const expired = await gather(alice.page, [{ urls: turnServer.urls, username: oldName,
      credential: createHmac('sha1', secret).update(oldName).digest('base64') }]);
    assert.deepEqual(expired.types, [], 'an expired credential gathers nothing');
    // coturn said why: 401 Unauthorized to both (reported by the page's icecandidateerror).
    assert.ok(wrong.errors.includes(401), `a wrong credential is refused with 401: ${JSON.stringify(wrong)}`);
    assert.ok(expired.errors.includes(401), `an expired credential is refused with 401: ${JSON.stringify(expired)}`);
    assert.deepEqual(problems(alice.page, bob.page), []);
    await alice.context.close();
    await bob.context.close();
  } finally {
    await srv?.stop();
    await turn.stop();
  }
});
