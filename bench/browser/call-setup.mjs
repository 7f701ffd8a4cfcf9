// Call set-up time of a one-to-one video call on loopback: two headless Chromium processes
// (fake camera and microphone) against a real dialtone server, 10 calls one after another;
// for each, from the callee's accept click, and from the caller's `call_start`, until the
// first inbound audio and video bytes on both sides (getStats polled every 10 ms in each
// page). The callee clicks accept as soon as it rings, so "from call_start" is ring + answer
// + media with nobody hesitating. A first call in the fresh browsers (cold: the devices and
// codecs start) is printed alone; the p50 / p99 (nearest rank, ms) are of the calls after it.
//
//   cd crates/dialtone-web/browser && npm ci   # playwright-core, once
//   CARGO_TARGET_DIR=... node bench/browser/call-setup.mjs [calls]
//
// Reuses the browser tests' harness (server on port 0, Debian's Chromium); the server is
// whatever binary the harness picks (DIALTONE_BIN, else $CARGO_TARGET_DIR/debug/dialtone).
import { startServer, launchBrowser, openApp, newPhone, $, waitFor } from '../../crates/dialtone-web/browser/harness.mjs';

const CALLS = Number(process.argv[2] ?? 10);

/** In every page: the times (performance.timeOrigin-based, so comparable across pages) to measure. */
function probe() {
  const now = () => performance.timeOrigin + performance.now();
  window.__t = {};
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    try { if (JSON.parse(data).type === 'call_start') window.__t.start = now(); } catch { /* not JSON */ }
    return send.call(this, data);
  };
  document.addEventListener('click', (e) => {
    if (e.target.closest?.('[data-test="call-accept-video"]')) window.__t.accept = now();
  }, true);
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      const timer = setInterval(async () => {
        if (this.connectionState === 'closed') { clearInterval(timer); return; }
        for (const s of (await this.getStats()).values()) {
          if (s.type !== 'inbound-rtp' || !(s.bytesReceived > 0)) continue;
          if (s.kind === 'audio') window.__t.audio ??= now();
          if (s.kind === 'video') window.__t.video ??= now();
        }
      }, 10);
    }
  };
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

const server = await startServer();
const browsers = [await launchBrowser(), await launchBrowser()];
try {
  const users = [];
  for (const name of ['Alice', 'Bob']) users.push({ name, ...(await server.register(newPhone(), { name, password: '' })) });
  for (const me of users) {
    const other = users.find((u) => u !== me);
    await server.api('/v1/contacts', { method: 'POST', token: me.token, body: { contacts: [{ name: other.name, phones: [other.phone] }] } });
  }
  const conv = await server.api('/v1/conversations', { method: 'POST', token: users[0].token, body: { kind: 'direct', peer: users[1].phone } });
  const [alice, bob] = await Promise.all(users.map(async (user, i) => {
    const { page } = await openApp(browsers[i], server, { session: user, hash: `#/chat/${conv.id}`, init: [probe] });
    await page.waitForSelector(`${$('call-video')}:not([disabled])`);
    return page;
  }));
  const fromAccept = [];
  const fromStart = [];
  for (let i = 0; i <= CALLS; i++) {
    for (const page of [alice, bob]) await page.evaluate(() => { window.__t = {}; });
    await alice.click($('call-video'));
    await bob.click($('call-accept-video'));
    const times = await waitFor(async () => {
      const [a, b] = await Promise.all([alice, bob].map((p) => p.evaluate(() => window.__t)));
      return a.audio && a.video && b.audio && b.video ? { a, b } : null;
    }, 20000, 'media on both sides');
    const media = Math.max(times.a.audio, times.a.video, times.b.audio, times.b.video);
    if (i > 0) {
      fromAccept.push(media - times.b.accept);
      fromStart.push(media - times.a.start);
    }
    console.log(`call ${i}${i === 0 ? ' (cold, not counted)' : ''}: accept→media ${(media - times.b.accept).toFixed(0)} ms, call_start→media ${(media - times.a.start).toFixed(0)} ms`);
    await alice.click($('call-hangup'));
    for (const page of [alice, bob]) await page.waitForSelector($('call-screen'), { state: 'detached' });
  }
  const line = (name, v) => `${name}: p50 ${percentile(v, 50).toFixed(0)} ms, p99 ${percentile(v, 99).toFixed(0)} ms (min ${Math.min(...v).toFixed(0)}, max ${Math.max(...v).toFixed(0)}, ${v.length} calls)`;
  console.log(line('accept click → first audio and video bytes on both sides', fromAccept));
  console.log(line('call_start → first audio and video bytes on both sides', fromStart));
} finally {
  for (const b of browsers) await b.close();
  await server.stop();
}
