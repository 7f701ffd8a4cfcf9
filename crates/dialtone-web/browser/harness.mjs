// What every browser test needs: a real dialtone server on a fresh data directory, the
// development SMS outbox to read codes from, and Debian's Chromium driven by
// playwright-core.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
/** Screenshots land here (git-ignored); CI keeps them as artifacts. */
export const artifacts = path.join(here, 'artifacts');

function binary() {
  if (process.env.DIALTONE_BIN) return process.env.DIALTONE_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(repo, 'target');
  return path.join(target, 'debug', 'dialtone');
}

/** A TCP port nobody listens on now (on 127.0.0.1). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until `probe()` returns something truthy, or fails after `ms`. */
export async function waitFor(probe, ms = 10000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// Limits generous enough for a test suite where every user comes from 127.0.0.1.
const CONFIG = `
[[accounts.verifications_per_number]]
limit = 1000
period_secs = 3600
[[accounts.verifications_per_ip]]
limit = 100000
period_secs = 3600
[[accounts.verifications_per_prefix]]
limit = 100000
period_secs = 3600
[[accounts.login_failures_per_number]]
limit = 1000
period_secs = 900
[[accounts.login_failures_per_ip]]
limit = 100000
period_secs = 900
[contacts]
discovery_capacity = 100000
discovery_refill_per_day = 100000
`;

/**
 * Starts `dialtone serve` on a free port with a fresh data directory; `config` adds TOML
 * to the test configuration, `env` environment variables.
 */
export async function startServer({ env = {}, config = '' } = {}) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'dialtone-browser-'));
  const port = await freePort();
  const configFile = path.join(dataDir, 'test.toml');
  await writeFile(configFile, CONFIG + config);
  const child = spawn(binary(), ['serve', '--config', configFile, '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exited = null;
  child.on('exit', (code) => { exited = code; });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (exited !== null) throw new Error(`dialtone serve exited with ${exited}`);
    try { return (await fetch(`${url}/healthz`)).ok; } catch { return false; }
  }, 30000, 'the server to start');

  const outbox = path.join(dataDir, 'sms-outbox.jsonl');
  const server = {
    url,
    dataDir,
    /** Every SMS the server "sent": [{to, body, sent_at}]. */
    async sms() {
      try {
        return (await readFile(outbox, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
      } catch { return []; }
    },
    /** The latest code texted to `phone` (E.164), after `skip` earlier ones. */
    async codeFor(phone, skip = 0) {
      return waitFor(async () => {
        const mine = (await server.sms()).filter((m) => m.to === phone);
        if (mine.length <= skip) return null;
        return mine[mine.length - 1].body.match(/#(\d+)\s*$/)?.[1] ?? null;
      }, 10000, `an SMS code for ${phone}`);
    },
    async api(pathname, { method = 'GET', body, token } = {}) {
      const headers = { 'content-type': 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      const response = await fetch(url + pathname, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${pathname}: ${response.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    /** `phone` (E.164) as the app writes it, grouped by the server: "+86 139 1234 5678". */
    async written(phone) {
      return (await server.api('/v1/phones/format', { method: 'POST', body: { phones: [phone] } })).formatted[phone];
    },
    /** Registers `phone` over the API (code from the outbox); returns {token, user_id, phone}. */
    async register(phone, { password = 'correct horse battery', name } = {}) {
      const before = (await server.sms()).filter((m) => m.to === phone).length;
      const v = await server.api('/v1/verifications', { method: 'POST', body: { phone } });
      const code = await server.codeFor(v.phone, before);
      const login = await server.api(`/v1/verifications/${v.id}/code`, { method: 'POST', body: { code, device_name: 'test' } });
      if (password) await server.api('/v1/account/password', { method: 'PUT', body: { password }, token: login.token });
      if (name) await server.api('/v1/account', { method: 'PATCH', body: { display_name: name }, token: login.token });
      return login;
    },
    async stop() {
      if (exited === null) {
        child.kill('SIGTERM');
        await waitFor(() => exited !== null, 10000, 'the server to stop').catch(() => child.kill('SIGKILL'));
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

let counter = 0;
/** A fresh, valid mainland-China mobile number in E.164, unique within this process. */
export function newPhone() {
  counter += 1;
  const tail = String((process.pid * 1000 + counter) % 100000000).padStart(8, '0');
  return `+86139${tail}`;
}

/** Headless Debian Chromium (never a downloaded browser); `args` adds command-line switches. */
export function launchBrowser({ args = [] } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      ...args],
  });
}

/**
 * A new browser context (its own storage: another person or device) and page.
 * locale: 'en-US' | 'zh-CN'; viewport {width, height}; session: log in as this
 * {token, user_id, phone} without going through the screens; timezoneId: the clock's zone;
 * init: [fn, arg] run in every page of the context before its own scripts.
 */
export async function openApp(browser, server, { locale = 'en-US', viewport = { width: 1280, height: 800 }, session, hash = '', timezoneId, init } = {}) {
  const context = await browser.newContext({ locale, viewport, timezoneId, extraHTTPHeaders: { 'Accept-Language': locale } });
  if (init) await context.addInitScript(init[0], init[1]);
  if (session) {
    // Once per tab: a later logout in the test must not be undone by the next page load.
    await context.addInitScript((value) => {
      if (sessionStorage.getItem('dialtone.test.seeded')) return;
      sessionStorage.setItem('dialtone.test.seeded', '1');
      if (!localStorage.getItem('dialtone.session')) localStorage.setItem('dialtone.session', value);
    }, JSON.stringify({ token: session.token, user_id: session.user_id, phone: session.phone }));
  }
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.problems = problems;
  await page.goto(`${server.url}/${hash}`);
  return { context, page };
}

/** The `data-test` selector. */
export const $ = (name) => `[data-test="${name}"]`;

/** Saves a screenshot as a test artifact: artifacts/<name>.png. */
export async function screenshot(page, name) {
  await mkdir(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`) });
}

/** Registers through the screens, typing the code from the outbox; ends on the password screen. */
export async function registerInBrowser(page, server, phone, { region = 'CN', national } = {}) {
  await page.click($('go-register'));
  await page.selectOption($('region'), region);
  await page.fill($('phone'), national ?? phone);
  const before = (await server.sms()).filter((m) => m.to === phone).length;
  await page.click($('send-code'));
  await page.waitForSelector($('code'));
  await page.fill($('code'), await server.codeFor(phone, before));
  await page.click($('verify'));
  await page.waitForSelector($('new-password'));
}

/** A real PNG (a colour gradient), drawn here so the tests need no binary fixture. */
export function png(width = 24, height = 16) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'ascii');
    data.copy(out, 8);
    out.writeUInt32BE(crc(Buffer.concat([Buffer.from(type, 'ascii'), data])), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4); ihdr[8] = 8; ihdr[9] = 2;
  const rows = [];
  for (let y = 0; y < height; y++) {
    rows.push(0);
    for (let x = 0; x < width; x++) rows.push(x * 10, y * 15, 200);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from(rows))), chunk('IEND', Buffer.alloc(0))]);
}
