// Sending: a message shows at once as pending and is replaced by the server's copy
// (matched by client_id, so a retry is never a duplicate); edits and deletions; drafts.
import { api, upload } from '../api.js';
import { store } from '../store.js';
import { me, path, pendingList, pendingOf, dropPending, receive, changedThread, onUpdated, findMessage } from './model.js';

const sendChains = new Map();
const drafts = new Map();

// ---- sending ---------------------------------------------------------------------------

/**
 * Sends a message: it shows at once as pending and is replaced by the server's copy.
 * `file` (a Blob) is uploaded first; `name` is its file name.
 */
export function send(id, { kind, text, reply_to, file, name }) {
  const out = {
    client_id: crypto.randomUUID(),
    conversation_id: id,
    sender: me(),
    kind,
    text: text || undefined,
    reply_to: reply_to || undefined,
    sent_at: new Date().toISOString(),
    status: 'pending',
    file,
    name,
    size: file?.size,
    localUrl: file && kind !== 'file' ? URL.createObjectURL(file) : null,
    progress: file ? 0 : null,
  };
  pendingList(id).push(out);
  changedThread(id);
  deliver(out);
  return out;
}

export async function deliver(out) {
  const id = out.conversation_id;
  out.status = 'pending';
  out.error = null;
  changedThread(id);
  try {
    if (out.file && !out.attachment_id) {
      const name = out.name || 'file';
      const stored = await upload(`/v1/attachments?filename=${encodeURIComponent(name)}`, out.file, {
        contentType: out.file.type || 'application/octet-stream',
        onProgress: (progress) => {
          out.progress = progress;
          store.emit('upload', { conversation_id: id, client_id: out.client_id, progress });
        },
      });
      out.attachment_id = stored.id;
      out.progress = 1;
    }
    const body = { client_id: out.client_id, kind: out.kind };
    if (out.text) body.text = out.text;
    if (out.attachment_id) body.attachment_id = out.attachment_id;
    if (out.reply_to) body.reply_to = out.reply_to;
    // One at a time per conversation: two quick messages must not swap places (the
    // server numbers them in the order the requests arrive).
    const previous = sendChains.get(id) ?? Promise.resolve();
    const request = previous.then(() => api(`${path(id)}/messages`, { method: 'POST', body }));
    sendChains.set(id, request.catch(() => {}));
    const msg = await request;
    receive(msg);
  } catch (e) {
    if (!pendingList(id).includes(out)) return; // the socket's copy arrived meanwhile
    // The server judges a file by its bytes: a "picture" it does not take as one still
    // goes, as a file.
    if (e?.code === 'wrong_kind' && out.kind !== 'file' && out.kind !== 'voice') {
      out.kind = 'file';
      out.text = out.name;
      deliver(out);
      return;
    }
    out.status = 'failed';
    out.error = e;
    changedThread(id);
  }
}

/** Sends a failed message again (same client_id: never a duplicate). */
export function retry(id, clientId) {
  const out = pendingOf(id).find((p) => p.client_id === clientId);
  if (out && out.status === 'failed') deliver(out);
}

/** Gives up on a failed message. */
export function discard(id, clientId) {
  const out = pendingOf(id).find((p) => p.client_id === clientId);
  if (!out) return;
  dropPending(id, clientId);
  if (out.localUrl && !out.attachment_id) URL.revokeObjectURL(out.localUrl);
  changedThread(id);
}

export async function editText(id, messageId, text) {
  const msg = await api(`${path(id)}/messages/${encodeURIComponent(messageId)}`, { method: 'PATCH', body: { text } });
  onUpdated(msg);
}

export async function deleteForEveryone(id, messageId) {
  await api(`${path(id)}/messages/${encodeURIComponent(messageId)}`, { method: 'DELETE' });
  const msg = findMessage(id, messageId);
  if (msg) onUpdated({ ...msg, deleted: true, text: undefined, attachment: undefined });
}

/** The composer's unsent text per conversation (kept while the tab lives). */
export const draft = {
  get: (id) => drafts.get(id) ?? '',
  set: (id, text) => { if (text) drafts.set(id, text); else drafts.delete(id); },
};

/** Sends again what failed for want of a connection (after reconnecting). */
export function retryOffline(pending) {
  for (const list of pending.values()) {
    for (const out of list) if (out.status === 'failed' && (out.error?.status ?? 0) === 0) deliver(out);
  }
}

export function resetOutbox() {
  sendChains.clear();
  drafts.clear();
}
