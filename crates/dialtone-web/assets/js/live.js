// The one WebSocket to /v1/ws: reconnects with backoff, and on every (re)connect the
// server sends `ready` and every message this device has not acknowledged, so catching
// up after being offline needs nothing more here.
import { session } from './api.js';

const CLOSE_REVOKED = 4001;

class Live extends EventTarget {
  constructor() {
    super();
    this.ws = null;
    this.status = 'closed'; // 'connecting' | 'open' | 'closed'
    this.syncing = false; // open, and catch-up of missed messages not done yet
    this.wanted = false;
    this.attempt = 0;
    this.timer = null;
    window.addEventListener('online', () => this.wanted && this.reconnectNow());
  }

  /** on('message', frame => ...) for a frame type ('*' for all, 'status' for status); returns an unsubscribe function. */
  on(type, fn) {
    const listener = (e) => fn(e.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  /** Catch-up: `ready` says whether missed messages follow, `caught_up` that they all came. */
  setSyncing(syncing) {
    if (this.syncing === syncing) return;
    this.syncing = syncing;
    this.emit('syncing', syncing);
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.emit('status', status);
  }

  connect() {
    this.wanted = true;
    if (this.ws) return;
    const token = session.token;
    if (!token) return;
    clearTimeout(this.timer);
    this.setStatus('connecting');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    // caught_up=true: the server ends catch-up with a `caught_up` frame ("syncing…" till then).
    const ws = new WebSocket(`${scheme}://${location.host}/v1/ws?token=${encodeURIComponent(token)}&caught_up=true`);
    this.ws = ws;
    ws.onopen = () => { this.attempt = 0; this.setStatus('open'); };
    ws.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (!frame || typeof frame.type !== 'string') return;
      if (frame.type === 'ready') this.setSyncing(Boolean(frame.catching_up));
      else if (frame.type === 'caught_up') this.setSyncing(false);
      this.emit(frame.type, frame);
      this.emit('*', frame);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setSyncing(false);
      this.setStatus('closed');
      if (event.code === CLOSE_REVOKED) {
        session.clear();
        window.dispatchEvent(new CustomEvent('dialtone:logged-out'));
        return;
      }
      if (this.wanted) this.schedule();
    };
  }

  schedule() {
    const base = Math.min(30000, 1000 * 2 ** this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => this.connect(), base / 2 + Math.random() * base / 2);
  }

  reconnectNow() {
    clearTimeout(this.timer);
    this.attempt = 0;
    if (!this.ws) this.connect();
  }

  /** Sends a frame if connected; false if not (the server re-sends unacknowledged messages on reconnect). */
  send(frame) {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  close() {
    this.wanted = false;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    ws?.close();
    this.setStatus('closed');
  }
}

export const live = new Live();
