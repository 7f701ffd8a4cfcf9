// Chats: the conversation list and the open conversation. On wide screens (≥ 900px) both
// side by side; narrower, one at a time (the conversation with a back button).
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { start } from '../chat-state.js';
import { conversationList } from '../chat/list.js';
import { conversationPane } from '../chat/conversation.js';

export { newGroup, groupInfo } from '../chat/groups.js';

function layout(main, id, focusSeq = null) {
  start(); // already running after login; harmless otherwise
  const list = conversationList(id);
  const pane = id ? conversationPane(id, { focusSeq }) : {
    el: h('section', { class: 'chat-pane chat-placeholder', 'aria-hidden': 'true' },
      h('span', { class: 'placeholder-icon' }), h('p', { class: 'muted' }, t('chat.pick_one'))),
    destroy() {},
  };
  main.append(h('div', { class: 'chat-layout', 'data-open': id ? 'true' : 'false' }, list.el, pane.el));
  return () => { list.destroy(); pane.destroy(); };
}

/** #/chats */
export function chats(main) {
  return layout(main, null);
}

/** #/chat/<id>, and #/chat/<id>?seq=<n> opened at message n (a search result). */
export function chat(main, ctx) {
  const seq = Number(ctx.query?.get('seq'));
  return layout(main, ctx.params[0] || null, Number.isInteger(seq) && seq > 0 ? seq : null);
}
