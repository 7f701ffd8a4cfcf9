// The messaging model: conversations, the messages loaded so far and the outgoing ones
// not yet confirmed, and read marks. chat-state.js feeds it from the socket.
import { api, session } from '../api.js';
import { store } from '../store.js';
import { learnPhones } from '../phones.js';

const PAGE = 50;

/** id → conversation as GET /v1/conversations returns it (last_message, unread, last_seq). */
export const conversations = new Map();
/** id → {bySeq: Map seq→Message, sorted: Message[]|null, hasOlder, loaded} for opened ones. */
export const threads = new Map();
/** id → outgoing messages not yet confirmed: {client_id, ..., status: 'pending'|'failed'}. */
export const pending = new Map();
/** attachment id → object URL of the bytes this tab uploaded (no download of one's own). */
export const localMedia = new Map();

const readPosted = new Map();
let openId = null;
let initial = null;
let refreshing = null;
let lastTotal = -1;
let listError = null;
let refreshedAt = 0;

export const path = (id) => `/v1/conversations/${encodeURIComponent(id)}`;

/** My number (E.164). */
export function me() {
  return store.account?.phone ?? session.current?.phone ?? null;
}

// ---- events ----------------------------------------------------------------------------

export function emitTotal(force = false) {
  let total = 0;
  for (const c of conversations.values()) total += c.unread || 0;
  if (force || total !== lastTotal) store.emit('unread-total', total);
  lastTotal = total;
}

export function changedList() {
  store.emit('conversations');
  emitTotal();
}

export function changedThread(id) {
  const thread = threads.get(id);
  if (thread) thread.sorted = null;
  store.emit('messages', { conversation_id: id });
}

// ---- conversations ---------------------------------------------------------------------

/** Conversations, newest activity first. */
export function conversationList() {
  const at = (c) => Date.parse(c.last_message?.sent_at ?? c.created_at) || 0;
  return [...conversations.values()].sort((a, b) => at(b) - at(a));
}

/** Takes a conversation from the server, keeping what this tab saw later than it. */
function upsert(body) {
  const local = conversations.get(body.id);
  const merged = { ...body, last_seq: body.last_seq ?? 0, unread: body.unread ?? 0 };
  if (local && (local.last_seq ?? 0) > merged.last_seq) {
    merged.last_seq = local.last_seq;
    merged.last_message = local.last_message;
    merged.unread = local.unread;
  } else if (local && !('last_message' in body) && !body.last_seq) {
    // Create/rename/member answers carry no last message: keep ours.
    merged.last_message = local.last_message;
    merged.unread = local.unread;
    merged.last_seq = local.last_seq;
  }
  // A read mark this tab posted may not be counted in an answer that crossed it.
  if ((readPosted.get(body.id) ?? 0) >= merged.last_seq) merged.unread = 0;
  conversations.set(body.id, merged);
  learnPhones(merged.members ?? []).catch(() => {});
  return merged;
}

/**
 * A `conversation` frame: a group I am in changed (members, admins, name). Its shared state
 * replaces ours; a group new to this tab (I was just added) comes with the list.
 */
export function applyConversation(shared) {
  const local = conversations.get(shared?.id);
  if (!local) {
    refreshConversations().catch(() => {});
    return;
  }
  conversations.set(shared.id, { ...local, name: shared.name, members: shared.members, admins: shared.admins,
    removed: false });
  changedList();
}

/** A `conversation_removed` frame: I am no longer a member; the chat turns read-only. */
export function markRemoved(id) {
  const local = conversations.get(id);
  if (!local) return;
  conversations.set(id, { ...local, removed: true, members: (local.members ?? []).filter((p) => p !== me()) });
  changedList();
}

/** GET /v1/conversations: the list with last messages and unread counts. */
export function refreshConversations() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      const { conversations: list } = await api('/v1/conversations');
      const seen = new Set();
      for (const c of list) { upsert(c); seen.add(c.id); }
      // Left groups and (with the vault locked) hidden contacts' chats are gone; one this
      // tab saw me removed from stays, read-only, until the page is left.
      for (const id of [...conversations.keys()]) {
        if (!seen.has(id) && !conversations.get(id)?.removed) conversations.delete(id);
      }
      listError = null;
      refreshedAt = Date.now();
      changedList();
    } catch (e) {
      listError = e;
      changedList();
      throw e;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** Why the conversation list could not be loaded last time (null: it was). */
export function listFailure() {
  return listError;
}

/** Resolves once the first list has been loaded (or failed). */
export function whenLoaded() {
  return initial ?? Promise.resolve();
}

/** A conversation, from memory or the server. */
export async function conversation(id, { fresh = false } = {}) {
  if (!fresh && conversations.has(id)) return conversations.get(id);
  const body = await api(path(id));
  const merged = upsert(body);
  changedList();
  return merged;
}

/** The other member of a direct conversation. */
export function peerOf(conv) {
  if (!conv || conv.kind !== 'direct') return null;
  return conv.members.find((p) => p !== me()) ?? conv.members[0] ?? null;
}

export function isAdmin(conv) {
  return Boolean(conv?.admins?.includes(me()));
}

/** Opens (or finds) the direct conversation with `phone`; resolves to it. */
export async function openDirect(phone) {
  const body = await api('/v1/conversations', { method: 'POST', body: { kind: 'direct', peer: phone } });
  const merged = upsert(body);
  changedList();
  return merged;
}

export async function createGroup(name, members) {
  const body = await api('/v1/conversations', { method: 'POST', body: { kind: 'group', name, members } });
  const merged = upsert(body);
  changedList();
  return merged;
}

export async function rename(id, name) {
  upsert(await api(path(id), { method: 'PATCH', body: { name } }));
  changedList();
}

export async function addMembers(id, phones) {
  upsert(await api(`${path(id)}/members`, { method: 'POST', body: { phones } }));
  changedList();
}

/** Removes a member (admins), or leaves the group when `phone` is mine. */
export async function removeMember(id, phone) {
  await api(`${path(id)}/members/${encodeURIComponent(phone)}`, { method: 'DELETE' });
  if (phone === me()) {
    conversations.delete(id);
    threads.delete(id);
  } else {
    const conv = conversations.get(id);
    if (conv) conv.members = conv.members.filter((p) => p !== phone);
  }
  changedList();
}

// ---- the open conversation and read marks ----------------------------------------------

/** The view tells which conversation is on screen (null: none). */
export function setOpen(id) {
  openId = id;
}

function seenNow(id) {
  return openId === id && document.visibilityState === 'visible';
}

/** POST .../read {seq}: I have seen everything up to seq. */
export function markRead(id, seq) {
  const conv = conversations.get(id);
  if (!conv || !seq || seq > (conv.last_seq || 0)) return;
  if ((readPosted.get(id) ?? 0) >= seq) return;
  readPosted.set(id, seq);
  if (seq >= conv.last_seq) conv.unread = 0;
  else {
    const after = messagesOf(id).filter((m) => m.seq > seq && m.sender !== me()).length;
    conv.unread = Math.min(conv.unread, after);
  }
  changedList();
  api(`${path(id)}/read`, { method: 'POST', body: { seq } }).catch(() => {
    // Offline: try again the next time the conversation is looked at.
    if (readPosted.get(id) === seq) readPosted.delete(id);
  });
}

// ---- messages --------------------------------------------------------------------------

function threadOf(id) {
  let thread = threads.get(id);
  if (!thread) {
    thread = { bySeq: new Map(), sorted: null, hasOlder: true, loaded: false, loading: null };
    threads.set(id, thread);
  }
  return thread;
}

export function threadState(id) {
  const thread = threads.get(id);
  return { loaded: Boolean(thread?.loaded), hasOlder: Boolean(thread?.hasOlder), hasNewer: Boolean(thread?.hasNewer) };
}

/** The loaded messages of a conversation in seq order. */
export function messagesOf(id) {
  const thread = threads.get(id);
  if (!thread) return [];
  if (!thread.sorted) thread.sorted = [...thread.bySeq.values()].sort((a, b) => a.seq - b.seq);
  return thread.sorted;
}

/** Outgoing messages not confirmed yet, oldest first. */
export function pendingOf(id) {
  return pending.get(id) ?? [];
}

export function findMessage(id, messageId) {
  for (const m of threads.get(id)?.bySeq.values() ?? []) if (m.id === messageId) return m;
  return null;
}

function put(thread, list) {
  const mine = me();
  for (const m of list) {
    thread.bySeq.set(m.seq, m);
    // A send whose answer was lost on the way: the server has it, the bubble can go.
    if (m.sender === mine) dropPending(m.conversation_id, m.client_id);
  }
}

/** The newest page, the first time a conversation is opened. */
export function loadLatest(id) {
  const thread = threadOf(id);
  if (thread.loaded) return Promise.resolve();
  if (!thread.loading) {
    thread.loading = api(`${path(id)}/messages?limit=${PAGE}`).then(({ messages }) => {
      put(thread, messages);
      thread.hasOlder = messages.length === PAGE;
      thread.loaded = true;
      changedThread(id);
    }).finally(() => { thread.loading = null; });
  }
  return thread.loading;
}

/** The page before the oldest loaded message. */
export async function loadOlder(id) {
  const thread = threads.get(id);
  if (!thread?.loaded || !thread.hasOlder || thread.loading) return false;
  const oldest = messagesOf(id)[0]?.seq;
  if (!oldest) { thread.hasOlder = false; return false; }
  thread.loading = api(`${path(id)}/messages?before_seq=${oldest}&limit=${PAGE}`);
  try {
    const { messages } = await thread.loading;
    put(thread, messages);
    thread.hasOlder = messages.length === PAGE;
    changedThread(id);
    return messages.length > 0;
  } finally {
    thread.loading = null;
  }
}

/** Pages of history filled in between a message jumped to and the newest page before the
 * newer messages are dropped instead (and fetched again with loadNewer). */
const MAX_GAP_PAGES = 4;

/**
 * Makes sure the message at `seq` is loaded, with messages around it (a search result
 * opens there): the page around it (`around_seq`), joined to what was loaded by up to
 * MAX_GAP_PAGES pages; further back, the thread holds that page and what follows it only,
 * and says it has newer messages (loadNewer).
 */
export async function loadAround(id, seq) {
  await loadLatest(id);
  const thread = threadOf(id);
  if (thread.bySeq.has(seq)) return;
  const { messages } = await api(`${path(id)}/messages?around_seq=${seq}&limit=${PAGE}`);
  if (!messages.length) return;
  const loaded = messagesOf(id);
  const oldest = loaded[0]?.seq ?? Infinity;
  let after = messages.at(-1).seq;
  let pages = 0;
  const between = [];
  while (after < oldest - 1 && pages < MAX_GAP_PAGES) {
    const page = await api(`${path(id)}/messages?after_seq=${after}&before_seq=${oldest}&limit=${PAGE}`);
    between.push(...page.messages);
    pages += 1;
    if (page.messages.length < PAGE) { after = oldest; break; }
    after = page.messages.at(-1).seq;
  }
  if (after < oldest - 1) {
    // Too far back to join: keep the page and what follows it, newer ones later.
    thread.bySeq.clear();
    thread.hasNewer = true;
  }
  put(thread, messages);
  put(thread, between);
  thread.hasOlder = messages[0].seq > 1;
  thread.sorted = null;
  changedThread(id);
}

/** The page after the newest loaded message, while the thread has newer ones. */
export async function loadNewer(id) {
  const thread = threads.get(id);
  if (!thread?.hasNewer || thread.loading) return false;
  thread.loading = api(`${path(id)}/messages?after_seq=${newestSeq(id)}&limit=${PAGE}`);
  try {
    const { messages } = await thread.loading;
    put(thread, messages);
    if (messages.length < PAGE) thread.hasNewer = false;
    changedThread(id);
    return messages.length > 0;
  } finally {
    thread.loading = null;
  }
}

/** The newest loaded seq of a conversation (0: none). */
export function newestSeq(id) {
  return messagesOf(id).at(-1)?.seq ?? 0;
}

/** Everything after `from` (the newest seq known before going offline). */
export async function catchUp(id, from = newestSeq(id)) {
  const thread = threads.get(id);
  if (!thread?.loaded) return;
  let after = from;
  for (;;) {
    const { messages } = await api(`${path(id)}/messages?after_seq=${after}&limit=${PAGE}`);
    put(thread, messages);
    if (messages.length) changedThread(id);
    if (messages.length < PAGE) break;
    after = messages.at(-1).seq;
  }
  thread.hasNewer = false;
}

export function dropPending(id, clientId) {
  const list = pending.get(id);
  if (!list) return false;
  const at = list.findIndex((p) => p.client_id === clientId);
  if (at < 0) return false;
  const [out] = list.splice(at, 1);
  if (out.localUrl && out.attachment_id) localMedia.set(out.attachment_id, out.localUrl);
  return true;
}

/** Stores a message from the server (a frame, an answer or a page). */
export function receive(msg, { live: fromSocket = false } = {}) {
  const id = msg.conversation_id;
  const thread = threads.get(id);
  // Newer messages than a jumped-to page are fetched in order by loadNewer.
  if (thread?.loaded && !thread.hasNewer) thread.bySeq.set(msg.seq, msg);
  const mine = msg.sender === me();
  if (mine) dropPending(id, msg.client_id);
  const conv = conversations.get(id);
  if (conv) {
    if (msg.seq > (conv.last_seq || 0)) {
      conv.last_seq = msg.seq;
      conv.last_message = msg;
      // The open chat's view marks it read once it is on screen (see markRead).
      if (fromSocket && !mine && !seenNow(id)) conv.unread = (conv.unread || 0) + 1;
    } else if (conv.last_message?.seq === msg.seq) {
      conv.last_message = msg;
    }
  }
  changedThread(id);
  changedList();
}

export function pendingList(id) {
  if (!pending.has(id)) pending.set(id, []);
  return pending.get(id);
}

/** A message was edited or deleted. */
export function onUpdated(msg) {
  const thread = threads.get(msg.conversation_id);
  if (thread?.bySeq.has(msg.seq)) thread.bySeq.set(msg.seq, msg);
  const conv = conversations.get(msg.conversation_id);
  if (conv?.last_message?.id === msg.id) conv.last_message = msg;
  changedThread(msg.conversation_id);
  changedList();
}

// ---- life -------------------------------------------------------------------------------

/** The first list load, as start() began it. */
export function setInitial(promise) {
  initial = promise;
}

export function isStarted() {
  return initial !== null;
}

/** How long ago the list was last fetched, in ms. */
export function listAge() {
  return Date.now() - refreshedAt;
}

/** Forgets everything of a session that ended. */
export function resetModel() {
  for (const map of [conversations, threads, pending, readPosted, localMedia]) map.clear();
  initial = null;
  listError = null;
  lastTotal = -1;
  openId = null;
}
