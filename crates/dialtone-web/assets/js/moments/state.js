// What the community screens share while a session runs: the number of unread
// notifications (the Moments tab's badge), and the live frames of the community, passed on
// as events the screens listen to.
import { api } from '../api.js';
import { live } from '../live.js';

class Moments extends EventTarget {
  constructor() {
    super();
    /** Unread notifications, as the server counts them (up to 1,000). */
    this.unread = 0;
  }

  /** on('unread', count => ...), on('notification', n => ...), on('feed-item', frame => ...). */
  on(type, fn) {
    const listener = (e) => fn(e.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  setUnread(count) {
    this.unread = Math.max(0, count);
    this.emit('unread', this.unread);
  }

  /** The count from the server: at start, and after every reconnect (frames may have been missed). */
  async loadUnread() {
    const page = await api('/v1/notifications?limit=1');
    this.setUnread(page?.unread ?? 0);
  }

  /** Marks notifications read (`ids` absent: all of them). */
  async markRead(ids) {
    await api('/v1/notifications/read', { method: 'POST', body: ids ? { ids } : {} });
    if (!ids) this.setUnread(0);
    else this.setUnread(this.unread - ids.length);
  }

  reset() { this.setUnread(0); }
}

export const moments = new Moments();

let started = false;
/** Starts listening (once per page); the count is read again on every (re)connection. */
export function start() {
  if (started) return;
  started = true;
  live.on('ready', () => { moments.loadUnread().catch(() => {}); });
  live.on('notification', (frame) => {
    const n = frame.notification;
    if (!n) return;
    if (!n.read) moments.setUnread(moments.unread + 1);
    moments.emit('notification', n);
  });
  live.on('feed_item', (frame) => moments.emit('feed-item', frame));
  window.addEventListener('dialtone:logged-out', () => moments.reset());
}
