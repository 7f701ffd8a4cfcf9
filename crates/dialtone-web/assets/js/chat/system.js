// The lines the server writes in a group when it changes (messages of kind `system`):
// who added or removed whom, who left, a new name, a new admin. Names come from my book;
// "you" where it is me.
import { t } from '../i18n.js';
import { store } from '../store.js';
import { me } from '../chat-state.js';

function who(phone) {
  return phone === me() ? t('chat.system_you') : store.nameOf(phone);
}

function names(phones) {
  return (phones ?? []).map(who).join(t('chat.system_list_separator'));
}

/** The line a `system` message shows. */
export function systemText(msg) {
  const event = msg.system ?? {};
  const actor = who(msg.sender);
  switch (event.action) {
    case 'added': return t('chat.system_added', { actor, names: names(event.phones) });
    case 'removed': return t('chat.system_removed', { actor, names: names(event.phones) });
    case 'left': return t('chat.system_left', { actor });
    case 'renamed': return t('chat.system_renamed', { actor, name: event.name ?? '' });
    case 'admin':
      return (event.phones ?? []).includes(me())
        ? t('chat.system_admin_me')
        : t('chat.system_admin', { names: names(event.phones) });
    default: return t('chat.kind_unknown');
  }
}
