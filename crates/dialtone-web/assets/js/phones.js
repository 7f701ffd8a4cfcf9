// How numbers are shown: grouped as people write them ("+86 138 0013 8000"), by
// libphonenumber's rules for each country. The server applies them (POST
// /v1/phones/format); the API itself speaks E.164. A number whose written form is not known
// yet shows as E.164 and is asked for; the forms learnt are kept for the next visit.
import { api, PHONE_FORMS_KEY } from './api.js';

/** Numbers per request (the server takes at most 1,000). */
const BATCH = 1000;
/** Forms kept across visits, at most. */
const KEPT = 5000;

function readKept() {
  try { return JSON.parse(localStorage.getItem(PHONE_FORMS_KEY) || '{}') ?? {}; } catch { return {}; }
}

/** E.164 → written form. */
const known = new Map(Object.entries(readKept()));
/** Asked for (or being asked for) already: never asked twice in one page's life. */
const asked = new Set();
/** Elements from `phoneEl` that show a number whose form is still coming. */
const waiting = new Map();
const events = new EventTarget();
/** Numbers to ask for in the next request, and that request (made once this task is over). */
let queue = new Set();
let next = null;
/** Numbers being asked for → the request that asks. */
const inflight = new Map();

const isE164 = (text) => typeof text === 'string' && /^\+[1-9]\d{6,14}$/.test(text);

function keep() {
  try {
    const entries = [...known.entries()].slice(-KEPT);
    localStorage.setItem(PHONE_FORMS_KEY, JSON.stringify(Object.fromEntries(entries)));
  } catch { /* storage full or refused: they are asked for again next time */ }
}

async function flush() {
  const batch = [...queue];
  queue = new Set();
  next = null;
  let learnt = 0;
  for (let i = 0; i < batch.length; i += BATCH) {
    const part = batch.slice(i, i + BATCH);
    try {
      const { formatted } = await api('/v1/phones/format', { method: 'POST', body: { phones: part } });
      for (const phone of part) {
        const written = formatted?.[phone];
        if (!written) continue;
        known.set(phone, written);
        learnt += 1;
        for (const el of waiting.get(phone) ?? []) el.textContent = written;
      }
    } catch {
      // Offline: shown as E.164 until the page is opened again.
    }
    for (const phone of part) { waiting.delete(phone); inflight.delete(phone); }
  }
  if (learnt) {
    keep();
    events.dispatchEvent(new Event('learnt'));
  }
}

function ask(phone) {
  if (known.has(phone) || asked.has(phone) || !isE164(phone)) return;
  asked.add(phone);
  queue.add(phone);
  // Everything drawn in this task goes in one request.
  next ??= Promise.resolve().then(flush);
  inflight.set(phone, next);
}

/** The written form of `phone` if known (E.164 until then, and then asks for it). */
export function phoneText(phone) {
  if (!phone) return '';
  ask(phone);
  return known.get(phone) ?? phone;
}

/** Asks for the forms of many numbers at once; resolves when they are known (or failed). */
export async function learnPhones(phones) {
  for (const phone of phones) ask(phone);
  await Promise.all(phones.map((phone) => inflight.get(phone)).filter(Boolean));
}

/** An element showing `phone` (left to right in any language), updated when its form arrives. */
export function phoneEl(phone, attrs = {}) {
  const el = document.createElement('bdi');
  el.setAttribute('dir', 'ltr');
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) el.setAttribute(name, String(value));
  }
  el.textContent = phoneText(phone);
  if (!known.has(phone) && isE164(phone)) {
    if (!waiting.has(phone)) waiting.set(phone, new Set());
    waiting.get(phone).add(el);
  }
  return el;
}

/** `fn()` whenever new forms have been learnt (texts made from names may want a redraw). */
export function onLearnt(fn) {
  events.addEventListener('learnt', fn);
  return () => events.removeEventListener('learnt', fn);
}
