// Delivery receipts (highest delivered/read seq per member) and who is typing.
import { live } from '../live.js';
import { store } from '../store.js';
import { me, conversations } from './model.js';

const TYPING_SHOWN_MS = 5000;
const TYPING_SENT_EVERY_MS = 3000;

/** id → Map phone → {delivered, read}. */
const receipts = new Map();
/** id → Map phone → timer of who is typing there. */
const typing = new Map();
const typingSent = new Map();

// ---- receipts --------------------------------------------------------------------------

const receiptsKey = () => `dialtone.receipts.${me()}`;
let saveTimer = null;

// Receipts come only as live frames, so they are kept on this device across reloads.
export function loadReceipts() {
  try {
    const saved = JSON.parse(localStorage.getItem(receiptsKey()) || '{}');
    for (const [id, members] of Object.entries(saved)) {
      receipts.set(id, new Map(Object.entries(members).map(([p, [delivered, read]]) => [p, { delivered, read }])));
    }
  } catch { /* unreadable: start afresh */ }
}

function saveReceipts() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    const out = {};
    for (const [id, members] of receipts) {
      if (!conversations.has(id)) continue;
      out[id] = Object.fromEntries([...members].map(([p, r]) => [p, [r.delivered, r.read]]));
    }
    try { localStorage.setItem(receiptsKey(), JSON.stringify(out)); } catch { /* full: live only */ }
  }, 500);
}

export function onReceipt({ conversation_id: id, phone, seq, status }) {
  if (!id || !phone || !seq) return;
  if (!receipts.has(id)) receipts.set(id, new Map());
  const members = receipts.get(id);
  const r = members.get(phone) ?? { delivered: 0, read: 0 };
  r.delivered = Math.max(r.delivered, seq);
  if (status === 'read') r.read = Math.max(r.read, seq);
  members.set(phone, r);
  saveReceipts();
  store.emit('receipt', { conversation_id: id });
}

/**
 * A message's tick: 'pending' | 'failed' | 'sent' | 'delivered' | 'read'. Direct chats:
 * the peer's marks. Groups: delivered/read as soon as ANY other member got/read it: the
 * server tells a sender only of marks that land on the sender's own messages, so "every
 * member" could never be known reliably.
 */
export function statusOf(conv, msg) {
  if (msg.status) return msg.status;
  const others = (conv?.members ?? []).filter((p) => p !== me());
  const marks = receipts.get(msg.conversation_id);
  if (!others.length || !marks) return 'sent';
  const reached = (field) => others.some((p) => (marks.get(p)?.[field] ?? 0) >= msg.seq);
  if (reached('read')) return 'read';
  if (reached('delivered')) return 'delivered';
  return 'sent';
}

// ---- typing ----------------------------------------------------------------------------

export function stopTyping(id, phone) {
  const map = typing.get(id);
  if (!map?.has(phone)) return;
  clearTimeout(map.get(phone));
  map.delete(phone);
  store.emit('typing', { conversation_id: id });
}

export function onTyping({ conversation_id: id, phone }) {
  if (!id || !phone || phone === me()) return;
  if (!typing.has(id)) typing.set(id, new Map());
  const map = typing.get(id);
  clearTimeout(map.get(phone));
  map.set(phone, setTimeout(() => stopTyping(id, phone), TYPING_SHOWN_MS));
  store.emit('typing', { conversation_id: id });
}

/** Who is typing in a conversation now. */
export function typingIn(id) {
  return [...(typing.get(id)?.keys() ?? [])];
}

/** Tells the others I am typing, at most every few seconds. */
export function sendTyping(id) {
  const now = Date.now();
  if (now - (typingSent.get(id) ?? 0) < TYPING_SENT_EVERY_MS) return;
  if (live.send({ type: 'typing', conversation_id: id })) typingSent.set(id, now);
}

/** Nobody types any more (the connection was lost meanwhile). */
export function clearTyping() {
  for (const [id, map] of [...typing]) {
    for (const timer of map.values()) clearTimeout(timer);
    typing.delete(id);
    store.emit('typing', { conversation_id: id });
  }
}

export function resetMarks() {
  clearTyping();
  receipts.clear();
  typingSent.clear();
}
