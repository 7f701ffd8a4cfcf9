// Messaging state: conversations, the messages loaded so far, delivery receipts, who is
// typing, and sending (optimistic, retried by client_id). Views read it and redraw on
// store events: 'conversations', 'messages' {conversation_id}, 'receipt'
// {conversation_id}, 'typing' {conversation_id}, 'upload' {conversation_id, client_id,
// progress} and 'unread-total' (a number, the nav badge). A group's changes come as
// `conversation` frames (its new members, admins and name) and, for whoever is out of it,
// `conversation_removed` (the conversation stays, marked `removed`: read-only).
//
// This module wires the socket to the model (chat/model.js), the outbox (chat/outbox.js)
// and the marks (chat/marks.js), and re-exports what views use.
import { live } from './live.js';
import { store } from './store.js';
import {
  conversations, threads, pending, whenLoaded, refreshConversations, receive, onUpdated, catchUp, newestSeq,
  emitTotal, setInitial, isStarted, listAge, resetModel, applyConversation, markRemoved,
} from './chat/model.js';
import { retryOffline, resetOutbox } from './chat/outbox.js';
import { loadReceipts, onReceipt, onTyping, stopTyping, clearTyping, resetMarks } from './chat/marks.js';

export {
  conversations, localMedia, me, conversationList, refreshConversations, listFailure, whenLoaded, conversation,
  peerOf, isAdmin, openDirect, createGroup, rename, addMembers, removeMember, setOpen, markRead, threadState,
  messagesOf, pendingOf, findMessage, loadLatest, loadOlder, loadAround, loadNewer,
} from './chat/model.js';
export { send, retry, discard, editText, deleteForEveryone, draft } from './chat/outbox.js';
export { statusOf, typingIn, sendTyping } from './chat/marks.js';

let frames = Promise.resolve();
/** Serialised, so that the frames of a conversation are applied in the order they came. */
function enqueue(task) {
  frames = frames.then(task).catch((e) => console.warn('chat frame', e));
}

async function onMessage(msg) {
  await whenLoaded();
  if (!conversations.has(msg.conversation_id)) {
    // A new conversation: the list says what it is (and leaves out what must stay hidden).
    await refreshConversations().catch(() => {});
    if (!conversations.has(msg.conversation_id)) return;
  }
  receive(msg, { live: true });
  stopTyping(msg.conversation_id, msg.sender);
}

/** After every (re)connection: nothing missed while offline stays missing. */
async function onReady() {
  // What each open thread had while connected: anything later is fetched (frames that
  // arrive meanwhile are the same messages, stored once by seq).
  const since = [...threads.keys()].map((id) => [id, newestSeq(id)]);
  clearTyping();
  await whenLoaded();
  try {
    // A list fetched a moment ago is fresh: what came since arrives as frames.
    if (listAge() > 2000) await refreshConversations();
    await Promise.all(since.map(([id, from]) => catchUp(id, from).catch(() => {})));
  } catch { /* still offline: the next ready tries again */ }
  retryOffline(pending);
}

/** Forgets everything of a session that ended (another may start in this tab). */
function reset() {
  resetModel();
  resetOutbox();
  resetMarks();
}

let listening = false;

/** Starts the messaging state (app.js, once logged in; views call it again harmlessly). */
export function start() {
  if (!listening) {
    listening = true;
    live.on('message', (f) => {
      const msg = f.message;
      if (!msg?.conversation_id || !msg.seq) return;
      // Every device acknowledges what it got, or the server sends it again on reconnect.
      live.send({ type: 'ack', conversation_id: msg.conversation_id, seq: msg.seq });
      enqueue(() => onMessage(msg));
    });
    live.on('message_updated', (f) => { if (f.message) enqueue(() => onUpdated(f.message)); });
    live.on('receipt', onReceipt);
    // Changes of a group: its new state, or that I am out of it (read-only at once).
    live.on('conversation', (f) => enqueue(async () => { await whenLoaded(); applyConversation(f.conversation); }));
    live.on('conversation_removed', (f) => enqueue(async () => { await whenLoaded(); markRemoved(f.conversation_id); }));
    live.on('typing', onTyping);
    live.on('ready', () => { onReady(); });
    // The nav badge is rebuilt with the layout: give it the total after every route change.
    window.addEventListener('hashchange', () => setTimeout(() => emitTotal(true)));
    window.addEventListener('dialtone:logged-out', reset);
    store.on('account', () => emitTotal(true));
  }
  if (isStarted()) return;
  // Frames that came before this module listened are lost to it: acknowledge what the
  // list shows instead, so that senders see their messages delivered.
  const missedFrames = live.status === 'open';
  loadReceipts();
  setInitial(refreshConversations().then(() => {
    if (!missedFrames) return;
    for (const c of conversations.values()) {
      if (c.last_seq) live.send({ type: 'ack', conversation_id: c.id, seq: c.last_seq });
    }
  }).catch((e) => console.warn('conversations not loaded', e)));
  emitTotal(true);
}
